import Scheduling

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The three learners of the paper.
public enum Algorithm: String, CaseIterable, Codable, Sendable {
    /// Plain Q-learning: one agent on the real environment.
    case ql
    /// Algorithm 2: the real agent plus phi distinct twin-evaluated actions per iteration, one shared table.
    case dteql
    /// Algorithm 1: the real agent and phi twin agents, each with its own table, averaged every delta iterations.
    case dtaql
}

/// How a reward is derived from the objective J of the action's order.
public enum RewardForm: String, CaseIterable, Codable, Sendable {
    /// J_EDF / J: positive, about 1, higher is better.
    case ratio
    /// -J.
    case negative
}

/// How DTAQL combines its 1 + phi tables every delta iterations.
public enum Aggregation: String, CaseIterable, Codable, Sendable {
    /// Algorithm 1 line 12 as written: every table becomes the element-wise mean of all tables.
    case mean
    /// Experience pooling: a pool table, equal to the shared table at the start of each cycle, takes every
    /// agent's sample as its own update (in agent order 0...phi, repeated hits compounding); every table
    /// becomes the pool. The paper's prose ("they share their knowledge"), not line 12's formula.
    case pool
}

/// The digital twin's model of the environment. The exact twin (the default) evaluates an action exactly as
/// the real environment does.
public struct TwinModel: Codable, Equatable, Sendable {
    /// The model parameters the twin believes in; nil means the real frame's parameters.
    public var parameters: ModelParameters?
    /// Relative amplitude of a fixed per-action reward error: the twin's reward of action a is multiplied by
    /// 1 + noise * u(a), with u(a) in [-1, 1) from hashing (noiseSeed, a). In [0, 1).
    public var noise: Double
    /// Selects the per-action error pattern.
    public var noiseSeed: UInt64

    public init(parameters: ModelParameters? = nil, noise: Double = 0, noiseSeed: UInt64 = 0) {
        self.parameters = parameters
        self.noise = noise
        self.noiseSeed = noiseSeed
    }

    public static let exact = TwinModel()

    /// True when the twin sees exactly what the real environment sees for a frame with `realParameters`.
    public func isExact(for realParameters: ModelParameters) -> Bool {
        noise == 0 && (parameters == nil || parameters == realParameters)
    }

    /// u(a) in [-1, 1): SplitMix64's finalizer over the seed and the action, a fixed pattern, no PRNG state.
    public func noiseUnit(action: Int) -> Double {
        var z = noiseSeed ^ (UInt64(truncatingIfNeeded: action) &* 0x9E37_79B9_7F4A_7C15)
        z &+= 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) * 0x1.0p-52 - 1
    }

    /// The multiplicative factor 1 + noise * u(a) applied to the twin's reward of `action`.
    public func noiseFactor(action: Int) -> Double {
        noise == 0 ? 1 : 1 + noise * noiseUnit(action: action)
    }
}

/// Everything that defines a learning run besides the frame.
public struct Hyperparameters: Codable, Equatable, Sendable {
    public var algorithm: Algorithm
    /// Twin samples per iteration (DTEQL) or number of twin agents (DTAQL). Recorded, unused, for QL.
    public var phi: Int
    /// DTAQL averages all tables every delta iterations. Recorded, unused, for QL and DTEQL.
    public var delta: Int
    /// The iteration budget.
    public var iterations: Int
    /// Seeds the one Xoshiro256 stream that drives every random choice.
    public var seed: UInt64
    public var learningRate: Double
    /// gamma. Recorded; it has no effect because every episode is one terminal step.
    public var discount: Double
    public var epsilonStart: Double
    public var epsilonMin: Double
    /// beta, the time constant of the exponential epsilon decay, in iterations.
    public var epsilonDecay: Double
    public var reward: RewardForm
    public var twin: TwinModel
    /// How DTAQL combines its tables. Only `mean` is accepted for QL and DTEQL.
    public var aggregation: Aggregation

    public static let defaultPhi = 500
    public static let defaultDelta = 512
    public static let defaultIterations = 25_600
    public static let defaultSeed: UInt64 = 1
    public static let defaultLearningRate = 0.1
    public static let defaultDiscount = 0.9
    public static let defaultEpsilonStart = 1.0
    public static let defaultEpsilonMin = 0.1
    public static let defaultEpsilonDecay = 5000.0

    public init(
        algorithm: Algorithm,
        phi: Int = Hyperparameters.defaultPhi,
        delta: Int = Hyperparameters.defaultDelta,
        iterations: Int = Hyperparameters.defaultIterations,
        seed: UInt64 = Hyperparameters.defaultSeed,
        learningRate: Double = Hyperparameters.defaultLearningRate,
        discount: Double = Hyperparameters.defaultDiscount,
        epsilonStart: Double = Hyperparameters.defaultEpsilonStart,
        epsilonMin: Double = Hyperparameters.defaultEpsilonMin,
        epsilonDecay: Double = Hyperparameters.defaultEpsilonDecay,
        reward: RewardForm = .ratio,
        twin: TwinModel = .exact,
        aggregation: Aggregation = .mean
    ) {
        self.algorithm = algorithm
        self.phi = phi
        self.delta = delta
        self.iterations = iterations
        self.seed = seed
        self.learningRate = learningRate
        self.discount = discount
        self.epsilonStart = epsilonStart
        self.epsilonMin = epsilonMin
        self.epsilonDecay = epsilonDecay
        self.reward = reward
        self.twin = twin
        self.aggregation = aggregation
    }

    /// The largest N the learners accept: 12! = 479,001,600 actions, the most whose ranks fit in 32 bits.
    public static let maximumTaskCount = 12

    /// The most iterations one run may plan: `run --iterations`, `resume` (`--to`, or done plus `--iterations`),
    /// sweep specs' `iterations` and `reproduce --iterations` all refuse more. A billion is days of the
    /// fastest learner and far past convergence at every supported N; a larger budget could not finish in
    /// any lifetime and, near `Int.max`, would overflow the counts derived from it. Defined here, once.
    public static let maximumIterations = 1_000_000_000

    public var exploration: ExplorationSchedule {
        ExplorationSchedule(start: epsilonStart, minimum: epsilonMin, decay: epsilonDecay)
    }

    /// Throws unless these hyperparameters can train on `frame`: `validate(taskCount:)`, then the frame as
    /// the real environment and as the twin sees it must pass `Frame.validate` (rewards divide by J, so
    /// every J must be finite and > 0). The learner checks this; so do `run` and `sweep` before they write.
    public func validate(for frame: Frame) throws(LearningError) {
        try validate(taskCount: frame.count)
        do throws(SchedulingError) {
            try frame.validate()
        } catch {
            throw .invalidHyperparameter(error.description)
        }
        if let parameters = twin.parameters {
            do throws(SchedulingError) {
                try Frame(tasks: frame.tasks, parameters: parameters).validate()
            } catch {
                throw .invalidHyperparameter("twin: \(error.description)")
            }
        }
    }

    /// Throws `invalidHyperparameter` with one line naming the first offending option.
    public func validate(taskCount: Int) throws(LearningError) {
        guard taskCount >= 2 else {
            throw .invalidHyperparameter("the frame must have at least 2 tasks to learn an order, got \(taskCount)")
        }
        guard taskCount <= Hyperparameters.maximumTaskCount else {
            throw .invalidHyperparameter(
                "the learners support at most \(Hyperparameters.maximumTaskCount) tasks (12! actions), got \(taskCount)")
        }
        let actions = Permutations.factorial(taskCount)
        guard iterations >= 1 else {
            throw .invalidHyperparameter("iterations must be >= 1, got \(iterations)")
        }
        guard iterations <= Hyperparameters.maximumIterations else {
            throw .invalidHyperparameter("iterations must be <= \(Hyperparameters.maximumIterations), got \(iterations)")
        }
        if algorithm != .ql {
            guard phi >= 1 else {
                throw .invalidHyperparameter("phi must be >= 1 for \(algorithm.rawValue), got \(phi)")
            }
        }
        if algorithm == .dteql {
            guard phi <= actions else {
                throw .invalidHyperparameter("phi must be <= N! = \(actions) for dteql, got \(phi)")
            }
        }
        if algorithm != .dtaql && aggregation != .mean {
            throw .invalidHyperparameter(
                "aggregation \(aggregation.rawValue) applies to dtaql only, not \(algorithm.rawValue)")
        }
        guard delta >= 1 else {
            throw .invalidHyperparameter("delta must be >= 1, got \(delta)")
        }
        guard learningRate > 0, learningRate <= 1 else {
            throw .invalidHyperparameter("learning-rate must be in (0, 1], got \(learningRate)")
        }
        guard discount >= 0, discount <= 1 else {
            throw .invalidHyperparameter("discount must be in [0, 1], got \(discount)")
        }
        guard epsilonStart >= 0, epsilonStart <= 1 else {
            throw .invalidHyperparameter("epsilon-start must be in [0, 1], got \(epsilonStart)")
        }
        guard epsilonMin >= 0, epsilonMin <= epsilonStart else {
            throw .invalidHyperparameter(
                "epsilon-min must be in [0, epsilon-start = \(epsilonStart)], got \(epsilonMin)")
        }
        guard epsilonDecay > 0, epsilonDecay.isFinite else {
            throw .invalidHyperparameter("epsilon-decay must be a finite number > 0, got \(epsilonDecay)")
        }
        guard twin.noise >= 0, twin.noise < 1 else {
            throw .invalidHyperparameter("twin-noise must be in [0, 1), got \(twin.noise)")
        }
        if let parameters = twin.parameters {
            do {
                try parameters.validate()
            } catch {
                throw .invalidHyperparameter("twin model: \(error.description)")
            }
        }
    }
}

/// epsilon_i = min + (start - min) * exp(-i / decay), for iteration i = 0, 1, ...
public struct ExplorationSchedule: Equatable, Sendable {
    public var start: Double
    public var minimum: Double
    public var decay: Double

    public init(start: Double, minimum: Double, decay: Double) {
        self.start = start
        self.minimum = minimum
        self.decay = decay
    }

    @inline(__always)
    public func epsilon(at iteration: Int) -> Double {
        minimum + (start - minimum) * exp(-Double(iteration) / decay)
    }
}

/// The learners' errors. Each description is one line fit for a user.
public enum LearningError: Error, CustomStringConvertible, Equatable {
    case invalidHyperparameter(String)
    case memoryLimitExceeded(estimatedBytes: Int, limitBytes: Int)
    case invalidSnapshot(String)

    public var description: String {
        switch self {
        case .invalidHyperparameter(let message):
            return message
        case .memoryLimitExceeded(let estimated, let limit):
            return "the learner would need about \(formatBytes(estimated)) (\(estimated) bytes), "
                + "over the memory limit of \(formatBytes(limit)) (\(limit) bytes)"
        case .invalidSnapshot(let message):
            return "invalid snapshot: \(message)"
        }
    }
}

func formatBytes(_ bytes: Int) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    if unit == 0 { return "\(bytes) bytes" }
    let tenths = (value * 10).rounded() / 10
    return "\(tenths) \(units[unit])"
}
