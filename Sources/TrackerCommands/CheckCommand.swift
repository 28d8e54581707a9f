import ArgumentParser
import TrackerReports
import TrackerStore

/// `tracker check`: find configurations recorded by more than one run, and with `--fix` keep one of each.
public struct CheckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Report configurations held by more than one run; --fix keeps one run of each.",
        discussion: """
            A database holds one run per configuration (its config_hash): a second `tracker run` of it is \
            refused and sweeps run it once. A database written by an older tracker, or by concurrent sweeps \
            before this rule, may hold duplicates, which compare and plot would count twice. check lists \
            them (one row per extra copy) and exits 1 when there are any; --fix deletes the extra copies, \
            keeping the finished copy (else the one furthest along, else the oldest), and leaves copies a \
            live process is still running.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Delete the extra copies.")
    var fix = false

    @Option(help: "Output format.")
    var format: ListingFormat = .table

    public init() {}

    public func run() throws {
        let store = try database.openStore(.readWriteExisting)
        if fix {
            let report = try store.removeDuplicateRuns()
            StandardError.write("Removed \(report.removed.count) duplicate runs"
                + (report.removed.isEmpty ? "" : ": \(report.removed.joined(separator: ", "))") + ".\n")
            if !report.leftRunning.isEmpty {
                throw CommandFailure("left \(report.leftRunning.count) duplicate runs that a live process is running "
                    + "(\(report.leftRunning.joined(separator: ", "))); run `tracker check --fix` again once they stopped")
            }
            return
        }
        let groups = try store.duplicateConfigurations()
        guard !groups.isEmpty else {
            StandardError.write("No duplicates: every configuration is held by one run.\n")
            return
        }
        let table = Table(
            columns: ["config_hash", "kept", "kept_status", "duplicate", "duplicate_status", "duplicate_iterations"],
            rows: groups.flatMap { group in
                group.extra.map { copy -> [JSON] in
                    [.string(String(group.configHash.prefix(12))), .string(group.kept.runID),
                     .string(group.kept.displayStatus), .string(copy.runID), .string(copy.displayStatus),
                     .integer(copy.doneIterations)]
                }
            })
        try printListing(table.render(format), format)
        let extra = groups.reduce(0) { $0 + $1.extra.count }
        StandardError.write("\(groups.count) configurations are held by more than one run (\(extra) extra copies); "
            + "`tracker check --fix` keeps one run of each\n")
        throw ExitCode(1)
    }
}
