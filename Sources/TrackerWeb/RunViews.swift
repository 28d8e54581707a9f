import Foundation
import Learning
import Scheduling
import TrackerStore

/// The runs page: a filter form, the table of one page of runs (tick boxes submit to /compare), and
/// page links. Running runs carry `data-live-run` so the script can refresh their progress.
struct RunsView {
    let query: RunBrowserQuery
    let page: RunBrowserPage
    /// `since` as the request wrote it (3d, 2026-12-01), kept in links and the form.
    var sinceText: String? = nil

    /// The current filters as query pairs, for links that change only the sort or the page.
    var filterPairs: [(String, String)] {
        var pairs: [(String, String)] = []
        if let algorithm = query.algorithm { pairs.append(("algo", algorithm.rawValue)) }
        if let n = query.n { pairs.append(("n", String(n))) }
        if let phi = query.phi { pairs.append(("phi", String(phi))) }
        if let status = query.status { pairs.append(("status", status.rawValue)) }
        if let label = query.filter.label { pairs.append(("label", label)) }
        if let since = sinceText { pairs.append(("since", since)) }
        if let search = query.search { pairs.append(("q", search)) }
        pairs += whereTexts.map { ("where", $0) } + tagTexts.map { ("tag", $0) }
        if query.pageSize != 50 { pairs.append(("size", String(query.pageSize))) }
        return pairs
    }

    /// The `where` conditions (`lr=0.1`) and the tags (`k=v`) of the filter, as the request gave them.
    var whereTexts: [String] {
        query.filter.conditions.filter { !$0.key.hasPrefix(RunTags.settingPrefix) }.map { "\($0.key)=\($0.value)" }
    }
    var tagTexts: [String] {
        query.filter.conditions.filter { $0.key.hasPrefix(RunTags.settingPrefix) }
            .map { "\($0.key.dropFirst(RunTags.settingPrefix.count))=\($0.value)" }
    }

    func link(sort: RunSortKey, descending: Bool, page: Int) -> String {
        "/" + queryString(filterPairs + [("sort", sort.rawValue), ("dir", descending ? "desc" : "asc"), ("page", String(page))])
    }

    func render() -> String {
        HTMLPage(title: "Runs", body: filterForm() + table() + pager(), section: .runs).render()
    }

    func filterForm() -> String {
        func options<T: RawRepresentable & CaseIterable>(_ type: T.Type, selected: T?) -> String where T.RawValue == String, T: Equatable {
            "<option value=\"\">any</option>" + T.allCases.map {
                "<option\($0 == selected ? " selected" : "")>\(escapeHTML($0.rawValue))</option>"
            }.joined()
        }
        // One field per condition given, and one empty for another (as the compare page's where).
        func fields(_ name: String, _ texts: [String], placeholder: String) -> String {
            (texts + [""]).map {
                "<label>\(name) <input name=\"\(name)\" size=\"12\" placeholder=\"\(placeholder)\" value=\"\(escapeHTML($0))\"></label>"
            }.joined(separator: "\n")
        }
        return """
            <form class="filters" method="get" action="/">
            <label>algorithm <select name="algo">\(options(Algorithm.self, selected: query.algorithm))</select></label>
            <label>N <input name="n" type="number" min="1" max="64" value="\(query.n.map(String.init) ?? "")"></label>
            <label>phi <input name="phi" type="number" min="0" value="\(query.phi.map(String.init) ?? "")"></label>
            <label>status <select name="status">\(options(RunStatusFilter.self, selected: query.status))</select></label>
            <label>label <input name="label" value="\(escapeHTML(query.filter.label ?? ""))"></label>
            <label>since <input name="since" placeholder="3d" size="10" value="\(escapeHTML(sinceText ?? ""))"></label>
            \(fields("where", whereTexts, placeholder: "lr=0.1"))
            \(fields("tag", tagTexts, placeholder: "baseline=yes"))
            <label>label or tag contains <input name="q" type="search" placeholder="baseline=yes" value="\(escapeHTML(query.search ?? ""))"></label>
            <input type="hidden" name="sort" value="\(query.sort.rawValue)">
            <input type="hidden" name="dir" value="\(query.descending ? "desc" : "asc")">
            <button type="submit">Filter</button> <a href="/">clear</a>
            </form>

            """
    }

    func table() -> String {
        guard !page.runs.isEmpty else {
            return "<p class=\"empty\">No runs match. Record some with <code>tracker run</code> or <code>tracker sweep</code>.</p>\n"
        }
        let columns: [(String, RunSortKey?)] = [
            ("", nil), ("run", .created), ("status", .status), ("algorithm", .algorithm), ("N", .n), ("phi", .phi),
            ("settings", nil), ("tags", nil), ("label", .label), ("iterations", .iterations), ("J*/J", .ratio),
            ("converged at", .convergence), ("wall time", .wall),
        ]
        let header = columns.map { title, key -> String in
            guard let key else { return escapeHTML(title) }
            let active = key == query.sort
            let descending = active ? !query.descending : key == .created
            let arrow = active ? (query.descending ? " ▼" : " ▲") : ""
            return "<a href=\"\(escapeHTML(link(sort: key, descending: descending, page: 1)))\">\(escapeHTML(title))\(arrow)</a>"
        }
        let rows = page.runs.map { run -> [String] in
            let record = run.record
            let id = escapeHTML(record.runID)
            return [
                "<input type=\"checkbox\" name=\"run\" value=\"\(id)\" aria-label=\"compare \(id)\">",
                "<a href=\"/runs/\(escapeQueryValue(record.runID))\">\(id)</a>",
                statusCell(record),
                // phi is shown only for the algorithms that use it, as everywhere (a QL run has none).
                escapeHTML(record.algorithmName), String(record.n),
                SettingVocabulary.algorithm(record.algorithm, uses: "phi") ? String(record.phi) : "",
                "<span class=\"settings\">\(escapeHTML(run.nonDefaultSettings.joined(separator: " ")))</span>",
                run.tags.map { "<span class=\"tag\">\(escapeHTML($0.key))=\(escapeHTML($0.value))</span>" }.joined(separator: " "),
                escapeHTML(record.label ?? ""),
                "\(record.doneIterations) / \(record.plannedIterations)",
                formatNumber(run.optimalityRatio),
                run.iterationsToOptimal.map(String.init) ?? (record.status == .finished ? "&gt;\(record.plannedIterations)" : ""),
                formatDuration(record.elapsedSeconds),
            ]
        }
        return """
            <form method="get" action="/compare" class="runs">
            <p class="summary">\(page.total) run\(page.total == 1 ? "" : "s") · tick runs, then <button type="submit">Compare ticked</button> <button type="submit" formaction="/side-by-side" id="side-by-side">Side by side</button> (2 to 10)</p>
            \(htmlTable(header, rows, numeric: [4, 5, 9, 10, 11, 12], id: "runs"))</form>

            """
    }

    func statusCell(_ record: RunRecord) -> String {
        let status = "<span class=\"status \(record.status.rawValue)\">\(escapeHTML(record.displayStatus))</span>"
        guard record.status == .running, !record.isAbandoned else { return status }
        return status + " " + progressMarkup(record)
    }

    func pager() -> String {
        let pages = max(1, (page.total + query.pageSize - 1) / query.pageSize)
        var parts: [String] = []
        if query.page > 1 {
            parts.append("<a rel=\"prev\" href=\"\(escapeHTML(link(sort: query.sort, descending: query.descending, page: query.page - 1)))\">← previous</a>")
        }
        parts.append("page \(query.page) of \(pages)")
        if query.page < pages {
            parts.append("<a rel=\"next\" href=\"\(escapeHTML(link(sort: query.sort, descending: query.descending, page: query.page + 1)))\">next →</a>")
        }
        return "<p class=\"pager\">\(parts.joined(separator: " · "))</p>\n"
    }
}

/// A live progress bar with the iteration count and ETA; the script refreshes elements with
/// `data-live-run` from /api/runs/ID/progress.
func progressMarkup(_ record: RunRecord) -> String {
    let eta = Pages.eta(record).map { "ETA " + formatDuration($0) } ?? ""
    return "<span class=\"live\" data-live-run=\"\(escapeHTML(record.runID))\">"
        + "<progress max=\"\(record.plannedIterations)\" value=\"\(record.doneIterations)\"></progress> "
        + "<span class=\"done\">\(record.doneIterations)</span> / \(record.plannedIterations) "
        + "<span class=\"eta\">\(escapeHTML(eta))</span></span>"
}

/// One run: status, settings, summary, the frame's tasks, the schedule, the convergence curve and the
/// checkpoints.
struct RunPage {
    let details: Pages.RunDetails
    /// With `--allow-edits`: the token the tag and note forms carry (EditPages.swift); nil, no forms.
    var editToken: String? = nil

    func render() -> String {
        let record = details.record
        let id = escapeQueryValue(record.runID)
        var body = ""
        let live = record.status == .running && !record.isAbandoned
        var status: [(String, String)] = [
            ("status", "<span class=\"status \(record.status.rawValue)\" id=\"run-status\">\(escapeHTML(record.displayStatus))</span>"
                + (live ? " " + progressMarkup(record) : "")),
            ("algorithm", escapeHTML(record.algorithmName)), ("N", String(record.n)),
        ]
        // phi only where the algorithm has one (not QL).
        if SettingVocabulary.algorithm(record.algorithm, uses: "phi") { status.append(("phi", String(record.phi))) }
        status += [
            ("label", escapeHTML(record.label ?? "")),
            ("labels", details.labels.map { "<a href=\"/sweep\(escapeHTML(queryString([("label", $0)])))\">\(escapeHTML($0))</a>" }
                .joined(separator: ", ")),
        ]
        if !details.studies.isEmpty {
            status.append(("studies", details.studies.map { Pages.studyLink($0) }.joined(separator: ", ")))
        }
        status += [
            ("iterations", "\(record.doneIterations) of \(record.plannedIterations)"),
            ("time computing", formatDuration(record.elapsedSeconds)),
            ("created", escapeHTML(record.createdAt)), ("started", escapeHTML(record.startedAt ?? "")),
            ("finished", escapeHTML(record.finishedAt ?? "")), ("error", escapeHTML(record.error ?? "")),
        ]
        body += "<section><h2>Status</h2>" + htmlFields(status) + "</section>\n"
        body += settingsSection()
        if let summary = details.summary {
            body += "<section><h2>Result</h2>" + htmlFields([
                ("objective J", formatNumber(summary.objective) + " s"), ("J*/J", formatNumber(summary.optimalityRatio)),
                ("normalized reward", formatNumber(summary.normalizedReward)), ("deadline misses", String(summary.misses)),
                ("mean completion", formatNumber(summary.meanCompletionSeconds) + " s"),
                ("optimal from iteration", summary.iterationsToOptimal.map(String.init) ?? "never within the budget"),
                ("greedy order stable from", String(summary.stableIteration)),
                ("distinct actions explored", String(summary.distinctActions)),
                ("iterations per second", formatNumber(summary.iterationsPerSecond)),
                ("greedy order", summary.greedyOrder.map(String.init).joined(separator: ", ")),
                ("Q-table SHA-256", digestMarkup(summary.qTableSHA256, id: "qtable-sha256")),
            ]) + "</section>\n"
        }
        body += "<section class=\"wide\"><h2>Schedule</h2><p>Each row is a task in the order it is sent: upload, then processing "
            + "on the edge server; the red tick is its deadline.</p>"
            + "<img class=\"chart\" id=\"schedule-chart\" src=\"/runs/\(id)/schedule.svg\" alt=\"schedule of the greedy and optimal orders\"></section>\n"
        body += "<section class=\"wide\"><h2>Convergence</h2>"
            + interactiveChart(id: "convergence-chart", source: "/api/runs/\(id)/chart", fallback: "/runs/\(id)/convergence.svg",
                               alt: "convergence curve") + "</section>\n"
        body += "<section><h2>Frame</h2>" + htmlFields([
            ("frame id", String(details.frame.frameID)),
            ("J* (optimum)", formatNumber(details.frame.optimalObjective)), ("J of EDF", formatNumber(details.frame.edfObjective)),
        ])
        let frame = details.frame.frame
        body += htmlTable(
            ["task", "data (bit)", "deadline (s)", "cycles/bit", "upload (s)", "processing (s)"],
            frame.tasks.indices.map { index in
                let task = frame.tasks[index]
                return [String(index), formatNumber(task.dataBits), formatNumber(task.deadlineSeconds),
                        formatNumber(task.cyclesPerBit), formatNumber(frame.transmitSeconds(index)),
                        formatNumber(frame.processSeconds(index))]
            }, numeric: [0, 1, 2, 3, 4, 5], id: "tasks") + "</section>\n"
        body += "<section><h2>Top actions of the newest Q-table</h2>" + topActionsMarkup() + "</section>\n"
        body += "<section><h2>Checkpoints</h2>" + (details.checkpoints.isEmpty ? "<p>none</p>" : htmlTable(
            ["iteration", "bytes", "SHA-256", "created"],
            details.checkpoints.suffix(20).reversed().map {
                [String($0.iteration), String($0.bytes), digestMarkup($0.sha256), escapeHTML($0.createdAt)]
            }, numeric: [0, 1], id: "checkpoints"))
            + (details.checkpoints.count > 20 ? "<p>the newest 20 of \(details.checkpoints.count)</p>" : "")
            + "</section>\n"
        let title = "Run \(record.runID)"
        var page = HTMLPage(title: title, body: "<div class=\"run\"\(live ? " data-live-page=\"\(escapeHTML(record.runID))\"" : "")>\(body)</div>", section: .runs)
        page.title = title
        return page.render()
    }

    /// Settings, provenance, tags and note: what `tracker show` shows. Each setting under its vocabulary
    /// name (SettingVocabulary), and only where the run's algorithm uses it (no delta for QL or DTEQL).
    func settingsSection() -> String {
        let record = details.record
        let h = details.hyperparameters
        let all: [(String, String)] = [
            ("delta", String(h.delta)), ("learning_rate", formatNumber(h.learningRate)),
            ("discount", formatNumber(h.discount)), ("epsilon_start", formatNumber(h.epsilonStart)),
            ("epsilon_min", formatNumber(h.epsilonMin)), ("epsilon_decay", formatNumber(h.epsilonDecay)),
            ("reward", escapeHTML(h.reward.rawValue)), ("twin_noise", formatNumber(h.twin.noise)),
        ]
        var settings: [(String, String)] = [("learner seed", String(record.seed))]
        if record.isImported {
            // Keys and values as the imported file gave them: escaped like every stored text.
            settings.append(("origin", "imported (tracker import: no Q-table, no checkpoints)"))
            for setting in details.importedSettings {
                settings.append((escapeHTML(setting.key), escapeHTML(setting.value.description)))
            }
        } else {
        for (column, value) in all where SettingVocabulary.algorithm(h.algorithm, uses: column) {
            settings.append((SettingVocabulary.canonical(column), value))
        }
        settings.append(("differs from defaults", escapeHTML(h.differencesFromDefaults.joined(separator: " "))))
        }

        let p = details.provenance
        var provenance: [(String, String)] = []
        if let p {
            provenance += [
                ("command line", "<code id=\"command-line\">\(escapeHTML(p.commandLine))</code>"),
                ("working directory", escapeHTML(p.workingDirectory)),
                ("git commit", p.gitCommit.map { "<code id=\"git-commit\">\(escapeHTML($0))</code>" } ?? ""),
                ("git dirty", p.gitDirty.map { $0 ? "yes" : "no" } ?? ""),
                ("user", escapeHTML(p.user)), ("os", escapeHTML(p.operatingSystem)),
                ("SQLite version", escapeHTML(p.sqliteVersion)),
                ("sweep", p.sweepName.map { "<a href=\"/sweep\(escapeHTML(queryString([("name", $0)])))\">\(escapeHTML($0))</a>" } ?? ""),
                ("sweep spec SHA-256", p.sweepSHA256.map { digestMarkup($0) } ?? ""),
            ]
        } else {
            provenance.append(("command line", "(not recorded: the run predates schema version 4)"))
        }
        provenance += [
            ("host", escapeHTML(record.host)), ("pid", record.pid.map(String.init) ?? ""),
            ("tracker version", escapeHTML(record.trackerVersion)), ("config hash", digestMarkup(record.configHash)),
        ]
        let tags: String = details.tags.isEmpty ? "<p id=\"tags\">(none)</p>"
            : htmlFields(details.tags.map { ($0.key, "<span class=\"tag\">\(escapeHTML($0.value))</span>") })
        let note = "<p id=\"note\">\(escapeHTML(details.note ?? "(none)"))</p>"
        return "<section><h2>Settings</h2>" + htmlFields(settings) + "<h2>Provenance</h2>" + htmlFields(provenance)
            + "<h2>Tags</h2>" + tags + "<h2>Note</h2>" + note + editForms() + "</section>\n"
    }

    /// The highest-valued actions of the newest restorable checkpoint, with what each is worth under the
    /// real model: shows what the learner believes beside the greedy order alone.
    func topActionsMarkup() -> String {
        guard let top = details.topActions else { return "<p>no checkpoint to read</p>" }
        return "<p>as of the checkpoint at iteration \(top.iteration)</p>" + htmlTable(
            ["#", "Q-value", "order", "J (s)", "misses"],
            top.actions.enumerated().map { position, action in
                [String(position + 1), formatNumber(action.qValue), action.order.map(String.init).joined(separator: ", "),
                 formatNumber(action.outcome.objective), String(action.outcome.misses)]
            }, numeric: [0, 1, 3, 4], id: "top-actions")
    }
}
