import TrackerStore
import Foundation
import Learning
import Scheduling

/// A value of one setting in a study: a number, a whole number (phi, delta) or a name (reward, aggregation).
public enum StudyValue: Sendable, Equatable, Hashable {
    case number(Double)
    case integer(Int)
    case text(String)

    /// As JSON (numbers keep their full precision: `String(describing:)` of a Double round-trips).
    public var jsonObject: Any {
        switch self {
        case .number(let value): return value
        case .integer(let value): return value
        case .text(let value): return value
        }
    }

    public var display: String {
        switch self {
        case .number(let value): return value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        case .integer(let value): return String(value)
        case .text(let value): return value
        }
    }

    public var number: Double? {
        switch self {
        case .number(let value): return value
        case .integer(let value): return Double(value)
        case .text: return nil
        }
    }
}

/// Where a study samples one setting from (docs/tune.md).
public enum StudyDistribution: Sendable, Equatable {
    case uniform(Double, Double)
    case logUniform(Double, Double)
    case intUniform(Int, Int)
    case choice([StudyValue])

    /// The value at `u` in [0, 1): the inverse of the distribution's CDF (for `choice`, equal shares).
    /// Whole-number settings round a continuous draw to the nearest whole number inside the range.
    func value(at u: Double, kind: StudySettingKind) -> StudyValue {
        let u = min(max(u, 0), 0x1.fffffffffffffp-1)
        func continuous(_ x: Double, _ low: Double, _ high: Double) -> StudyValue {
            guard kind == .integer else { return .number(min(max(x, low), high)) }
            return .integer(Int(min(max(x.rounded(), low.rounded(.up)), high.rounded(.down))))
        }
        switch self {
        case .uniform(let low, let high): return continuous(low + u * (high - low), low, high)
        case .logUniform(let low, let high): return continuous(exp(log(low) + u * (log(high) - log(low))), low, high)
        case .intUniform(let low, let high):
            let span = Double(high - low + 1)
            return .integer(min(high, low + Int((u * span).rounded(.down))))
        case .choice(let values): return values[min(values.count - 1, Int((u * Double(values.count)).rounded(.down)))]
        }
    }

    var jsonObject: Any {
        switch self {
        case .uniform(let a, let b): return ["uniform": [a, b]]
        case .logUniform(let a, let b): return ["log_uniform": [a, b]]
        case .intUniform(let a, let b): return ["int_uniform": [a, b]]
        case .choice(let values): return ["choice": values.map(\.jsonObject)]
        }
    }
}

public enum StudySettingKind: Sendable { case real, integer, name }

/// The objective of a study, over a trial's runs at one budget.
public enum StudyObjective: String, Sendable, CaseIterable {
    /// The median iterations-to-optimal; a run that has not converged counts as beyond the budget. Lower is better.
    case medianConvergence = "median_convergence"
    /// The mean J*/J of the final greedy order at the budget. Higher is better.
    case meanOptimalityRatio = "mean_optimality_ratio"
    /// The mean delay score (docs/model.md) at the budget. Higher is better.
    case meanDelayScore = "mean_delay_score"
    /// The mean over runs of the greedy normalized reward averaged over iterations 0..<budget: the area under
    /// the greedy-reward curve divided by the budget. Higher is better.
    case rewardAUC = "reward_auc"

    public var naturalDirection: StudyDirection { self == .medianConvergence ? .minimize : .maximize }
}

public enum StudyDirection: String, Sendable, CaseIterable { case minimize, maximize }
public enum StudyScheduler: String, Sendable, CaseIterable { case asha, hyperband }
public enum StudySampler: String, Sendable, CaseIterable {
    case random, sobol
    /// Model-based: each trial after the first few is drawn from a TPE model of the results so far (TPE.swift).
    case tpe
}

/// A search over settings (`tracker tune`, docs/tune.md): the problem (N, frames, seeds, algorithm, fixed
/// settings), the search space, the objective, the budget's rungs, the scheduler and the sampler.
/// Parsed like a sweep spec: every problem one line naming the key; nothing is recorded before it parses.
public struct StudySpec: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var taskCounts: [Int]
    public var frameSeeds: [UInt64]
    public var seeds: [UInt64]
    public var algorithm: Algorithm
    /// Canonical name -> value; settings neither fixed nor searched keep the learners' defaults.
    public var fixed: [String: StudyValue]
    /// In canonical-name order: the sampler's dimensions.
    public var search: [(name: String, distribution: StudyDistribution)]
    public var objective: StudyObjective
    public var direction: StudyDirection
    public var minIterations: Int
    public var maxIterations: Int
    public var reduction: Int
    public var trials: Int
    public var scheduler: StudyScheduler
    public var sampler: StudySampler
    /// `tpe` only: the first trials of each bracket, taken from the seeded Sobol sequence before any model.
    public var tpeStartupTrials = StudySpec.defaultTPEStartupTrials
    /// `tpe` only: trials drawn from one model, which sees the results of every earlier batch at the
    /// bracket's first rung; the trials of a batch run in parallel.
    public var tpeBatch = StudySpec.defaultTPEBatch
    /// `tpe` only: one model over every searched setting (true), or one per setting (``TPESampler/multivariate``).
    public var tpeMultivariate = false
    /// `tpe` only: how many trials of each batch are coordinate moves from the best trial so far instead of
    /// model draws (TrialSampling.swift ``coordinateMove``); 0 to `batch`, by default half of it (docs/tune.md
    /// gives the measurements behind that default; 0 is TPE alone).
    public var tpeCoordinateMoves = StudySpec.defaultTPEBatch / 2
    public var seed: UInt64
    public var checkpointEvery: Int
    public var model: ModelParameters

    public static func == (a: StudySpec, b: StudySpec) -> Bool { a.canonicalJSON == b.canonicalJSON }

    /// The most trials one study may hold (docs/tune.md).
    public static let maximumTrials = 10_000
    /// The most runs one trial may hold (its N values x frames x seeds).
    public static let maximumRunsPerTrial = 10_000
    public static let defaultTPEStartupTrials = 10
    public static let defaultTPEBatch = 4

    static let knownKeys = [
        "name", "description", "n", "frames", "first_frame_seed", "frame_seeds", "seeds", "algorithm", "fixed",
        "search", "objective", "direction", "budget", "trials", "scheduler", "sampler", "tpe", "seed", "checkpoint_every", "model",
    ]

    /// What a study may fix or search, by canonical name, and the kind of its values.
    public static let settingKinds: [(name: String, kind: StudySettingKind)] = [
        ("phi", .integer), ("delta", .integer), ("lr", .real), ("gamma", .real), ("eps_start", .real),
        ("eps_min", .real), ("beta", .real), ("reward", .name), ("twin_noise", .real), ("aggregation", .name),
    ]

    static func kind(of name: String) -> StudySettingKind? { settingKinds.first { $0.name == name }?.kind }

    static var knownSettingsText: String {
        settingKinds.compactMap { SettingVocabulary.definition($0.name)?.spelled }.joined(separator: ", ")
    }

    /// The runs of one trial: every (N, frame seed, learner seed), in that order.
    public var positions: [(n: Int, frameSeed: UInt64, seed: UInt64)] {
        taskCounts.flatMap { n in frameSeeds.flatMap { frame in seeds.map { (n, frame, $0) } } }
    }

    /// The rungs' budgets: min_iterations * reduction^k while below max_iterations, then max_iterations.
    public var rungs: [Int] { StudySpec.rungs(min: minIterations, max: maxIterations, reduction: reduction) }

    public static func rungs(min: Int, max: Int, reduction: Int) -> [Int] {
        var result: [Int] = []
        var budget = min
        while budget < max {
            result.append(budget)
            let (next, overflow) = budget.multipliedReportingOverflow(by: reduction)
            if overflow { break }
            budget = next
        }
        result.append(max)
        return result
    }

    // MARK: Parsing

    public static func parse(_ text: String, source: String) throws -> StudySpec {
        func fail(_ message: String) -> StoreError { .invalidArgument("\(source): \(message)") }
        let read = SpecKeyReader(source: source)
        let root = try read.root(of: text, what: "the study spec", knownKeys: knownKeys)

        guard let name = root["name"] as? String else { throw fail("'name' is missing (a string naming the study)") }
        guard !name.isEmpty, name.count <= 200, !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw fail("'name' must be 1 to 200 characters without control characters")
        }
        let description = root["description"] as? String

        let taskCounts = try read.integers(root["n"], key: "n", required: true, range: 2...Hyperparameters.maximumTaskCount)
        let frameSeeds: [UInt64]
        if let explicit = root["frame_seeds"] {
            guard root["frames"] == nil else { throw fail("give either 'frames' or 'frame_seeds', not both") }
            frameSeeds = try read.integers(explicit, key: "frame_seeds", required: true, range: 0...Int.max).map(UInt64.init)
        } else {
            let count = try read.integer(root["frames"], key: "frames", default: 1, range: 1...10_000)
            let first = try read.integer(root["first_frame_seed"], key: "first_frame_seed", default: 1, range: 0...(Int.max - 10_000))
            frameSeeds = (0..<count).map { UInt64(first + $0) }
        }
        let seeds = try read.integers(root["seeds"], key: "seeds", required: false, range: 0...Int.max, default: [1]).map(UInt64.init)
        guard Set(frameSeeds).count == frameSeeds.count else { throw fail("'frame_seeds' lists a seed twice") }
        guard Set(seeds).count == seeds.count else { throw fail("'seeds' lists a seed twice") }
        guard Set(taskCounts).count == taskCounts.count else { throw fail("'n' lists a value twice") }
        let positions = SweepSpec.checkedProduct([taskCounts.count, frameSeeds.count, seeds.count]) ?? Int.max
        guard positions <= maximumRunsPerTrial else {
            throw fail("a trial would hold \(positions) runs (n x frames x seeds), more than the limit of \(maximumRunsPerTrial)")
        }

        guard let algorithmName = root["algorithm"] as? String else {
            throw fail("'algorithm' is missing (one of ql, dteql, dtaql)")
        }
        guard let algorithm = Algorithm(rawValue: algorithmName) else {
            throw fail("'algorithm' '\(algorithmName)' is not one of ql, dteql, dtaql")
        }

        // Settings, by any of their names; each once across `fixed` and `search`.
        var named: [String: String] = [:]
        func canonical(_ key: String, in section: String) throws -> (name: String, kind: StudySettingKind) {
            guard let definition = SettingVocabulary.definition(key), let kind = kind(of: definition.name) else {
                throw fail("\(section): unknown setting '\(key)' (known: \(knownSettingsText))")
            }
            if let other = named[definition.name] {
                throw fail("\(section): '\(key)' names the same setting (\(definition.name)) as '\(other)'; give it once")
            }
            guard definition.uses(algorithm) else {
                throw fail("\(section).\(key): \(algorithm.rawValue) has no \(definition.name) (it is used by \(definition.algorithms.map(\.rawValue).joined(separator: ", ")))")
            }
            named[definition.name] = "\(section).\(key)"
            return (definition.name, kind)
        }

        var fixed: [String: StudyValue] = [:]
        if let rawFixed = root["fixed"] {
            guard let object = rawFixed as? [String: Any] else { throw fail("'fixed' must be an object of settings and values") }
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                let setting = try canonical(key, in: "fixed")
                fixed[setting.name] = try read.value(value, key: "fixed.\(key)", kind: setting.kind)
            }
        }

        guard let rawSearch = root["search"] else { throw fail("'search' is missing (an object of settings and distributions)") }
        guard let searchObject = rawSearch as? [String: Any], !searchObject.isEmpty else {
            throw fail("'search' must be a non-empty object like {\"lr\": {\"log_uniform\": [0.01, 1]}}")
        }
        var search: [(name: String, distribution: StudyDistribution)] = []
        for (key, value) in searchObject.sorted(by: { $0.key < $1.key }) {
            let setting = try canonical(key, in: "search")
            search.append((setting.name, try read.distribution(value, key: "search.\(key)", kind: setting.kind)))
        }
        search.sort { $0.name < $1.name }
        guard search.count <= Sobol.maximumDimensions else {
            throw fail("'search' names \(search.count) settings; at most \(Sobol.maximumDimensions) are supported")
        }

        guard let objectiveName = root["objective"] as? String else {
            throw fail("'objective' is missing (one of \(StudyObjective.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let objective = StudyObjective(rawValue: objectiveName) else {
            throw fail("'objective' '\(objectiveName)' does not exist (known: \(StudyObjective.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let direction: StudyDirection
        switch root["direction"] {
        case nil, is NSNull: direction = objective.naturalDirection
        case let text as String:
            guard let parsed = StudyDirection(rawValue: text) else { throw fail("'direction' '\(text)' is not minimize or maximize") }
            direction = parsed
        default: throw fail("'direction' must be minimize or maximize")
        }

        guard let budget = root["budget"] as? [String: Any] else {
            throw fail("'budget' is missing (an object with min_iterations, max_iterations, reduction)")
        }
        for key in budget.keys.sorted() where !["min_iterations", "max_iterations", "reduction"].contains(key) {
            throw fail("budget: unknown key '\(key)' (known: min_iterations, max_iterations, reduction)")
        }
        guard budget["min_iterations"] != nil else { throw fail("'budget.min_iterations' is missing") }
        guard budget["max_iterations"] != nil else { throw fail("'budget.max_iterations' is missing") }
        let minIterations = try read.integer(budget["min_iterations"], key: "budget.min_iterations", default: 0, range: 1...Hyperparameters.maximumIterations)
        let maxIterations = try read.integer(budget["max_iterations"], key: "budget.max_iterations", default: 0, range: 1...Hyperparameters.maximumIterations)
        guard maxIterations >= minIterations else {
            throw fail("'budget.max_iterations' (\(maxIterations)) must be at least 'budget.min_iterations' (\(minIterations))")
        }
        let reduction = try read.integer(budget["reduction"], key: "budget.reduction", default: 3, range: Int.min...Int.max)
        guard reduction >= 2 else { throw fail("'budget.reduction' must be at least 2, got \(reduction)") }
        guard reduction <= 1000 else { throw fail("'budget.reduction' must be at most 1000, got \(reduction)") }
        let checkpointEvery = try read.integer(root["checkpoint_every"], key: "checkpoint_every", default: min(1024, minIterations), range: 1...Int(Int32.max))
        guard minIterations >= checkpointEvery else {
            throw fail("'budget.min_iterations' (\(minIterations)) is below one checkpoint interval (checkpoint_every = \(checkpointEvery))")
        }

        guard root["trials"] != nil else { throw fail("'trials' is missing (how many configurations to try)") }
        let trials = try read.integer(root["trials"], key: "trials", default: 0, range: Int.min...Int.max)
        guard trials >= 1 else { throw fail("'trials' must be at least 1, got \(trials)") }
        guard trials <= maximumTrials else { throw fail("'trials' is \(trials), more than the limit of \(maximumTrials) trials per study") }

        func choose<T: RawRepresentable & CaseIterable>(_ key: String, _ fallback: T) throws -> T where T.RawValue == String {
            switch root[key] {
            case nil, is NSNull: return fallback
            case let text as String:
                guard let value = T(rawValue: text) else {
                    throw fail("'\(key)' '\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return value
            default: throw fail("'\(key)' must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        let scheduler: StudyScheduler = try choose("scheduler", .asha)
        let sampler: StudySampler = try choose("sampler", .sobol)
        let seed = UInt64(try read.integer(root["seed"], key: "seed", default: 1, range: 0...Int.max))
        var tpeStartupTrials = defaultTPEStartupTrials, tpeBatch = defaultTPEBatch, tpeMultivariate = false
        var tpeCoordinateMoves = defaultTPEBatch / 2
        if let rawTPE = root["tpe"], !(rawTPE is NSNull) {
            guard sampler == .tpe else { throw fail("'tpe' applies to \"sampler\": \"tpe\" only (this spec's sampler is \(sampler.rawValue))") }
            guard let object = rawTPE as? [String: Any] else { throw fail("'tpe' must be an object like {\"startup_trials\": 10, \"batch\": 4}") }
            for key in object.keys.sorted() where !["startup_trials", "batch", "multivariate", "coordinate_moves"].contains(key) {
                throw fail("tpe: unknown key '\(key)' (known: startup_trials, batch, multivariate, coordinate_moves)")
            }
            tpeStartupTrials = try read.integer(object["startup_trials"], key: "tpe.startup_trials", default: defaultTPEStartupTrials, range: 1...maximumTrials)
            tpeBatch = try read.integer(object["batch"], key: "tpe.batch", default: defaultTPEBatch, range: 1...maximumTrials)
            // After the batch: the moves' default and bound are the batch's.
            tpeCoordinateMoves = try read.integer(object["coordinate_moves"], key: "tpe.coordinate_moves", default: tpeBatch / 2, range: 0...tpeBatch)
            tpeMultivariate = try read.boolean(object["multivariate"], key: "tpe.multivariate", default: false)
        }

        var model = ModelParameters.default
        if let rawModel = root["model"] {
            guard let object = rawModel as? [String: Any] else { throw fail("'model' must be an object") }
            for key in object.keys.sorted() where !["rate", "cpu_hz", "zeta"].contains(key) {
                throw fail("model: unknown key '\(key)' (known: rate, cpu_hz, zeta)")
            }
            model = ModelParameters(
                uplinkRate: try read.number(object["rate"], key: "model.rate", default: model.uplinkRate),
                cpuHz: try read.number(object["cpu_hz"], key: "model.cpu_hz", default: model.cpuHz),
                zeta: try read.number(object["zeta"], key: "model.zeta", default: model.zeta))
            do { try model.validate() } catch { throw fail("model: \(error.description)") }
        }

        var spec = StudySpec(
            name: name, description: description, taskCounts: taskCounts, frameSeeds: frameSeeds, seeds: seeds,
            algorithm: algorithm, fixed: fixed, search: search, objective: objective, direction: direction,
            minIterations: minIterations, maxIterations: maxIterations, reduction: reduction, trials: trials,
            scheduler: scheduler, sampler: sampler, seed: seed, checkpointEvery: checkpointEvery, model: model)
        spec.tpeStartupTrials = tpeStartupTrials
        spec.tpeBatch = tpeBatch
        spec.tpeMultivariate = tpeMultivariate
        spec.tpeCoordinateMoves = tpeCoordinateMoves
        // Every trial must make valid runs (a range reaching past what a setting accepts) before anything starts.
        // A model-based sampler's later trials are not known yet: its first trials and the space's two
        // extreme corners stand for them (each setting's rules are ranges, so the corners bound every point).
        let frames = taskCounts.map { FrameGenerator.generate(count: $0, seed: frameSeeds[0], parameters: model) }
        let samples = spec.sampler == .tpe
            ? spec.trialSettings(results: [:]).compactMap { $0 } + [0.0, 1.0].map(spec.corner)
            : spec.trialSettings(results: [:]).map { $0! }
        for (index, settings) in samples.enumerated() {
            for frame in frames {
                do throws(LearningError) {
                    try spec.hyperparameters(settings, budget: maxIterations, seed: seeds[0]).validate(for: frame)
                } catch {
                    let shown = spec.search.map { "\($0.name)=\(settings[$0.name]?.display ?? "")" }.joined(separator: " ")
                    throw fail("trial \(index) (\(shown)): \(error.description); narrow the range in 'search'")
                }
            }
        }
        return spec
    }

    // MARK: Trials (how points become settings: TrialSampling.swift)

    /// A trial's hyperparameters: the defaults, then `fixed`, then the sampled settings.
    public func hyperparameters(_ sampled: [String: StudyValue], budget: Int, seed: UInt64) -> Hyperparameters {
        var h = Hyperparameters(algorithm: algorithm, iterations: budget, seed: seed)
        for (name, value) in fixed.merging(sampled, uniquingKeysWith: { $1 }) {
            switch (name, value) {
            case ("phi", .integer(let v)): h.phi = v
            case ("delta", .integer(let v)): h.delta = v
            case ("lr", let v): h.learningRate = v.number ?? h.learningRate
            case ("gamma", let v): h.discount = v.number ?? h.discount
            case ("eps_start", let v): h.epsilonStart = v.number ?? h.epsilonStart
            case ("eps_min", let v): h.epsilonMin = v.number ?? h.epsilonMin
            case ("beta", let v): h.epsilonDecay = v.number ?? h.epsilonDecay
            case ("twin_noise", let v): h.twin.noise = v.number ?? h.twin.noise
            case ("reward", .text(let v)): h.reward = RewardForm(rawValue: v) ?? h.reward
            case ("aggregation", .text(let v)): h.aggregation = Aggregation(rawValue: v) ?? h.aggregation
            default: break
            }
        }
        return h
    }

    /// The run of a trial at one position (N, frame seed, seed) and budget.
    public func runSpecification(_ sampled: [String: StudyValue], position: (n: Int, frameSeed: UInt64, seed: UInt64),
                                 budget: Int, frame: Frame) -> RunSpecification {
        RunSpecification(
            frame: frame, frameSource: .generated(seed: position.frameSeed),
            hyperparameters: hyperparameters(sampled, budget: budget, seed: position.seed),
            checkpointEvery: checkpointEvery, keepCheckpoints: SweepSpec.defaultKeepCheckpoints, label: name,
            trackerVersion: "")
    }

    // MARK: Identity

    /// Every key with its value, defaults filled in, keys sorted: what the database stores and hashes.
    public var canonicalObject: [String: Any] {
        var object: [String: Any] = [
            "name": name, "n": taskCounts, "frame_seeds": frameSeeds.map { Int($0) }, "seeds": seeds.map { Int($0) },
            "algorithm": algorithm.rawValue,
            "fixed": fixed.mapValues(\.jsonObject),
            "search": Dictionary(uniqueKeysWithValues: search.map { ($0.name, $0.distribution.jsonObject) }),
            "objective": objective.rawValue, "direction": direction.rawValue,
            "budget": ["min_iterations": minIterations, "max_iterations": maxIterations, "reduction": reduction],
            "trials": trials, "scheduler": scheduler.rawValue, "sampler": sampler.rawValue, "seed": Int(seed),
            "checkpoint_every": checkpointEvery,
            "model": ["rate": model.uplinkRate, "cpu_hz": model.cpuHz, "zeta": model.zeta],
        ]
        if let description { object["description"] = description }
        // Only for tpe, so that the canonical spec (and hash) of every sobol or random study stays what it was.
        if sampler == .tpe {
            object["tpe"] = ["startup_trials": tpeStartupTrials, "batch": tpeBatch, "multivariate": tpeMultivariate,
                             "coordinate_moves": tpeCoordinateMoves] as [String: Any]
        }
        return object
    }

    public var canonicalJSON: String {
        let data = try! JSONSerialization.data(withJSONObject: canonicalObject, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    public var specHash: String { SHA256.hexDigest(Array(canonicalJSON.utf8)) }

    /// The keys (one level into objects: `search.lr`) whose values differ between two canonical specs.
    public static func changedKeys(stored: String, now: String) -> [String] {
        StudySpecDifference.changedKeys(stored: stored, now: now)
    }
}

/// What only a study spec reads: a setting's value and its distribution.
extension SpecKeyReader {
    func value(_ value: Any, key: String, kind: StudySettingKind) throws -> StudyValue {
        switch kind {
        case .integer: return .integer(try integer(value, key: key, default: 0, range: 1...Int(Int32.max)))
        case .real: return .number(try number(value, key: key, default: 0))
        case .name:
            guard let text = value as? String else { throw fail("'\(key)' must be a name, got \(describe(value))") }
            let known = key.hasSuffix("aggregation") ? Aggregation.allCases.map(\.rawValue) : RewardForm.allCases.map(\.rawValue)
            guard known.contains(text) else { throw fail("'\(key)' '\(describe(text))' is not one of \(known.joined(separator: ", "))") }
            return .text(text)
        }
    }

    func distribution(_ raw: Any, key: String, kind: StudySettingKind) throws -> StudyDistribution {
        let kinds = ["log_uniform", "uniform", "int_uniform", "choice"]
        guard let object = raw as? [String: Any], object.count == 1, let (name, argument) = object.first else {
            throw fail("'\(key)' must be one distribution like {\"uniform\": [low, high]} (one of \(kinds.joined(separator: ", ")))")
        }
        guard kinds.contains(name) else { throw fail("'\(key)': unknown distribution '\(name)' (known: \(kinds.joined(separator: ", ")))") }
        guard let list = argument as? [Any], !list.isEmpty else { throw fail("'\(key).\(name)' must be a non-empty list") }
        if name == "choice" {
            let values = try list.map { try value($0, key: "\(key).choice", kind: kind) }
            guard values.count <= 10_000 else { throw fail("'\(key).choice' lists more than 10000 values") }
            return .choice(values)
        }
        guard kind != .name else { throw fail("'\(key)': a named setting takes {\"choice\": [...]} only, not \(name)") }
        guard list.count == 2 else { throw fail("'\(key).\(name)' must be [low, high], got \(list.count) values") }
        if name == "int_uniform" {
            guard kind == .integer else { throw fail("'\(key)': int_uniform applies to whole-number settings (phi, delta); use uniform") }
            let low = try integer(list[0], key: "\(key).int_uniform", default: 0, range: 1...Int(Int32.max))
            let high = try integer(list[1], key: "\(key).int_uniform", default: 0, range: 1...Int(Int32.max))
            guard low < high else { throw fail("'\(key).int_uniform' is an empty or inverted range [\(low), \(high)]; give [low, high] with low < high") }
            return .intUniform(low, high)
        }
        let low = try number(list[0], key: "\(key).\(name)", default: 0)
        let high = try number(list[1], key: "\(key).\(name)", default: 0)
        guard low < high else {
            throw fail("'\(key).\(name)' is an empty or inverted range [\(low), \(high)]; give [low, high] with low < high")
        }
        if name == "log_uniform" {
            guard low > 0 else { throw fail("'\(key).log_uniform' must lie above zero, got [\(low), \(high)] (a log range cannot touch 0)") }
            return .logUniform(low, high)
        }
        if kind == .integer, low.rounded(.up) > high.rounded(.down) {
            throw fail("'\(key).\(name)' [\(low), \(high)] holds no whole number")
        }
        return .uniform(low, high)
    }
}
