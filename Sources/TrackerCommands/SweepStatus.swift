import Foundation
import TrackerReports
import TrackerApp
import TrackerStore

#if canImport(Glibc)
import Glibc
#endif

/// `sweep SPEC --status`: where each of the grid's runs stands in one or more databases (shards), read
/// without writing anything. `--shard I/K` narrows the grid to that slice.
func printSweepStatus(_ spec: SweepSpec, databasePattern: String, options: SweepOptions, format: ReportFormat) throws {
    let items = try spec.items(shard: options.parsedShard())
    let paths = try databasePaths(matching: databasePattern)
    let report = try SweepStatusReport.read(
        items: items, databases: paths, busyTimeoutMilliseconds: DatabaseOptions.busyTimeoutMilliseconds)
    switch format {
    case .json: try StandardOutput.print(statusJSON(report).serialized(pretty: true))
    case .table: try StandardOutput.print(statusTables(report), terminator: "")
    }
}

/// The files `--db` names: the path itself when a file is there (so a name with `*`, `?` or `[` in it
/// still works), else what it matches as a glob pattern, sorted. Matching nothing is an error, so a
/// mistyped pattern never reads as "nothing started" and no file is created for it.
func databasePaths(matching pattern: String) throws -> [String] {
    if FileManager.default.fileExists(atPath: pattern) { return [pattern] }
    var matches = glob_t()
    defer { globfree(&matches) }
    guard glob(pattern, 0, nil, &matches) == 0 else {
        let isPattern = pattern.contains { "*?[".contains($0) }
        throw CommandFailure(isPattern ? "no database matches '\(pattern)'" : "no such database: \(pattern)")
    }
    return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
}

private let countedStates: [SweepRunState] = [.finished, .running, .dead, .interrupted, .failed]

private func statusTables(_ report: SweepStatusReport) -> String {
    var rows: [[JSON]] = report.databases.map { database in
        [.string(database.path)] + countedStates.map { .integer(database.counts[$0, default: 0]) } + [.null, .integer(database.otherRuns)]
    }
    rows.append([.string("total (\(report.gridRuns) runs)")] + (countedStates + [.notStarted]).map { .integer(report.total[$0, default: 0]) }
        + [.null])
    var text = Table(columns: ["database"] + (countedStates + [.notStarted]).map(\.rawValue) + ["not_in_grid"], rows: rows)
        .render(ListingFormat.table)
    if !report.ownedRuns.isEmpty {
        let owned = Table(columns: ["database", "run_id", "run", "state", "host", "pid", "heartbeat_age_s", "iterations"],
                          rows: report.ownedRuns.map { run in
            [.string(run.database), .string(run.record.runID), .string(run.item.summary), .string(run.state.rawValue),
             .string(run.record.host), run.record.pid.map { .integer($0) } ?? .null,
             run.heartbeatAge.map { .integer(Int($0.rounded())) } ?? .string("none"),
             .string("\(run.record.doneIterations)/\(run.record.plannedIterations)")]
        })
        text += "\n" + owned.render(ListingFormat.table)
    }
    text += "\nA running run whose heartbeat is older than \(Int(report.staleAfterSeconds)) s (TRACKER_STALE_AFTER_S) is dead; "
        + "not_started counts the grid's runs found in no database.\n"
    return text
}

private func statusJSON(_ report: SweepStatusReport) -> JSON {
    func counts(_ values: [SweepRunState: Int], states: [SweepRunState]) -> [(String, JSON)] {
        states.map { ($0.rawValue, .integer(values[$0, default: 0])) }
    }
    return .object([
        ("grid_runs", .integer(report.gridRuns)),
        ("stale_after_s", .number(report.staleAfterSeconds)),
        ("databases", .array(report.databases.map { database in
            .object([("path", .string(database.path))] + counts(database.counts, states: countedStates)
                + [("not_in_grid", .integer(database.otherRuns))])
        })),
        ("total", .object(counts(report.total, states: countedStates + [.notStarted]))),
        ("owned_runs", .array(report.ownedRuns.map { run in
            .object([
                ("database", .string(run.database)), ("run_id", .string(run.record.runID)), ("run", .string(run.item.summary)),
                ("state", .string(run.state.rawValue)), ("host", .string(run.record.host)),
                ("pid", run.record.pid.map { .integer($0) } ?? .null),
                ("heartbeat_age_s", run.heartbeatAge.map { .number(($0 * 10).rounded() / 10) } ?? .null),
                ("done_iterations", .integer(run.record.doneIterations)),
                ("planned_iterations", .integer(run.record.plannedIterations)),
            ])
        })),
    ])
}
