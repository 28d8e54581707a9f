import Testing
@testable import Learning
import Scheduling

@Suite struct BehaviourTests {
    static let seeds: [UInt64] = [1, 2, 3, 4, 5]

    static func optimum(_ frame: Frame) -> Double { Fixture.objectives(frame).min()! }

    @Test func dteqlReachesTheOptimumOnSixTasks() throws {
        for frameSeed: UInt64 in [31, 32] {
            let frame = Fixture.frame(6, seed: frameSeed)
            let jStar = BehaviourTests.optimum(frame)
            let learner = try Learner(
                frame: frame, hyperparameters: Hyperparameters(algorithm: .dteql, phi: 500, seed: 1),
                optimumObjective: jStar)
            var last: Observation?
            learner.runToEnd { last = $0 }
            let convergence = learner.convergence
            #expect(convergence.iterationsToOptimal != nil, "frame \(frameSeed) not optimal after 25,600")
            #expect(abs(learner.greedyOutcome.objective - jStar) <= 1e-12 * jStar)
            #expect(last?.distinctActions == 720)
            #expect(convergence.stableIteration <= convergence.iterationsToOptimal ?? 0)
            #expect(learner.greedyNormalizedReward >= 1 - 1e-12)  // never worse than EDF at the optimum
        }
    }

    @Test func moreTwinSamplesDoNotSlowConvergence() throws {
        let frame = Fixture.frame(6, seed: 33)
        let jStar = BehaviourTests.optimum(frame)
        func medianIterations(phi: Int) throws -> Int {
            var results = [Int]()
            for seed in BehaviourTests.seeds {
                let learner = try Learner(
                    frame: frame,
                    hyperparameters: Hyperparameters(algorithm: .dteql, phi: phi, iterations: 6000, seed: seed),
                    optimumObjective: jStar)
                learner.runToEnd()
                results.append(learner.convergence.iterationsToOptimal ?? Int.max)
            }
            return results.sorted()[results.count / 2]
        }
        let few = try medianIterations(phi: 50)
        let many = try medianIterations(phi: 500)
        print("median iterations to optimal on N=6: phi=50 \(few), phi=500 \(many)")
        #expect(many <= few, "median iterations to optimal: phi=500 \(many), phi=50 \(few)")
        #expect(many < 6000)
    }

    @Test func convergenceMeasuresAreIncremental() throws {
        let frame = Fixture.frame(5, seed: 12)
        let jStar = BehaviourTests.optimum(frame)
        let learner = try Learner(
            frame: frame, hyperparameters: Hyperparameters(algorithm: .ql, iterations: 3000, seed: 4, epsilonDecay: 500),
            optimumObjective: jStar)
        #expect(learner.convergence == Convergence(iterationsToOptimal: nil, stableIteration: 0))
        var observations = [Observation]()
        learner.runToEnd { observations.append($0) }
        // Recompute from the stream.
        var stable = 0
        for i in 1..<observations.count where observations[i].greedyAction != observations[i - 1].greedyAction {
            stable = i
        }
        var streak: Int? = nil
        for (i, o) in observations.enumerated() {
            if abs(o.objective - jStar) <= 1e-12 * jStar { streak = streak ?? i } else { streak = nil }
        }
        #expect(learner.convergence == Convergence(iterationsToOptimal: streak, stableIteration: stable))
        // Without J*, no iterations-to-optimal.
        let blind = try Learner(frame: frame, hyperparameters: Hyperparameters(algorithm: .ql, iterations: 50))
        blind.runToEnd()
        #expect(blind.convergence.iterationsToOptimal == nil)
        // Running past the budget is allowed.
        blind.step()
        #expect(blind.iteration == 51 && blind.isFinished)
    }
}
