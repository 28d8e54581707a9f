import Foundation
import Testing
@testable import Learning
import Scheduling

/// Helpers shared by the learner tests.
enum Fixture {
    static func frame(_ n: Int, seed: UInt64 = 11) -> Frame {
        FrameGenerator.generate(count: n, seed: seed)
    }

    /// Every action's J under `frame`, by rank.
    static func objectives(_ frame: Frame) -> [Double] {
        (0..<Permutations.factorial(frame.count)).map {
            frame.outcome(of: Permutations.order(rank: $0, count: frame.count)).objective
        }
    }

    static func edf(_ frame: Frame) -> Double {
        frame.outcome(of: ReferenceOrder.edf.order(for: frame)).objective
    }

    /// Full argmax, ties to the lowest rank.
    static func argmax(_ table: [Double]) -> Int {
        var best = 0
        for a in 1..<table.count where table[a] > table[best] { best = a }
        return best
    }

    static func run(_ learner: Learner, _ count: Int) -> [Observation] {
        (0..<count).map { _ in learner.step() }
    }
}

@Suite struct LearnerTests {
    @Test func oneUpdateByHand() throws {
        let frame = Fixture.frame(3, seed: 5)
        // epsilon = 1 always: the first action is nextInt(below: 6) after one nextUnit.
        let h = Hyperparameters(algorithm: .ql, iterations: 1, seed: 42, epsilonStart: 1, epsilonMin: 1)
        let learner = try Learner(frame: frame, hyperparameters: h)
        var rng = Xoshiro256(seed: 42)
        _ = rng.nextUnit()
        let action = rng.nextInt(below: 6)
        let observation = learner.step()
        #expect(observation.action == action)
        #expect(observation.epsilon == 1)
        let jEDF = frame.evaluate(ReferenceOrder.edf.order(for: frame)).objective
        let j = frame.evaluate(Permutations.order(rank: action, count: 3)).objective
        let reward = jEDF / j
        #expect(observation.reward == reward)
        var expected = [Double](repeating: 0, count: 6)
        expected[action] = 0 + 0.1 * (reward + 0.9 * 0 - 0)
        #expect(learner.realQTable() == expected)
        // The greedy is the one positive entry; its figures come from the real model.
        #expect(observation.greedyAction == action)
        #expect(observation.objective == j)
        #expect(observation.normalizedReward == reward)
        #expect(observation.distinctActions == 1)
        #expect(learner.isFinished)

        // The negative form: Q = 0.1 * -J; the greedy moves to the lowest untried rank.
        let negative = try Learner(frame: frame, hyperparameters: Hyperparameters(
            algorithm: .ql, seed: 42, epsilonStart: 1, epsilonMin: 1, reward: .negative))
        let o = negative.step()
        #expect(o.reward == -j)
        #expect(negative.realQTable()[action] == 0.1 * -j)
        #expect(o.greedyAction == (action == 0 ? 1 : 0))
        #expect(o.normalizedReward == jEDF / frame.evaluate(Permutations.order(rank: o.greedyAction, count: 3)).objective)
    }

    @Test(arguments: Algorithm.allCases) func seedsDetermineTheRun(algorithm: Algorithm) throws {
        let frame = Fixture.frame(5)
        func table(_ seed: UInt64) throws -> (String, [Observation]) {
            let learner = try Learner(frame: frame, hyperparameters: Hyperparameters(
                algorithm: algorithm, phi: 20, delta: 16, iterations: 300, seed: seed))
            let observations = Fixture.run(learner, 300)
            return (learner.qTableSHA256(), observations)
        }
        let a = try table(7), b = try table(7), c = try table(8)
        #expect(a.0 == b.0)
        #expect(a.1 == b.1)
        #expect(a.0 != c.0)
    }

    @Test(arguments: Algorithm.allCases) func topActionsAreTheTableSortedByValueThenRank(algorithm: Algorithm) throws {
        let frame = Fixture.frame(5)
        let learner = try Learner(frame: frame, hyperparameters: Hyperparameters(
            algorithm: algorithm, phi: 20, delta: 16, iterations: 300, seed: 3))
        _ = Fixture.run(learner, 300)
        let table = learner.realQTable()
        // Untried actions all hold 0, so a K past the tried ones checks the tie order too.
        let expected = table.indices.sorted { table[$0] != table[$1] ? table[$0] > table[$1] : $0 < $1 }
        for k in [0, 1, 7, 120] {
            let top = learner.topActions(k)
            #expect(top.map(\.rank) == Array(expected.prefix(k)))
            for action in top {
                #expect(action.qValue == table[action.rank])
                #expect(action.order == Permutations.order(rank: action.rank, count: 5))
                let evaluation = frame.evaluate(action.order)
                #expect(action.outcome.misses == evaluation.misses)
                #expect(abs(action.outcome.objective - evaluation.objective) <= 1e-9 * evaluation.objective)
            }
        }
        #expect(learner.topActions(1).first?.rank == learner.greedyAction)
    }

    @Test func qTableHashIsOfLittleEndianDoubles() throws {
        let learner = try Learner(frame: Fixture.frame(4), hyperparameters: Hyperparameters(algorithm: .dteql, phi: 5))
        _ = Fixture.run(learner, 10)
        var bytes = [UInt8]()
        for value in learner.realQTable() {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        #expect(learner.qTableSHA256() == SHA256.hexDigest(bytes))
        #expect(learner.qTableSHA256().count == 64)
    }

    static let twin = TwinModel(parameters: ModelParameters(uplinkRate: 4e6), noise: 0.05, noiseSeed: 9)

    static let restoreCases: [(Algorithm, TwinModel, RewardForm, Aggregation)] = [
        (.ql, .exact, .ratio, .mean), (.dteql, .exact, .ratio, .mean), (.dtaql, .exact, .ratio, .mean),
        (.dteql, twin, .ratio, .mean), (.dtaql, twin, .ratio, .mean), (.dtaql, .exact, .negative, .mean),
        (.dteql, twin, .negative, .mean), (.dtaql, .exact, .ratio, .pool), (.dtaql, twin, .negative, .pool),
    ]

    @Test(arguments: restoreCases) func snapshotRestoreContinuesBitIdentically(
        algorithm: Algorithm, twin: TwinModel, reward: RewardForm, aggregation: Aggregation
    ) throws {
        let frame = Fixture.frame(5, seed: 21)
        let h = Hyperparameters(
            algorithm: algorithm, phi: 12, delta: 10, iterations: 400, seed: 3, epsilonDecay: 150, reward: reward,
            twin: twin, aggregation: aggregation)
        let optimum = Fixture.objectives(frame).min()!
        let straight = try Learner(frame: frame, hyperparameters: h, optimumObjective: optimum)
        let all = Fixture.run(straight, 400)

        let first = try Learner(frame: frame, hyperparameters: h, optimumObjective: optimum)
        _ = Fixture.run(first, 173)  // mid-way between two averagings
        let snapshot = first.snapshot()
        let restored = try Learner(restoring: snapshot, frame: frame, hyperparameters: h, optimumObjective: optimum)
        #expect(restored.iteration == 173)
        #expect(restored.realQTable() == first.realQTable())
        #expect(restored.convergence == first.convergence)
        #expect(restored.snapshot() == snapshot)
        let rest = Fixture.run(restored, 227)
        #expect(rest == Array(all[173...]))
        #expect(restored.qTableSHA256() == straight.qTableSHA256())
        #expect(restored.convergence == straight.convergence)
        #expect(restored.snapshot() == straight.snapshot())

        // Snapshots at iteration 0 and at an averaging boundary also continue exactly.
        for cut in [0, 10, 399] {
            let a = try Learner(frame: frame, hyperparameters: h, optimumObjective: optimum)
            _ = Fixture.run(a, cut)
            let b = try Learner(restoring: a.snapshot(), frame: frame, hyperparameters: h, optimumObjective: optimum)
            #expect(Fixture.run(b, 400 - cut) == Array(all[cut...]))
        }
    }

    /// Nothing a learner computes depends on its budget (docs/learning.md, "The budget"): learners that
    /// differ only in `iterations` (100, 400, the maximum) step through identical observations, tables,
    /// convergence and snapshots, also past the budget, and a snapshot taken at the end of a 100-iteration
    /// budget restored under a 400-iteration one continues as the straight 400 does. Only `isFinished` differs.
    @Test(arguments: restoreCases) func theBudgetChangesNothingButIsFinished(
        algorithm: Algorithm, twin: TwinModel, reward: RewardForm, aggregation: Aggregation
    ) throws {
        let frame = Fixture.frame(5, seed: 21)
        func hyperparameters(_ iterations: Int) -> Hyperparameters {
            Hyperparameters(
                algorithm: algorithm, phi: 12, delta: 7, iterations: iterations, seed: 3, epsilonDecay: 150,
                reward: reward, twin: twin, aggregation: aggregation)
        }
        let optimum = Fixture.objectives(frame).min()!
        let budgets = [100, 400, Hyperparameters.maximumIterations]
        #expect(Set(budgets.map { Learner.estimatedMemoryBytes(taskCount: 5, hyperparameters: hyperparameters($0)) }).count == 1)
        let learners = try budgets.map { try Learner(frame: frame, hyperparameters: hyperparameters($0), optimumObjective: optimum) }
        let straight = Fixture.run(learners[1], 400)
        for learner in [learners[0], learners[2]] {
            #expect(Fixture.run(learner, 100) == Array(straight[..<100]))
            #expect(learner.isFinished == (learner.hyperparameters.iterations <= 100))
            // The 100-iteration learner's final state, as a finished run's last checkpoint holds it, under
            // the budget of 400 (delta = 7: the cut is not an averaging boundary).
            let extended = try Learner(
                restoring: learner.snapshot(), frame: frame, hyperparameters: hyperparameters(400), optimumObjective: optimum)
            #expect(Fixture.run(extended, 300) == Array(straight[100...]))
            #expect(extended.snapshot() == learners[1].snapshot())
            #expect(extended.convergence == learners[1].convergence)
            #expect(extended.qTableSHA256() == learners[1].qTableSHA256())
            #expect(extended.isFinished)
            // Stepping past the budget is the same too.
            #expect(Fixture.run(learner, 300) == Array(straight[100...]))
            #expect(learner.snapshot() == learners[1].snapshot())
        }
    }

    @Test func corruptedSnapshotsAreClearErrors() throws {
        let frame = Fixture.frame(5)
        let h = Hyperparameters(algorithm: .dtaql, phi: 6, delta: 8, iterations: 100)
        let learner = try Learner(frame: frame, hyperparameters: h)
        _ = Fixture.run(learner, 37)
        let good = learner.snapshot()

        func failure(_ bytes: [UInt8], _ hyper: Hyperparameters = h, _ f: Frame? = nil) -> String? {
            do {
                _ = try Learner(restoring: bytes, frame: f ?? frame, hyperparameters: hyper, optimumObjective: nil)
                return nil
            } catch {
                if case .invalidSnapshot = error {} else { return "wrong case \(error)" }
                return error.description
            }
        }
        #expect(failure(good) == nil)
        #expect(failure([])?.contains("shorter than any snapshot") == true)
        #expect(failure(Array(good.prefix(200)))?.contains("checksum") == true)
        #expect(failure(Array(good.dropLast()))?.contains("checksum") == true)
        var flipped = good
        flipped[flipped.count / 2] ^= 0x40
        #expect(failure(flipped)?.contains("checksum") == true)
        var magic = good
        magic[0] = 0
        #expect(failure(magic)?.contains("magic") == true)
        var version = good
        version[8] = 99
        #expect(failure(version)?.contains("layout version 99") == true)
        var other = h
        other.algorithm = .dteql
        #expect(failure(good, other)?.contains("algorithm dtaql") == true)
        other = h
        other.phi = 7
        #expect(failure(good, other)?.contains("phi") == true)
        other = h
        other.delta = 9
        #expect(failure(good, other)?.contains("delta") == true)
        other = h
        other.reward = .negative
        #expect(failure(good, other)?.contains("reward form") == true)
        other = h
        other.aggregation = .pool
        #expect(failure(good, other)?.contains("aggregation mean") == true)
        #expect(failure(good, h, Fixture.frame(6))?.contains("N = 5") == true)
        // A longer budget is fine: that is how a run is extended.
        other = h
        other.iterations = 1000
        #expect(failure(good, other) == nil)
    }

    /// The incremental greedy action equals a full argmax after every iteration, for every agent.
    @Test(arguments: [RewardForm.ratio, .negative]) func incrementalGreedyEqualsFullArgmax(reward: RewardForm) throws {
        let frame = Fixture.frame(4, seed: 8)
        for algorithm in Algorithm.allCases {
            for twin in [TwinModel.exact, LearnerTests.twin] {
                let h = Hyperparameters(
                    algorithm: algorithm, phi: 7, delta: 9, iterations: 600, seed: 5, epsilonDecay: 200,
                    reward: reward, twin: twin)
                let learner = try Learner(frame: frame, hyperparameters: h)
                for _ in 0..<600 {
                    let o = learner.step()
                    #expect(o.greedyAction == Fixture.argmax(learner.realQTable()))
                    if let tables = learner.averagedTables {
                        for agent in 0..<tables.agents {
                            #expect(tables.greedyAction(agent: agent) == Fixture.argmax(tables.table(agent: agent)))
                        }
                    }
                }
            }
        }
        // Greedy over a larger table, to exercise the block bests (blocks of 64 ranks).
        let learner = try Learner(frame: Fixture.frame(6), hyperparameters: Hyperparameters(
            algorithm: .dteql, phi: 40, iterations: 300, seed: 2, epsilonDecay: 100, reward: reward, twin: LearnerTests.twin))
        for _ in 0..<300 {
            #expect(learner.step().greedyAction == Fixture.argmax(learner.realQTable()))
        }
    }
}
