import ArgumentParser
import Learning
import TrackerReports
import TrackerStore

/// `tracker resume`: continue a stopped or killed run from its last checkpoint.
public struct ResumeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue an interrupted, failed or killed run from its last checkpoint.",
        discussion: """
            The result is bit-identical to a run that was never stopped. With --iterations K the run goes \
            K iterations beyond what it has done (this also extends a finished run). A run whose heartbeat \
            is fresh is refused as running; --force takes it over when you know its process is gone \
            (docs/sweeps.md: liveness).
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("The run's id (or a unique prefix of it).", valueName: "run-id"))
    var runID: String

    @Option(help: ArgumentHelp(
        "Train this many iterations more than done so far (a run plans at most \(Hyperparameters.maximumIterations)).",
        valueName: "K"))
    var iterations: Int?

    @Option(name: .customLong("memory-limit"), help: ArgumentHelp("Refuse runs estimated to need more.", valueName: "size"))
    var memoryLimit: String = "4GiB"

    @Option(name: .customLong("keep-checkpoints"), help: CheckpointRetention.help)
    var keepCheckpoints: CheckpointRetention = .default

    @Flag(help: "Take over a run that looks alive (fresh heartbeat) because you know its process is gone.")
    var force = false

    @Flag(help: "No progress output.")
    var quiet = false

    @Option(help: "Output format of the summary.")
    var format: ReportFormat = .table

    public init() {}

    public func validate() throws {
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1, got \(iterations).") }
        if let iterations, iterations > Hyperparameters.maximumIterations {
            throw ValidationError("--iterations must be at most \(Hyperparameters.maximumIterations), got \(iterations).")
        }
        _ = try parseByteSize(memoryLimit)
        try keepCheckpoints.validate()
    }

    public func run() throws {
        let store = try database.openStore(.readWriteExisting)
        switch try RunSession.resume(
            runID, in: store, additionalIterations: iterations, memoryLimitBytes: try parseByteSize(memoryLimit),
            force: force, keepCheckpoints: keepCheckpoints.newest)
        {
        case .alreadyFinished(let record):
            StandardError.write("Run \(record.runID) is already finished; nothing to do (use --iterations K to train further).\n")
            try StandardOutput.print(try runReport(record, in: store).render(format), terminator: "")
        case .session(let session):
            try drive(session, quiet: quiet, format: format)
        }
    }
}
