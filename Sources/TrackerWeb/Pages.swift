import Foundation
import Hummingbird
import Learning
import NIOCore
import Scheduling
import TrackerApp
import TrackerReports
import TrackerStore

/// The dashboard's pages and API endpoints. Each borrows a store, reads, gives it back and renders,
/// without suspending in between (see `Dashboard` and `StorePool`).
struct Pages: Sendable {
    let dashboard: Dashboard

    func withStore<T>(_ body: (TrackerStore) throws -> T) throws -> T {
        try dashboard.stores.withStore(body)
    }

    // MARK: Responses

    static func htmlResponse(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static func jsonResponse(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized(pretty: true) + "\n")))
    }

    static func svgResponse(_ svg: String) -> Response {
        Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: svg)))
    }

    // MARK: Runs

    /// The runs page's form: filters (the ``RunFilter`` `tracker list` fills from its options: algo, n,
    /// phi, status, label, since, where, tag), search, sort and page, each checked. `where` and `tag` are
    /// repeatable (`where=lr%3D0.1&where=phi%3D50&tag=k%3Dv`), every one must hold, as `--where`/`--tag`.
    func browserQuery(_ form: Form) throws -> RunBrowserQuery {
        var since: Date?
        if let text = form.text("since") {
            do { since = try parseSince(String(text.prefix(200)), now: Date()) } catch {
                throw WebError.badRequest("since: \(error)")
            }
        }
        let conditions = try form.all("where").prefix(50).map { text in
            do { return try SettingCondition(parsing: String(text.prefix(1000))) } catch { throw WebError.badRequest("where: \(error)") }
        }
        let tags = try form.all("tag").prefix(50).map { text in
            do { return try SettingCondition(parsingTag: String(text.prefix(1000))) } catch { throw WebError.badRequest("tag: \(error)") }
        }
        let filter = RunFilter(
            algorithm: try form.choice("algo", Algorithm.self),
            n: try form.integer("n", in: 1...64),
            status: try form.choice("status", RunStatusFilter.self),
            label: form.text("label").map { String($0.prefix(200)) },
            since: since,
            phi: try form.integer("phi", in: 0...1_000_000_000),
            search: form.text("q").map { String($0.prefix(200)) },
            conditions: conditions + tags)
        return RunBrowserQuery(
            filter: filter,
            sort: try form.choice("sort", RunSortKey.self) ?? .created,
            descending: try form.choice("dir", SortDirection.self).map { $0 == .desc } ?? true,
            page: try form.integer("page", in: 1...10_000_000) ?? 1,
            pageSize: try form.integer("size", in: 1...RunBrowserQuery.maximumPageSize) ?? 50)
    }

    enum SortDirection: String, CaseIterable { case asc, desc }

    func runs(_ form: Form) throws -> Response {
        let query = try browserQuery(form)
        let page = try withStore { try $0.browseRuns(query) }
        return Self.htmlResponse(RunsView(query: query, page: page, sinceText: form.text("since").map { String($0.prefix(200)) }).render())
    }

    func runsJSON(_ form: Form) throws -> Response {
        let query = try browserQuery(form)
        let page = try withStore { try $0.browseRuns(query) }
        return Self.jsonResponse(.object([
            ("total", .integer(page.total)), ("page", .integer(query.page)), ("page_size", .integer(query.pageSize)),
            ("runs", .array(page.runs.map(RunView.row))),
        ]))
    }

    /// Seconds left at the rate so far, for a running run that has done some iterations.
    static func eta(_ record: RunRecord) -> Double? { RunView.eta(record) }

    // MARK: One run

    /// A run's view (``RunView``, the one `show` and the API serialize) and what only the dashboard shows.
    struct RunDetails {
        let view: RunView
        /// The summary's greedy order, or the newest one recorded while the run is live.
        let greedyOrder: [Int]?
        /// The newest restorable checkpoint's best actions; nil when the run has no checkpoint.
        let topActions: CheckpointTopActions?
        /// The `tracker tune` studies whose results name this run (saved query `run_studies`).
        var studies: [String] = []

        var record: RunRecord { view.record }
        var hyperparameters: Hyperparameters { view.hyperparameters }
        var frame: StoredFrame { view.frame }
        var summary: RunSummary? { view.summary }
        var checkpoints: [CheckpointInfo] { view.checkpoints }
        var optimalOrder: [Int]? { view.optimalOrder }
        var tags: [(key: String, value: String)] { view.tags }
        var note: String? { view.note }
        var provenance: Provenance? { view.provenance }
        var labels: [String] { view.labels }
        var importedSettings: [Setting] { view.importedSettings }
    }

    /// How many actions of the newest Q-table the run page and its JSON list.
    static let topActionCount = 10

    func details(id: String) throws -> RunDetails {
        try withStore { store in
            let view = try RunView.build(id, in: store)
            var greedy = view.summary?.greedyOrder
            if greedy == nil, let action = try store.latestGreedyAction(ofRun: view.record.id) {
                greedy = Permutations.order(rank: action, count: view.frame.frame.count)
            }
            // Only a database that holds studies is asked which name this run (the query needs their tables).
            var studies: [String] = []
            if try !store.studyNames().isEmpty {
                let result = try store.run(try SavedQueries.named("run_studies"), parameters: ["run_id": view.record.runID])
                if let column = result.column("study") {
                    studies = result.rows.compactMap { row -> String? in if case .text(let name) = row[column] { return name }; return nil }
                }
            }
            return RunDetails(view: view, greedyOrder: greedy,
                              topActions: try store.topActions(ofRun: view.record.runID, count: Self.topActionCount), studies: studies)
        }
    }

    func run(id: String, _ form: Form) throws -> Response {
        Self.htmlResponse(RunPage(details: try details(id: id), editToken: dashboard.allowEdits ? dashboard.editToken : nil).render())
    }

    /// The run's view (docs/run.schema.json: the shape of `show --format json`) and two members only the
    /// dashboard has: `greedy_order` (the summary's, or the newest recorded while the run is live) and
    /// `top_actions` (the newest checkpoint's best actions).
    func runJSON(id: String) throws -> Response {
        let details = try details(id: id)
        let greedy = details.greedyOrder, top = details.topActions
        guard case .object(var fields) = details.view.json else { preconditionFailure("a run's view is an object") }
        fields.append(("greedy_order", greedy.map(JSON.order) ?? .null))
        fields.append(("top_actions", top.map { top in
            .object([
                ("checkpoint_iteration", .integer(top.iteration)),
                ("actions", .array(top.actions.map {
                    .object([("rank", .integer($0.rank)), ("order", JSON.order($0.order)), ("q", .number($0.qValue)),
                             ("objective", .number($0.outcome.objective)), ("misses", .integer($0.outcome.misses))])
                })),
            ])
        } ?? .null))
        return Self.jsonResponse(.object(fields))
    }

    /// What the live parts of the run and runs pages poll once a second.
    func progressJSON(id: String) throws -> Response {
        let record = try withStore { try $0.run(id) }
        return Self.jsonResponse(.object(Self.progressFields(record)))
    }

    static func progressFields(_ record: RunRecord) -> [(String, JSON)] {
        [
            ("run_id", .string(record.runID)), ("status", .string(record.displayStatus)),
            ("algorithm", .string(record.algorithmName)), ("phi", .integer(record.phi)),
            ("iterations", .integer(record.doneIterations)), ("planned_iterations", .integer(record.plannedIterations)),
            ("elapsed_seconds", .number(record.elapsedSeconds)), ("eta_seconds", .optional(eta(record))),
            ("finished", .bool(record.status != .running || record.isAbandoned)),
        ]
    }

    func scheduleChart(id: String) throws -> Response {
        let details = try details(id: id)
        var lanes: [ScheduleChart.Lane] = []
        if let greedy = details.greedyOrder {
            lanes.append(.init(title: details.summary == nil ? "Greedy order so far" : "Greedy order (learned)", order: greedy))
        }
        if let optimal = details.optimalOrder { lanes.append(.init(title: "Optimal order", order: optimal)) }
        if lanes.isEmpty {
            lanes.append(.init(title: "EDF order (no greedy order recorded yet)",
                               order: ReferenceOrder.edf.order(for: details.frame.frame)))
        }
        return Self.svgResponse(ScheduleChart(frame: details.frame.frame, lanes: lanes).svg())
    }

    /// About this many points per series of a run's convergence chart.
    static let convergencePoints = 400

    /// The greedy order's normalized reward and J*/J, and epsilon, against iteration, from the saved query
    /// `run_history` (every k-th iteration and the newest), drawn by the same `LineChart` as `tracker plot`.
    func convergenceChart(id: String) throws -> Response {
        let (record, history, optimum) = try withStore { store -> (RunRecord, [HistoryRow], Double?) in
            let record = try store.run(id)
            return (record, try Self.history(of: record, in: store), try store.loadFrame(id: record.frameID).optimalObjective)
        }
        let rewardPoints = history.compactMap { row in row.normalizedReward.map { LineChart.Point(x: Double(row.iteration), y: $0) } }
        let ratioPoints = history.compactMap { row -> LineChart.Point? in
            guard let optimum, let objective = row.objective, objective > 0 else { return nil }
            return LineChart.Point(x: Double(row.iteration), y: optimum / objective)
        }
        let epsilonPoints = history.compactMap { row in row.epsilon.map { LineChart.Point(x: Double(row.iteration), y: $0) } }
        // Epsilon falls from 1 to its floor while the ratios sit near 1 or above: on an axis of its own
        // (right) neither squeezes the other.
        let series = [
            LineChart.Series(name: "normalized reward J_EDF / J", points: rewardPoints),
            LineChart.Series(name: "optimality ratio J* / J", points: ratioPoints),
            LineChart.Series(name: "exploration rate ε", points: epsilonPoints, axis: .secondary),
        ].filter { !$0.points.isEmpty }
        guard !series.isEmpty else {
            return Self.svgResponse(Self.placeholderSVG("No iterations recorded yet"))
        }
        let chart = LineChart(
            title: "Run \(record.runID): greedy order and exploration", xLabel: "iteration",
            yLabel: "normalized reward, optimality ratio", series: series, secondaryYLabel: "exploration rate ε")
        do {
            return Self.svgResponse(try chart.svg())
        } catch {
            return Self.svgResponse(Self.placeholderSVG(error.description))
        }
    }

    /// A small SVG with one line of text, for a chart with nothing to draw yet.
    static func placeholderSVG(_ text: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="860" height="60" viewBox="0 0 860 60" font-family="sans-serif" \
        font-size="14"><rect width="860" height="60" fill="#ffffff"/><text x="20" y="35">\(xmlEscaped(text))</text></svg>

        """
    }
}
