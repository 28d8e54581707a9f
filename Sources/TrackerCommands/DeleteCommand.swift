import ArgumentParser
import Foundation
import TrackerStore

/// `tracker delete`: remove a run with everything recorded for it.
public struct DeleteCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a run with its metrics, checkpoints and summary (asks first unless --yes)."
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("The run's id (or a unique prefix of it).", valueName: "run-id"))
    var runID: String

    @Flag(name: [.short, .long], help: "Do not ask.")
    var yes = false

    public init() {}

    public func run() throws {
        let store = try database.openStore(.readWriteExisting)
        let record = try store.run(runID)
        if !yes {
            StandardError.write("Delete run \(record.runID) (\(record.algorithm.rawValue), N=\(record.n), \(record.status.rawValue))? [y/N] ")
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
            guard answer == "y" || answer == "yes" else {
                StandardError.write("Not deleted.\n")
                throw ExitCode(1)
            }
        }
        try store.deleteRun(id: record.id)
        StandardError.write("Deleted run \(record.runID).\n")
    }
}

/// `tracker gc`: drop all but the last checkpoint of finished runs, then vacuum.
public struct GCCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Drop all but the last checkpoint of finished runs, then vacuum the database."
    )

    @OptionGroup var database: DatabaseOptions

    public init() {}

    public func run() throws {
        let store = try database.openStore(.readWriteExisting)
        let collected = try store.collectGarbage()
        StandardError.write(
            "Dropped \(collected.checkpoints) checkpoints (\(collected.snapshotBytes) bytes of snapshots) and vacuumed \(database.path).\n")
    }
}
