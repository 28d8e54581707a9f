import Scheduling

/// Drawing distinct actions.
public enum Sampling {
    /// Floyd's algorithm: `k` distinct integers uniform in 0..<n, with exactly k `nextInt` draws. For
    /// j = n-k ..< n it draws t = nextInt(below: j + 1) and takes t, or j when t was already taken. `stamps`
    /// (n entries) marks the taken ones with `stamp`, which must differ from every value already in it,
    /// so nothing needs clearing between calls. `body` gets each taken value in the order taken.
    @inline(__always)
    static func floyd(
        _ k: Int, below n: Int, rng: inout InlineRandom, stamps: UnsafeMutableBufferPointer<UInt16>, stamp: UInt16,
        _ body: (Int) -> Void
    ) {
        var j = n - k
        while j < n {
            let t = rng.nextInt(below: j + 1)
            let pick = stamps[t] == stamp ? j : t
            stamps[pick] = stamp
            body(pick)
            j += 1
        }
    }

    /// `k` distinct integers uniform in 0..<n by `floyd`, in the order taken (the draws the DTEQL learner
    /// makes for its twin samples). Requires 0 <= k <= n.
    public static func distinct(_ k: Int, below n: Int, using rng: inout Xoshiro256) -> [Int] {
        precondition(k >= 0 && k <= n, "cannot draw \(k) distinct values below \(n)")
        let stamps = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: n)
        defer { stamps.deallocate() }
        stamps.initialize(repeating: 0)
        var result = [Int]()
        result.reserveCapacity(k)
        var inline = InlineRandom(rng)
        floyd(k, below: n, rng: &inline, stamps: stamps, stamp: 1) { result.append($0) }
        rng = inline.generator
        return result
    }
}
