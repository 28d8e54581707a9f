import Foundation
import TrackerStore

/// A mean with its spreads (spreads only from `CompareTable.minimumRunsForSpread` values on).
public struct MeanAggregate: Sendable, Equatable {
    public let mean: Double
    public let count: Int
    /// 95% Student-t interval of the mean.
    public let confidenceInterval: ClosedRange<Double>?
    /// 25th and 75th percentiles (type 7).
    public let interquartileRange: ClosedRange<Double>?
}

/// The convergence time of a configuration: the median of iterations-to-optimal over its K runs, a run
/// that did not converge ranking as +infinity (it needs more than its budget).
public struct ConvergenceAggregate: Sendable, Equatable {
    public let runs: Int
    public let converged: Int
    /// B: the smallest budget among the runs that did not converge (the common budget when all share
    /// one); every one of them needs more than B iterations. With every run converged, the largest budget.
    public let budget: Int
    /// The median, or +infinity when it lies beyond the budget (shown as `>B`).
    public let median: Double
    /// Order-statistic interval of the median; bounds may be +infinity (`>B`).
    public let confidenceInterval: (lower: Double, upper: Double, coverage: Double)?
    public let interquartileRange: (lower: Double, upper: Double)?

    /// True when the median is beyond the budget: fewer than half of the runs converged (or, with an even
    /// K, exactly half, so the upper middle value is a non-converged run).
    public var exceedsBudget: Bool { median.isInfinite }

    public static func == (lhs: ConvergenceAggregate, rhs: ConvergenceAggregate) -> Bool {
        lhs.runs == rhs.runs && lhs.converged == rhs.converged && lhs.budget == rhs.budget && lhs.median == rhs.median
            && lhs.confidenceInterval?.lower == rhs.confidenceInterval?.lower
            && lhs.confidenceInterval?.upper == rhs.confidenceInterval?.upper
            && lhs.interquartileRange?.lower == rhs.interquartileRange?.lower
            && lhs.interquartileRange?.upper == rhs.interquartileRange?.upper
    }
}

/// One cell group of the compare tables: one configuration at one N.
public struct ConfigurationComparison: Sendable {
    public let n: Int
    /// The row of Table II: N by default, with `--by KEY` the key and this row's value of it.
    public let by: Setting
    public let configuration: Configuration
    /// The column header: the algorithm and phi, then what sets this configuration apart from the others
    /// compared with it (`DTEQL phi=500 lr=0.9`).
    public let name: String
    /// The position of the configuration's column, the same for every N.
    public let column: Int
    /// K: finished runs, the ones every aggregate is over.
    public let runs: Int
    /// Runs without a summary (only with `includeUnfinished`): counted, never aggregated.
    public let unfinishedRuns: Int
    public let normalizedReward: MeanAggregate?
    /// Per run misses / N; its mean is total misses / (K · N).
    public let deadlineMissRatio: MeanAggregate?
    /// Per run mean completion time of the final greedy order, seconds.
    public let averageDelay: MeanAggregate?
    public let convergence: ConvergenceAggregate?
    /// J* / J, over the runs whose frame has a known optimum.
    public let optimalityRatio: MeanAggregate?
    /// Per run (D_rand - D) / (D_rand - D*), over the runs whose frame has both (docs/model.md).
    public let delayScore: MeanAggregate?
}

/// The aggregation behind `tracker compare`, as pure functions over `compare_runs` rows.
public enum CompareTable {
    /// Spreads are shown from this many runs on.
    public static let minimumRunsForSpread = 3

    public static func mean(_ values: [Double]) -> MeanAggregate? {
        guard let mean = Statistics.mean(values) else { return nil }
        let spread = values.count >= minimumRunsForSpread
        return MeanAggregate(
            mean: mean, count: values.count,
            confidenceInterval: spread ? Statistics.meanConfidenceInterval(values) : nil,
            interquartileRange: spread
                ? Statistics.percentile(values, 0.25).flatMap { low in Statistics.percentile(values, 0.75).map { low...$0 } }
                : nil)
    }

    /// The convergence time of runs with these iterations-to-optimal (nil = not converged) and budgets.
    public static func convergence(_ iterationsToOptimal: [Int?], budgets: [Int]) -> ConvergenceAggregate? {
        guard !iterationsToOptimal.isEmpty, iterationsToOptimal.count == budgets.count else { return nil }
        let values = iterationsToOptimal.map { $0.map(Double.init) ?? .infinity }
        let unconvergedBudgets = zip(iterationsToOptimal, budgets).filter { $0.0 == nil }.map(\.1)
        let budget = unconvergedBudgets.min() ?? budgets.max() ?? 0
        let spread = values.count >= minimumRunsForSpread
        var quartiles: (lower: Double, upper: Double)?
        if spread, let low = Statistics.percentile(values, 0.25), let high = Statistics.percentile(values, 0.75) {
            quartiles = (low, high)
        }
        return ConvergenceAggregate(
            runs: values.count, converged: values.count - unconvergedBudgets.count, budget: budget,
            median: Statistics.median(values) ?? .infinity,
            confidenceInterval: spread ? Statistics.medianConfidenceInterval(values) : nil,
            interquartileRange: quartiles)
    }

    /// One comparison per (row, configuration) present in `runs`, ordered by row, then by column: the
    /// paper's order of algorithm and phi, each configuration of one algorithm and phi in its own column.
    /// Rows are N by default; with `by` another setting, rows are its values and N joins the columns'
    /// configuration (the key leaves it). `by` is n or a key of `TrackerStore.settingKeys()` other than
    /// algorithm and phi, which make the columns.
    public static func compare(_ runs: [CompareRun], by key: String = "n") -> [ConfigurationComparison] {
        struct Key: Hashable { let row: SettingValue; let configuration: Configuration }
        func group(of run: CompareRun) -> Key {
            guard key != "n" else { return Key(row: .integer(Int64(run.n)), configuration: run.configuration) }
            let configuration = run.configuration
            return Key(row: configuration.value(of: key) ?? .null, configuration: Configuration(
                algorithm: configuration.algorithm, phi: configuration.phi,
                settings: [Setting(key: "n", value: .integer(Int64(run.n)))] + configuration.settings.filter { $0.key != key }))
        }
        let groups = Dictionary(grouping: runs, by: group(of:))
        let columns = ConfigurationNames.ordered(groups.keys.map(\.configuration), showing: key == "n" ? [] : ["n"])
        let columnIndex = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1.configuration, $0) })
        return groups.keys.sorted {
            $0.row != $1.row ? $0.row < $1.row : columnIndex[$0.configuration]! < columnIndex[$1.configuration]!
        }.map { group in
            let members = groups[group] ?? []
            let finished = members.filter(\.isFinished)
            let column = columnIndex[group.configuration]!
            return ConfigurationComparison(
                n: members[0].n, by: Setting(key: key, value: group.row), configuration: group.configuration,
                name: columns[column].name, column: column,
                runs: finished.count, unfinishedRuns: members.count - finished.count,
                normalizedReward: mean(finished.compactMap(\.normalizedReward)),
                deadlineMissRatio: mean(finished.compactMap { run in run.misses.map { Double($0) / Double(run.n) } }),
                averageDelay: mean(finished.compactMap(\.meanCompletionSeconds)),
                convergence: convergence(finished.map(\.iterationsToOptimal), budgets: finished.map(\.plannedIterations)),
                optimalityRatio: mean(finished.compactMap(\.optimalityRatio)),
                delayScore: mean(finished.compactMap(\.delayScore)))
        }
    }
}
