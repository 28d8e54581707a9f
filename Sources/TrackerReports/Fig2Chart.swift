import Foundation
import Learning
import TrackerStore

/// The paper's Fig. 2: one line per configuration, the mean of a metric of the greedy order against
/// iteration. Shared by `tracker plot` and the web dashboard.
public enum Fig2Chart {
    /// fig2-n8.svg, fig2-n8-objective.svg, fig2-n8-logx.svg, ...
    public static func defaultFileName(n: Int, metric: CurveMetric, logX: Bool) -> String {
        var name = "fig2-n\(n)"
        if metric != .normalizedReward { name += "-\(metric.rawValue)" }
        if logX { name += "-logx" }
        return name + ".svg"
    }

    /// The chart of `curves` (from `TrackerStore.convergenceCurves`), or nil when no curve has a point
    /// (an optimality ratio where the exact optimum is unknown). With `logX` the x axis shows iteration + 1.
    public static func chart(curves: [ConvergenceCurve], n: Int, metric: CurveMetric, label: String?,
                             logX: Bool) -> LineChart? {
        let series = curves.compactMap { curve -> LineChart.Series? in
            guard !curve.points.isEmpty else { return nil }
            return LineChart.Series(
                name: legendName(curve),
                points: curve.points.map { LineChart.Point(x: Double($0.iteration + (logX ? 1 : 0)), y: $0.value) })
        }
        guard !series.isEmpty else { return nil }
        var title = "\(titles[metric]!), N = \(n)"
        if let label { title += ", label '\(label)'" }
        return LineChart(
            title: title,
            xLabel: logX ? "iteration + 1 (log scale)" : "iteration",
            yLabel: axisLabels[metric]! + ", mean over runs",
            xScale: logX ? .logarithmic : .linear,
            series: series)
    }

    /// `DTEQL φ=500 (5 runs)`, `DTEQL φ=500 lr=0.9 (1 run)`: the curve's configuration name with phi
    /// spelt as in the paper.
    public static func legendName(_ curve: ConvergenceCurve) -> String {
        let runs = curve.runs == 1 ? "1 run" : "\(curve.runs) runs"
        let name = curve.algorithm == .ql ? curve.name : curve.name.replacingOccurrences(of: " phi=", with: " φ=")
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
