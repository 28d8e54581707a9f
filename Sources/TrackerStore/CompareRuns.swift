// The rows of `queries/compare_runs.sql`, decoded with each run's configuration: what `compare`,
// `plot` and the dashboard's compare page aggregate.

import Foundation
import SQLite

/// Filters of `tracker compare`, passed to `queries/compare_runs.sql` as its parameters.
public struct CompareFilter: Sendable {
    public var n: Int?
    public var label: String?
    public var algorithm: String?
    public var since: String?
    public var iterations: Int?
    public var includeUnfinished: Bool
    /// `--where KEY=VALUE`: every condition must hold (checked against the run's settings, no SQL).
    public var conditions: [SettingCondition]

    public init(n: Int? = nil, label: String? = nil, algorithm: String? = nil, since: String? = nil,
                iterations: Int? = nil, includeUnfinished: Bool = false, conditions: [SettingCondition] = []) {
        self.conditions = conditions
        self.n = n
        self.label = label
        self.algorithm = algorithm
        self.since = since
        self.iterations = iterations
        self.includeUnfinished = includeUnfinished
    }

    /// The saved query's parameters; an absent filter keeps its NULL default.
    public var queryParameters: [String: String] {
        var result = ["include_unfinished": includeUnfinished ? "1" : "0"]
        if let n { result["n"] = String(n) }
        if let label { result["label"] = label }
        if let algorithm { result["algo"] = algorithm }
        if let since { result["since"] = since }
        if let iterations { result["iterations"] = String(iterations) }
        return result
    }
}

/// One row of `compare_runs`: a run's configuration and, when it finished, its summary.
public struct CompareRun: Sendable, Equatable {
    public var runID: String
    public var algorithm: String
    public var phi: Int
    public var n: Int
    public var plannedIterations: Int
    /// Nil for a run without a summary (not finished).
    public var normalizedReward: Double?
    public var misses: Int?
    public var meanCompletionSeconds: Double?
    /// Nil when the run did not converge within its budget (or J* is unknown).
    public var iterationsToOptimal: Int?
    public var optimalityRatio: Double?
    /// (D_rand - D) / (D_rand - D*) of the final greedy order; nil where D_rand or D* is unknown.
    public var delayScore: Double?
    /// Everything that determines the run's results but its frame, seed and N: runs are aggregated only
    /// with runs of the same configuration.
    public var configuration: Configuration

    public init(runID: String = "", algorithm: String, phi: Int, n: Int, plannedIterations: Int, normalizedReward: Double?,
                misses: Int?, meanCompletionSeconds: Double?, iterationsToOptimal: Int?, optimalityRatio: Double?,
                configuration: Configuration? = nil, delayScore: Double? = nil) {
        self.runID = runID
        self.delayScore = delayScore
        self.algorithm = algorithm
        self.phi = phi
        self.n = n
        self.plannedIterations = plannedIterations
        self.normalizedReward = normalizedReward
        self.misses = misses
        self.meanCompletionSeconds = meanCompletionSeconds
        self.iterationsToOptimal = iterationsToOptimal
        self.optimalityRatio = optimalityRatio
        self.configuration = configuration ?? Configuration(
            algorithm: algorithm, phi: phi, settings: [Setting(key: "iterations", value: .integer(Int64(plannedIterations)))])
    }

    /// A run with a summary counts in the aggregates; one without is only counted.
    public var isFinished: Bool { normalizedReward != nil && misses != nil && meanCompletionSeconds != nil }
}

extension TrackerStore {
    /// The rows of `queries/compare_runs.sql` for these filters, each with its configuration. With
    /// `splittingBy` a tag (`tag.KEY`), that tag joins each run's configuration (`none` where a run lacks
    /// it), so `--by tag.KEY` can group by it; otherwise tags never split configurations.
    public func compareRuns(_ filter: CompareFilter, splittingBy grouping: String? = nil) throws -> [CompareRun] {
        let result = try run(try SavedQueries.named("compare_runs"), parameters: filter.queryParameters)
        func index(_ name: String) throws -> Int {
            guard let index = result.column(name) else {
                throw StoreError.invalidArgument("queries/compare_runs.sql returns no column \(name)")
            }
            return index
        }
        let runID = try index("run_id")
        let settings = try runSettings(n: filter.n, only: Set(result.rows.map { $0[runID].textValue ?? "" }))
        try checkSettingKeys(filter.conditions.map(\.key), option: "--where")
        let algorithm = try index("algorithm"), phi = try index("phi"), n = try index("n")
        let planned = try index("planned_iterations"), reward = try index("normalized_reward")
        let misses = try index("misses"), delay = try index("mean_completion_s")
        let toOptimal = try index("iterations_to_optimal"), ratio = try index("optimality_ratio")
        let delayScore = try index("delay_score")
        return result.rows.compactMap { row in
            let id = row[runID].textValue ?? ""
            if !filter.conditions.isEmpty {
                guard let run = settings[id], run.matches(filter.conditions) else { return nil }
            }
            return CompareRun(
                runID: id, algorithm: row[algorithm].textValue ?? "", phi: row[phi].intValue ?? 0, n: row[n].intValue ?? 0,
                plannedIterations: row[planned].intValue ?? 0, normalizedReward: row[reward].doubleValue,
                misses: row[misses].intValue, meanCompletionSeconds: row[delay].doubleValue,
                iterationsToOptimal: row[toOptimal].intValue, optimalityRatio: row[ratio].doubleValue,
                configuration: settings[id].map { run in
                    guard let grouping, grouping.hasPrefix(RunTags.settingPrefix) else { return run.configuration }
                    return Configuration(algorithm: run.configuration.algorithm, phi: run.configuration.phi,
                                         settings: run.configuration.settings
                                             + [Setting(key: grouping, value: run.value(of: grouping) ?? .null)])
                }, delayScore: row[delayScore].doubleValue)
        }
    }
}

extension SQLiteValue {
    // Lenient readers for saved-query results, where a column may hold any storage class.
    public var intValue: Int? {
        switch self {
        case .integer(let v): return Int(v)
        case .real(let v): return Int(exactly: v)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .integer(let v): return Double(v)
        case .real(let v): return v
        default: return nil
        }
    }

    public var textValue: String? {
        if case .text(let v) = self { return v }
        return nil
    }
}
