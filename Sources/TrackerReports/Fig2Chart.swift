import Foundation
import Learning
import TrackerApp
import TrackerStore

/// The paper's Fig. 2: one line per configuration, the mean of a metric of the greedy order against
/// iteration. Shared by `tracker plot` and the web dashboard.
public enum Fig2Chart {
    /// fig2-n8.svg, fig2-n8-objective.svg, fig2-n8-logx.png, ...; for single runs run-3fa9c2d1.svg,
    /// run-3fa9c2d1-and-2-more.svg.
    public static func defaultFileName(n: Int?, runs: [String] = [], metric: CurveMetric, logX: Bool,
                                       fileExtension: String = "svg") -> String {
        var name: String
        if let first = runs.first {
            name = "run-\(first)" + (runs.count > 1 ? "-and-\(runs.count - 1)-more" : "")
        } else {
            name = "fig2-n\(n ?? 0)"
        }
        if metric != .normalizedReward { name += "-\(metric.rawValue)" }
        if logX { name += "-logx" }
        return name + "." + fileExtension
    }

    /// The chart of `curves` (from `TrackerStore.convergenceCurves`), or nil when no curve has a point
    /// (an optimality ratio where the exact optimum is unknown). With `logX` the x axis shows iteration + 1.
    /// With a `band` other than none, each curve's band (`ConvergenceCurve.band`) is shaded and the
    /// legend says what it is. Every metric is a mean of values that cannot be negative (and a ratio J*/J
    /// cannot exceed 1), so a band is cut there: a t interval of few runs would reach past what can be.
    public static func chart(curves: [ConvergenceCurve], n: Int, metric: CurveMetric, label: String?,
                             logX: Bool, band: CurveBand = .none) -> LineChart? {
        let shift = logX ? 1 : 0
        let series = curves.compactMap { curve -> LineChart.Series? in
            guard !curve.points.isEmpty else { return nil }
            return LineChart.Series(
                name: legendName(curve),
                points: curve.points.map { LineChart.Point(x: Double($0.iteration + shift), y: $0.value) },
                band: curve.band.map {
                    LineChart.BandPoint(x: Double($0.iteration + shift), low: max($0.low, 0),
                                        high: metric == .optimalityRatio ? min($0.high, 1) : $0.high)
                })
        }
        guard !series.isEmpty else { return nil }
        var title = "\(titles[metric]!), N = \(n)"
        if let label { title += ", label '\(label)'" }
        var chart = LineChart(title: title, xLabel: xLabel(logX: logX), yLabel: axisLabels[metric]! + ", mean over runs",
                              xScale: logX ? .logarithmic : .linear, series: series)
        if series.contains(where: { !$0.band.isEmpty }), let bandName = bandNames[band] {
            chart.legendNote = "shaded: \(bandName)"
        }
        return chart
    }

    /// One run drawn as it is recorded (a running run up to its last committed iteration).
    public struct RunLine: Sendable {
        public var record: RunRecord
        public var points: [(iteration: Int, value: Double)]
        public init(record: RunRecord, points: [(iteration: Int, value: Double)]) {
            self.record = record
            self.points = points
        }
    }

    /// Single runs, one line each, titled like Fig. 2 (`…, N = 8, run 3fa9c2d1`); nil when no run has a
    /// point (nothing recorded yet, or an optimality ratio without a known optimum).
    public static func chart(runs: [RunLine], metric: CurveMetric, logX: Bool) -> LineChart? {
        let shift = logX ? 1 : 0
        let series = runs.compactMap { run -> LineChart.Series? in
            guard !run.points.isEmpty else { return nil }
            return LineChart.Series(name: legendName(run.record),
                                    points: run.points.map { LineChart.Point(x: Double($0.iteration + shift), y: $0.value) })
        }
        guard !series.isEmpty else { return nil }
        let sizes = Set(runs.map(\.record.n)).sorted()
        var title = "\(titles[metric]!), N = \(sizes.map(String.init).joined(separator: ", "))"
        title += runs.count == 1 ? ", run \(runs[0].record.runID)"
            : runs.count <= 3 ? ", runs " + runs.map(\.record.runID).joined(separator: ", ") : ", \(runs.count) runs"
        return LineChart(title: title, xLabel: xLabel(logX: logX), yLabel: axisLabels[metric]!,
                         xScale: logX ? .logarithmic : .linear, series: series)
    }

    /// `3fa9c2d1 DTEQL φ=500 (finished)`, `… (running, 1200 of 25600)`.
    public static func legendName(_ record: RunRecord) -> String {
        let name = record.isImported ? (record.phi == 0 ? record.algorithmName : "\(record.algorithmName) φ=\(record.phi)")
            : record.algorithm == .ql ? "QL" : "\(record.algorithm.rawValue.uppercased()) φ=\(record.phi)"
        let state = record.status == .finished ? "finished"
            : "\(record.displayStatus), \(record.doneIterations) of \(record.plannedIterations)"
        return "\(record.runID) \(name) (\(state))"
    }

    static func xLabel(logX: Bool) -> String {
        logX ? "iteration + 1 (log scale)" : "iteration"
    }

    public static let bandNames: [CurveBand: String] = [
        .ci: "95% interval of the mean",
        .iqr: "25th–75th percentile",
    ]

    /// `DTEQL φ=500 (5 runs)`, `DTEQL φ=500 lr=0.9 (1 run)`: the curve's configuration name with phi
    /// spelt as in the paper.
    public static func legendName(_ curve: ConvergenceCurve) -> String {
        let runs = curve.runs == 1 ? "1 run" : "\(curve.runs) runs"
        let name = curve.algorithm == .ql ? curve.name : curve.name.replacingOccurrences(of: " phi=", with: " φ=")
        // (An imported configuration's curve has algorithm .ql, see ConvergenceCurve: its name is shown as is.)
        return "\(name) (\(runs))"
    }

    public static let titles: [CurveMetric: String] = [
        .normalizedReward: "Normalized reward of the greedy order",
        .objective: "Objective of the greedy order",
        .misses: "Missed deadlines of the greedy order",
        .meanCompletion: "Mean completion time of the greedy order",
        .epsilon: "Exploration rate",
        .distinctActions: "Distinct actions tried",
        .optimalityRatio: "Optimality ratio of the greedy order",
    ]

    public static let axisLabels: [CurveMetric: String] = [
        .normalizedReward: "normalized reward J_EDF / J",
        .objective: "objective J (s)",
        .misses: "missed deadlines",
        .meanCompletion: "mean completion time (s)",
        .epsilon: "exploration rate ε",
        .distinctActions: "distinct actions tried",
        .optimalityRatio: "optimality ratio J* / J",
    ]
}
