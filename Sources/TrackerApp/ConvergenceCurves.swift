import Foundation
import TrackerStore
import Learning

/// A per-iteration metric of the greedy action that `queries/convergence_curve.sql` averages; the raw
/// value is the query's column name.
public enum CurveMetric: String, CaseIterable, Sendable {
    case normalizedReward = "normalized_reward"
    case objective
    case misses
    case meanCompletion = "mean_completion_s"
    case epsilon
    case distinctActions = "distinct_actions"
    case optimalityRatio = "optimality_ratio"
}

/// The spread a curve's band shows at each sampled iteration, over the runs there: the 95% Student-t
/// interval of the mean (`ci`) or the 25th-75th percentiles (`iqr`), as `tracker compare --spread` computes
/// them; only where at least `CurveBand.minimumRuns` runs contribute.
public enum CurveBand: String, CaseIterable, Sendable {
    case ci, iqr, none

    /// As compare: a spread needs three runs.
    public static let minimumRuns = 3

    /// The band's bounds for these values, nil with too few of them.
    func bounds(_ values: [Double]) -> ClosedRange<Double>? {
        guard values.count >= Self.minimumRuns else { return nil }
        switch self {
        case .ci: return Statistics.meanConfidenceInterval(values)
        case .iqr:
            guard let low = Statistics.percentile(values, 0.25), let high = Statistics.percentile(values, 0.75) else { return nil }
            return low...high
        case .none: return nil
        }
    }
}

/// One configuration's curve: the mean of a metric over its finished runs at each sampled iteration.
public struct ConvergenceCurve: Sendable, Equatable {
    public let algorithm: Algorithm
    public let phi: Int
    public let configuration: Configuration
    /// The algorithm and phi, then what sets this configuration apart from the other curves' (see
    /// `ConfigurationNames`): `DTEQL phi=500 lr=0.9`.
    public let name: String
    /// The most runs averaged at any iteration (fewer where some runs' budgets are shorter).
    public let runs: Int
    /// (iteration, mean) in iteration order; iterations count from 0. Iterations where the metric is
    /// NULL for every run (an optimality ratio without a known optimum) are left out.
    public let points: [(iteration: Int, value: Double)]
    /// The spread band (`CurveBand`) at the sampled iterations where enough runs contribute; empty without.
    public var band: [(iteration: Int, low: Double, high: Double)] = []

    public static func == (a: ConvergenceCurve, b: ConvergenceCurve) -> Bool {
        a.configuration == b.configuration && a.name == b.name && a.runs == b.runs
            && a.points.elementsEqual(b.points) { $0.iteration == $1.iteration && $0.value == $1.value }
            && a.band.elementsEqual(b.band) { $0.iteration == $1.iteration && $0.low == $1.low && $0.high == $1.high }
    }
}

extension TrackerStore {
    /// One curve per configuration of the finished runs with N tasks (and the label), in legend order
    /// (DTEQL by phi descending, DTAQL, QL; within one algorithm and phi the plain name first). Runs are
    /// averaged only with runs of the same configuration. `points` is about how many iterations are
    /// sampled per curve; `logarithmic` samples them geometrically in iteration + 1. Empty when no
    /// finished run has N tasks (and the label).
    public func convergenceCurves(n: Int, label: String?, metric: CurveMetric, points: Int,
                                  logarithmic: Bool) throws -> [ConvergenceCurve] {
        try convergenceCurves(runs: try compareRuns(CompareFilter(n: n, label: label)), n: n, metric: metric,
                              points: points, logarithmic: logarithmic)
    }

    /// The curves of these runs (rows of `compareRuns`; unfinished ones and other Ns are left out), one per
    /// configuration: the saved query `convergence_curve` over each configuration's runs.
    /// `showing` names these settings on every line where they vary (`plot --by lr`); `band` adds each
    /// curve's spread band, from the same query run once per run (`:per_run`).
    public func convergenceCurves(runs: [CompareRun], n: Int, metric: CurveMetric, points: Int,
                                  logarithmic: Bool, showing: Set<String> = [], band: CurveBand = .none) throws -> [ConvergenceCurve] {
        let selected = runs.filter { $0.n == n && $0.isFinished }
        let groups = Dictionary(grouping: selected, by: \.configuration)
        var curves: [ConvergenceCurve] = []
        for (configuration, name) in ConfigurationNames.ordered(selected.map(\.configuration), showing: showing) {
            let runIDs = String(decoding: try JSONEncoder().encode(groups[configuration]!.map(\.runID)), as: UTF8.self)
            let parameters = ["n": String(n), "points": String(points), "log_x": logarithmic ? "1" : "0", "runs": runIDs]
            let result = try run(try SavedQueries.named("convergence_curve"), parameters: parameters)
            guard let iterationColumn = result.column("iteration"), let runsColumn = result.column("runs"),
                  let valueColumn = result.column(metric.rawValue)
            else {
                preconditionFailure("queries/convergence_curve.sql lacks a column this reader needs: \(result.columns)")
            }
            var runCount = 0
            var values: [(iteration: Int, value: Double)] = []
            for row in result.rows {
                guard case .integer(let iteration) = row[iterationColumn], case .integer(let runs) = row[runsColumn] else {
                    throw StoreError.invalidArgument("convergence_curve returned an unexpected row: \(row)")
                }
                runCount = max(runCount, Int(runs))
                if let value = row[valueColumn].doubleValue { values.append((Int(iteration), value)) }
            }
            // An imported configuration (`tracker import`) draws as QL does: under its name as is.
            guard runCount > 0 else { continue }
            let algorithm = Algorithm(rawValue: configuration.algorithm) ?? .ql
            var curve = ConvergenceCurve(algorithm: algorithm, phi: configuration.phi, configuration: configuration,
                                         name: name, runs: runCount, points: values)
            if band != .none, runCount >= CurveBand.minimumRuns {
                curve.band = try self.band(band, parameters: parameters, metric: metric)
            }
            curves.append(curve)
        }
        return curves
    }

    /// The band over the runs of one curve's query: its rows run by run, grouped by iteration.
    private func band(_ band: CurveBand, parameters: [String: String], metric: CurveMetric) throws
        -> [(iteration: Int, low: Double, high: Double)]
    {
        var perRun = parameters
        perRun["per_run"] = "1"
        let result = try run(try SavedQueries.named("convergence_curve"), parameters: perRun)
        guard let iterationColumn = result.column("iteration"), let valueColumn = result.column(metric.rawValue) else {
            preconditionFailure("queries/convergence_curve.sql lacks a column this reader needs: \(result.columns)")
        }
        // Rows come in iteration order, one per run.
        var valuesByIteration: [(iteration: Int, values: [Double])] = []
        for row in result.rows {
            guard case .integer(let iteration) = row[iterationColumn] else { continue }
            if valuesByIteration.last?.iteration != Int(iteration) { valuesByIteration.append((Int(iteration), [])) }
            if let value = row[valueColumn].doubleValue { valuesByIteration[valuesByIteration.count - 1].values.append(value) }
        }
        return valuesByIteration.compactMap { entry in
            band.bounds(entry.values).map { (entry.iteration, $0.lowerBound, $0.upperBound) }
        }
    }
}

extension TrackerStore {
    /// One run's metric against iteration: ``RunHistory/curve(of:metric:points:in:)``.
    public func runCurve(_ record: RunRecord, metric: CurveMetric, points: Int) throws -> [(iteration: Int, value: Double)] {
        try RunHistory.curve(of: record, metric: metric, points: points, in: self)
    }
}
