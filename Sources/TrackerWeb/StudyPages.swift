import Foundation
import Hummingbird
import TrackerApp
import TrackerReports
import TrackerStore

/// `/studies` (every `tracker tune` study in the database) and `/study?name=NAME`: its progress as
/// `tracker tune SPEC --status` computes it (`StudyStatus`, never re-derived here), the leaderboard, the
/// searched settings against the objective (the sweep page's parallel-coordinates component,
/// `/api/study/parallel`) and the objective against the budget (one line per trial across its rungs,
/// `/api/study/budget`, an interactive chart). `/api/study?name=` is `tune --status --format json`.
extension Pages {
    /// At most this many studies are listed (each one's status is computed from its rung results).
    static let maximumStudies = 500
    /// The leaderboard's length, and how many trials the budget chart draws (its legend stays readable).
    static let studyLeaderboardRows = 20
    static let studyBudgetLines = 40

    /// The study named by `name` (400 without one, 404 when the database holds none of that name).
    func studyStatus(_ form: Form, in store: TrackerStore) throws -> StudyStatus {
        guard let name = form.text("name") else { throw WebError.badRequest("give a study's name: /study?name=NAME") }
        guard let status = try StudyStatus.load(name, in: store) else { throw WebError.notFound("no study named '\(name)'") }
        return status
    }

    func studyStatuses() throws -> [StudyStatus] {
        try withStore { store in
            try store.studyNames().prefix(Self.maximumStudies).compactMap { try StudyStatus.load($0, in: store) }
        }
    }

    static func studyLink(_ name: String) -> String {
        "<a href=\"/study\(escapeHTML(queryString([("name", name)])))\">\(escapeHTML(name))</a>"
    }

    static func objectiveText(_ status: StudyStatus, _ trial: StudyStatus.Trial) -> String {
        trial.objective.map(formatStudyObjective) ?? trial.budget.map { "beyond \($0)" } ?? ""
    }

    func studies() throws -> Response {
        let statuses = try studyStatuses()
        var body = "<p>Every <code>tracker tune</code> study in this database: its objective, how far its schedule has "
            + "come and the best trial so far (at the highest budget any trial reached).</p>\n"
        if statuses.isEmpty {
            body += "<p class=\"empty\">No studies recorded. Start one with <code>tracker tune SPEC</code>.</p>\n"
        } else {
            body += "<div class=\"result-box\">" + htmlTable(
                ["study", "objective", "direction", "trials", "trial-rungs done", "iterations spent", "best objective", "best trial", "complete"],
                statuses.map { status in
                    [Self.studyLink(status.spec.name), escapeHTML(status.spec.objective.rawValue), status.spec.direction.rawValue,
                     String(status.spec.trials), "\(status.trialRungsDone) / \(status.trialRungsTotal)", String(status.iterationsSpent),
                     status.best.map { escapeHTML(Self.objectiveText(status, $0)) } ?? "",
                     status.best.map { "\($0.index) at \($0.budget ?? 0)" } ?? "", status.complete ? "yes" : "no"]
                }, numeric: [3, 5, 6], id: "studies") + "</div>"
        }
        if statuses.count == Self.maximumStudies { body += "<p>The first \(Self.maximumStudies) studies by name.</p>" }
        return Self.htmlResponse(HTMLPage(title: "Studies", body: body, section: .studies).render())
    }

    /// `/api/studies`: one object per study, keys as in `tune --status --format json`.
    func studiesJSON() throws -> Response {
        let statuses = try studyStatuses()
        return Self.jsonResponse(.array(statuses.map { status in
            .object([
                ("study", .string(status.spec.name)), ("objective_name", .string(status.spec.objective.rawValue)),
                ("direction", .string(status.spec.direction.rawValue)), ("trials", .integer(status.spec.trials)),
                ("complete", .bool(status.complete)),
                ("trial_rungs_done", .integer(status.trialRungsDone)), ("trial_rungs_total", .integer(status.trialRungsTotal)),
                ("iterations_spent", .integer(status.iterationsSpent)),
                ("best_objective", .optional(status.best?.objective)),
                ("best_trial", status.best.map { .integer($0.index) } ?? .null),
            ])
        }))
    }

    /// `/api/study?name=`: exactly what `tracker tune SPEC --status --format json` prints.
    func studyJSON(_ form: Form) throws -> Response {
        let status = try withStore { try studyStatus(form, in: $0) }
        return Self.jsonResponse(StudyStatusJSON.status(status))
    }

    func study(_ form: Form) throws -> Response {
        let status = try withStore { try studyStatus(form, in: $0) }
        let spec = status.spec
        let source = escapeHTML(queryString([("name", spec.name)]))
        let states = ["pending", "waiting", "promoted", "pruned", "finished"]
        var counts: [String: Int] = [:]
        for trial in status.trials { counts[trial.state, default: 0] += 1 }
        var body = "<p>" + escapeHTML(spec.description ?? "") + "</p>"
        body += "<p>Objective <code>\(escapeHTML(spec.objective.rawValue))</code> (\(spec.direction.rawValue)), "
            + "\(spec.trials) trials, scheduler \(spec.scheduler.rawValue), sampler \(spec.sampler.rawValue), rungs "
            + status.plan.rungs.map(String.init).joined(separator: ", ") + " iterations. "
            + "The same numbers as <code>tracker tune SPEC --status</code>.</p>\n"
        body += "<section><h2>Progress</h2>"
        body += "<p class=\"sweep-progress\"><progress max=\"\(max(1, status.trialRungsTotal))\" value=\"\(status.trialRungsDone)\"></progress> "
            + "\(status.trialRungsDone) of \(status.trialRungsTotal) trial-rungs done, \(status.iterationsSpent) iterations spent"
            + (status.complete ? ", complete" : "") + "</p>"
        body += htmlTable(states, [states.map { String(counts[$0, default: 0]) }], numeric: Set(states.indices), id: "study-status")
        // Per rung: the trials whose highest result is there, by state.
        let perRung = status.plan.rungs.indices.map { rung -> [String] in
            let here = status.trials.filter { $0.rung == rung }
            let reached = status.trials.filter { ($0.rung ?? -1) >= rung }.count
            return [String(rung), String(status.plan.rungs[rung]), String(reached)]
                + states.dropFirst().map { state in String(here.filter { $0.state == state }.count) }
        }
        body += "<h3>By rung</h3>" + htmlTable(["rung", "budget", "trials with a result"] + states.dropFirst().map { "\($0) here" }, perRung,
                                             numeric: Set(0..<7), id: "study-rungs")
        body += "</section>\n"

        let ranked = status.ranked
        body += "<section class=\"wide\"><h2>Leaderboard</h2>"
        if ranked.isEmpty {
            body += "<p class=\"empty\">No trial has a result yet.</p>"
        } else {
            let names = spec.search.map(\.name)
            body += "<p>The best \(min(ranked.count, Self.studyLeaderboardRows)) of \(ranked.count) trials with a result: a deeper rung first, "
                + "then the objective (\(spec.direction.rawValue)).</p><div class=\"result-box\">"
                + htmlTable(["rank", "trial", "state", "budget", escapeHTML(spec.objective.rawValue)] + names.map(escapeHTML) + ["runs"],
                            ranked.prefix(Self.studyLeaderboardRows).enumerated().map { rank, trial -> [String] in
                                [String(rank + 1), String(trial.index), trial.state, trial.budget.map(String.init) ?? "",
                                 escapeHTML(Self.objectiveText(status, trial))]
                                    + names.map { escapeHTML(trial.settings[$0].map(studyValueText) ?? "") }
                                    + [trial.runIDs.prefix(5).map { "<a href=\"/runs/\(escapeQueryValue($0))\">\(escapeHTML(String($0.prefix(8))))</a>" }
                                        .joined(separator: " ") + (trial.runIDs.count > 5 ? " (+\(trial.runIDs.count - 5))" : "")]
                            }, numeric: [0, 1, 3, 4], id: "study-leaderboard") + "</div>"
        }
        body += "</section>\n"
        if !ranked.isEmpty {
            body += "<section class=\"wide\"><h2>Objective against budget</h2><p>Successive halving: each trial's objective "
                + "at every rung it ran (the best \(Self.studyBudgetLines) trials). Hover for the values; click a legend entry to hide a line.</p>"
                + interactiveChart(id: "study-budget", source: "/api/study/budget" + queryString([("name", spec.name)]), fallback: nil,
                                   alt: "objective against budget") + "</section>\n"
            body += "<section class=\"wide\"><h2>Settings against the objective</h2><p>Each trial with a result is a line through "
                + "its searched settings (log-uniform ones on a log10 axis) to its objective at the highest rung it reached, coloured by "
                + "that objective (dark: low, bright: high). Hover a line for its trial.</p>"
                + "<div class=\"pcoords\" id=\"study-parallel\" data-src=\"/api/study/parallel\(source)\"></div></section>\n"
        }
        return Self.htmlResponse(HTMLPage(title: "Study \(spec.name)", body: body, section: .studies).render())
    }

    /// `/api/study/parallel?name=`: the parallel-coordinates component's JSON (`parallelCoordinates`), one
    /// line per trial with a result, over the searched settings; a log-uniform setting as its log10.
    func studyParallelData(_ form: Form) throws -> Response {
        let status = try withStore { try studyStatus(form, in: $0) }
        var lines: [(name: String, settings: [String: SettingValue], objective: Double)] = []
        for trial in status.ranked {
            guard let objective = trial.objective else { continue }
            var settings: [String: SettingValue] = [:]
            for (name, distribution) in status.spec.search {
                guard let value = trial.settings[name] else { continue }
                if case .logUniform = distribution, let number = value.number, number > 0 {
                    settings[name + " (log10)"] = .real(log10(number))
                } else {
                    settings[name] = value.settingValue
                }
            }
            lines.append(("trial \(trial.index) at \(trial.budget ?? 0)", settings, objective))
        }
        return Self.compactJSONResponse(Self.parallelCoordinates(lines, objective: status.spec.objective.rawValue))
    }

    /// `/api/study/budget?name=`: the objective against the budget, one line per trial (the best
    /// `studyBudgetLines`) through its rung results, in the interactive charts' format.
    func studyBudgetData(_ form: Form) throws -> Response {
        let (status, records) = try withStore { store -> (StudyStatus, [StudyRungRecord]) in
            let status = try studyStatus(form, in: store)
            let record = try store.studyRecord(named: status.spec.name)
            return (status, try record.map { try store.studyRungs($0.id) } ?? [])
        }
        let byTrial = Dictionary(grouping: records, by: \.trial)
        let series = status.ranked.prefix(Self.studyBudgetLines).map { trial in
            let points = (byTrial[trial.index] ?? []).sorted { $0.rung < $1.rung }.compactMap { record in
                record.objective.map { (record.budget, $0) }
            }
            return Self.seriesObject("trial \(trial.index)", step: false, points: Self.pointsJSON(points))
        }
        let rungs = status.plan.rungs
        var chart = Self.chartObject(
            title: "\(status.spec.objective.rawValue) against budget", xLabel: "budget (iterations)",
            yLabel: status.spec.objective.rawValue, zoom: "client", xMin: rungs.first ?? 0, xMax: rungs.last ?? 1, series: series)
        // A trial without an objective at any rung (a median convergence beyond every budget it ran) has no
        // point to draw; the chart says so rather than leave its legend entry unexplained.
        let beyond = status.ranked.prefix(Self.studyBudgetLines).filter { trial in
            !(byTrial[trial.index] ?? []).contains { $0.objective != nil }
        }
        if !beyond.isEmpty, case .object(var fields) = chart {
            fields.append(("note", .string("no objective within their budget, so no points: trial "
                + beyond.map { String($0.index) }.joined(separator: ", "))))
            chart = .object(fields)
        }
        return Self.compactJSONResponse(chart)
    }
}

/// An objective for people, as `tune` prints it: integers as such, others with 6 significant digits.
func formatStudyObjective(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.6g", value)
}

func studyValueText(_ value: StudyValue) -> String {
    switch value {
    case .number(let v): return formatStudyObjective(v)
    case .integer(let v): return String(v)
    case .text(let v): return v
    }
}

extension StudyValue {
    var settingValue: SettingValue {
        switch self {
        case .number(let v): return .real(v)
        case .integer(let v): return .integer(Int64(v))
        case .text(let v): return .text(v)
        }
    }
}
