import Testing
@testable import Learning
import Scheduling
import Foundation

@Suite struct PermutationTests {
    @Test func factorials() {
        #expect(Permutations.factorial(0) == 1)
        #expect(Permutations.factorial(1) == 1)
        #expect(Permutations.factorial(8) == 40320)
        #expect(Permutations.factorial(12) == 479_001_600)
        #expect(Permutations.factorial(20) == 2_432_902_008_176_640_000)
        #expect(Permutations.checkedFactorial(21) == nil)
    }

    @Test(arguments: 1...7) func rankRoundTrips(n: Int) {
        let total = Permutations.factorial(n)
        #expect(Permutations.order(rank: 0, count: n) == Array(0..<n))
        #expect(Permutations.order(rank: total - 1, count: n) == Array((0..<n).reversed()))
        var previous: [Int]? = nil
        let buffer = UnsafeMutableBufferPointer<Int>.allocate(capacity: n)
        defer { buffer.deallocate() }
        for rank in 0..<total {
            let order = Permutations.order(rank: rank, count: n)
            #expect(Set(order) == Set(0..<n))
            #expect(Permutations.rank(of: order) == rank)
            Permutations.unrank(rank, into: buffer)
            #expect(Array(buffer) == order)
            if let previous {
                // Strictly increasing in lexicographic order.
                #expect(previous.lexicographicallyPrecedes(order))
            }
            previous = order
        }
    }

    @Test func floydSamplesAreDistinctAndUniform() {
        var rng = Xoshiro256(seed: 2024)
        let n = 24, k = 5, draws = 40_000
        var counts = [Int](repeating: 0, count: n)
        for _ in 0..<draws {
            let sample = Sampling.distinct(k, below: n, using: &rng)
            #expect(sample.count == k)
            #expect(Set(sample).count == k)
            #expect(sample.allSatisfy { (0..<n).contains($0) })
            for value in sample { counts[value] += 1 }
        }
        // Each value is in a sample with probability k/n.
        let expected = Double(draws * k) / Double(n)
        let chiSquare = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        // 23 degrees of freedom: the 0.999 quantile is about 49.7.
        #expect(chiSquare < 49.7, "chi-square \(chiSquare)")
        // Taking all n gives a permutation.
        #expect(Set(Sampling.distinct(n, below: n, using: &rng)) == Set(0..<n))
    }
}

@Suite struct SHA256Tests {
    @Test func standardVectors() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hexDigest(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalEqualsOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for split in [0, 1, 55, 56, 63, 64, 65, 500, 1000] {
            var hasher = SHA256.Hasher()
            hasher.update(Array(bytes[..<split]))
            hasher.update(Array(bytes[split...]))
            #expect(hasher.finalize() == SHA256.hash(bytes))
        }
    }
}

@Suite struct ScheduleAndValidationTests {
    @Test func epsilonSchedule() {
        let schedule = Hyperparameters(algorithm: .ql).exploration
        #expect(schedule.epsilon(at: 0) == 1)
        #expect(abs(schedule.epsilon(at: 5000) - (0.1 + 0.9 / 2.718281828459045)) < 1e-12)
        #expect(abs(schedule.epsilon(at: 10000) - (0.1 + 0.9 * exp(-2.0))) < 1e-15)
        #expect(abs(schedule.epsilon(at: 25_599) - 0.1) < 0.01)
        #expect(schedule.epsilon(at: 1_000_000) >= 0.1)
        let flat = ExplorationSchedule(start: 0.3, minimum: 0.3, decay: 10)
        #expect(flat.epsilon(at: 7) == 0.3)
    }

    func message(_ h: Hyperparameters, n: Int) -> String? {
        do {
            try h.validate(taskCount: n)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func validationMessages() {
        #expect(message(Hyperparameters(algorithm: .dteql), n: 8) == nil)
        #expect(message(Hyperparameters(algorithm: .dteql, phi: 1000), n: 6) == "phi must be <= N! = 720 for dteql, got 1000")
        #expect(message(Hyperparameters(algorithm: .dtaql, phi: 1000), n: 6) == nil)
        #expect(message(Hyperparameters(algorithm: .ql, phi: 0), n: 6) == nil)
        #expect(message(Hyperparameters(algorithm: .dtaql, phi: 0), n: 6) == "phi must be >= 1 for dtaql, got 0")
        #expect(message(Hyperparameters(algorithm: .ql, iterations: 0), n: 6) == "iterations must be >= 1, got 0")
        #expect(message(Hyperparameters(algorithm: .ql, learningRate: 0), n: 6) == "learning-rate must be in (0, 1], got 0.0")
        #expect(message(Hyperparameters(algorithm: .ql, learningRate: .nan), n: 6) == "learning-rate must be in (0, 1], got nan")
        #expect(message(Hyperparameters(algorithm: .ql, discount: 1.5), n: 6) == "discount must be in [0, 1], got 1.5")
        #expect(message(Hyperparameters(algorithm: .ql, epsilonMin: 0.5, epsilonDecay: 1), n: 6) == nil)
        #expect(message(Hyperparameters(algorithm: .ql, epsilonStart: 0.2, epsilonMin: 0.5), n: 6)
            == "epsilon-min must be in [0, epsilon-start = 0.2], got 0.5")
        #expect(message(Hyperparameters(algorithm: .ql, epsilonDecay: 0), n: 6) == "epsilon-decay must be a finite number > 0, got 0.0")
        #expect(message(Hyperparameters(algorithm: .dtaql, delta: 0), n: 6) == "delta must be >= 1, got 0")
        #expect(message(Hyperparameters(algorithm: .ql), n: 1) == "the frame must have at least 2 tasks to learn an order, got 1")
        #expect(message(Hyperparameters(algorithm: .ql), n: 13)?.contains("at most 12 tasks") == true)
        #expect(message(Hyperparameters(algorithm: .ql, twin: TwinModel(noise: 1)), n: 6) == "twin-noise must be in [0, 1), got 1.0")
        #expect(message(Hyperparameters(algorithm: .ql, twin: TwinModel(parameters: ModelParameters(uplinkRate: -1))), n: 6)
            == "twin model: rate must be a finite number > 0, got -1.0")
    }

    @Test func memoryGuardRefusesWithTheFigure() {
        let frame = FrameGenerator.generate(count: 8, seed: 3)
        let h = Hyperparameters(algorithm: .dtaql, phi: 500)
        let estimate = Learner.estimatedMemoryBytes(taskCount: 8, hyperparameters: h)
        #expect(estimate > 1_000_000 && estimate < 100_000_000)
        #expect(throws: LearningError.memoryLimitExceeded(estimatedBytes: estimate, limitBytes: 1_000_000)) {
            _ = try Learner(frame: frame, hyperparameters: h, memoryLimitBytes: 1_000_000)
        }
        let error = LearningError.memoryLimitExceeded(estimatedBytes: estimate, limitBytes: 1_000_000)
        #expect(error.description.contains("\(estimate) bytes"))
        #expect(error.description.contains("1000000 bytes"))
        // 12 tasks with the default limit: refused before allocating anything.
        let big = FrameGenerator.generate(count: 12, seed: 3)
        do {
            _ = try Learner(frame: big, hyperparameters: Hyperparameters(algorithm: .ql))
            Issue.record("12 tasks should exceed the default 4 GiB")
        } catch {
            #expect(error.description == "the learner would need about 11.2 GiB (12004981700 bytes), "
                + "over the memory limit of 4.0 GiB (4294967296 bytes)")
        }
        #expect(Learner.estimatedMemoryBytes(taskCount: 20, hyperparameters: h) == Int.max)
        // DTAQL at N = 10 fits in the default limit.
        let ten = Learner.estimatedMemoryBytes(taskCount: 10, hyperparameters: h)
        #expect(ten < 4 << 30)
    }
}

@Suite struct InlineRandomTests {
    /// The learners' inlinable copy of xoshiro256** gives exactly Scheduling's stream.
    @Test func matchesSchedulingsGenerator() {
        for seed: UInt64 in [0, 1, 42, .max] {
            var reference = Xoshiro256(seed: seed)
            var inline = InlineRandom(Xoshiro256(seed: seed))
            for k in 0..<2000 {
                switch k % 3 {
                case 0: #expect(inline.next() == reference.next())
                case 1: #expect(inline.nextUnit() == reference.nextUnit())
                default:
                    let bound = [1, 2, 3, 720, 40320, 1 << 40, Int.max][k % 7]
                    #expect(inline.nextInt(below: bound) == reference.nextInt(below: bound))
                }
            }
            #expect(inline.generator == reference)
        }
    }
}
