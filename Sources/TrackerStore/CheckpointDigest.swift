import CSHA256
import Learning

/// SHA-256 of checkpoint snapshots, as 64 lowercase hexadecimal digits: on the CPU's SHA instructions
/// where it has them (about 6 times the portable code's speed; a checkpoint of DTEQL at N = 8 is 328 KB),
/// else Learning's portable implementation. Both give the same digest.
public enum CheckpointDigest {
    public static let hardwareAvailable = csha256_hardware_available() == 1

    public static func hex(_ bytes: [UInt8]) -> String {
        guard hardwareAvailable, !bytes.isEmpty else { return SHA256.hexDigest(bytes) }
        var digest = [UInt8](repeating: 0, count: SHA256.digestByteCount)
        bytes.withUnsafeBytes { source in
            digest.withUnsafeMutableBufferPointer { csha256_hardware(source.baseAddress, source.count, $0.baseAddress) }
        }
        return SHA256.hexString(digest)
    }
}
