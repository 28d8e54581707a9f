import Scheduling

/// The Sobol sequence in base 2 with the direction numbers of Joe and Kuo ("Constructing Sobol sequences
/// with better two-dimensional projections", SIAM J. Sci. Comput. 30, 2008; the file new-joe-kuo-6.21201),
/// for the first ``maximumDimensions`` dimensions, 32 bits, generated in Gray-code order (Antonov-Saleev):
/// point 0 is the origin, point 1 is (1/2, ...), as every implementation from that table gives (SciPy's
/// `qmc.Sobol(scramble=False)` among them). A study's points are digitally shifted: each dimension's 32 bits
/// XOR a word drawn from Xoshiro256 seeded with the study's seed, which keeps the sequence's
/// low-discrepancy (a (t, s)-net stays one) while giving each seed its own points. Seed 0 uses no shift.
public enum Sobol {
    /// (s, a, m_1...m_s) of dimensions 2...12 in Joe and Kuo's table; dimension 1 is van der Corput's.
    static let directionTable: [(s: Int, a: UInt32, m: [UInt32])] = [
        (1, 0, [1]),
        (2, 1, [1, 3]),
        (3, 1, [1, 3, 1]),
        (3, 2, [1, 1, 1]),
        (4, 1, [1, 1, 3, 3]),
        (4, 4, [1, 3, 5, 13]),
        (5, 2, [1, 1, 5, 5, 17]),
        (5, 4, [1, 1, 5, 5, 5]),
        (5, 7, [1, 1, 7, 11, 19]),
        (5, 11, [1, 1, 5, 1, 1]),
        (5, 13, [1, 1, 1, 3, 11]),
    ]

    /// Dimensions supported: as many settings as a study may search.
    public static let maximumDimensions = 12

    /// The 32 direction numbers of dimension `dimension` (0-based).
    static func directions(_ dimension: Int) -> [UInt32] {
        var v = [UInt32](repeating: 0, count: 32)
        if dimension == 0 {
            for i in 0..<32 { v[i] = 1 << (31 - UInt32(i)) }
            return v
        }
        let (s, a, m) = directionTable[dimension - 1]
        for i in 0..<min(s, 32) { v[i] = m[i] << (31 - UInt32(i)) }
        if s < 32 {
            for i in s..<32 {
                v[i] = v[i - s] ^ (v[i - s] >> UInt32(s))
                for k in 1..<s where (a >> UInt32(s - 1 - k)) & 1 == 1 { v[i] ^= v[i - k] }
            }
        }
        return v
    }

    /// The first `count` points in [0, 1)^dimensions, unshifted (`shiftSeed` 0) or digitally shifted.
    public static func points(count: Int, dimensions: Int, shiftSeed: UInt64 = 0) -> [[Double]] {
        precondition(dimensions <= maximumDimensions && count <= 1 << 31)
        let v = (0..<dimensions).map(directions)
        var generator = Xoshiro256(seed: shiftSeed)
        let shift: [UInt32] = (0..<dimensions).map { _ in shiftSeed == 0 ? 0 : UInt32(truncatingIfNeeded: generator.next() >> 32) }
        var x = [UInt32](repeating: 0, count: dimensions)
        var result: [[Double]] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            if index > 0 {
                // The rightmost zero bit of index - 1.
                let c = (~UInt32(index - 1)).trailingZeroBitCount
                for d in 0..<dimensions { x[d] ^= v[d][c] }
            }
            result.append((0..<dimensions).map { Double(x[$0] ^ shift[$0]) * 0x1.0p-32 })
        }
        return result
    }
}
