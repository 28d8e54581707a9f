import ArgumentParser
import Foundation
import Learning
import Scheduling
import TrackerReports
import TrackerApp
import TrackerStore

/// `tracker run`: train one algorithm on one frame, recording everything in the database.
public struct RunCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Train QL, DTEQL or DTAQL on one frame and record the run.",
        discussion: """
            Every iteration's metrics and a checkpoint every --checkpoint-every iterations go into the \
            database. Ctrl-C (or SIGTERM) stops after the current iteration with a checkpoint; \
            `tracker resume RUN_ID` continues bit-identically.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Algorithm.")
    var algo: Algorithm

    @Option(help: ArgumentHelp("Twin actions (dteql) or twin agents (dtaql) per iteration; ignored by ql.", valueName: "phi"))
    var phi: Int = 500

    @Option(help: ArgumentHelp("DTAQL: average all tables every delta iterations.", valueName: "delta"))
    var delta: Int = 512

    @Option(help: "DTAQL: how the tables are combined every delta iterations: mean (Algorithm 1 line 12) or pool (every agent's samples applied to the shared table; docs/learning.md).")
    var aggregation: Aggregation = .mean

    @Option(help: ArgumentHelp("Generate a frame of N tasks (instead of --tasks).", valueName: "N"))
    var n: Int?

    @Option(name: .customLong("frame-seed"), help: ArgumentHelp("Seed of the generated frame (default: --seed).", valueName: "S"))
    var frameSeed: UInt64?

    @Option(help: ArgumentHelp("A task file (CSV: data_bits,deadline_s,cycles_per_bit); N comes from it.", valueName: "file.csv"))
    var tasks: String?

    @OptionGroup var learning: LearningOptions

    @Option(name: .customLong("checkpoint-every"), help: ArgumentHelp("Checkpoint every K iterations.", valueName: "K"))
    var checkpointEvery: Int = 1024

    @Option(name: .customLong("keep-checkpoints"), help: CheckpointRetention.help)
    var keepCheckpoints: CheckpointRetention = .default

    @Option(help: ArgumentHelp("A free-form label, to find the run again.", valueName: "text"))
    var label: String?

    @OptionGroup var model: ModelOptions

    @Flag(help: "No progress output.")
    var quiet = false

    @Option(help: "Output format of the summary.")
    var format: ReportFormat = .table

    public init() {}

    public func validate() throws {
        switch (tasks, n) {
        case (nil, nil): throw ValidationError("Give --n N or --tasks FILE.")
        case (.some, .some): throw ValidationError("Give either --n or --tasks, not both.")
        case (.some, nil) where frameSeed != nil: throw ValidationError("--frame-seed goes with --n, not --tasks.")
        case (nil, .some(let count)):
            guard (2...ExactOptimum.maximumTasks).contains(count) else {
                throw ValidationError("--n must be between 2 and \(ExactOptimum.maximumTasks), got \(count).")
            }
        default: break
        }
        try validateCheckpointOptions(checkpointEvery: checkpointEvery, keep: keepCheckpoints)
    }

    public func run() throws {
        let parameters = model.parameters
        let frame: Frame
        let source: FrameSource
        if let tasks {
            frame = try checkedFrame(Frame(tasks: try TaskFile.read(path: tasks), parameters: parameters), taskFile: tasks)
            source = .file
            guard frame.count >= 2 else { throw CommandFailure("\(tasks): a run needs at least 2 tasks") }
        } else {
            let seed = frameSeed ?? learning.seed
            frame = try checkedFrame(FrameGenerator.generate(count: n ?? 0, seed: seed, parameters: parameters), taskFile: nil)
            source = .generated(seed: seed)
        }
        let hyperparameters = try learning.hyperparameters(
            algorithm: algo, phi: phi, delta: delta, aggregation: aggregation, model: parameters)
        var specification = RunSpecification(
            frame: frame, frameSource: source, hyperparameters: hyperparameters,
            checkpointEvery: checkpointEvery, keepCheckpoints: keepCheckpoints.newest, label: label,
            memoryLimitBytes: learning.memoryLimitBytes, trackerVersion: Tracker.version)
        // Validate before touching the database, so bad settings leave no trace in it.
        try hyperparameters.validate(for: frame)
        // git's answers come while the database opens; not before validation, so a refused run spawns no
        // git (in a repository that cost the refusal about a third more time).
        Provenance.prefetch()
        let store = try database.openStore()
        specification.provenance = .current()
        let session = try RunSession.start(specification, in: store)
        try drive(session, quiet: quiet, format: format)
    }
}

/// `--keep-checkpoints N|all`. A long run checkpoints thousands of times and only the newest checkpoint
/// is needed to resume, so by default the store keeps the newest few (the last one is the final checkpoint
/// of a finished run) and prunes the rest in the transaction that writes each new one.
struct CheckpointRetention: ExpressibleByArgument, Equatable {
    /// Keep only this many of the newest checkpoints; nil keeps every one.
    let newest: Int?

    static let defaultCount = 3
    static let `default` = CheckpointRetention(newest: defaultCount)
    static let help = ArgumentHelp(
        "Keep only the newest N checkpoints (the newest is the final one of a finished run), or all.",
        valueName: "N|all")

    init(newest: Int?) { self.newest = newest }

    init?(argument: String) {
        if argument == "all" { newest = nil; return }
        guard let count = Int(argument) else { return nil }
        newest = count
    }

    var defaultValueDescription: String { newest.map(String.init) ?? "all" }

    func validate() throws {
        if let newest, newest < 1 { throw ValidationError("--keep-checkpoints must be at least 1, got \(newest).") }
    }
}

func validateCheckpointOptions(checkpointEvery: Int, keep: CheckpointRetention) throws {
    guard checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be at least 1, got \(checkpointEvery).") }
    try keep.validate()
}

/// Runs a session with progress and signal handling, then prints its summary. Shared by run and resume.
func drive(_ session: RunSession, quiet: Bool, format: ReportFormat) throws {
    StopSignal.install()
    let display = ProgressDisplay(quiet: quiet, label: session.record.runID)
    if !quiet {
        StandardError.write("run \(session.record.runID): \(session.record.algorithm.rawValue) N=\(session.record.n) "
            + "from iteration \(session.learner.iteration) to \(session.plannedIterations)\n")
    }
    let end = try session.run(
        progress: { progress in
            display.update(
                done: progress.iteration, total: progress.plannedIterations,
                sessionDone: progress.iteration - progress.startIteration, seconds: progress.sessionSeconds)
        },
        shouldStop: { StopSignal.pending != 0 })
    display.finish()
    // The run as the session's last commit left it, its summary as committed and its frame: what the
    // session returns, not read back.
    let record = session.record
    switch end {
    case .finished(let summary):
        try printRunReport(record, summary: summary, session: session, format: format)
    case .interrupted(let iteration):
        StandardError.write("Interrupted at iteration \(iteration); resume with: tracker resume \(record.runID)\n")
        // An interrupted run has no summary (a resume's claim drops the one of a run it extends).
        if format == .json { try printRunReport(record, summary: nil, session: session, format: format) }
        throw ExitCode(StopSignal.exitCode)
    }
}

/// What `run` and `resume` print at the end: the summary table, or the run's whole view as JSON (the
/// shape of `show --format json`, docs/run.schema.json).
func printRunReport(_ record: RunRecord, summary: RunSummary?, session: RunSession, format: ReportFormat) throws {
    switch format {
    // The table: the run as the session's last commit left it, with its summary and frame (not read back).
    case .table: try StandardOutput.print(runReport(record, summary: summary, frame: session.frame).render(.table), terminator: "")
    // The JSON is the run's one view (docs/run.schema.json), as `show` gives it: it adds what the session
    // does not hold (provenance, tags, labels, checkpoints), so it is read as `show` reads it.
    case .json: try StandardOutput.print(try session.store.reading { try RunView.build(record, in: session.store) }.json.serialized(pretty: true))
    }
}

/// The run's identity, status and summary as one record, for the table form of `run`, `resume` and
/// `show` (their JSON is ``RunView``'s). `frame` saves reading the run's frame again where the caller has it.
func runReport(_ record: RunRecord, in store: TrackerStore, frame: StoredFrame? = nil) throws -> Record {
    runReport(record, summary: try store.summary(ofRun: record.id), frame: try frame ?? store.loadFrame(id: record.frameID))
}

/// ``runReport(_:in:frame:)`` from values the caller has.
func runReport(_ record: RunRecord, summary: RunSummary?, frame: StoredFrame) -> Record {
    var fields: [(String, JSON)] = [
        ("run_id", .string(record.runID)),
        ("status", .string(record.displayStatus)),
        ("algorithm", .string(record.algorithmName)),
        ("n", .integer(record.n)),
        ("phi", .integer(record.phi)),
        ("seed", seedCell(record.seed)),
        ("label", .optional(record.label)),
        ("iterations", .integer(record.doneIterations)),
        ("planned_iterations", .integer(record.plannedIterations)),
        ("optimal_objective", .optional(frame.optimalObjective)),
    ]
    if let summary {
        fields += [
            ("objective", .number(summary.objective)),
            ("order", .order(summary.greedyOrder)),
            ("normalized_reward", .number(summary.normalizedReward)),
            ("optimality_ratio", .optional(summary.optimalityRatio)),
            ("misses", .integer(summary.misses)),
            ("mean_completion_s", .number(summary.meanCompletionSeconds)),
            ("iterations_to_optimal", .optional(summary.iterationsToOptimal)),
            ("stable_iteration", .integer(summary.stableIteration)),
            ("distinct_actions", .integer(summary.distinctActions)),
            ("wall_seconds", .number(summary.wallSeconds)),
            ("iterations_per_second", .number(summary.iterationsPerSecond)),
            ("final_qtable_sha256", .string(summary.qTableSHA256)),
        ]
    } else {
        for key in ["objective", "order", "normalized_reward", "optimality_ratio", "misses", "mean_completion_s",
                    "iterations_to_optimal", "stable_iteration", "distinct_actions", "wall_seconds",
                    "iterations_per_second", "final_qtable_sha256"] {
            fields.append((key, .null))
        }
    }
    return Record(fields: fields)
}
