import Foundation
import Hummingbird
import Learning
import TrackerApp
import TrackerReports
import TrackerStore

/// The data behind the interactive charts (`/static/chart.js`): one JSON object per chart,
///
///     {"title", "x_label", "y_label", "y2_label", "zoom": "server"|"client", "x_min", "x_max",
///      "series": [{"name", "axis": "left"|"right", "step", "points": [[x, y], ...],
///                  "band": [[x, low, high], ...]}]}
///
/// A run's curves come from the saved query `greedy_changes` (every change of the greedy action, exact)
/// reduced by `StepDownsampling` to the chart's width, so a payload stays under 200 KB whatever the run's
/// length (`maximumPoints` below); `from`/`to` ask for one window of iterations (the script's zoom), which
/// is reduced to the full width again.
extension Pages {
    /// At most this many points per chart, all series together: 9,000 points of `[x,y]` with x an
    /// iteration (at most 10 digits) and y rounded to 6 decimals are under 200 KB.
    static let maximumPoints = 9000
    /// The chart's width in buckets (`width`): 100 to 1000, default 800 (the plot area is about 760 px).
    static let chartBuckets = 100...1000

    struct ChartWindow {
        var buckets: Int
        var from: Int?
        var to: Int?

        init(_ form: Form) throws {
            buckets = try form.integer("width", in: Pages.chartBuckets) ?? 800
            from = try form.integer("from", in: 0...Int(Int32.max) * 4)
            to = try form.integer("to", in: 0...Int(Int32.max) * 4)
            if let from, let to, to <= from { throw WebError.badRequest("to must be greater than from, got from=\(from) to=\(to)") }
        }
    }

    /// One change of a run's greedy action (a row of `greedy_changes`).
    struct GreedyChange {
        let iteration: Int
        let objective: Double
        let normalizedReward: Double
        let optimalityRatio: Double?
    }

    /// The changes in the window (all of them without one): its first row is the action in force at
    /// `from`, its last the one at `to`, so only the window's metric rows are read.
    static func greedyChanges(of record: RunRecord, in store: TrackerStore, window: ChartWindow? = nil) throws -> [GreedyChange] {
        var parameters = ["run_id": record.runID]
        if let from = window?.from { parameters["from"] = String(from) }
        if let to = window?.to { parameters["to"] = String(to) }
        let result = try store.run(try SavedQueries.named("greedy_changes"), parameters: parameters)
        guard let iteration = result.column("iteration"), let objective = result.column("objective"),
              let reward = result.column("normalized_reward"), let ratio = result.column("optimality_ratio") else {
            throw WebError(status: .internalServerError, message: "queries/greedy_changes.sql lacks a column the charts need")
        }
        return result.rows.compactMap { row in
            guard let x = row[iteration].number, let j = row[objective].number,
                  let r = row[reward].number else { return nil }
            return GreedyChange(iteration: Int(x), objective: j, normalizedReward: r, optimalityRatio: row[ratio].number)
        }
    }

    /// The changes inside the window (and the one in force at its start), reduced to `buckets`.
    static func windowed(_ changes: [GreedyChange], _ window: ChartWindow, buckets: Int) -> [GreedyChange] {
        var inside = changes
        if let from = window.from {
            let before = changes.lastIndex { $0.iteration <= from }
            inside = Array(changes[(before ?? 0)...])
        }
        if let to = window.to {
            // The first change past the window too, so the line reaches its right edge.
            if let after = inside.firstIndex(where: { $0.iteration > to }) { inside = Array(inside[...after]) }
        }
        // J decides both plotted values (J_EDF/J and J*/J), so its extremes are theirs.
        return StepDownsampling.reduce(inside, buckets: buckets, x: { Double($0.iteration) }, value: { $0.objective })
    }

    static func rounded(_ value: Double) -> JSON {
        .number((value * 1_000_000).rounded() / 1_000_000)
    }

    static func pointsJSON(_ points: [(Int, Double)]) -> JSON {
        .array(points.map { .array([.integer($0.0), rounded($0.1)]) })
    }

    /// Epsilon at `count` evenly spaced iterations of [low, high] (and high itself): it is a smooth
    /// function of the iteration (Learning's `ExplorationSchedule`), so no metric row is read.
    static func epsilonPoints(_ h: Hyperparameters, low: Int, high: Int, count: Int) -> [(Int, Double)] {
        let schedule = ExplorationSchedule(start: h.epsilonStart, minimum: h.epsilonMin, decay: h.epsilonDecay)
        guard high > low else { return [(low, schedule.epsilon(at: low))] }
        let step = max(1, (high - low) / max(1, count))
        return Array(stride(from: low, to: high, by: step)).map { ($0, schedule.epsilon(at: $0)) }
            + [(high, schedule.epsilon(at: high))]
    }

    static func chartObject(title: String, xLabel: String = "iteration", yLabel: String, y2Label: String? = nil, zoom: String,
                            xMin: Int, xMax: Int, series: [JSON]) -> JSON {
        .object([
            ("title", .string(title)), ("x_label", .string(xLabel)), ("y_label", .string(yLabel)),
            ("y2_label", .optional(y2Label)), ("zoom", .string(zoom)), ("x_min", .integer(xMin)), ("x_max", .integer(xMax)),
            ("series", .array(series)),
        ])
    }

    static func seriesObject(_ name: String, axis: String = "left", step: Bool, points: JSON, band: JSON = .array([])) -> JSON {
        .object([("name", .string(name)), ("axis", .string(axis)), ("step", .bool(step)), ("points", points), ("band", band)])
    }

    static func compactJSONResponse(_ value: JSON) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized(pretty: false) + "\n")))
    }

    /// `/api/runs/ID/chart?width=&from=&to=`: the run page's convergence chart, every greedy-order change
    /// kept up to the width's resolution.
    func runChartData(id: String, _ form: Form) throws -> Response {
        let window = try ChartWindow(form)
        let (record, h, changes) = try withStore { store in
            let record = try store.run(id)
            return (record, try store.hyperparameters(of: record), try Self.greedyChanges(of: record, in: store, window: window))
        }
        let last = max(0, record.doneIterations - 1)
        let low = window.from ?? 0, high = min(window.to ?? last, max(last, low))
        let kept = Self.windowed(changes, window, buckets: window.buckets)
        var series = [
            Self.seriesObject("normalized reward J_EDF / J", step: true,
                              points: Self.pointsJSON(kept.map { ($0.iteration, $0.normalizedReward) })),
        ]
        if kept.contains(where: { $0.optimalityRatio != nil }) {
            series.append(Self.seriesObject("optimality ratio J* / J", step: true,
                                            points: Self.pointsJSON(kept.compactMap { c in c.optimalityRatio.map { (c.iteration, $0) } })))
        }
        if record.doneIterations > 0 {
            series.append(Self.seriesObject("exploration rate ε", axis: "right", step: false,
                                            points: Self.pointsJSON(Self.epsilonPoints(h, low: low, high: high, count: window.buckets))))
        }
        return Self.compactJSONResponse(Self.chartObject(
            title: "Run \(record.runID): greedy order and exploration", yLabel: "normalized reward, optimality ratio",
            y2Label: "exploration rate ε", zoom: "server", xMin: low, xMax: high, series: changes.isEmpty ? [] : series))
    }

    /// `/api/overlay?run=A&run=B...`: the normalized reward of 2 to 10 runs, one line each, each reduced so
    /// that all of them together stay within `maximumPoints`.
    func overlayChartData(_ form: Form) throws -> Response {
        let window = try ChartWindow(form)
        let ids = try Self.sideBySideIDs(form)
        let buckets = max(25, min(window.buckets, Self.maximumPoints / 4 / ids.count / 2))
        let lines = try withStore { store in
            try ids.map { id -> (RunRecord, [GreedyChange]) in
                let record = try store.run(id)
                return (record, try Self.greedyChanges(of: record, in: store, window: window))
            }
        }
        let last = lines.map { max(0, $0.0.doneIterations - 1) }.max() ?? 0
        let series = lines.map { record, changes in
            Self.seriesObject("\(record.runID) \(record.algorithm.rawValue)\(record.label.map { " " + $0 } ?? "")", step: true,
                              points: Self.pointsJSON(Self.windowed(changes, window, buckets: buckets).map { ($0.iteration, $0.normalizedReward) }))
        }
        return Self.compactJSONResponse(Self.chartObject(
            title: "Normalized reward of \(ids.count) runs", yLabel: "normalized reward J_EDF / J", zoom: "server",
            xMin: window.from ?? 0, xMax: min(window.to ?? last, last), series: series))
    }

    /// `/api/compare/fig2?n=...` (the compare page's filters): Fig. 2 as `tracker plot` draws it, with its
    /// 95% bands (`--band ci`), from the same `convergenceCurves` and `Fig2Chart`.
    func compareChartData(_ form: Form) throws -> Response {
        let (n, chart) = try fig2Chart(try CompareRequest(form))
        guard let chart else {
            return Self.compactJSONResponse(Self.chartObject(title: "No finished runs with N = \(n) to draw", yLabel: "",
                                                             zoom: "client", xMin: 0, xMax: 0, series: []))
        }
        return Self.compactJSONResponse(Self.chartJSON(chart))
    }

    /// A `LineChart` (the CLI's charts) as the script's data: the same series, points and bands.
    static func chartJSON(_ chart: LineChart) -> JSON {
        let xs = chart.series.flatMap { $0.points.map(\.x) }
        let series = chart.series.map { series in
            seriesObject(series.name, axis: series.axis == .secondary ? "right" : "left", step: false,
                         points: .array(series.points.map { .array([.number($0.x), rounded($0.y)]) }),
                         band: .array(series.band.map { .array([.number($0.x), rounded($0.low), rounded($0.high)]) }))
        }
        var object = chartObject(title: chart.title, yLabel: chart.yLabel, y2Label: chart.secondaryYLabel, zoom: "client",
                                 xMin: Int(xs.min() ?? 0), xMax: Int(xs.max() ?? 0), series: series)
        if case .object(var members) = object, let note = chart.legendNote {
            members.append(("note", .string(note)))
            object = .object(members)
        }
        return object
    }

    /// The ticked runs of the side-by-side page and its chart: 2 to 10 ids or unique prefixes.
    static func sideBySideIDs(_ form: Form) throws -> [String] {
        var seen = Set<String>()
        let ids = form.all("run").filter { seen.insert($0).inserted }
        guard (2...10).contains(ids.count) else {
            throw WebError.badRequest("tick 2 to 10 runs to see them side by side, got \(ids.count)")
        }
        return ids
    }
}

/// The markup of one interactive chart: the script fills it from `source`; without the script (or before
/// it runs) the CLI's SVG at `fallback` is shown.
func interactiveChart(id: String, source: String, fallback: String?, alt: String) -> String {
    var markup = "<div class=\"ichart\" id=\"\(escapeHTML(id))\" data-src=\"\(escapeHTML(source))\">"
    if let fallback {
        markup += "<img class=\"chart ichart-fallback\" src=\"\(escapeHTML(fallback))\" alt=\"\(escapeHTML(alt))\">"
    }
    return markup + "</div>\n"
}
