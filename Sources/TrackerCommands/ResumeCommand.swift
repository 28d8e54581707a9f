import ArgumentParser
import Learning
import TrackerReports
import TrackerApp
import TrackerStore

/// `tracker resume`: continue a stopped or killed run from its last checkpoint.
public struct ResumeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue an interrupted, failed or killed run from its last checkpoint.",
        discussion: """
            The result is bit-identical to a run that was never stopped. A finished run is extended with a \
            larger budget: --to K makes K the run's budget in all (what `run --iterations K` would have \
            planned), --iterations K trains K iterations beyond what it has done. Either way it continues \
            from its last checkpoint (a finished run's is at its final iteration), computes no iteration \
            twice, and ends bit-identical to a run started with that budget: nothing a run computes depends \
            on its budget (docs/learning.md: the budget). Its configuration becomes the one with the new \
            budget: refused when another run holds that configuration, and so is a budget not above what \
            the run has done. A run whose heartbeat is fresh is refused as running; --force takes it over \
            when you know its process is gone (docs/sweeps.md: liveness).
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("The run's id (or a unique prefix of it).", valueName: "run-id"))
    var runID: String

    @Option(help: ArgumentHelp(
        "Train this many iterations more than done so far (a run plans at most \(Hyperparameters.maximumIterations)).",
        valueName: "K"))
    var iterations: Int?

    @Option(name: .customLong("to"), help: ArgumentHelp(
        "Make K the run's budget in all, more than it has done (at most \(Hyperparameters.maximumIterations)).",
        valueName: "K"))
    var budget: Int?

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
        if iterations != nil && budget != nil {
            throw ValidationError("--to K sets the budget in all and --iterations K adds to it: give one, not both.")
        }
        if let budget, budget < 1 { throw ValidationError("--to must be at least 1, got \(budget).") }
        if let budget, budget > Hyperparameters.maximumIterations {
            throw ValidationError("--to must be at most \(Hyperparameters.maximumIterations), got \(budget).")
        }
        _ = try parseByteSize(memoryLimit)
        try keepCheckpoints.validate()
    }

    public func run() throws {
        let store = try database.openStore(.readWriteExisting)
        switch try RunSession.resume(
            runID, in: store, additionalIterations: iterations, plannedIterations: budget, memoryLimitBytes: try parseByteSize(memoryLimit),
            force: force, keepCheckpoints: keepCheckpoints.newest)
        {
        case .alreadyFinished(let record):
            StandardError.write("Run \(record.runID) is already finished; nothing to do (--to K extends it to a budget of K iterations).\n")
            // Nothing ran: the run is shown as `show` shows it (its table, or its one view as JSON).
            switch format {
            case .table: try StandardOutput.print(try runReport(record, in: store).render(.table), terminator: "")
            case .json: try StandardOutput.print(try store.reading { try RunView.build(record, in: store) }.json.serialized(pretty: true))
            }
        case .session(let session):
            try drive(session, quiet: quiet, format: format)
        }
    }
}
