import Learning
import SQLite

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

/// One configuration's curve: the mean of a metric over its finished runs at each sampled iteration.
public struct ConvergenceCurve: Sendable, Equatable {
    public let algorithm: Algorithm
    public let phi: Int
    /// The most runs averaged at any iteration (fewer where some runs' budgets are shorter).
    public let runs: Int
    /// (iteration, mean) in iteration order; iterations count from 0. Iterations where the metric is
    /// NULL for every run (an optimality ratio without a known optimum) are left out.
    public let points: [(iteration: Int, value: Double)]

    public static func == (a: ConvergenceCurve, b: ConvergenceCurve) -> Bool {
        a.algorithm == b.algorithm && a.phi == b.phi && a.runs == b.runs
            && a.points.elementsEqual(b.points) { $0.iteration == $1.iteration && $0.value == $1.value }
    }
}

extension TrackerStore {
    /// The saved query `convergence_curve` grouped into one curve per configuration, in its legend order
    /// (DTEQL by phi descending, DTAQL, QL). `points` is about how many iterations are sampled per curve;
    /// `logarithmic` samples them geometrically in iteration + 1. Empty when no finished run has N tasks
    /// (and the label).
    public func convergenceCurves(n: Int, label: String?, metric: CurveMetric, points: Int,
                                  logarithmic: Bool) throws -> [ConvergenceCurve] {
        var parameters = ["n": String(n), "points": String(points), "log_x": logarithmic ? "1" : "0"]
        if let label { parameters["label"] = label }
        let result = try run(try SavedQueries.named("convergence_curve"), parameters: parameters)
        guard let algorithmColumn = result.column("algorithm"), let phiColumn = result.column("phi"),
              let iterationColumn = result.column("iteration"), let runsColumn = result.column("runs"),
              let valueColumn = result.column(metric.rawValue)
        else {
            preconditionFailure("queries/convergence_curve.sql lacks a column this reader needs: \(result.columns)")
        }
        var curves: [ConvergenceCurve] = []
        var current: (algorithm: Algorithm, phi: Int, runs: Int, points: [(iteration: Int, value: Double)])?
        for row in result.rows {
            guard case .text(let name) = row[algorithmColumn], let algorithm = Algorithm(rawValue: name),
                  case .integer(let phi) = row[phiColumn], case .integer(let iteration) = row[iterationColumn],
                  case .integer(let runs) = row[runsColumn]
            else {
                throw StoreError.invalidArgument("convergence_curve returned an unexpected row: \(row)")
            }
            let value: Double?
            switch row[valueColumn] {
            case .real(let v): value = v
            case .integer(let v): value = Double(v)
            default: value = nil
            }
            if let open = current, open.algorithm != algorithm || open.phi != Int(phi) {
                curves.append(ConvergenceCurve(algorithm: open.algorithm, phi: open.phi, runs: open.runs, points: open.points))
                current = nil
            }
            if current == nil { current = (algorithm, Int(phi), 0, []) }
            current!.runs = max(current!.runs, Int(runs))
            if let value { current!.points.append((Int(iteration), value)) }
        }
        if let open = current {
            curves.append(ConvergenceCurve(algorithm: open.algorithm, phi: open.phi, runs: open.runs, points: open.points))
        }
        return curves
    }
}
