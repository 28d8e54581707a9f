import Foundation
import Hummingbird
import TrackerApp
import TrackerReports
import TrackerStore

/// `/sweeps` (every sweep spec that started runs, saved query `sweeps`) and `/sweep?name=SPEC` or
/// `/sweep?label=LABEL` (its runs, saved query `sweep_runs`): progress by state as `tracker sweep --status`
/// counts it (`SweepRunState`: finished, running, dead, interrupted, failed), the paper's Table I for its
/// configurations (as the compare page builds it), and a parallel-coordinates view of the settings that
/// vary against the mean normalized reward (`/api/sweep/parallel`, drawn by charts.js).
extension Pages {
    /// At most this many runs of one sweep go into its tables and picture (the compare page's limit).
    static let maximumSweepRuns = 1000

    func sweeps() throws -> Response {
        let result = try withStore { try $0.run(try SavedQueries.named("sweeps"), parameters: [:]) }
        let table = Table(result)
        guard let name = result.column("sweep_name") else {
            throw WebError(status: .internalServerError, message: "queries/sweeps.sql lacks sweep_name")
        }
        var body = "<p>Every sweep spec that started runs in this database (the spec's path as given to "
            + "<code>tracker sweep</code>). Runs not yet started are known only to the spec: "
            + "<code>tracker sweep SPEC --status</code> counts them.</p>\n"
        if result.rows.isEmpty {
            body += "<p class=\"empty\">No sweeps recorded. Start one with <code>tracker sweep SPEC</code>.</p>\n"
        } else {
            let sha = result.column("sweep_sha256")
            let rows = table.rows.map { row -> [String] in
                let spec: String? = { if case .string(let text) = row[name] { return text }; return nil }()
                let digest: String? = sha.flatMap { if case .string(let text) = row[$0] { return text }; return nil }
                return row.enumerated().map { index, value in
                    if index == name, let spec {
                        let pairs = [("name", spec)] + (digest.map { [("sha256", $0)] } ?? [])
                        return "<a href=\"/sweep\(escapeHTML(queryString(pairs)))\">\(escapeHTML(spec))</a>"
                    }
                    if index == sha, let digest { return digestMarkup(digest) }
                    return escapeHTML(Table.displayText(value))
                }
            }
            body += "<div class=\"result-box\">" + htmlTable(table.columns.map(escapeHTML), rows, numeric: [2, 3, 4, 5, 6], id: "sweeps") + "</div>"
        }
        return Self.htmlResponse(HTMLPage(title: "Sweeps", body: body, section: .sweeps).render())
    }

    struct SweepSelection {
        var name: String?
        var sha256: String?
        var label: String?

        init(_ form: Form) throws {
            name = form.text("name")
            sha256 = form.text("sha256")
            label = form.text("label")
            guard (name == nil) != (label == nil) else { throw WebError.badRequest("give a sweep's name or a label (one of them)") }
        }

        var parameters: [String: String] {
            var values: [String: String] = [:]
            if let name { values["sweep"] = name }
            if let sha256 { values["sha256"] = sha256 }
            if let label { values["label"] = label }
            return values
        }
        var pairs: [(String, String)] {
            [("name", name), ("sha256", sha256), ("label", label)].compactMap { key, value in value.map { (key, $0) } }
        }
        var title: String { name.map { "Sweep \($0)" } ?? "Label \(label ?? "")" }
    }

    /// The sweep's runs (their records) as `sweep_runs` selects them, in creation order: one primary-key
    /// read each, not every run of the file.
    func sweepRuns(_ selection: SweepSelection, in store: TrackerStore) throws -> [RunRecord] {
        let result = try store.run(try SavedQueries.named("sweep_runs"), parameters: selection.parameters)
        guard let column = result.column("run_key") else {
            throw WebError(status: .internalServerError, message: "queries/sweep_runs.sql lacks run_key")
        }
        return try result.rows.compactMap { row -> RunRecord? in
            guard case .integer(let key) = row[column] else { return nil }
            return try store.run(key: key)
        }
    }

    /// Table I's comparisons of the sweep's finished runs, grouped as `tracker compare` groups them: per N,
    /// `compare_runs` for that N (and the label, when the sweep is selected by one), kept to the sweep's runs,
    /// so a sweep of mixed N never reads the settings of every run in the file.
    func sweepComparisons(_ records: [RunRecord], _ selection: SweepSelection, in store: TrackerStore) throws -> [ConfigurationComparison] {
        let finished = records.filter { $0.status == .finished }.prefix(Self.maximumSweepRuns)
        let ids = Set(finished.map(\.runID))
        let rows = try Set(finished.map(\.n)).sorted().flatMap { n in
            try store.compareRuns(CompareFilter(n: n, label: selection.label)).filter { ids.contains($0.runID) }
        }
        return CompareTable.compare(rows, by: "n")
    }

    func sweep(_ form: Form) throws -> Response {
        let selection = try SweepSelection(form)
        let now = Date()
        let (records, comparisons) = try withStore { store in
            let records = try sweepRuns(selection, in: store)
            return (records, try sweepComparisons(records, selection, in: store))
        }
        guard !records.isEmpty else {
            throw WebError.notFound("no runs of \(selection.name.map { "sweep '\($0)'" } ?? "label '\(selection.label ?? "")'")")
        }
        let states = records.map { SweepRunState($0, staleAfterSeconds: Liveness.staleAfterSeconds, now: now) }
        var counts: [SweepRunState: Int] = [:]
        for state in states { counts[state, default: 0] += 1 }
        let counted: [SweepRunState] = [.finished, .running, .dead, .interrupted, .failed]
        var body = "<section><h2>Progress</h2>"
        body += "<p class=\"sweep-progress\"><progress max=\"\(records.count)\" value=\"\(counts[.finished, default: 0])\"></progress> "
            + "\(counts[.finished, default: 0]) of \(records.count) recorded runs finished</p>"
        body += htmlTable(counted.map { escapeHTML($0.rawValue.replacingOccurrences(of: "_", with: " ")) } + ["not started"],
                          [counted.map { String(counts[$0, default: 0]) }
                           + ["<span title=\"only the spec knows its whole grid: tracker sweep SPEC --status\">see <code>tracker sweep SPEC --status</code></span>"]],
                          numeric: Set(0..<counted.count), id: "sweep-status")
        let owned = zip(records, states).filter { $0.1 == .running || $0.1 == .dead }
        if !owned.isEmpty {
            body += "<h3>Running and dead runs</h3>" + htmlTable(
                ["run", "state", "host", "pid", "heartbeat", "iterations"],
                owned.map { record, state in
                    ["<a href=\"/runs/\(escapeQueryValue(record.runID))\">\(escapeHTML(record.runID))</a>", state.rawValue,
                     escapeHTML(record.host), record.pid.map(String.init) ?? "",
                     record.heartbeatAge(now: now).map { formatDuration(max(0, $0)) + " ago" } ?? "none",
                     "\(record.doneIterations) / \(record.plannedIterations)"]
                }, numeric: [3, 5], id: "sweep-owned")
        }
        body += "</section>\n"

        let finished = records.filter { $0.status == .finished }
        if finished.count > Self.maximumSweepRuns {
            body += "<p>Table I and the picture below cover the first \(Self.maximumSweepRuns) of its \(finished.count) finished runs; "
                + "<a href=\"/compare\">Compare</a> takes them all by label.</p>"
        }
        if !comparisons.isEmpty {
            let report = CompareReport(spread: .ci)
            for n in Set(comparisons.map(\.n)).sorted() {
                body += "<section class=\"wide\"><h2>Table I: N = \(n)</h2>"
                    + compareHTMLTable(report.tableI(comparisons.filter { $0.n == n }), id: "sweep-table-i-\(n)") + "</section>\n"
            }
            body += "<section class=\"wide\"><h2>Settings against the objective</h2><p>Each configuration is a line through the "
                + "settings that vary in this sweep, ending at its mean normalized reward J_EDF / J; the colour is that reward "
                + "(dark: low, bright: high). Hover a line for its name.</p>"
                + "<div class=\"pcoords\" id=\"sweep-parallel\" data-src=\"/api/sweep/parallel\(escapeHTML(queryString(selection.pairs)))\"></div></section>\n"
        }
        body += "<section class=\"wide\"><h2>Runs</h2><p>" + records.suffix(200).map { record in
            "<a href=\"/runs/\(escapeQueryValue(record.runID))\">\(escapeHTML(record.runID))</a>"
        }.joined(separator: " ") + (records.count > 200 ? " (the newest 200 of \(records.count))" : "") + "</p>"
        body += "</section>\n"
        return Self.htmlResponse(HTMLPage(title: selection.title, body: body, section: .sweeps).render())
    }

    /// `/api/sweep/parallel?name=` or `?label=`: the parallel-coordinates data, the reusable input of
    /// charts.js's `div.pcoords`:
    /// `{"objective", "axes": [{"name", "categories": [...] or null}], "lines": [{"name", "values", "objective"}]}`.
    /// One line per configuration (as `tracker compare` groups runs), over the settings that are not equal
    /// in all of them (numbers as they are, text as the index into `categories`).
    func sweepParallelData(_ form: Form) throws -> Response {
        let selection = try SweepSelection(form)
        let comparisons = try withStore { store in try sweepComparisons(try sweepRuns(selection, in: store), selection, in: store) }
        var lines: [(name: String, settings: [String: SettingValue], objective: Double)] = []
        for comparison in comparisons {
            guard let objective = comparison.normalizedReward?.mean else { continue }
            var settings: [String: SettingValue] = ["algorithm": .text(comparison.configuration.algorithm),
                                                    "phi": .integer(Int64(comparison.configuration.phi)),
                                                    "N": .integer(Int64(comparison.n))]
            for setting in comparison.configuration.settings { settings[setting.key] = setting.value }
            lines.append(("N=\(comparison.n) " + comparison.name, settings, objective))
        }
        return Self.compactJSONResponse(Self.parallelCoordinates(lines, objective: "normalized reward J_EDF / J"))
    }

    /// The component's input from rows of settings plus an objective: an axis per setting whose values
    /// differ between rows, in a fixed order (algorithm, N, phi, then by name).
    static func parallelCoordinates(_ lines: [(name: String, settings: [String: SettingValue], objective: Double)],
                                    objective: String) -> JSON {
        let keys = Set(lines.flatMap(\.settings.keys)).filter { key in Set(lines.map { $0.settings[key] ?? .null }).count > 1 }
        let leading = ["algorithm", "N", "phi"]
        let ordered = leading.filter(keys.contains) + keys.subtracting(leading).sorted()
        var axes: [JSON] = []
        var columns: [[JSON]] = Array(repeating: [], count: lines.count)
        for key in ordered {
            let values = lines.map { $0.settings[key] ?? .null }
            let numeric = values.allSatisfy { $0 == .null || $0.number != nil }
            if numeric {
                axes.append(.object([("name", .string(key)), ("categories", .null)]))
                for index in lines.indices { columns[index].append(.optional(values[index].number)) }
            } else {
                let categories = Array(Set(values)).sorted()
                axes.append(.object([("name", .string(key)), ("categories", .array(categories.map { .string($0.description) }))]))
                for index in lines.indices { columns[index].append(.integer(categories.firstIndex(of: values[index]) ?? 0)) }
            }
        }
        return parallelJSON(objective: objective, axes: axes, lines: lines.indices.map { index in
            .object([("name", .string(lines[index].name)), ("values", .array(columns[index])), ("objective", rounded(lines[index].objective))])
        })
    }

    static func parallelJSON(objective: String, axes: [JSON], lines: [JSON]) -> JSON {
        .object([("objective", .string(objective)), ("axes", .array(axes)), ("lines", .array(lines))])
    }
}
