import Learning
import Scheduling
import Testing
@testable import TrackerStore

/// The hardware SHA-256 used for checkpoints must give exactly the portable implementation's digests.
@Suite struct CheckpointDigestTests {
    @Test func standardVectors() {
        #expect(CheckpointDigest.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(CheckpointDigest.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(CheckpointDigest.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(CheckpointDigest.hex([UInt8](repeating: 0x61, count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every length around the block and padding boundaries, and some long odd ones, with varied bytes.
    @Test func agreesWithThePortableImplementation() {
        var state: UInt64 = 0x1234_5678_9ABC_DEF0
        func nextByte() -> UInt8 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let lengths = Array(0...200) + [255, 256, 257, 511, 4095, 4096, 65_537, 327_720]
        for length in lengths {
            let bytes = (0..<length).map { _ in nextByte() }
            #expect(CheckpointDigest.hex(bytes) == SHA256.hexDigest(bytes), "length \(length)")
        }
    }

    /// A run's summary hashes `qTableBytes()` here; it must be the learner's own `qTableSHA256()`.
    @Test(arguments: [Algorithm.ql, .dteql, .dtaql])
    func theFinalQTableDigestIsTheLearnersOwn(_ algorithm: Algorithm) throws {
        let frame = FrameGenerator.generate(count: 6, seed: 3)
        let hyperparameters = Hyperparameters(algorithm: algorithm, phi: 8, delta: 16, iterations: 300)
        let learner = try Learner(frame: frame, hyperparameters: hyperparameters, optimumObjective: nil)
        learner.runToEnd()
        #expect(learner.qTableBytes().count == 720 * 8)
        #expect(CheckpointDigest.hex(learner.qTableBytes()) == learner.qTableSHA256())
    }
}
