import ArgumentParser
import Foundation
import TrackerReports
import TrackerStore

/// `tracker delete`: remove runs with everything recorded for them.
public struct DeleteCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete runs with their metrics, checkpoints and summaries (asks first unless --yes).",
        discussion: """
            Give run ids (or unique prefixes), or filters that select runs as list does (--label, --status, \
            --where, ...), not both. The command names the runs and their count before it deletes; \
            --dry-run only prints them. It deletes all of them or none: a run still running in a live process \
            (its heartbeat younger than the staleness bound, $TRACKER_STALE_AFTER_S, default 120 s) is \
            refused; a dead one may go. Frames stay for other runs.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("Runs' ids (or unique prefixes of them).", valueName: "run-id"))
    var runIDs: [String] = []

    @OptionGroup var selection: RunSelectionOptions

    @Flag(help: "Print the runs that would be deleted, and delete nothing.")
    var dryRun = false

    @Flag(name: [.short, .long], help: "Do not ask.")
    var yes = false

    @OptionGroup var output: ReportFormatOptions

    public init() {}

    public func validate() throws {
        if !runIDs.isEmpty && selection.isFiltering {
            throw ValidationError("Give run ids or filters (--label, --status, --where, ...), not both.")
        }
        if runIDs.isEmpty && !selection.isFiltering {
            throw ValidationError("Give the run ids to delete, or filters that select them (--label, --status, --where, ...).")
        }
    }

    public func run() throws {
        let store = try database.openStore(dryRun ? .readOnly : .readWriteExisting)
        let records = try selectedRuns(in: store)
        let count = records.count == 1 ? "1 run" : "\(records.count) runs"
        let table = Table(columns: ["run_id", "algorithm", "n", "phi", "status", "label"], rows: records.map { record in
            [.string(record.runID), .string(record.algorithmName), .integer(record.n), .integer(record.phi),
             .string(record.displayStatus), .optional(record.label)]
        })
        // Refused before asking, and in a dry run too, which must predict what the real one does (the store
        // checks again as it deletes, in case a run was claimed since).
        if let live = records.first(where: \.isLive) { throw live.liveRefusal }
        if dryRun || records.isEmpty {
            try StandardOutput.print(table.render(output.format), terminator: "")
            StandardError.write(records.isEmpty ? "No run matches; nothing deleted.\n" : "\(count) would be deleted (dry run).\n")
            return
        }
        if !yes {
            StandardError.write("Delete \(count) (\(Self.names(records)))? [y/N] ")
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
            guard answer == "y" || answer == "yes" else {
                StandardError.write("Not deleted.\n")
                throw ExitCode(1)
            }
        }
        try store.deleteRuns(records)
        try StandardOutput.print(table.render(output.format), terminator: "")
        StandardError.write("Deleted \(count).\n")
    }

    /// The runs named by id (each resolved as everywhere, duplicates once) or selected by the filters,
    /// oldest first.
    func selectedRuns(in store: TrackerStore) throws -> [RunRecord] {
        if runIDs.isEmpty {
            return try store.runs(matching: try selection.filter)
        }
        var seen = Set<Int64>()
        return try runIDs.map { try store.run($0) }.filter { seen.insert($0.id).inserted }.sorted { $0.id < $1.id }
    }

    /// "a, b, c" for a prompt, the first ten and a count of the rest.
    static func names(_ records: [RunRecord]) -> String {
        records.prefix(10).map(\.runID).joined(separator: ", ") + (records.count > 10 ? ", and \(records.count - 10) more" : "")
    }
}

/// `tracker gc`: drop all but the last checkpoint of finished runs, then vacuum.
public struct GCCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Drop all but the last checkpoint of finished runs, then vacuum the database."
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var output: ReportFormatOptions

    public init() {}

    public func run() throws {
        let store = try database.openStore(.readWriteExisting)
        let collected = try store.collectGarbage()
        StandardError.write(
            "Dropped \(collected.checkpoints) checkpoints (\(collected.snapshotBytes) bytes of snapshots) and vacuumed \(database.path).\n")
        if output.format == .json {
            try StandardOutput.print(JSON.object([
                ("database", .string(database.path)), ("checkpoints_dropped", .integer(collected.checkpoints)),
                ("snapshot_bytes_dropped", .integer(collected.snapshotBytes)),
            ]).serialized(pretty: true))
        }
    }
}
