import Foundation
import TrackerStore
import Learning
import Scheduling

/// A grid of runs, read from a small JSON file (see sweeps/paper.json and docs/sweeps.md): task counts,
/// frames, learner seeds, algorithm configurations and any hyperparameter's values. Every combination is
/// one run; every configuration runs on the same frames.
public struct SweepSpec: Sendable, Equatable {
    public struct Configuration: Sendable, Equatable {
        public var algorithm: Algorithm
        public var phis: [Int]
        public var deltas: [Int]
        /// DTAQL only; [.mean] for the others.
        public var aggregations: [Aggregation] = [.mean]
    }

    public var description: String?
    public var label: String?
    public var taskCounts: [Int]
    public var frameSeeds: [UInt64]
    public var seeds: [UInt64]
    public var iterations: Int
    public var configurations: [Configuration]
    public var learningRates: [Double]
    public var discounts: [Double]
    public var epsilonStarts: [Double]
    public var epsilonMins: [Double]
    public var epsilonDecays: [Double]
    public var rewards: [RewardForm]
    public var twinNoises: [Double]
    public var model: ModelParameters
    public var checkpointEvery: Int
    public var keepCheckpoints: Int?
    /// How many of each run's newest checkpoints a sweep keeps when its spec does not say.
    public static let defaultKeepCheckpoints = 3

    static let knownKeys = [
        "description", "label", "n", "frames", "first_frame_seed", "frame_seeds", "seeds", "iterations",
        "configurations", "hyperparameters", "model", "checkpoint_every", "keep_checkpoints",
    ]
    /// What `hyperparameters` may vary: the settings ``SettingVocabulary`` marks for it, each under any of its names.
    static var knownHyperparameters: [SettingDefinition] { SettingVocabulary.settings.filter(\.sweepable) }

    /// Parses a spec; every problem is one line naming the file and the key.
    public static func parse(_ text: String, source: String) throws -> SweepSpec {
        func fail(_ message: String) -> StoreError { .invalidArgument("\(source): \(message)") }
        let reader = SpecKeyReader(source: source)
        let root = try reader.root(of: text, what: "the spec", knownKeys: knownKeys)

        let taskCounts = try reader.integers(root["n"], key: "n", required: true, range: 2...ExactOptimum.maximumTasks)
        let frameSeeds: [UInt64]
        if let explicit = root["frame_seeds"] {
            guard root["frames"] == nil else { throw fail("give either 'frames' or 'frame_seeds', not both") }
            frameSeeds = try reader.integers(explicit, key: "frame_seeds", required: true, range: 0...Int.max).map(UInt64.init)
        } else {
            let count = try reader.integer(root["frames"], key: "frames", default: 1, range: 1...100_000)
            let first = try reader.integer(root["first_frame_seed"], key: "first_frame_seed", default: 1, range: 0...(Int.max - 100_000))
            frameSeeds = (0..<count).map { UInt64(first + $0) }
        }
        let seeds = try reader.integers(root["seeds"], key: "seeds", required: false, range: 0...Int.max, default: [1]).map(UInt64.init)
        let iterations = try reader.integer(root["iterations"], key: "iterations", default: 25_600, range: 1...Hyperparameters.maximumIterations)

        guard let rawConfigurations = root["configurations"] else { throw fail("'configurations' is missing") }
        guard let list = rawConfigurations as? [Any], !list.isEmpty else {
            throw fail("'configurations' must be a non-empty list of objects like {\"algorithm\": \"dteql\", \"phi\": [500]}")
        }
        var configurations: [Configuration] = []
        for (index, entry) in list.enumerated() {
            let key = "configurations[\(index)]"
            guard let object = entry as? [String: Any] else { throw fail("\(key) must be an object") }
            for name in object.keys.sorted() where !["algorithm", "phi", "delta", "aggregation"].contains(name) {
                throw fail("\(key): unknown key '\(name)' (known: algorithm, phi, delta, aggregation)")
            }
            guard let name = object["algorithm"] as? String else { throw fail("\(key).algorithm is missing") }
            guard let algorithm = Algorithm(rawValue: name) else {
                throw fail("\(key).algorithm '\(name)' is not one of ql, dteql, dtaql")
            }
            let phis = algorithm == .ql ? [0]
                : try reader.integers(object["phi"], key: "\(key).phi", required: false, range: 1...Int(Int32.max), default: [Hyperparameters.defaultPhi])
            let deltas = algorithm == .dtaql
                ? try reader.integers(object["delta"], key: "\(key).delta", required: false, range: 1...Int(Int32.max), default: [Hyperparameters.defaultDelta])
                : [Hyperparameters.defaultDelta]
            let aggregationNames = try reader.strings(object["aggregation"], key: "\(key).aggregation", default: ["mean"])
            let aggregations = try aggregationNames.map { name -> Aggregation in
                guard let aggregation = Aggregation(rawValue: name) else {
                    throw fail("\(key).aggregation '\(name)' is not mean or pool")
                }
                guard algorithm == .dtaql || aggregation == .mean else {
                    throw fail("\(key).aggregation '\(name)' applies to dtaql only")
                }
                return aggregation
            }
            configurations.append(
                Configuration(algorithm: algorithm, phis: phis, deltas: deltas, aggregations: aggregations))
        }

        let grid = root["hyperparameters"] ?? [String: Any]()
        guard let given = grid as? [String: Any] else { throw fail("'hyperparameters' must be an object of lists") }
        // Keyed by canonical name (`lr`), each value with the key as the spec spells it (`learning_rate`) for messages.
        var hyperparameters: [String: (key: String, value: Any)] = [:]
        for (key, value) in given.sorted(by: { $0.key < $1.key }) {
            guard let setting = SettingVocabulary.definition(key), setting.sweepable else {
                throw fail("hyperparameters: unknown key '\(key)' (known: \(knownHyperparameters.map(\.spelled).joined(separator: ", ")))")
            }
            if let other = hyperparameters[setting.name] {
                throw fail("hyperparameters: '\(other.key)' and '\(key)' name one setting (\(setting.name)); give it once")
            }
            hyperparameters[setting.name] = (key, value)
        }
        /// The values listed for `name` and the key they were listed under.
        func hyper(_ name: String) -> (value: Any?, key: String) {
            let entry = hyperparameters[name]
            return (entry?.value, "hyperparameters." + (entry?.key ?? SettingVocabulary.definition(name)!.column))
        }
        let rewardNames = try reader.strings(hyper("reward").value, key: hyper("reward").key, default: ["ratio"])
        let rewards = try rewardNames.map { name -> RewardForm in
            guard let form = RewardForm(rawValue: name) else { throw fail("\(hyper("reward").key) '\(name)' is not ratio or negative") }
            return form
        }

        var model = ModelParameters.default
        if let rawModel = root["model"] {
            guard let object = rawModel as? [String: Any] else { throw fail("'model' must be an object") }
            for name in object.keys.sorted() where !["rate", "cpu_hz", "zeta"].contains(name) {
                throw fail("model: unknown key '\(name)' (known: rate, cpu_hz, zeta)")
            }
            model = ModelParameters(
                uplinkRate: try reader.number(object["rate"], key: "model.rate", default: model.uplinkRate),
                cpuHz: try reader.number(object["cpu_hz"], key: "model.cpu_hz", default: model.cpuHz),
                zeta: try reader.number(object["zeta"], key: "model.zeta", default: model.zeta))
            do { try model.validate() } catch { throw fail("model: \(error.description)") }
        }

        let label: String?
        switch root["label"] {
        case nil, is NSNull: label = nil
        case let text as String: label = text
        default: throw fail("'label' must be a string")
        }
        let description = root["description"] as? String
        // Like `run`: the newest few by default (a sweep's runs resume from their newest), "all" keeps every one.
        let keep: Int? = root["keep_checkpoints"] as? String == "all" ? nil
            : try reader.integer(root["keep_checkpoints"], key: "keep_checkpoints", default: SweepSpec.defaultKeepCheckpoints,
                                 range: 1...Int(Int32.max))

        let spec = SweepSpec(
            description: description, label: label, taskCounts: taskCounts, frameSeeds: frameSeeds, seeds: seeds,
            iterations: iterations, configurations: configurations,
            learningRates: try reader.numbers(hyper("lr").value, key: hyper("lr").key, default: Hyperparameters.defaultLearningRate),
            discounts: try reader.numbers(hyper("gamma").value, key: hyper("gamma").key, default: Hyperparameters.defaultDiscount),
            epsilonStarts: try reader.numbers(hyper("eps_start").value, key: hyper("eps_start").key, default: Hyperparameters.defaultEpsilonStart),
            epsilonMins: try reader.numbers(hyper("eps_min").value, key: hyper("eps_min").key, default: Hyperparameters.defaultEpsilonMin),
            epsilonDecays: try reader.numbers(hyper("beta").value, key: hyper("beta").key, default: Hyperparameters.defaultEpsilonDecay),
            rewards: rewards,
            twinNoises: try reader.numbers(hyper("twin_noise").value, key: hyper("twin_noise").key, default: 0),
            model: model,
            checkpointEvery: try reader.integer(root["checkpoint_every"], key: "checkpoint_every", default: 1024, range: 1...Int(Int32.max)),
            keepCheckpoints: keep)
        // Counted before anything is expanded: a few short lists can multiply into more runs than memory holds.
        let count = spec.runCount
        guard let count, count <= maximumRuns else {
            let counted = count.map { "\($0) runs" } ?? "more than \(Int.max) runs"
            throw fail("the grid has \(counted), more than the limit of \(maximumRuns) runs per sweep; split it into several specs")
        }
        // Every combination must be a valid run before anything starts; checked one at a time, never all held.
        try spec.forEachItem { item in
            do throws(LearningError) {
                try item.specification.hyperparameters.validate(for: item.specification.frame)
            } catch {
                throw fail("run \(item.index + 1) (\(item.summary)): \(error.description)")
            }
        }
        return spec
    }

    /// The most runs one spec may hold (docs/sweeps.md). A million runs of even 100 iterations is days of
    /// work and gigabytes of database; a bigger grid is nearly always a typo (`"frames": 100000` for 100).
    public static let maximumRuns = 1_000_000

    /// How many runs the grid holds, counted from the lengths of its axes without expanding anything; nil
    /// when the count does not fit in an Int. `sweep --status` and other readers of a grid can use it too.
    public var runCount: Int? {
        guard let perSetting = SweepSpec.checkedProduct([
            learningRates.count, discounts.count, epsilonStarts.count, epsilonMins.count, epsilonDecays.count,
            rewards.count, twinNoises.count,
        ]) else { return nil }
        var perSeed = 0
        for configuration in configurations {
            guard let perConfiguration = SweepSpec.checkedProduct([
                configuration.phis.count, configuration.deltas.count, configuration.aggregations.count, perSetting,
            ]) else { return nil }
            let (sum, overflow) = perSeed.addingReportingOverflow(perConfiguration)
            if overflow { return nil }
            perSeed = sum
        }
        return SweepSpec.checkedProduct([taskCounts.count, frameSeeds.count, seeds.count, perSeed])
    }

    /// The product of non-negative factors, or nil when it overflows Int (or a factor is negative).
    public static func checkedProduct(_ factors: [Int]) -> Int? {
        var product = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (result, overflow) = product.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            product = result
        }
        return product
    }

    /// Every run of the grid, in a fixed order: N, frame, seed, configuration, phi, delta, aggregation, then the
    /// hyperparameter values in the order listed. Shards and progress refer to this order. With `shard`
    /// (I of K, 1-based), only the items whose position is I-1 modulo K are built: a shard holds its slice, never the grid.
    public func items(shard: (index: Int, count: Int)? = nil) throws -> [SweepItem] {
        var items: [SweepItem] = []
        try forEachItem(shard: shard) { items.append($0) }
        return items
    }

    /// Calls `body` with each item of the grid (or of one shard) in grid order, building one at a time.
    public func forEachItem(
        shard: (index: Int, count: Int)? = nil, _ body: (SweepItem) throws -> Void
    ) throws {
        let stride = max(shard?.count ?? 1, 1)
        let wanted = (shard?.index ?? 1) - 1
        var position = 0
        for n in taskCounts {
            for frameSeed in frameSeeds {
                let frame = FrameGenerator.generate(count: n, seed: frameSeed, parameters: model)
                for seed in seeds {
                    for configuration in configurations {
                        for phi in configuration.phis {
                            for delta in configuration.deltas { for aggregation in configuration.aggregations {
                                for lr in learningRates { for gamma in discounts { for start in epsilonStarts {
                                    for minimum in epsilonMins { for decay in epsilonDecays { for reward in rewards {
                                        for noise in twinNoises {
                                            defer { position += 1 }
                                            guard position % stride == wanted else { continue }
                                            let h = Hyperparameters(
                                                algorithm: configuration.algorithm, phi: phi, delta: delta,
                                                iterations: iterations, seed: seed, learningRate: lr, discount: gamma,
                                                epsilonStart: start, epsilonMin: minimum, epsilonDecay: decay,
                                                reward: reward, twin: TwinModel(parameters: nil, noise: noise, noiseSeed: 0),
                                                aggregation: aggregation)
                                            let specification = RunSpecification(
                                                frame: frame, frameSource: .generated(seed: frameSeed), hyperparameters: h,
                                                checkpointEvery: checkpointEvery, keepCheckpoints: keepCheckpoints,
                                                label: label, trackerVersion: "")
                                            try body(SweepItem(index: position, specification: specification, frameSeed: frameSeed))
                                        }
                                    } } }
                                } } }
                            } }
                        }
                    }
                }
            }
        }
    }
}

/// One run of a sweep.
public struct SweepItem: Sendable {
    public let index: Int
    public var specification: RunSpecification
    public let frameSeed: UInt64

    public var summary: String {
        let h = specification.hyperparameters
        let pooled = h.aggregation == .mean ? "" : " \(h.aggregation.rawValue)"
        return "\(h.algorithm.rawValue)\(h.algorithm == .ql ? "" : " phi=\(h.phi)")\(pooled) N=\(specification.frame.count) frame-seed=\(frameSeed) seed=\(h.seed)"
    }
}
