/// What one order costs (equations 1-3 of the paper).
public struct Evaluation: Sendable, Equatable {
    /// The order evaluated: task indices, first transmitted first.
    public let order: [Int]
    /// Completion time of the j-th task of the order, in order position (not task index).
    public let completionTimes: [Double]
    /// The number of tasks that finish strictly after their deadline.
    public let misses: Int
    /// Sum of completion times plus zeta per miss. Lower is better.
    public let objective: Double

    public var meanCompletionSeconds: Double {
        completionTimes.isEmpty ? 0 : completionTimes.reduce(0, +) / Double(completionTimes.count)
    }

    public var missRatio: Double {
        completionTimes.isEmpty ? 0 : Double(misses) / Double(completionTimes.count)
    }
}

/// The three numbers the learners need per action, computed without allocating.
public struct Outcome: Sendable, Equatable {
    public var objective: Double
    public var misses: Int
    public var meanCompletionSeconds: Double

    public init(objective: Double, misses: Int, meanCompletionSeconds: Double) {
        self.objective = objective
        self.misses = misses
        self.meanCompletionSeconds = meanCompletionSeconds
    }
}

extension Frame {
    /// Evaluates an order. The order must be a permutation of the task indices (see `validate(order:)`).
    public func evaluate(_ order: [Int]) -> Evaluation {
        var completions = [Double]()
        completions.reserveCapacity(order.count)
        var misses = 0
        walk(order) { position, completion, missed in
            completions.append(completion)
            if missed { misses += 1 }
        }
        let total = completions.reduce(0, +)
        return Evaluation(
            order: order,
            completionTimes: completions,
            misses: misses,
            objective: total + parameters.zeta * Double(misses)
        )
    }

    /// The objective, misses and mean completion time of an order, summed in the same sequence as
    /// `evaluate`, so both give bit-identical figures.
    @inline(__always)
    public func outcome<C: Collection>(of order: C) -> Outcome where C.Element == Int {
        var total = 0.0
        var misses = 0
        var count = 0
        walk(order) { _, completion, missed in
            total += completion
            count += 1
            if missed { misses += 1 }
        }
        return Outcome(
            objective: total + parameters.zeta * Double(misses),
            misses: misses,
            meanCompletionSeconds: count == 0 ? 0 : total / Double(count)
        )
    }

    /// Equations 1-2: the j-th task is ready when all data up to it has arrived (cumulative bits / R), and
    /// completes after the later of that moment and its predecessor's completion, plus its processing time.
    @inline(__always)
    private func walk<C: Collection>(
        _ order: C, _ visit: (_ position: Int, _ completion: Double, _ missed: Bool) -> Void
    ) where C.Element == Int {
        var arrivedBits = 0.0
        var previousCompletion = 0.0
        var position = 0
        for index in order {
            let task = tasks[index]
            arrivedBits += task.dataBits
            let ready = arrivedBits / parameters.uplinkRate
            let processing = task.dataBits * task.cyclesPerBit / parameters.cpuHz
            let completion = Swift.max(ready, previousCompletion) + processing
            visit(position, completion, completion > task.deadlineSeconds)
            previousCompletion = completion
            position += 1
        }
    }
}
