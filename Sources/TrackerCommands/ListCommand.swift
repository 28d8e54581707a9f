import ArgumentParser
import Foundation
import Learning
import TrackerReports
import TrackerStore

extension RunStatus: ExpressibleByArgument {}
extension RunStatusFilter: ExpressibleByArgument {}

/// A column of `tracker list`: what `--columns` picks and `--sort` orders by. Sorting happens on the
/// rows already read, so a column name never reaches SQL.
enum ListColumn: String, CaseIterable, ExpressibleByArgument {
    case runID = "run_id", algorithm, n, phi, seed
    case frameSeed = "frame_seed", settings, status, resumable, iterations, planned, objective
    case iterationsToOptimal = "iterations_to_optimal", label
    case createdAt = "created_at"

    static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    func cell(_ run: ListedRun) -> JSON {
        let record = run.record
        switch self {
        case .runID: return .string(record.runID)
        case .algorithm: return .string(record.algorithmName)
        case .n: return .integer(record.n)
        // Empty for QL, which has no phi (its JSON row has no settings.phi either).
        case .phi: return SettingVocabulary.algorithm(record.algorithm, uses: "phi") ? .integer(record.phi) : .null
        case .seed: return seedCell(record.seed)
        case .frameSeed: return seedCell(run.frameSeed)
        case .settings: return .string(run.nonDefaultSettings.joined(separator: " "))
        case .status: return .string(record.displayStatus)
        case .resumable: return .bool(record.isResumable)
        case .iterations: return .integer(record.doneIterations)
        case .planned: return .integer(record.plannedIterations)
        case .objective: return .optional(run.objective)
        case .iterationsToOptimal: return .optional(run.iterationsToOptimal)
        case .label: return .optional(record.label)
        case .createdAt: return .string(record.createdAt)
        }
    }

    /// Where the column's value sits in the run's view (docs/run.schema.json): `list --format json` rows
    /// are that view's subset, under the same key paths as `show --format json` and /api/runs.
    var keyPath: [String] {
        switch self {
        case .phi: return ["settings", "phi"]
        case .frameSeed: return ["frame", "seed"]
        case .settings: return ["non_default_settings"]
        case .planned: return ["planned_iterations"]
        case .objective: return ["summary", "objective"]
        case .iterationsToOptimal: return ["summary", "iterations_to_optimal"]
        default: return [rawValue]
        }
    }

    /// The column's member of a JSON row; nil where the view has no such key for the run (phi of a QL
    /// run), and `summary: null` for a run without a summary.
    func member(_ run: ListedRun) -> ([String], JSON)? {
        switch self {
        case .phi where !SettingVocabulary.algorithm(run.record.algorithm, uses: "phi"): return nil
        case .objective where run.objective == nil, .iterationsToOptimal where run.objective == nil:
            return (["summary"], .null)
        case .settings: return (keyPath, .array(run.nonDefaultSettings.map(JSON.string)))
        default: return (keyPath, cell(run))
        }
    }
}

/// `tracker list`: the runs in the database, filtered.
public struct ListCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List runs, newest first. A 'running' run whose process died shows as resumable.",
        discussion: """
            Order: newest first (by creation), as the dashboard's runs page; --oldest-first reverses it. \
            --sort orders by a column instead (smallest first, --descending for largest first; runs equal \
            in it stay oldest first). The filters are the runs page's (one query for both).
            Columns: \(ListColumn.names). seed is the learner's seed, frame_seed the generated frame's \
            (empty for a task file); settings lists the settings that differ from tracker run's defaults. \
            --format json gives each run as a row of show --format json's shape, under the same key paths \
            (phi is settings.phi, objective summary.objective, ...; docs/run.schema.json).
            """
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var selection: RunSelectionOptions

    @Option(help: ArgumentHelp("Order by this column (default: newest first).", valueName: "column"))
    var sort: ListColumn?

    @Flag(help: "With --sort: largest first. Without: newest first, the default.")
    var descending = false

    @Flag(help: "Oldest first (the order of creation) instead of newest first.")
    var oldestFirst = false

    @Option(help: ArgumentHelp("Show at most this many runs (after sorting).", valueName: "count"))
    var limit: Int?

    @Option(help: ArgumentHelp("Show only these columns, in this order (comma-separated).", valueName: "a,b,c"))
    var columns: String?

    @Option(help: "Output format.")
    var format: ListingFormat = .table

    @OptionGroup var latex: LaTeXOptions

    public init() {}

    public func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit).") }
        if oldestFirst, sort != nil || descending {
            throw ValidationError("--oldest-first orders by creation; with --sort, --descending reverses the column's order.")
        }
        _ = try chosenColumns()
        try latex.validate(for: format)
    }

    func chosenColumns() throws -> [ListColumn] {
        guard let columns else { return ListColumn.allCases }
        let names = columns.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        return try names.map { name in
            guard let column = ListColumn(rawValue: name) else {
                throw ValidationError("--columns: unknown column '\(name)'; known: \(ListColumn.names).")
            }
            return column
        }
    }

    public func run() throws {
        let store = try database.openStore(.readOnly)
        guard let sort else {
            // Creation order comes from the query, and so does --limit: the runs page's rows and order.
            let runs = try store.listRuns(matching: try selection.filter, newestFirst: !oldestFirst, limit: limit)
            try output(runs)
            return
        }
        // Stable: runs equal in the column stay oldest first; empty cells go last either way.
        var runs = try store.listRuns(matching: try selection.filter, newestFirst: false)
        runs = runs.enumerated().sorted { left, right in
            let order = compareCells(sort.cell(left.element), sort.cell(right.element))
            if order == .orderedSame { return left.offset < right.offset }
            if sort.cell(left.element) == .null || sort.cell(right.element) == .null { return order == .orderedAscending }
            return descending ? order == .orderedDescending : order == .orderedAscending
        }.map(\.element)
        if let limit { runs = Array(runs.prefix(limit)) }
        try output(runs)
    }

    func output(_ runs: [ListedRun]) throws {
        let shown = try chosenColumns()
        if format == .json {
            let rows = runs.map { run in JSON.nested(shown.compactMap { $0.member(run) }) }
            try printListing(JSON.array(rows).serialized(pretty: true) + "\n", format)
            return
        }
        let table = Table(columns: shown.map(\.rawValue), rows: runs.map { run in shown.map { $0.cell(run) } })
        try printListing(format == .latex ? table.renderLaTeX(latex.float) : table.render(format), format)
    }
}

/// Orders two cells of one column: numbers by value, text and booleans as text; an empty cell after
/// any value.
func compareCells(_ left: JSON, _ right: JSON) -> ComparisonResult {
    func number(_ cell: JSON) -> Double? {
        switch cell {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: return nil
        }
    }
    switch (left, right) {
    case (.null, .null): return .orderedSame
    case (.null, _): return .orderedDescending
    case (_, .null): return .orderedAscending
    default:
        if let a = number(left), let b = number(right) {
            return a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame
        }
        let a = Table.displayText(left), b = Table.displayText(right)
        return a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame
    }
}
