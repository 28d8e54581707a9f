import Scheduling

/// Scheduling's `Xoshiro256`, step for step, in a form the compiler can inline into the learners' hot
/// loops (a call per draw across the module boundary cost about 15% of DTEQL's time). It starts from and
/// returns to a `Xoshiro256` state, so the stream is the project's one PRNG stream; a test checks the two
/// give identical `next`, `nextUnit` and `nextInt(below:)` sequences.
struct InlineRandom: Equatable {
    var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    init(_ generator: Xoshiro256) {
        let words = generator.stateWords
        (s0, s1, s2, s3) = (words[0], words[1], words[2], words[3])
    }

    /// The same state as a `Xoshiro256`.
    var generator: Xoshiro256 { Xoshiro256(state: stateWords)! }

    var stateWords: [UInt64] { [s0, s1, s2, s3] }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always)
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Lemire's multiply-and-reject, as `Xoshiro256.nextInt(below:)`; `bound` must be > 0.
    @inline(__always)
    mutating func nextInt(below bound: Int) -> Int {
        let range = UInt64(truncatingIfNeeded: bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(truncatingIfNeeded: product.high)
    }
}

@inline(__always)
private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
    (x << k) | (x >> (64 - k))
}
