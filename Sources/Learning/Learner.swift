// Module Learning: QL, DTEQL and DTAQL over the model, their snapshots and digests. Pure Swift: no SQL;
// its results (final Q-table hashes) must stay bit-identical (scripts/bit-identity.py).

import Scheduling

/// What one iteration did and where the real agent stands after it.
public struct Observation: Equatable, Sendable {
    /// 0-based index of the iteration.
    public var iteration: Int
    /// epsilon used in this iteration.
    public var epsilon: Double
    /// The real agent's action (rank) and the reward it got from the real environment (training form).
    public var action: Int
    public var reward: Double
    /// The real agent's greedy action after the iteration, and its figures under the real model.
    public var greedyAction: Int
    /// J_EDF / J(greedy), whatever the training reward form.
    public var normalizedReward: Double
    public var objective: Double
    public var misses: Int
    public var meanCompletionSeconds: Double
    /// Distinct actions tried so far by any agent, real or twin.
    public var distinctActions: Int

    public init(
        iteration: Int, epsilon: Double, action: Int, reward: Double, greedyAction: Int,
        normalizedReward: Double, objective: Double, misses: Int, meanCompletionSeconds: Double,
        distinctActions: Int
    ) {
        self.iteration = iteration
        self.epsilon = epsilon
        self.action = action
        self.reward = reward
        self.greedyAction = greedyAction
        self.normalizedReward = normalizedReward
        self.objective = objective
        self.misses = misses
        self.meanCompletionSeconds = meanCompletionSeconds
        self.distinctActions = distinctActions
    }
}

/// One entry of a Q-table: the action (rank and order of task indices), its Q-value, and its objective,
/// misses and mean completion time under the real model.
public struct RankedAction: Equatable, Sendable {
    public var rank: Int
    public var order: [Int]
    public var qValue: Double
    public var outcome: Outcome

    public init(rank: Int, order: [Int], qValue: Double, outcome: Outcome) {
        self.rank = rank
        self.order = order
        self.qValue = qValue
        self.outcome = outcome
    }
}

/// Convergence as of the current iteration.
public struct Convergence: Equatable, Sendable {
    /// The 0-based index of the first iteration from which the greedy action's J equals J* (relative
    /// tolerance 1e-12) through the current iteration; nil when J* is unknown or the greedy is not optimal now.
    public var iterationsToOptimal: Int?
    /// The 0-based index of the first iteration from which the greedy action never changed (0 before any).
    public var stableIteration: Int

    public init(iterationsToOptimal: Int?, stableIteration: Int) {
        self.iterationsToOptimal = iterationsToOptimal
        self.stableIteration = stableIteration
    }
}

/// One learning run of QL, DTEQL or DTAQL on one frame. Not thread-safe; use from one task at a time.
///
/// Random draws, all from one Xoshiro256 seeded with `hyperparameters.seed`, per iteration i:
/// 1. each agent in turn (QL/DTEQL: the real agent; DTAQL: the real agent, then twins 1...phi): one
///    `nextUnit()`; if it is < epsilon_i, one `nextInt(below: N!)` for a random action, else the greedy action;
///    the agent updates its table right away;
/// 2. DTEQL only, after the real agent's update: Floyd's sampling of phi distinct actions, for
///    j = N!-phi ..< N!: t = `nextInt(below: j + 1)`, take t unless already taken this iteration, then j;
///    each taken action is updated at once with its twin reward.
/// DTAQL averages all tables after iterations delta-1, 2*delta-1, ... (or, with `Aggregation.pool`, sets
/// them all to the pool table that took every agent's updates since the last averaging).
public final class Learner {
    public let frame: Frame
    public let hyperparameters: Hyperparameters
    public let optimumObjective: Double?
    /// N! actions.
    public let actionCount: Int
    /// J of the EDF order under the real model: the numerator of every normalized reward.
    public var edfObjective: Double { real.edfObjective }

    public static let snapshotLayoutVersion = 1
    /// Relative tolerance for "the greedy action's J equals J*".
    public static let optimumTolerance = 1e-12

    let real: RewardTable
    let twin: RewardTable
    let schedule: ExplorationSchedule
    var rng: InlineRandom
    public private(set) var iteration = 0
    private let tried: UnsafeMutableBufferPointer<Bool>
    /// Distinct actions tried so far by any agent, real or twin.
    public private(set) var distinctActions = 0
    private let single: SingleTable?
    private let averaged: AveragedTables?
    private let stamps: UnsafeMutableBufferPointer<UInt16>
    private var stamp: UInt16 = 0
    private let picks: UnsafeMutableBufferPointer<Int32>
    /// DTAQL: each agent's action in the current iteration (plus one scratch word).
    private let agentActions: UnsafeMutableBufferPointer<Int32>
    // Convergence bookkeeping.
    private var tracker: ConvergenceTracker
    // Cache of the real outcome of one action (the greedy one, usually).
    private var cachedOutcomeAction = -1
    private var cachedOutcome = Outcome(objective: 0, misses: 0, meanCompletionSeconds: 0)

    public init(
        frame: Frame, hyperparameters: Hyperparameters, optimumObjective: Double? = nil,
        memoryLimitBytes: Int = 4 << 30
    ) throws(LearningError) {
        try hyperparameters.validate(for: frame)
        let twinParameters = hyperparameters.twin.parameters ?? frame.parameters
        if let optimumObjective {
            guard optimumObjective.isFinite, optimumObjective > 0 else {
                throw .invalidHyperparameter("optimum objective must be a finite number > 0, got \(optimumObjective)")
            }
        }
        let estimate = Learner.estimatedMemoryBytes(taskCount: frame.count, hyperparameters: hyperparameters)
        guard estimate <= memoryLimitBytes else {
            throw .memoryLimitExceeded(estimatedBytes: estimate, limitBytes: memoryLimitBytes)
        }
        self.frame = frame
        self.hyperparameters = hyperparameters
        self.optimumObjective = optimumObjective
        self.tracker = ConvergenceTracker(optimumObjective: optimumObjective)
        let count = Permutations.factorial(frame.count)
        actionCount = count
        real = RewardTable(frame: frame, form: hyperparameters.reward)
        if hyperparameters.twin.isExact(for: frame.parameters) {
            twin = real
        } else {
            let twinFrame = Frame(tasks: frame.tasks, parameters: twinParameters)
            twin = RewardTable(frame: twinFrame, form: hyperparameters.reward, twin: hyperparameters.twin)
        }
        schedule = hyperparameters.exploration
        rng = InlineRandom(Xoshiro256(seed: hyperparameters.seed))
        tried = .allocate(capacity: count)
        tried.initialize(repeating: false)
        // Ratio rewards are positive and fixed per action, so with one target per entry Q only rises.
        let onlyRise = hyperparameters.reward == .ratio && (hyperparameters.algorithm == .ql || twin === real)
        switch hyperparameters.algorithm {
        case .ql:
            single = SingleTable(count: count, entriesOnlyRise: onlyRise)
            averaged = nil
            stamps = .allocate(capacity: 0)
            picks = .allocate(capacity: 0)
            agentActions = .allocate(capacity: 0)
        case .dteql:
            single = SingleTable(count: count, entriesOnlyRise: onlyRise)
            averaged = nil
            stamps = .allocate(capacity: count)
            stamps.initialize(repeating: 0)
            picks = .allocate(capacity: hyperparameters.phi)
            agentActions = .allocate(capacity: 0)
        case .dtaql:
            single = nil
            averaged = AveragedTables(
                count: count, agents: 1 + hyperparameters.phi, delta: hyperparameters.delta,
                entriesOnlyRise: hyperparameters.reward == .ratio && twin === real,
                aggregation: hyperparameters.aggregation)
            stamps = .allocate(capacity: 0)
            picks = .allocate(capacity: 0)
            agentActions = .allocate(capacity: hyperparameters.phi + 2)
            agentActions.initialize(repeating: 0)
        }
    }

    deinit {
        tried.deallocate()
        stamps.deallocate()
        picks.deallocate()
        agentActions.deallocate()
    }

    /// An upper estimate of the bytes the learner allocates for N tasks: tables, overlays, reward caches and
    /// bookkeeping. Saturates at Int.max.
    public static func estimatedMemoryBytes(taskCount: Int, hyperparameters: Hyperparameters) -> Int {
        guard taskCount >= 0, let count = Permutations.checkedFactorial(taskCount) else { return Int.max }
        var bytes = 4096
        let twinDiffers = hyperparameters.twin.parameters != nil || hyperparameters.twin.noise != 0
        bytes = saturatingAdd(bytes, saturatingMultiply(count, twinDiffers ? 16 : 8))  // reward caches
        bytes = saturatingAdd(bytes, count)  // tried flags
        switch hyperparameters.algorithm {
        case .ql:
            bytes = saturatingAdd(bytes, SingleTable.estimatedBytes(count: count))
        case .dteql:
            bytes = saturatingAdd(bytes, SingleTable.estimatedBytes(count: count))
            bytes = saturatingAdd(bytes, saturatingMultiply(count, 2))
            bytes = saturatingAdd(bytes, saturatingMultiply(Swift.max(hyperparameters.phi, 0), 4))
        case .dtaql:
            let agents = saturatingAdd(Swift.max(hyperparameters.phi, 0), 1)
            let limit = Swift.min(Swift.max(hyperparameters.delta, 1), count)
            guard limit <= 1 << 40 else { return Int.max }
            let capacity = AveragedTables.capacity(overlayLimit: limit)
            let mirrored = hyperparameters.reward == .negative || twinDiffers
            let perAgent = capacity * MemoryLayout<AveragedTables.Slot>.stride + limit * (mirrored ? 16 : 4) + 21
            bytes = saturatingAdd(bytes, saturatingMultiply(count, 21))  // base, accumulator, flags, list
            bytes = saturatingAdd(bytes, saturatingMultiply(limit + 1, 8))  // top of the base order
            bytes = saturatingAdd(bytes, saturatingMultiply(agents, perAgent))
            bytes = saturatingAdd(bytes, saturatingMultiply(agents, 4))  // the iteration's actions
            if hyperparameters.aggregation == .pool {
                bytes = saturatingAdd(bytes, saturatingMultiply(count, 8))  // the pool table
            }
        }
        return bytes
    }

    public var isFinished: Bool { iteration >= hyperparameters.iterations }

    /// Runs exactly one iteration. Running past the budget is allowed (to extend a run).
    @discardableResult
    public func step() -> Observation {
        let i = iteration
        let epsilon = schedule.epsilon(at: i)
        let learningRate = hyperparameters.learningRate
        let count = actionCount
        var rng = self.rng
        var distinct = distinctActions
        let tried = self.tried
        let action: Int
        let reward: Double
        let greedy: Int

        if let table = single {
            if rng.nextUnit() < epsilon {
                action = rng.nextInt(below: count)
            } else {
                table.refreshGreedy()
                action = table.greedy
            }
            reward = real.reward(action)
            table.update(action, reward: reward, learningRate: learningRate)
            if !tried[action] { tried[action] = true; distinct += 1 }

            if hyperparameters.algorithm == .dteql {
                var stamp = self.stamp &+ 1
                if stamp == 0 {
                    stamps.update(repeating: 0)
                    stamp = 1
                }
                self.stamp = stamp
                // First all phi picks (PRNG and stamps only), then the updates in the order picked: the
                // update loop has no dependency chain, so the processor overlaps its cache misses.
                let picks = self.picks
                var taken = 0
                Sampling.floyd(hyperparameters.phi, below: count, rng: &rng, stamps: stamps, stamp: stamp) { pick in
                    picks[taken] = Int32(truncatingIfNeeded: pick)
                    taken += 1
                }
                let twin = self.twin
                for k in 0..<taken {
                    let pick = Int(picks[k])
                    table.update(pick, reward: table.sampleReward(pick, from: twin), learningRate: learningRate)
                    if !tried[pick] { tried[pick] = true; distinct += 1 }
                }
            }
            table.refreshGreedy()
            greedy = table.greedy
        } else {
            let tables = averaged!
            // First every agent's action, in agent order (these are all of the iteration's draws, and no
            // agent's choice depends on another's update), touching each home slot so the cache misses
            // overlap; then the updates, in agent order.
            let actions = agentActions
            var sink: Int32 = 0
            for agent in 0..<tables.agents {
                let a = Learner.act(agent: agent, tables: tables, epsilon: epsilon, count: count, rng: &rng)
                actions[agent] = Int32(truncatingIfNeeded: a)
            }
            // A tight loop of independent loads: many misses in flight at once.
            for agent in 0..<tables.agents {
                sink &+= tables.touch(agent: agent, action: Int(actions[agent]))
            }
            agentActions[tables.agents] = sink
            action = Int(actions[0])
            reward = real.reward(action)
            tables.update(agent: 0, action: action, reward: reward, learningRate: learningRate)
            if !tried[action] { tried[action] = true; distinct += 1 }
            let twin = self.twin
            for agent in 1..<tables.agents {
                let a = Int(actions[agent])
                tables.update(agent: agent, action: a, reward: twin.reward(a), learningRate: learningRate)
                if !tried[a] { tried[a] = true; distinct += 1 }
            }
            if (i + 1) % hyperparameters.delta == 0 {
                tables.average()
            }
            greedy = tables.greedyAction(agent: 0)
        }

        self.rng = rng
        distinctActions = distinct
        iteration = i + 1

        let outcome = realOutcome(greedy)
        tracker.observe(iteration: i, greedyAction: greedy, objective: outcome.objective)
        return Observation(
            iteration: i, epsilon: epsilon, action: action, reward: reward, greedyAction: greedy,
            normalizedReward: real.edfObjective / outcome.objective, objective: outcome.objective,
            misses: outcome.misses, meanCompletionSeconds: outcome.meanCompletionSeconds,
            distinctActions: distinct
        )
    }

    @inline(__always)
    private static func act(
        agent: Int, tables: AveragedTables, epsilon: Double, count: Int, rng: inout InlineRandom
    ) -> Int {
        if rng.nextUnit() < epsilon { return rng.nextInt(below: count) }
        return tables.greedyAction(agent: agent)
    }

    static func isOptimal(_ objective: Double, _ optimum: Double) -> Bool {
        abs(objective - optimum) <= optimumTolerance * abs(optimum)
    }

    /// Runs `count` more iterations, handing each observation to `observe`.
    public func run(iterations count: Int, observe: (Observation) throws -> Void) rethrows {
        for _ in 0..<Swift.max(count, 0) { try observe(step()) }
    }

    /// Runs `count` more iterations.
    public func run(iterations count: Int) {
        for _ in 0..<Swift.max(count, 0) { step() }
    }

    /// Runs to the end of the budget (nothing when already there), handing each observation to `observe`.
    public func runToEnd(observe: (Observation) throws -> Void) rethrows {
        while !isFinished { try observe(step()) }
    }

    /// Runs to the end of the budget (nothing when already there).
    public func runToEnd() {
        while !isFinished { step() }
    }

    public var convergence: Convergence { tracker.convergence }

    /// The real agent's greedy action (argmax of its table, ties to the lowest rank).
    public var greedyAction: Int {
        if let single {
            single.refreshGreedy()
            return single.greedy
        }
        return averaged!.greedyAction(agent: 0)
    }

    /// The greedy action's order of task indices.
    public var greedyOrder: [Int] { Permutations.order(rank: greedyAction, count: frame.count) }

    /// The greedy action's objective, misses and mean completion time under the real model.
    public var greedyOutcome: Outcome { realOutcome(greedyAction) }

    /// J_EDF / J(greedy) under the real model.
    public var greedyNormalizedReward: Double { real.edfObjective / greedyOutcome.objective }

    private func realOutcome(_ action: Int) -> Outcome {
        if action != cachedOutcomeAction {
            cachedOutcome = real.outcome(action)
            cachedOutcomeAction = action
        }
        return cachedOutcome
    }

    /// The real agent's Q-table in rank order.
    public func realQTable() -> [Double] {
        if let single { return single.qValues() }
        return averaged!.table(agent: 0)
    }

    /// The `count` actions of highest Q-value in the real agent's table, highest first (ties to the lower
    /// rank, as the greedy action), with their order and their figures under the real model: what the
    /// learner believes, next to what each belief is worth. One pass over the table, no sort of all N!.
    public func topActions(_ count: Int) -> [RankedAction] {
        guard count > 0 else { return [] }
        let table = realQTable()
        // Kept best first; an entry enters only when it beats the current last, so equal values keep rank order.
        var best = [(rank: Int, value: Double)]()
        best.reserveCapacity(count + 1)
        for (rank, value) in table.enumerated() where best.count < count || value > best[best.count - 1].value {
            let position = best.firstIndex { value > $0.value } ?? best.count
            best.insert((rank, value), at: position)
            if best.count > count { best.removeLast() }
        }
        return best.map {
            RankedAction(
                rank: $0.rank, order: Permutations.order(rank: $0.rank, count: frame.count), qValue: $0.value,
                outcome: real.outcome($0.rank))
        }
    }

    /// Lowercase hex SHA-256 of `realQTable()` as little-endian Doubles in rank order.
    public func qTableSHA256() -> String {
        SHA256.hexDigest(qTableBytes())
    }

    /// What ``qTableSHA256()`` hashes: the real agent's Q-values in rank order, each as its IEEE 754 bit
    /// pattern, 8 bytes little-endian. For a caller that hashes it faster than the portable code here.
    public func qTableBytes() -> [UInt8] {
        let table = realQTable()
        return [UInt8](unsafeUninitializedCapacity: table.count * 8) { bytes, initialized in
            let raw = UnsafeMutableRawBufferPointer(bytes)
            for (index, value) in table.enumerated() {
                raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: index * 8, as: UInt64.self)
            }
            initialized = table.count * 8
        }
    }

    // MARK: Snapshot internals (see Snapshot.swift)

    var snapshotState: SnapshotState {
        SnapshotState(
            iteration: iteration, rngWords: rng.stateWords, distinctActions: distinctActions,
            lastGreedyChange: tracker.lastGreedyChange, previousGreedy: tracker.previousGreedy,
            optimalStreakStart: tracker.optimalStreakStart)
    }

    var triedFlags: UnsafeMutableBufferPointer<Bool> { tried }
    var singleTable: SingleTable? { single }
    var averagedTables: AveragedTables? { averaged }

    func apply(_ state: SnapshotState, rng: Xoshiro256) {
        iteration = state.iteration
        self.rng = InlineRandom(rng)
        distinctActions = state.distinctActions
        tracker.lastGreedyChange = state.lastGreedyChange
        tracker.previousGreedy = state.previousGreedy
        tracker.optimalStreakStart = state.optimalStreakStart
    }
}

struct SnapshotState {
    var iteration: Int
    var rngWords: [UInt64]
    var distinctActions: Int
    var lastGreedyChange: Int
    var previousGreedy: Int
    var optimalStreakStart: Int
}

@inline(__always)
func saturatingAdd(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int.max : sum
}

@inline(__always)
func saturatingMultiply(_ a: Int, _ b: Int) -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? Int.max : product
}
