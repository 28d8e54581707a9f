import Testing
import Scheduling

struct ExactOptimumTests {
    /// The default model, one where the uplink is slow and misses are common, and one with no penalty.
    static let parameterSets = [
        ModelParameters.default,
        ModelParameters(uplinkRate: 1e6, cpuHz: 2e9, zeta: 1.0),
        ModelParameters(uplinkRate: 5.5e6, cpuHz: 10e9, zeta: 0),
    ]

    @Test(arguments: 2...8)
    func matchesBruteForce(count: Int) throws {
        for parameters in Self.parameterSets {
            for seed in UInt64(1)...3 {
                let random = FrameGenerator.generate(count: count, seed: seed * 1000 + UInt64(count), parameters: parameters)
                let optimum = try ExactOptimum.solve(random)
                let brute = bruteForceOptimum(random)
                #expect(isPermutation(optimum.order, of: count))
                #expect(
                    nearlyEqual(optimum.objective, brute.objective),
                    "N=\(count) seed=\(seed) \(parameters): DP \(optimum.objective) vs brute force \(brute.objective)"
                )
                #expect(random.evaluate(optimum.order) == optimum)
            }
        }
    }

    /// Deadlines tight enough that the penalty decides the order, with a large zeta.
    @Test func matchesBruteForceWhenMissesDominate() throws {
        for seed in UInt64(1)...4 {
            let base = FrameGenerator.generate(count: 7, seed: seed)
            let tight = Frame(
                tasks: base.tasks.map {
                    OffloadTask(dataBits: $0.dataBits, deadlineSeconds: $0.deadlineSeconds / 3, cyclesPerBit: $0.cyclesPerBit)
                },
                parameters: ModelParameters(zeta: 5)
            )
            let optimum = try ExactOptimum.solve(tight)
            #expect(nearlyEqual(optimum.objective, bruteForceOptimum(tight).objective))
        }
    }

    @Test(arguments: [9, 10])
    func beatsReferenceAndRandomOrders(count: Int) throws {
        for seed in UInt64(1)...3 {
            let random = FrameGenerator.generate(count: count, seed: seed + 500)
            let optimum = try ExactOptimum.solve(random)
            #expect(isPermutation(optimum.order, of: count))
            #expect(random.evaluate(optimum.order).objective == optimum.objective)
            let slack = 1 + 1e-12
            for rule in ReferenceOrder.allCases {
                let reference = random.outcome(of: rule.order(for: random)).objective
                #expect(optimum.objective <= reference * slack, "\(rule)")
            }
            var generator = Xoshiro256(seed: seed)
            for _ in 0..<300 {
                let order = Array(0..<count).shuffled(using: &generator)
                #expect(optimum.objective <= random.outcome(of: order).objective * slack)
            }
        }
    }

    @Test func solvesTheLargestSupportedFrame() throws {
        let count = ExactOptimum.maximumTasks
        #expect(count >= 10)
        let random = FrameGenerator.generate(count: count, seed: 3)
        let optimum = try ExactOptimum.solve(random)
        #expect(isPermutation(optimum.order, of: count))
        for rule in ReferenceOrder.allCases {
            #expect(optimum.objective <= random.outcome(of: rule.order(for: random)).objective * (1 + 1e-12))
        }
    }

    @Test func refusesTooManyTasks() {
        let count = ExactOptimum.maximumTasks + 1
        let random = FrameGenerator.generate(count: count, seed: 1)
        #expect(throws: SchedulingError.tooManyTasks(count: count, maximum: ExactOptimum.maximumTasks)) {
            try ExactOptimum.solve(random)
        }
    }

    @Test func trivialFrames() throws {
        let empty = try ExactOptimum.solve(Frame(tasks: []))
        #expect(empty.order == [])
        #expect(empty.objective == 0)
        let single = FrameGenerator.generate(count: 1, seed: 9)
        let one = try ExactOptimum.solve(single)
        #expect(one == single.evaluate([0]))
    }

    @Test func handFrameOptimum() throws {
        // The frame of EvaluationTests: sending task 0 first (ready 1.0, done 1.5), then task 2 (ready 1.5,
        // done 3.5, a miss of 2.5), then task 1 (ready 3.5, done 3.75) costs 1.5 + 3.5 + 3.75 + 0.5 = 9.25,
        // and brute force confirms nothing is cheaper.
        let hand = frame(
            [(1e6, 2.9, 500), (2e6, 4.0, 125), (5e5, 2.5, 4000)],
            parameters: ModelParameters(uplinkRate: 1e6, cpuHz: 1e9, zeta: 0.5)
        )
        let optimum = try ExactOptimum.solve(hand)
        #expect(optimum.objective == bruteForceOptimum(hand).objective)
        #expect(optimum.objective == 9.25)
        #expect(optimum.order == [0, 2, 1])
    }

    @Test func deterministicWithIdenticalTasks() throws {
        let same = frame(Array(repeating: (1e6, 2.0, 300.0), count: 8))
        let first = try ExactOptimum.solve(same)
        let second = try ExactOptimum.solve(same)
        #expect(first == second)
        #expect(isPermutation(first.order, of: 8))
        #expect(nearlyEqual(first.objective, bruteForceOptimum(same).objective))
    }

    @Test func refusesNonFiniteValues() {
        let broken = frame([(1e6, .nan, 300), (1e6, 2, 300)])
        #expect(throws: SchedulingError.self) { try ExactOptimum.solve(broken) }
        let badRate = frame([(1e6, 2, 300), (1e6, 2, 300)], parameters: ModelParameters(uplinkRate: 0))
        #expect(throws: SchedulingError.self) { try ExactOptimum.solve(badRate) }
    }
}
