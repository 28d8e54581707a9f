/// SHA-256 as FIPS 180-4 specifies it, written here so the Learning target needs no dependency. Used to
/// fingerprint Q-tables and to checksum snapshots.
public enum SHA256 {
    public static let digestByteCount = 32

    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// The digest of `bytes` as 64 lowercase hexadecimal digits.
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        hexString(hash(bytes))
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        hexString(hash(bytes))
    }

    public static func hex(_ string: String) -> String {
        hexString(hash(Array(string.utf8)))
    }

    /// The digest of `bytes` as 64 lowercase hexadecimal digits (the same as `hex`).
    public static func hexDigest(_ bytes: [UInt8]) -> String {
        hexString(hash(bytes))
    }

    public static func hexDigest(_ bytes: UnsafeRawBufferPointer) -> String {
        hexString(hash(bytes))
    }

    /// Lowercase hexadecimal, two digits per byte.
    public static func hexString(_ digest: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(digest.count * 2)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Incremental hashing: `update` any number of times, then `finalize` once.
    public struct Hasher {
        private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a,
            0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
        )
        private var block = [UInt8](repeating: 0, count: 64)
        private var blockFill = 0
        private var totalBytes: UInt64 = 0
        private var schedule = [UInt32](repeating: 0, count: 64)

        public init() {}

        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            totalBytes &+= UInt64(bytes.count)
            var index = 0
            let count = bytes.count
            // Fill a partial block first.
            if blockFill > 0 {
                while blockFill < 64 && index < count {
                    block[blockFill] = bytes[index]
                    blockFill += 1
                    index += 1
                }
                if blockFill == 64 {
                    let full = block
                    full.withUnsafeBytes { compress($0, offset: 0) }
                    blockFill = 0
                }
            }
            while count - index >= 64 {
                compress(bytes, offset: index)
                index += 64
            }
            while index < count {
                block[blockFill] = bytes[index]
                blockFill += 1
                index += 1
            }
        }

        public mutating func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { update($0) }
        }

        /// Pads (a 1 bit, zeros, the 64-bit big-endian message length in bits) and returns the digest.
        public mutating func finalize() -> [UInt8] {
            let bitLength = totalBytes &* 8
            var padding: [UInt8] = [0x80]
            let afterOne = (blockFill + 1) % 64
            let zeros = afterOne <= 56 ? 56 - afterOne : 120 - afterOne
            padding.append(contentsOf: repeatElement(0, count: zeros))
            for shift in stride(from: 56, through: 0, by: -8) {
                padding.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
            }
            let savedTotal = totalBytes
            padding.withUnsafeBytes { update($0) }
            totalBytes = savedTotal
            precondition(blockFill == 0, "SHA-256 padding must end on a block boundary")
            var digest = [UInt8]()
            digest.reserveCapacity(32)
            for word in [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7] {
                digest.append(UInt8(truncatingIfNeeded: word >> 24))
                digest.append(UInt8(truncatingIfNeeded: word >> 16))
                digest.append(UInt8(truncatingIfNeeded: word >> 8))
                digest.append(UInt8(truncatingIfNeeded: word))
            }
            return digest
        }

        private mutating func compress(_ bytes: UnsafeRawBufferPointer, offset: Int) {
            schedule.withUnsafeMutableBufferPointer { w in
                for t in 0..<16 {
                    let base = offset + 4 * t
                    w[t] = UInt32(bytes[base]) << 24 | UInt32(bytes[base + 1]) << 16
                        | UInt32(bytes[base + 2]) << 8 | UInt32(bytes[base + 3])
                }
                for t in 16..<64 {
                    let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                    let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                    w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                }
                var (a, b, c, d, e, f, g, h) = state
                for t in 0..<64 {
                    let sum1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let choose = (e & f) ^ (~e & g)
                    let t1 = h &+ sum1 &+ choose &+ roundConstants[t] &+ w[t]
                    let sum0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let majority = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = sum0 &+ majority
                    h = g
                    g = f
                    f = e
                    e = d &+ t1
                    d = c
                    c = b
                    b = a
                    a = t1 &+ t2
                }
                state = (
                    state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d,
                    state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h
                )
            }
        }
    }
}

@inline(__always)
private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
    (x >> n) | (x << (32 - n))
}

/// The first 32 bits of the fractional parts of the cube roots of the first 64 primes (FIPS 180-4, 4.2.2).
private let roundConstants: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
]
