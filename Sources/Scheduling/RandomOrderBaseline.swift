extension Frame {
    /// D_rand: the mean completion time of a uniformly random order, i.e. the mean over all N! orders of
    /// the order's mean completion time, by enumerating them all. The reference point 0 of the delay score
    /// (docs/model.md). Cost grows like e * N! steps; callers compute it once per frame and store it.
    ///
    /// A depth-first walk over order prefixes: a prefix ending at position j is shared by (N - 1 - j)!
    /// orders, so its last task's completion time counts that many times. Completion times are computed as
    /// `walk` in Evaluation.swift does (cumulative bits / R, then the later of that and the predecessor's
    /// completion, plus the processing time), so a one-order frame gives exactly its evaluation.
    public func meanCompletionOverAllOrders() -> Double {
        let n = tasks.count
        guard n > 0 else { return 0 }
        precondition(n <= 20, "enumerating \(n)! orders is out of reach")
        // orders[j] = (N - 1 - j)!: how many whole orders share a prefix that ends at position j.
        var orders = [Double](repeating: 1, count: n)
        for j in stride(from: n - 2, through: 0, by: -1) { orders[j] = orders[j + 1] * Double(n - 1 - j) }
        let walker = PrefixWalker(
            count: n, bits: tasks.map(\.dataBits), processing: tasks.map { $0.dataBits * $0.cyclesPerBit / parameters.cpuHz },
            weights: orders, rate: parameters.uplinkRate)
        // The weighted sum is the sum over all N! orders of their summed completion times.
        let total = walker.weightedSum(position: 0, used: 0, arrivedBits: 0, previousCompletion: 0)
        return total / (orders[0] * Double(n) * Double(n))
    }
}

/// The recursion of `meanCompletionOverAllOrders`, with the used tasks as a bit mask so a step allocates
/// nothing and shares no mutable state.
private struct PrefixWalker {
    let count: Int
    let bits: [Double]
    let processing: [Double]
    let weights: [Double]
    let rate: Double

    func weightedSum(position: Int, used: UInt32, arrivedBits: Double, previousCompletion: Double) -> Double {
        var sum = 0.0
        let last = position + 1 == count
        for task in 0..<count where used & (1 << UInt32(task)) == 0 {
            let arrived = arrivedBits + bits[task]
            let completion = Swift.max(arrived / rate, previousCompletion) + processing[task]
            sum += completion * weights[position]
            if !last {
                sum += weightedSum(
                    position: position + 1, used: used | (1 << UInt32(task)), arrivedBits: arrived,
                    previousCompletion: completion)
            }
        }
        return sum
    }
}
