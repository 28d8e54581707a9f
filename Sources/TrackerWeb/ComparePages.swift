import Foundation
import HTTPTypes
import Hummingbird
import Learning
import NIOCore
import TrackerReports
import TrackerApp
import TrackerStore

/// An HTML table of a report `Table`: every cell through `Table.displayText` (as the CLI prints it),
/// escaped; numeric columns right-aligned.
func htmlTable(_ table: Table, id: String? = nil) -> String {
    let numeric = Set(table.columns.indices.filter { index in
        table.rows.contains { Table.isNumber($0[index]) } && table.rows.allSatisfy { Table.isNumber($0[index]) || $0[index] == .null }
    })
    return htmlTable(table.columns.map(escapeHTML), table.rows.map { $0.map { escapeHTML(Table.displayText($0)) } },
                     numeric: numeric, id: id)
}

/// A compare table (Table I, Table II): a number without a spread in the short form (`Table.shortNumber`:
/// four significant digits, iteration counts in full) beside its column's `1.346 ± 0.062` cells, instead of
/// `1.29418`; every column but the first holds numbers (`>5000`, `1.3 ± 0.1`), so each is right-aligned,
/// its header with it.
func compareHTMLTable(_ table: Table, id: String) -> String {
    func text(_ cell: JSON) -> String {
        if case .number(let value) = cell { return Table.shortNumber(value) }
        return Table.displayText(cell)
    }
    return htmlTable(table.columns.map(escapeHTML), table.rows.map { $0.map { escapeHTML(text($0)) } },
                     numeric: Set(table.columns.indices.dropFirst()), id: id)
}

/// A download of a table or report in one of the CLI's listing formats.
enum DownloadFormat: String, CaseIterable {
    case csv, json, markdown

    var listing: ListingFormat {
        switch self {
        case .csv: return .csv
        case .json: return .json
        case .markdown: return .markdown
        }
    }

    var contentType: String {
        switch self {
        case .csv: return "text/csv; charset=utf-8"
        case .json: return "application/json"
        case .markdown: return "text/markdown; charset=utf-8"
        }
    }

    var fileExtension: String { self == .markdown ? "md" : rawValue }

    /// The text as an attachment named `base.ext` (`base` is built from checked values only).
    func response(_ text: String, name base: String) -> Response {
        Response(status: .ok, headers: [
            .contentType: contentType, .cacheControl: "no-store",
            .contentDisposition: "attachment; filename=\"\(base).\(fileExtension)\"",
        ], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

extension CompareSpread {
    var title: String {
        switch self {
        case .ci: return "95% interval"
        case .iqr: return "25th–75th percentile"
        case .none: return "none"
        }
    }
}

// MARK: Compare

extension Pages {
    /// What the compare page shows: the filters of `tracker compare`, or the runs ticked on the runs page.
    struct CompareRequest {
        var n: Int?
        var label: String?
        var algorithm: Algorithm?
        var spread: CompareSpread
        /// `tracker compare --digits N`: significant digits of a cell's spread.
        var rounding: SpreadRounding
        var includeUnfinished: Bool
        /// Ticked runs (ids or unique prefixes); when given, only they are compared.
        var runs: [String]
        /// `tracker compare --by KEY`: Table II rows are this setting's values (nil: N).
        var by: String?
        /// `tracker compare --where KEY=VALUE`, each.
        var conditions: [SettingCondition]

        init(_ form: Form) throws {
            n = try form.integer("n", in: 1...64)
            label = form.text("label")
            algorithm = try form.choice("algo", Algorithm.self)
            spread = try form.choice("spread", CompareSpread.self) ?? .ci
            rounding = SpreadRounding(digits: try form.integer("digits", in: SpreadRounding.digitRange) ?? SpreadRounding.defaultDigits)
            includeUnfinished = form.text("unfinished") == "1"
            runs = form.all("run")
            guard runs.count <= 1000 else { throw WebError.badRequest("compare at most 1000 ticked runs at once") }
            by = form.text("by").flatMap { $0 == "n" ? nil : RunTags.normalizedSettingKey($0) }  // tag.é either way
            if let by, ["algorithm", "phi"].contains(by) {
                throw WebError.badRequest("by \(by): the columns are algorithm and phi already; give another setting")
            }
            conditions = try form.all("where").map { text in
                do { return try SettingCondition(parsing: text) } catch { throw WebError.badRequest("where: \(error)") }
            }
        }

        var report: CompareReport { CompareReport(spread: spread, rounding: rounding) }

        /// The same request as query pairs, for download and chart links.
        var pairs: [(String, String)] {
            var pairs: [(String, String)] = []
            if let n { pairs.append(("n", String(n))) }
            if let label { pairs.append(("label", label)) }
            if let algorithm { pairs.append(("algo", algorithm.rawValue)) }
            if spread != .ci { pairs.append(("spread", spread.rawValue)) }
            if rounding != SpreadRounding() { pairs.append(("digits", String(rounding.digits))) }
            if includeUnfinished { pairs.append(("unfinished", "1")) }
            if let by { pairs.append(("by", by)) }
            pairs += conditions.map { ("where", "\($0.key)=\($0.value)") }
            pairs += runs.map { ("run", $0) }
            return pairs
        }
    }

    /// The rows of `compare_runs` the request selects: its filters, or the ticked runs (each carrying its
    /// full configuration, so it is grouped exactly as `tracker compare` would group it).
    func compareRows(_ request: CompareRequest, in store: TrackerStore) throws -> [CompareRun] {
        if let by = request.by { try store.checkSettingKeys([by], option: "by") }
        if request.runs.isEmpty {
            return try store.compareRuns(CompareFilter(
                n: request.n, label: request.label, algorithm: request.algorithm?.rawValue,
                includeUnfinished: request.includeUnfinished, conditions: request.conditions))
        }
        let records = try request.runs.map { try store.run($0) }
        let ids = Set(records.map(\.runID))
        let sizes = Set(records.map(\.n))
        let filter = CompareFilter(n: sizes.count == 1 ? sizes.first : nil, includeUnfinished: true, conditions: request.conditions)
        return try store.compareRuns(filter).filter { ids.contains($0.runID) }
    }

    /// The comparisons, grouped by `CompareTable.compare` exactly as `tracker compare` groups them.
    func comparisons(_ request: CompareRequest) throws -> [ConfigurationComparison] {
        try withStore { store in CompareTable.compare(try compareRows(request, in: store), by: request.by ?? "n") }
    }

    func compare(_ form: Form) throws -> Response {
        let request = try CompareRequest(form)
        let comparisons = try comparisons(request)
        let report = request.report
        let sizes = Set(comparisons.map(\.n)).sorted()
        var body = compareForm(request)
        if comparisons.isEmpty {
            body += "<p class=\"empty\">No \(request.includeUnfinished ? "" : "finished ")runs match.</p>\n"
        } else {
            let query = queryString(request.pairs)
            body += "<p class=\"downloads\">Download: " + DownloadFormat.allCases.map {
                "<a href=\"/compare.\($0.fileExtension)\(escapeHTML(query))\">\($0.rawValue.uppercased())</a>"
            }.joined(separator: " ") + " · <a href=\"/api/compare\(escapeHTML(query))\">API</a></p>\n"
            if let by = request.by {
                body += "<section><h2>Table II: convergence time (iterations) by \(escapeHTML(by))</h2>"
                    + compareHTMLTable(report.tableII(comparisons), id: "table-ii") + "</section>\n"
            } else if sizes.count > 1 {
                body += "<section><h2>Table II: convergence time (iterations) by N</h2>"
                    + compareHTMLTable(report.tableII(comparisons), id: "table-ii") + "</section>\n"
            }
            for n in request.by == nil ? sizes : [] {
                let forN = comparisons.filter { $0.n == n }
                body += "<section><h2>Table I: N = \(n)</h2>" + compareHTMLTable(report.tableI(forN), id: "table-i-\(n)")
                var chartPairs = request.pairs.filter { $0.0 != "n" && $0.0 != "spread" && $0.0 != "digits" && $0.0 != "unfinished" && $0.0 != "by" }
                chartPairs.insert(("n", String(n)), at: 0)
                let caption = "Fig. 2: mean normalized reward of the greedy order over the finished runs of each column"
                    + (request.runs.isEmpty ? "." : " (only the ticked runs).")
                body += "<p>\(caption) Shaded: the 95% interval of the mean, as <code>tracker plot</code> draws it.</p>"
                    + interactiveChart(id: "fig2-\(n)", source: "/api/compare/fig2" + queryString(chartPairs),
                                       fallback: "/compare/fig2.svg" + queryString(chartPairs), alt: "convergence curves for N = \(n)")
                    + "</section>\n"
            }
        }
        let title = request.runs.isEmpty ? "Compare configurations" : "Compare \(request.runs.count) ticked runs"
        return Self.htmlResponse(HTMLPage(title: title, body: body, section: .compare).render())
    }

    func compareForm(_ request: CompareRequest) -> String {
        func algorithmOptions() -> String {
            "<option value=\"\">any</option>" + Algorithm.allCases.map {
                "<option\($0 == request.algorithm ? " selected" : "")>\($0.rawValue)</option>"
            }.joined()
        }
        let spreads = CompareSpread.allCases.map {
            "<option value=\"\($0.rawValue)\"\($0 == request.spread ? " selected" : "")>\(escapeHTML($0.title))</option>"
        }.joined()
        let ticked = request.runs.map { "<input type=\"hidden\" name=\"run\" value=\"\(escapeHTML($0))\">" }.joined()
        // One field per condition given, and one empty for another.
        let whereFields = (request.conditions.map { "\($0.key)=\($0.value)" } + [""]).map {
            "<label>where <input name=\"where\" size=\"12\" placeholder=\"lr=0.9\" value=\"\(escapeHTML($0))\"></label>"
        }.joined(separator: "\n")
        return """
            <form class="filters" method="get" action="/compare">
            <label>N <input name="n" type="number" min="1" max="64" value="\(request.n.map(String.init) ?? "")"></label>
            <label>label <input name="label" value="\(escapeHTML(request.label ?? ""))"></label>
            <label>algorithm <select name="algo">\(algorithmOptions())</select></label>
            <label>spread <select name="spread">\(spreads)</select></label>
            <label title="significant digits of the spread; the mean is rounded to the same decimal place">digits <input name="digits" type="number" min="\(SpreadRounding.digitRange.lowerBound)" max="\(SpreadRounding.digitRange.upperBound)" value="\(request.rounding.digits)"></label>
            <label>rows by <input name="by" size="10" placeholder="n" value="\(escapeHTML(request.by ?? ""))"></label>
            \(whereFields)
            <label><input type="checkbox" name="unfinished" value="1"\(request.includeUnfinished ? " checked" : "")> count unfinished runs</label>
            \(ticked)<button type="submit">Compare</button>\(request.runs.isEmpty ? "" : " <a href=\"/compare\">all runs instead of the ticked ones</a>")
            </form>
            <p>Columns are configurations as in <code>tracker compare</code>: runs equal in every setting but the frame and the learner seed. Without N, Table II shows convergence time per N, or per value of the setting in <i>rows by</i> (<code>--by</code>); <i>where</i> takes <code>KEY=VALUE</code> like <code>--where</code>.</p>

            """
    }

    func compareDownload(_ form: Form, format: DownloadFormat) throws -> Response {
        let request = try CompareRequest(form)
        let comparisons = try comparisons(request)
        // As `tracker compare`: Table I with N given (or ticked runs of one N), Table II otherwise.
        let singleN = request.by == nil && (request.n != nil || (!request.runs.isEmpty && Set(comparisons.map(\.n)).count == 1))
        let text = request.report.render(comparisons, singleN: singleN, format: format.listing)
        return format.response(text, name: request.n.map { "compare-n\($0)" } ?? "compare")
    }

    func compareJSON(_ form: Form) throws -> Response {
        let request = try CompareRequest(form)
        let report = request.report
        return Self.jsonResponse(.array(try comparisons(request).map(report.jsonObject)))
    }

    /// Fig. 2 for one N as `tracker plot` draws it (`Fig2Chart`, with its default band: the 95% interval of
    /// the mean where 3 or more runs contribute) over the runs the request selects; nil chart when no
    /// finished run has that N. The SVG and its interactive data (ChartData.swift) both come from here.
    func fig2Chart(_ request: CompareRequest) throws -> (n: Int, chart: LineChart?) {
        guard let n = request.n else { throw WebError.badRequest("the chart needs n") }
        let curves = try withStore { store in
            try store.convergenceCurves(runs: try compareRows(request, in: store), n: n, metric: .normalizedReward,
                                        points: 200, logarithmic: false, band: .ci)
        }
        return (n, Fig2Chart.chart(curves: curves, n: n, metric: .normalizedReward, label: request.label, logX: false,
                                   band: .ci))
    }

    /// Fig. 2 for one N, as an SVG.
    func compareChart(_ form: Form) throws -> Response {
        let (n, chart) = try fig2Chart(try CompareRequest(form))
        guard let chart, let svg = try? chart.svg() else {
            return Self.svgResponse(Self.placeholderSVG("No finished runs with N = \(n) to draw"))
        }
        return Self.svgResponse(svg)
    }

    /// One row of `run_history`, sampled to about `convergencePoints` iterations.
    struct HistoryRow {
        let iteration: Int
        let normalizedReward: Double?
        let objective: Double?
        let epsilon: Double?
    }

    /// The run's history (TrackerApp's ``RunHistory``, as `plot --run` reads it) for the run page's charts.
    static func history(of record: RunRecord, in store: TrackerStore) throws -> [HistoryRow] {
        try RunHistory.points(of: record, points: convergencePoints, in: store).map { point in
            HistoryRow(iteration: point.iteration, normalizedReward: point.normalizedReward, objective: point.objective,
                       epsilon: point.epsilon)
        }
    }
}

// MARK: Saved queries

extension Pages {
    func queries() -> Response {
        let rows = SavedQueries.all.map { query in
            ["<a href=\"/queries/\(escapeQueryValue(query.name))\">\(escapeHTML(query.name))</a>", escapeHTML(query.description),
             escapeHTML(query.parameters.map(\.signature).joined(separator: "; "))]
        }
        let body = "<p>The saved queries of <code>queries/</code>, as <code>tracker query</code> runs them. "
            + "Pick one to fill in its parameters.</p>" + htmlTable(["name", "description", "parameters"], rows, id: "queries")
        return Self.htmlResponse(HTMLPage(title: "Saved queries", body: body, section: .queries).render())
    }

    func queriesJSON() -> Response {
        Self.jsonResponse(.array(SavedQueries.all.map { query in
            .object([
                ("name", .string(query.name)), ("description", .string(query.description)),
                ("parameters", .array(query.parameters.map { parameter in
                    .object([("name", .string(parameter.name)), ("type", .string(parameter.type.rawValue)),
                             ("required", .bool(parameter.isRequired)), ("default", .optional(parameter.defaultLiteral)),
                             ("description", .string(parameter.description))])
                })),
            ])
        }))
    }

    /// The query's parameters from the form: only declared names (else 400), empty fields left to defaults;
    /// `offset` and `limit` are the paging's own (``QueryWindow``), never a query's.
    /// Nil when a required one is missing (the page then shows only the form).
    func parameters(of query: SavedQuery, _ form: Form) throws -> [String: String]? {
        let declared = Set(query.parameters.map(\.name))
        for name in form.names where !declared.contains(name) && !QueryWindow.fieldNames.contains(name) {
            throw WebError.badRequest("query \(query.name) has no parameter '\(name)'")
        }
        var values: [String: String] = [:]
        for parameter in query.parameters {
            if let value = form.text(parameter.name) { values[parameter.name] = value }
        }
        return query.parameters.allSatisfy({ !$0.isRequired || values[$0.name] != nil }) ? values : nil
    }

    /// Which rows of a saved query's result one request answers: `offset` rows are stepped over, then at
    /// most `limit` rows (default 1,000, at most 10,000) and about 8 MiB are kept. The rest is reached by
    /// the next page's link, so no request holds a whole 4-million-row result.
    struct QueryWindow {
        static let fieldNames: Set<String> = ["offset", "limit"]
        static let defaultRows = 1000
        static let maximumRows = 10_000
        static let maximumBytes = 8 * 1024 * 1024

        let offset: Int
        let rows: Int

        init(_ form: Form) throws {
            offset = try form.integer("offset", in: 0...1_000_000_000) ?? 0
            rows = try form.integer("limit", in: 1...Self.maximumRows) ?? Self.defaultRows
        }
    }

    /// The largest value a saved query's result may hold in the dashboard (`SQLITE_LIMIT_LENGTH`): 1 MiB.
    static let maximumValueBytes = 1024 * 1024

    /// A `run_id` parameter is resolved as `tracker query --param` resolves it (``TrackerStore/resolvingRunIDs(in:)``):
    /// a unique prefix becomes the full id; an unknown or ambiguous one is a 400 with the CLI's message,
    /// never an empty table (docs/queries.md).
    func resultPage(of query: SavedQuery, _ values: [String: String], _ window: QueryWindow) throws -> QueryPage {
        try withStore { store in
            let resolved: [String: String]
            do {
                resolved = try store.resolvingRunIDs(in: values)
            } catch let error as StoreError {
                switch error {
                case .runNotFound, .ambiguousRunID: throw WebError.badRequest(error.description)
                default: throw error
                }
            }
            return try store.run(query, parameters: resolved, offset: window.offset, maxRows: window.rows,
                                 maxBytes: QueryWindow.maximumBytes, maxValueBytes: Self.maximumValueBytes)
        }
    }

    /// The parameters given, in declaration order, plus the paging fields that differ from the defaults.
    func pairs(of query: SavedQuery, _ values: [String: String], offset: Int, rows: Int) -> [(String, String)] {
        var pairs = query.parameters.compactMap { parameter in values[parameter.name].map { (parameter.name, $0) } }
        if offset > 0 { pairs.append(("offset", String(offset))) }
        if rows != QueryWindow.defaultRows { pairs.append(("limit", String(rows))) }
        return pairs
    }

    func savedQuery(named name: String) throws -> SavedQuery {
        guard let query = SavedQueries.all.first(where: { $0.name == name }) else {
            throw WebError.notFound("no saved query named '\(name)'")
        }
        return query
    }

    func query(name: String, _ form: Form) throws -> Response {
        let query = try savedQuery(named: name)
        let values = try parameters(of: query, form)
        let window = try QueryWindow(form)
        var body = "<p>\(escapeHTML(query.description))</p>\n<form class=\"filters\" method=\"get\" action=\"/queries/\(escapeQueryValue(query.name))\">"
        for parameter in query.parameters {
            let value = form.text(parameter.name) ?? ""
            let placeholder = parameter.defaultLiteral.map { "default \($0)" } ?? "required"
            body += "<label title=\"\(escapeHTML(parameter.description))\">\(escapeHTML(parameter.name)) "
                + "<small>(\(parameter.type.rawValue))</small> <input name=\"\(escapeHTML(parameter.name))\" "
                + "value=\"\(escapeHTML(value))\" placeholder=\"\(escapeHTML(placeholder))\"\(parameter.isRequired ? " required" : "")></label>"
        }
        body += "<button type=\"submit\">Run</button></form>\n"
        body += htmlTable(["parameter", "type", "default", "meaning"], query.parameters.map {
            [escapeHTML($0.name), $0.type.rawValue, escapeHTML($0.defaultLiteral ?? "required"), escapeHTML($0.description)]
        })
        if let values {
            let page = try resultPage(of: query, values, window)
            let table = Table(page.result)
            let shown = table.rows.count
            let here = pairs(of: query, values, offset: window.offset, rows: window.rows)
            let name = escapeQueryValue(query.name)
            body += "<h2>Result</h2><p class=\"downloads\">"
                + (shown == 0 ? "no rows" + (window.offset > 0 ? " after row \(window.offset)" : "")
                    : "rows \(window.offset + 1) to \(window.offset + shown)" + (page.hasMore ? " (more follow)" : ""))
                + " · download this page: <a href=\"/queries/\(name).csv\(escapeHTML(queryString(here)))\">CSV</a> "
                + "<a href=\"/api/queries/\(name)\(escapeHTML(queryString(here)))\">JSON</a></p>"
                + "<div class=\"result-box\">" + htmlTable(table, id: "result") + "</div>"
            if page.hasMore {
                let next = pairs(of: query, values, offset: window.offset + shown, rows: window.rows)
                body += "<p><a rel=\"next\" id=\"more\" href=\"/queries/\(name)\(escapeHTML(queryString(next)))\">more: rows from \(window.offset + shown + 1)</a></p>"
            }
        } else {
            body += "<p>Fill in the required parameters and press Run.</p>"
        }
        return Self.htmlResponse(HTMLPage(title: "Query \(query.name)", body: body, section: .queries).render())
    }

    /// The CSV download and the JSON API: one page of rows, the next page's URL in a `Link: <...>;
    /// rel="next"` header (and in the JSON's `next`), absent on the last page.
    func queryResult(name: String, _ form: Form, format: DownloadFormat) throws -> Response {
        let query = try savedQuery(named: name)
        guard let values = try parameters(of: query, form) else {
            throw WebError.badRequest("query \(query.name) needs "
                + query.parameters.filter(\.isRequired).map { ":" + $0.name }.joined(separator: ", "))
        }
        let window = try QueryWindow(form)
        let page = try resultPage(of: query, values, window)
        let table = Table(page.result)
        let nextOffset = window.offset + table.rows.count
        let prefix = format == .json ? "/api/queries/" : "/queries/"
        let suffix = format == .json ? "" : "." + format.fileExtension
        let next = page.hasMore
            ? prefix + escapeQueryValue(query.name) + suffix + queryString(pairs(of: query, values, offset: nextOffset, rows: window.rows))
            : nil
        var response: Response
        if format == .json {
            response = Self.jsonResponse(.object([
                ("query", .string(query.name)), ("columns", .array(table.columns.map(JSON.string))),
                ("rows", .array(table.rows.map(JSON.array))),
                ("offset", .integer(window.offset)), ("next", next.map(JSON.string) ?? .null),
            ]))
        } else {
            response = format.response(table.render(format.listing), name: query.name)
        }
        if let next { response.headers[HTTPField.Name("Link")!] = "<\(next)>; rel=\"next\"" }
        return response
    }
}
