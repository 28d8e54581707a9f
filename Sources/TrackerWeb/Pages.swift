import Foundation
import Hummingbird
import Learning
import NIOCore
import SQLite
import Scheduling
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

    /// The runs page's form: filters, search, sort and page, each checked.
    func browserQuery(_ form: Form) throws -> RunBrowserQuery {
        RunBrowserQuery(
            algorithm: try form.choice("algo", Algorithm.self),
            n: try form.integer("n", in: 1...64),
            phi: try form.integer("phi", in: 0...1_000_000_000),
            status: try form.choice("status", RunStatus.self),
            search: form.text("q").map { String($0.prefix(200)) },
            sort: try form.choice("sort", RunSortKey.self) ?? .created,
            descending: try form.choice("dir", SortDirection.self).map { $0 == .desc } ?? true,
            page: try form.integer("page", in: 1...10_000_000) ?? 1,
            pageSize: try form.integer("size", in: 1...RunBrowserQuery.maximumPageSize) ?? 50)
    }

    enum SortDirection: String, CaseIterable { case asc, desc }

    func runs(_ form: Form) throws -> Response {
        let query = try browserQuery(form)
        let page = try withStore { try $0.browseRuns(query) }
        return Self.htmlResponse(RunsView(query: query, page: page).render())
    }

    func runsJSON(_ form: Form) throws -> Response {
        let query = try browserQuery(form)
        let page = try withStore { try $0.browseRuns(query) }
        return Self.jsonResponse(.object([
            ("total", .integer(page.total)), ("page", .integer(query.page)), ("page_size", .integer(query.pageSize)),
            ("runs", .array(page.runs.map(Self.runObject))),
        ]))
    }

    static func runObject(_ run: BrowsedRun) -> JSON {
        let record = run.record
        return .object([
            ("run_id", .string(record.runID)), ("status", .string(record.displayStatus)),
            ("algorithm", .string(record.algorithm.rawValue)), ("n", .integer(record.n)), ("phi", .integer(record.phi)),
            ("seed", seedCell(record.seed)), ("label", .optional(record.label)),
            ("settings", .array(run.nonDefaultSettings.map(JSON.string))),
            ("tags", .object(run.tags.map { ($0.key, JSON.string($0.value)) })),
            ("iterations", .integer(record.doneIterations)), ("planned_iterations", .integer(record.plannedIterations)),
            ("optimality_ratio", .optional(run.optimalityRatio)), ("iterations_to_optimal", .optional(run.iterationsToOptimal)),
            ("normalized_reward", .optional(run.normalizedReward)), ("elapsed_seconds", .number(record.elapsedSeconds)),
            ("eta_seconds", .optional(Self.eta(record))), ("created_at", .string(record.createdAt)),
        ])
    }

    /// Seconds left at the rate so far, for a running run that has done some iterations.
    static func eta(_ record: RunRecord) -> Double? {
        guard record.status == .running, !record.isAbandoned, record.doneIterations > 0, record.elapsedSeconds > 0 else {
            return nil
        }
        let rate = Double(record.doneIterations) / record.elapsedSeconds
        return Double(record.plannedIterations - record.doneIterations) / rate
    }

    // MARK: One run

    struct RunDetails {
        let record: RunRecord
        let hyperparameters: Hyperparameters
        let frame: StoredFrame
        let summary: RunSummary?
        let checkpoints: [CheckpointInfo]
        let greedyOrder: [Int]?
        let optimalOrder: [Int]?
        /// The newest restorable checkpoint's best actions; nil when the run has no checkpoint.
        let topActions: CheckpointTopActions?
        /// What `tracker show` shows besides: tags by key, the note, how the run was started (nil before
        /// schema version 4) and every label it belongs to (its own and its adopting sweeps').
        let tags: [(key: String, value: String)]
        let note: String?
        let provenance: Provenance?
        let labels: [String]
    }

    /// How many actions of the newest Q-table the run page and its JSON list.
    static let topActionCount = 10

    func details(id: String) throws -> RunDetails {
        try withStore { store in
            let record = try store.run(id)
            let summary = try store.summary(ofRun: record.id)
            let frame = try store.loadFrame(id: record.frameID)
            var greedy = summary?.greedyOrder
            if greedy == nil, let action = try store.latestGreedyAction(ofRun: record.id) {
                greedy = Permutations.order(rank: action, count: frame.frame.count)
            }
            return RunDetails(
                record: record, hyperparameters: try store.hyperparameters(of: record), frame: frame, summary: summary,
                checkpoints: try store.checkpoints(ofRun: record.id), greedyOrder: greedy,
                optimalOrder: try store.optimalOrder(ofFrame: record.frameID),
                topActions: try store.topActions(ofRun: record.runID, count: Self.topActionCount),
                tags: try store.tags(ofRun: record.id).sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                note: try store.note(ofRun: record.id), provenance: try store.provenance(ofRun: record.id),
                labels: try store.labels(ofRun: record.id))
        }
    }

    func run(id: String, _ form: Form) throws -> Response {
        Self.htmlResponse(RunView(details: try details(id: id), editToken: dashboard.allowEdits ? dashboard.editToken : nil).render())
    }

    func runJSON(id: String) throws -> Response {
        let details = try details(id: id)
        let record = details.record, h = details.hyperparameters, frame = details.frame
        var fields = Self.progressFields(record)
        fields += [
            ("n", .integer(record.n)), ("seed", seedCell(record.seed)), ("label", .optional(record.label)),
            // Only the settings the run's algorithm uses (SettingVocabulary): no delta outside DTAQL.
            ("settings", .object(([
                ("delta", .integer(h.delta)), ("learning_rate", .number(h.learningRate)), ("discount", .number(h.discount)),
                ("epsilon_start", .number(h.epsilonStart)), ("epsilon_min", .number(h.epsilonMin)),
                ("epsilon_decay", .number(h.epsilonDecay)), ("reward", .string(h.reward.rawValue)),
                ("twin_noise", .number(h.twin.noise)),
            ] as [(String, JSON)]).filter { SettingVocabulary.algorithm(h.algorithm, uses: $0.0) }
                + [("non_default", .array(h.differencesFromDefaults.map(JSON.string)))])),
            ("provenance", .object([
                ("host", .string(record.host)), ("pid", .optional(record.pid)),
                ("tracker_version", .string(record.trackerVersion)), ("config_hash", .string(record.configHash)),
                ("created_at", .string(record.createdAt)), ("started_at", .optional(record.startedAt)),
                ("finished_at", .optional(record.finishedAt)),
            ] + Self.provenanceFields(details.provenance))),
            ("labels", .array(details.labels.map(JSON.string))),
            ("tags", .object(details.tags.map { ($0.key, JSON.string($0.value)) })), ("note", .optional(details.note)),
            ("frame", .object([
                ("frame_id", .integer(Int(frame.frameID))), ("optimal_objective", .optional(frame.optimalObjective)),
                ("optimal_order", details.optimalOrder.map(JSON.order) ?? .null),
                ("edf_objective", .number(frame.edfObjective)),
                ("tasks", .array(frame.frame.tasks.map {
                    .object([("data_bits", .number($0.dataBits)), ("deadline_s", .number($0.deadlineSeconds)),
                             ("cycles_per_bit", .number($0.cyclesPerBit))])
                })),
            ])),
            ("greedy_order", details.greedyOrder.map(JSON.order) ?? .null),
        ]
        if let summary = details.summary {
            fields.append(("summary", .object([
                ("objective", .number(summary.objective)), ("normalized_reward", .number(summary.normalizedReward)),
                ("misses", .integer(summary.misses)), ("mean_completion_s", .number(summary.meanCompletionSeconds)),
                ("optimality_ratio", .optional(summary.optimalityRatio)),
                ("iterations_to_optimal", .optional(summary.iterationsToOptimal)),
                ("stable_iteration", .integer(summary.stableIteration)), ("distinct_actions", .integer(summary.distinctActions)),
                ("wall_seconds", .number(summary.wallSeconds)), ("qtable_sha256", .string(summary.qTableSHA256)),
            ])))
        }
        fields.append(("top_actions", details.topActions.map { top in
            .object([
                ("checkpoint_iteration", .integer(top.iteration)),
                ("actions", .array(top.actions.map {
                    .object([("rank", .integer($0.rank)), ("order", JSON.order($0.order)), ("q", .number($0.qValue)),
                             ("objective", .number($0.outcome.objective)), ("misses", .integer($0.outcome.misses))])
                })),
            ])
        } ?? .null))
        fields.append(("checkpoints", .array(details.checkpoints.map {
            .object([("iteration", .integer($0.iteration)), ("bytes", .integer($0.bytes)), ("sha256", .string($0.sha256)),
                     ("created_at", .string($0.createdAt))])
        })))
        return Self.jsonResponse(.object(fields))
    }

    /// How the run was started, under `show --format json`'s keys (its `provenance` object); the command
    /// line and the rest are nil for a run recorded before schema version 4.
    static func provenanceFields(_ provenance: Provenance?) -> [(String, JSON)] {
        [
            ("command_line", .optional(provenance?.commandLine)), ("working_directory", .optional(provenance?.workingDirectory)),
            ("git_commit", .optional(provenance?.gitCommit)), ("git_dirty", provenance?.gitDirty.map(JSON.bool) ?? .null),
            ("user", .optional(provenance?.user)), ("os", .optional(provenance?.operatingSystem)),
            ("sqlite_version", .optional(provenance?.sqliteVersion)),
            ("sweep_name", .optional(provenance?.sweepName)), ("sweep_sha256", .optional(provenance?.sweepSHA256)),
        ]
    }

    /// What the live parts of the run and runs pages poll once a second.
    func progressJSON(id: String) throws -> Response {
        let record = try withStore { try $0.run(id) }
        return Self.jsonResponse(.object(Self.progressFields(record)))
    }

    static func progressFields(_ record: RunRecord) -> [(String, JSON)] {
        [
            ("run_id", .string(record.runID)), ("status", .string(record.displayStatus)),
            ("algorithm", .string(record.algorithm.rawValue)), ("phi", .integer(record.phi)),
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
