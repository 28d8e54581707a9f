import Testing
import Foundation
@testable import Learning
import Scheduling

/// A naive DTAQL with 1 + phi full tables, following the documented draw order.
struct NaiveDTAQL {
    let h: Hyperparameters
    let realRewards: [Double]
    let twinRewards: [Double]
    var tables: [[Double]]
    var base: [Double]
    var rng: Xoshiro256
    var iteration = 0
    /// At the last averaging: the largest |delta-form mean - plain mean| / |plain mean|, and how many entries
    /// no agent had changed (all equal to the base).
    var plainMeanDeviation = 0.0
    var unchangedEntries = 0

    init(frame: Frame, h: Hyperparameters) {
        self.h = h
        let count = Permutations.factorial(frame.count)
        let real = Fixture.objectives(frame)
        let edf = Fixture.edf(frame)
        realRewards = real.map { h.reward == .ratio ? edf / $0 : -$0 }
        let twinFrame = Frame(tasks: frame.tasks, parameters: h.twin.parameters ?? frame.parameters)
        let twinObjectives = Fixture.objectives(twinFrame)
        let twinEDF = Fixture.edf(twinFrame)
        twinRewards = (0..<count).map { a in
            (h.reward == .ratio ? twinEDF / twinObjectives[a] : -twinObjectives[a]) * h.twin.noiseFactor(action: a)
        }
        tables = Array(repeating: Array(repeating: 0, count: count), count: 1 + h.phi)
        base = Array(repeating: 0, count: count)
        rng = Xoshiro256(seed: h.seed)
    }

    /// One iteration; returns whether the tables were averaged at its end.
    mutating func step() -> Bool {
        let epsilon = h.exploration.epsilon(at: iteration)
        for agent in 0...h.phi {
            let action = rng.nextUnit() < epsilon ? rng.nextInt(below: base.count) : Fixture.argmax(tables[agent])
            let reward = agent == 0 ? realRewards[action] : twinRewards[action]
            tables[agent][action] += h.learningRate * (reward + h.discount * 0 - tables[agent][action])
        }
        iteration += 1
        guard iteration % h.delta == 0 else { return false }
        var mean = base
        plainMeanDeviation = 0
        unchangedEntries = 0
        for a in 0..<base.count {
            var sum = 0.0
            var plainSum = 0.0
            for agent in 0...h.phi {
                sum += tables[agent][a] - base[a]
                plainSum += tables[agent][a]
            }
            mean[a] = base[a] + sum / Double(1 + h.phi)
            let plain = plainSum / Double(1 + h.phi)
            if plain != 0 { plainMeanDeviation = max(plainMeanDeviation, abs(mean[a] - plain) / abs(plain)) }
            if (0...h.phi).allSatisfy({ tables[$0][a] == base[a] }) {
                unchangedEntries += 1
                precondition(mean[a] == base[a])
            }
        }
        base = mean
        for agent in 0...h.phi { tables[agent] = mean }
        return true
    }
}

@Suite struct DTAQLReferenceTests {
    @Test(arguments: [RewardForm.ratio, .negative]) func averagingMatchesFullTables(reward: RewardForm) throws {
        let frame = Fixture.frame(5, seed: 4)
        let h = Hyperparameters(
            algorithm: .dtaql, phi: 9, delta: 16, iterations: 200, seed: 77, epsilonDecay: 60, reward: reward,
            twin: TwinModel(parameters: ModelParameters(uplinkRate: 6e6), noise: 0.02, noiseSeed: 3))
        let learner = try Learner(frame: frame, hyperparameters: h)
        let tables = try #require(learner.averagedTables)
        var naive = NaiveDTAQL(frame: frame, h: h)
        var averagings = 0
        for _ in 0..<200 {
            let observation = learner.step()
            let averaged = naive.step()
            #expect(observation.greedyAction == Fixture.argmax(naive.tables[0]))
            for agent in 0...h.phi {
                #expect(tables.table(agent: agent) == naive.tables[agent], "agent \(agent) at \(observation.iteration)")
            }
            if averaged {
                averagings += 1
                // The delta form equals the plain mean sum(values) / (1 + phi) to rounding; entries nobody
                // changed keep their value exactly.
                #expect(naive.plainMeanDeviation < 1e-12)
                #expect(tables.overlayCount(agent: 0) == 0)
                #expect(Array(tables.base) == naive.base)
            }
        }
        #expect(averagings == 200 / 16)
    }
}

/// A naive DTAQL with experience pooling: 1 + phi full tables, each agent acting on and updating its own,
/// and a pool table taking every agent's sample in agent order; every delta iterations all tables become
/// the pool. It also counts how often each action was taken in the cycle, for the closed form.
struct NaivePooledDTAQL {
    let h: Hyperparameters
    let realRewards: [Double]
    let twinRewards: [Double]
    var tables: [[Double]]
    var pool: [Double]
    var shared: [Double]
    var hits: [Int]
    var rng: Xoshiro256
    var iteration = 0

    init(frame: Frame, h: Hyperparameters) {
        let reference = NaiveDTAQL(frame: frame, h: h)
        self.h = h
        realRewards = reference.realRewards
        twinRewards = reference.twinRewards
        tables = reference.tables
        pool = reference.base
        shared = reference.base
        hits = Array(repeating: 0, count: reference.base.count)
        rng = Xoshiro256(seed: h.seed)
    }

    /// One iteration; returns the shared table before the cycle when the tables were pooled at its end.
    mutating func step() -> [Double]? {
        let epsilon = h.exploration.epsilon(at: iteration)
        var actions: [Int] = []
        for agent in 0...h.phi {
            actions.append(rng.nextUnit() < epsilon ? rng.nextInt(below: pool.count) : Fixture.argmax(tables[agent]))
        }
        for agent in 0...h.phi {
            let action = actions[agent]
            let reward = agent == 0 ? realRewards[action] : twinRewards[action]
            tables[agent][action] += h.learningRate * (reward - tables[agent][action])
            pool[action] += h.learningRate * (reward - pool[action])
            hits[action] += 1
        }
        iteration += 1
        guard iteration % h.delta == 0 else { return nil }
        let before = shared
        shared = pool
        for agent in 0...h.phi { tables[agent] = pool }
        return before
    }
}

@Suite struct PooledDTAQLReferenceTests {
    @Test(arguments: [false, true]) func poolingMatchesFullTables(imperfectTwin: Bool) throws {
        let frame = Fixture.frame(4, seed: 11)
        let twin = imperfectTwin ? TwinModel(parameters: ModelParameters(uplinkRate: 6e6), noise: 0.02, noiseSeed: 3) : .exact
        let h = Hyperparameters(
            algorithm: .dtaql, phi: 7, delta: 12, iterations: 240, seed: 5, epsilonStart: 0.1, epsilonMin: 0.1,
            twin: twin, aggregation: .pool)
        let learner = try Learner(frame: frame, hyperparameters: h)
        let tables = try #require(learner.averagedTables)
        var naive = NaivePooledDTAQL(frame: frame, h: h)
        var poolings = 0
        for _ in 0..<240 {
            let observation = learner.step()
            let before = naive.step()
            #expect(observation.greedyAction == Fixture.argmax(naive.tables[0]))
            for agent in 0...h.phi {
                #expect(tables.table(agent: agent) == naive.tables[agent], "agent \(agent) at \(observation.iteration)")
            }
            #expect(Array(tables.pool) == naive.pool)
            guard let before else { continue }
            poolings += 1
            #expect(Array(tables.base) == naive.shared)
            #expect(tables.overlayCount(agent: 0) == 0)
            if !imperfectTwin {
                // With one reward per action, a cycle's pool is the closed form
                // S'(a) = r(a) + (S(a) - r(a)) (1 - lr)^n(a), n(a) = times any agent took a in the cycle.
                for a in 0..<before.count {
                    let r = naive.realRewards[a]
                    let closed = r + (before[a] - r) * pow(1 - h.learningRate, Double(naive.hits[a]))
                    #expect(abs(naive.shared[a] - closed) <= 1e-12 * max(abs(closed), 1), "action \(a)")
                }
            }
            naive.hits = Array(repeating: 0, count: before.count)
        }
        #expect(poolings == 240 / 12)
        // Pooling is not the mean: the shared table moves by whole samples, not by 1 / (1 + phi) of them.
        let mean = try Learner(frame: frame, hyperparameters: { var m = h; m.aggregation = .mean; return m }())
        mean.run(iterations: 240)
        #expect(mean.realQTable() != learner.realQTable())
    }

    @Test func poolIsRefusedOutsideDTAQL() {
        for algorithm in [Algorithm.ql, .dteql] {
            let h = Hyperparameters(algorithm: algorithm, phi: 5, aggregation: .pool)
            #expect(throws: LearningError.invalidHyperparameter("aggregation pool applies to dtaql only, not \(algorithm.rawValue)")) {
                try h.validate(taskCount: 5)
            }
        }
    }
}
