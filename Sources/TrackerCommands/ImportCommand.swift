import ArgumentParser
import Foundation
import TrackerReports
import TrackerApp
import TrackerStore

/// `tracker import`: record a run made by a learner outside the tracker, from a `tracker-import/1` file.
public struct ImportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Record a run made elsewhere (your own learner) from a tracker-import/1 JSONL file.",
        discussion: """
            The file is a header line (format, algorithm name, frame, budget, settings, provenance), one line \
            per iteration with the metrics a built-in run records, and optionally a final_order line \
            (docs/import.md). It is validated line by line: the first bad line is named and nothing is \
            recorded. The run is recorded finished in one transaction, with a configuration identity like \
            any other (algorithm, settings, frame, seed, budget): importing the same run twice is refused as \
            `tracker run` refuses a configuration already recorded. Its summary (convergence, J, J*/J) is \
            derived from its metrics by the rules of the built-in runs. It shows in list, show, compare and \
            plot, marked imported; it has no Q-table or checkpoints, so `resume` refuses it.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("The JSONL file, or - for standard input.", valueName: "file.jsonl"))
    var file: String

    @Option(help: "Output format of the summary.")
    var format: ReportFormat = .table

    public init() {}

    public func run() throws {
        // The whole file is read and validated before the database is opened: a bad file leaves no trace.
        var imported: ImportedRun
        do {
            imported = try RunImport.read(path: file, trackerVersion: Tracker.version)
        } catch let error as RunImportError {
            throw CommandFailure(error.description)
        }
        Provenance.prefetch()
        let store = try database.openStore()
        imported.provenance = .current()
        let record = try RunImport.record(imported, in: store)
        try StandardOutput.print(try runReport(record, in: store).render(format), terminator: "")
    }
}
