/// The best order of a frame, found exactly.
///
/// Method: dynamic programming over the set of tasks already sent, keeping for each set a Pareto front of
/// partial schedules, combined with a bound.
///
/// * Once a set S of tasks has been sent, in whatever order, the next task's ready time depends only on S
///   (the bits of S plus its own, over R). So a partial schedule of S is summarised by two numbers: C, the
///   completion time of its last task, and G, its cost so far (the sum of its completion times plus zeta
///   per miss).
/// * For any fixed way of finishing the frame, every later completion is max(ready, previous) + p, which
///   never decreases when C grows, and so neither do later misses: the remaining cost is non-decreasing in
///   C. Hence a partial schedule with C <= C' and G <= G' is at least as good as (C', G') whatever follows,
///   and only the Pareto front of (C, G) pairs per set needs to be kept. This is exact, not a heuristic.
/// * Bound: the best reference order gives an upper bound U on J*. A partial schedule whose cost plus a
///   lower bound on the cost of the tasks still to come exceeds U cannot be completed into an optimum, and
///   is dropped. The lower bound of the m-th remaining completion is the larger of C + (the m smallest
///   remaining processing times) and (bits of S + the m smallest remaining data sizes) / R + (the smallest
///   remaining processing time); misses are counted as zero.
///
/// Sets are visited in increasing numeric order, which puts every set after all its subsets, so each front
/// is final before it is extended. Ties are broken by a fixed key, so the result is deterministic.
/// The work is about 2^N * N * (front size); with the bound, a random 12-task frame takes a few ms.
public enum ExactOptimum {
    /// The largest frame `solve` accepts. A random frame of 12 tasks solves in about 2 ms in a release
    /// build (16 tasks took about 40 ms); time and memory at least double with each task beyond, and the
    /// limit also caps task files, so it is kept at 12 with a wide margin.
    public static let maximumTasks = 12

    /// J* and one order achieving it. The returned evaluation is `frame.evaluate(order)`, so its objective
    /// is exactly that order's; it may differ from the dynamic program's own sum in the last bit.
    /// Throws `.tooManyTasks` above `maximumTasks`, and `.invalidParameter` for a frame `Frame.validate` refuses.
    public static func solve(_ frame: Frame) throws(SchedulingError) -> Evaluation {
        let n = frame.count
        guard n <= maximumTasks else { throw .tooManyTasks(count: n, maximum: maximumTasks) }
        try frame.validate()
        if n <= 1 { return frame.evaluate(Array(0..<n)) }

        let rate = frame.parameters.uplinkRate
        let zeta = frame.parameters.zeta
        let data = frame.tasks.map(\.dataBits)
        let deadline = frame.tasks.map(\.deadlineSeconds)
        let processing = (0..<n).map(frame.processSeconds)

        let full = (1 << n) - 1
        // Bits of every set, built from the set without its lowest task.
        var bits = [Double](repeating: 0, count: full + 1)
        for set in 1...full {
            let lowest = set & (0 &- set)
            bits[set] = bits[set ^ lowest] + data[lowest.trailingZeroBitCount]
        }

        // Upper bound: the best reference order, with a small relative margin so that rounding in the
        // lower bound can never cut away an optimal schedule.
        var upper = Double.infinity
        for reference in ReferenceOrder.allCases {
            upper = Swift.min(upper, frame.outcome(of: reference.order(for: frame)).objective)
        }
        upper += Swift.max(abs(upper), 1) * 1e-9

        // Indices of tasks sorted by processing time and by data size, to form the lower bound quickly.
        let byProcessing = (0..<n).sorted { processing[$0] != processing[$1] ? processing[$0] < processing[$1] : $0 < $1 }
        let byData = (0..<n).sorted { data[$0] != data[$1] ? data[$0] < data[$1] : $0 < $1 }

        var fronts = [[Label]](repeating: [], count: full + 1)
        fronts[0] = [Label(completion: 0, cost: 0, parent: -1, last: -1)]
        var processingPrefix = [Double](repeating: 0, count: n)
        var readyPrefix = [Double](repeating: 0, count: n)

        for set in 0...full {
            if set != 0 {
                // Lower bound of what the remaining tasks add, as a function of the last completion C:
                // sum over m of max(C + processingPrefix[m], readyPrefix[m]).
                var remaining = 0
                var sum = 0.0
                for task in byProcessing where set & (1 << task) == 0 {
                    sum += processing[task]
                    processingPrefix[remaining] = sum
                    remaining += 1
                }
                if remaining > 0 {
                    let smallestProcessing = processingPrefix[0]
                    var sentBits = bits[set]
                    var m = 0
                    for task in byData where set & (1 << task) == 0 {
                        sentBits += data[task]
                        readyPrefix[m] = sentBits / rate + smallestProcessing
                        m += 1
                    }
                }
                fronts[set] = prune(
                    fronts[set], upper: upper, remaining: remaining,
                    processingPrefix: processingPrefix, readyPrefix: readyPrefix
                )
            }
            if set == full { break }
            let current = fronts[set]
            if current.isEmpty { continue }
            for task in 0..<n where set & (1 << task) == 0 {
                let next = set | (1 << task)
                let ready = bits[next] / rate
                let p = processing[task]
                let due = deadline[task]
                for (index, label) in current.enumerated() {
                    let completion = Swift.max(ready, label.completion) + p
                    let cost = label.cost + completion + (completion > due ? zeta : 0)
                    fronts[next].append(
                        Label(completion: completion, cost: cost, parent: Int32(index), last: Int32(task))
                    )
                }
            }
        }

        // The final front is sorted by completion with strictly falling cost, so its last entry is cheapest.
        guard var index = fronts[full].indices.last else {
            // Unreachable: the reference order achieving the upper bound survives every cut.
            preconditionFailure("the exact optimum lost every schedule")
        }
        var order = [Int]()
        order.reserveCapacity(n)
        var set = full
        while set != 0 {
            let label = fronts[set][index]
            order.append(Int(label.last))
            index = Int(label.parent)
            set ^= 1 << Int(label.last)
        }
        order.reverse()
        return frame.evaluate(order)
    }

    /// A partial schedule: the completion of its last task, its cost so far, and how to rebuild it (its
    /// index in the front of the set without `last`).
    private struct Label {
        var completion: Double
        var cost: Double
        var parent: Int32
        var last: Int32
    }

    /// Drops the labels that cannot beat `upper`, then keeps the Pareto front: sorted by completion, each
    /// kept label strictly cheaper than the one before.
    private static func prune(
        _ labels: [Label], upper: Double, remaining: Int,
        processingPrefix: [Double], readyPrefix: [Double]
    ) -> [Label] {
        var sorted = labels
        sorted.sort { a, b in
            if a.completion != b.completion { return a.completion < b.completion }
            if a.cost != b.cost { return a.cost < b.cost }
            if a.last != b.last { return a.last < b.last }
            return a.parent < b.parent
        }
        var front = [Label]()
        front.reserveCapacity(Swift.min(sorted.count, 64))
        var cheapest = Double.infinity
        for label in sorted where label.cost < cheapest {
            var bound = label.cost
            for m in 0..<remaining {
                bound += Swift.max(label.completion + processingPrefix[m], readyPrefix[m])
            }
            // A label over the bound is not kept, but it still shadows costlier labels that finish later,
            // which would be over the bound too.
            cheapest = label.cost
            if bound <= upper { front.append(label) }
        }
        return front
    }
}
