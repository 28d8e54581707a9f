import ArgumentParser
import Foundation
import Synchronization
import TrackerReports
import TrackerStore

/// Options shared by `sweep` and `reproduce`.
public struct SweepOptions: ParsableArguments {
    // Optional rather than defaulting to the core count, so --help names the default once, in words,
    // and the same on every machine.
    @Option(help: ArgumentHelp("Worker threads (default: the number of cores).", valueName: "J"))
    var jobs: Int?

    @Option(help: ArgumentHelp("Run only the I-th of K deterministic slices of the grid, e.g. 2/4.", valueName: "I/K"))
    var shard: String?

    @Flag(help: "Print what would run, resume or be skipped, and exit.")
    var dryRun = false

    @Flag(help: "Also resume runs that look alive elsewhere (fresh heartbeat): for when you know their processes are gone.")
    var takeover = false

    @Option(name: .customLong("keep-checkpoints"), help: ArgumentHelp(
        "Keep only the newest N checkpoints of each run, or all (default: the spec's keep_checkpoints, else \(SweepSpec.defaultKeepCheckpoints)).",
        valueName: "N|all"))
    var keepCheckpoints: CheckpointRetention?

    @Flag(help: "No progress output.")
    var quiet = false

    @Option(help: ArgumentHelp(
        "Hand consistent copies of --db to this path (on a shared filesystem) while the sweep runs and when it ends or is stopped; a missing --db starts from the last copy (docs/sweeps.md#shared-filesystems).",
        valueName: "shared.db"))
    var publish: String?

    @Option(name: .customLong("publish-every"), help: ArgumentHelp(
        "Seconds between copies with --publish (default 30; at most half of $TRACKER_STALE_AFTER_S, so a live run never looks dead in a copy).",
        valueName: "S"))
    var publishEvery: Double?

    public init() {}

    /// `--jobs`, else one worker per core.
    var workers: Int { jobs ?? ProcessInfo.processInfo.activeProcessorCount }

    public func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs).") }
        try keepCheckpoints?.validate()
        _ = try parsedShard()
        if let publishEvery {
            guard publishEvery.isFinite, publishEvery >= 1, publishEvery <= Liveness.staleAfterSeconds / 2 else {
                throw ValidationError("--publish-every must be between 1 and \(Int(Liveness.staleAfterSeconds / 2)) seconds (half of TRACKER_STALE_AFTER_S), got \(publishEvery).")
            }
            guard publish != nil else { throw ValidationError("--publish-every needs --publish.") }
        }
        if publish != nil && dryRun { throw ValidationError("--publish cannot be combined with --dry-run.") }
    }

    /// Seconds between published copies.
    var publishInterval: Double { publishEvery ?? min(30, Liveness.staleAfterSeconds / 2) }

    func parsedShard() throws -> (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (1...count).contains(index) else {
            throw ValidationError("--shard must be I/K with 1 <= I <= K, e.g. 2/4; got '\(shard)'.")
        }
        return (index, count)
    }
}

/// `tracker sweep`: a grid of runs from a spec file, in parallel, resumable and shardable.
public struct SweepCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a grid of runs from a JSON spec, in parallel; running it again resumes it.",
        discussion: """
            Finished runs are skipped, interrupted ones resumed and missing ones started: a run's identity \
            is its configuration (config_hash), whatever its label. Ctrl-C leaves every run resumable. See docs/sweeps.md for the \
            spec format; sweeps/paper.json is the paper's grid.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("The sweep spec (JSON).", valueName: "spec.json"))
    var spec: String

    @OptionGroup var sweep: SweepOptions

    @Flag(help: ArgumentHelp(
        "Only report how many of the grid's runs are finished, running, dead, interrupted, failed or not started in --db, without writing anything; --db may be a quoted glob such as 'shard-*.db'."))
    var status = false

    /// The summary (or --status, or --dry-run's plan) as a table or JSON.
    @OptionGroup var output: ReportFormatOptions

    public init() {}

    public func validate() throws {
        if status && (sweep.dryRun || sweep.takeover) {
            throw ValidationError("--status only reads; it cannot be combined with --dry-run or --takeover.")
        }
    }

    public func run() throws {
        guard FileManager.default.fileExists(atPath: spec) else {
            throw CommandFailure("cannot read sweep spec \(spec): no such file")
        }
        let text: String
        do {
            text = try String(contentsOfFile: spec, encoding: .utf8)
        } catch {
            throw CommandFailure("cannot read sweep spec \(spec): not readable UTF-8 text")
        }
        let parsed = try SweepSpec.parse(text, source: spec)
        if status {
            return try printSweepStatus(parsed, databasePattern: database.path, options: sweep, format: output.format)
        }
        let sweepRun = try runSweep(parsed, database: database.path, options: sweep, provenance: .current(sweep: (spec, text)),
                                    format: output.format)
        if output.format == .json, let outcome = sweepRun.outcome {
            try StandardOutput.print(outcome.json(database: database.path, runs: sweepRun.items.count).serialized(pretty: true))
        }
    }
}

/// Expands, shards, plans and runs a sweep with an overall progress bar; exits 130/143 when stopped.
/// Each run it starts records `provenance`. Returns the items it covered and, unless it was a dry run
/// (whose plan it prints in `format`), what it did.
///
/// Stopped by SIGINT or SIGTERM, it prints the partial outcome first when `format` is JSON (under `jsonKey`
/// when given, as `reproduce` nests it under "sweep"), then exits 130/143.
func runSweep(_ spec: SweepSpec, database: String, options: SweepOptions, provenance: Provenance,
              format: ReportFormat, jsonKey: String? = nil) throws -> (items: [SweepItem], outcome: SweepOutcome?) {
    // Only this shard's slice of the grid is built (the spec's size was checked when it was parsed).
    var items = try spec.items(shard: options.parsedShard())
    for index in items.indices {
        items[index].specification.provenance = provenance
        if let retention = options.keepCheckpoints { items[index].specification.keepCheckpoints = retention.newest }
    }
    let runner = SweepRunner(path: database, items: items, jobs: options.workers, trackerVersion: Tracker.version,
                             busyTimeoutMilliseconds: DatabaseOptions.busyTimeoutMilliseconds, takeover: options.takeover)
    if options.dryRun {
        if !FileManager.default.fileExists(atPath: database) {
            StandardError.write("note: \(database) does not exist yet: every run would start (nothing was created)\n")
        }
        let actions = try runner.plan()
        let names = planRowNames(runner.items)
        let table = Table(columns: ["run", "action", "run_id"], rows: zip(names, actions).map { name, action in
            switch action {
            case .skip(let id): return [.string(name), .string("skip (finished)"), .string(id)]
            case .resume(let id): return [.string(name), .string("resume"), .string(id)]
            case .busy(let id):
                return [.string(name), .string(options.takeover ? "take over" : "running elsewhere"), .string(id)]
            case .start: return [.string(name), .string("start"), .null]
            }
        })
        try StandardOutput.print(table.render(format), terminator: "")
        return (runner.items, nil)
    }
    StopSignal.install()
    let publisher = try options.publish.map {
        try ShardPublisher(localPath: database, targetPath: $0, intervalSeconds: options.publishInterval)
    }
    if let publisher, publisher.restored, !options.quiet {
        StandardError.write("sweep: \(database) started from the copy published at \(publisher.targetPath)\n")
    }
    publisher?.startPeriodicPublishing()
    let progress = runner.makeProgress()
    let display = ProgressDisplay(quiet: options.quiet, label: "sweep")
    if !options.quiet {
        StandardError.write("sweep: \(runner.items.count) runs into \(database) with \(options.workers) workers\n")
    }
    let result = Mutex<Result<SweepOutcome, any Error>?>(nil)
    let worker = Thread {
        let outcome = Result { try runner.run(progress: progress, shouldStop: { StopSignal.pending != 0 }) }
        result.withLock { $0 = outcome }
    }
    worker.stackSize = 8 << 20
    worker.start()
    let started = Date()
    while result.withLock({ $0 == nil }) {
        Thread.sleep(forTimeInterval: 0.1)
        display.updateSweep(progress, seconds: Date().timeIntervalSince(started))
    }
    display.updateSweep(progress, seconds: Date().timeIntervalSince(started), force: true, stopped: StopSignal.pending != 0)
    display.finish()
    // Published whether the sweep ended, failed or was stopped: the copy is what a requeued task resumes.
    if let publisher {
        try publisher.finish()
        if !options.quiet { StandardError.write("sweep: published \(database) to \(publisher.targetPath)\n") }
    }
    let outcome = try result.withLock { $0! }.get()
    if !outcome.adopted.isEmpty, let label = spec.label {
        // Said even with --quiet: it explains why this study counts runs it did not make.
        let count = outcome.adopted.count
        StandardError.write("sweep: adopted \(count) run\(count == 1 ? "" : "s") already recorded with "
            + "\(count == 1 ? "this configuration" : "these configurations") into label \(terminalEscaped(label)): "
            + outcome.adopted.prefix(10).joined(separator: ", ") + (count > 10 ? ", ..." : "") + "\n")
    }
    if !options.quiet {
        StandardError.write("sweep: \(outcome.started) started, \(outcome.resumed) resumed, \(outcome.skipped) already finished"
            + (outcome.busy > 0 ? ", \(outcome.busy) running elsewhere" : "")
            + (outcome.failures.isEmpty ? "" : ", \(outcome.failures.count) failed")
            + (outcome.interrupted > 0 ? "; \(outcome.interrupted) of those started or resumed interrupted (resumable)" : "") + "\n")
    }
    if StopSignal.pending != 0 {
        // The partial result still goes to stdout, so a script reading it learns what was done and what
        // stopped (each interrupted run by id, resumable) instead of finding nothing to parse.
        if format == .json {
            let partial = outcome.json(database: database, runs: runner.items.count, stopped: true)
            try StandardOutput.print((jsonKey.map { JSON.object([($0, partial)]) } ?? partial).serialized(pretty: true))
        }
        StandardError.write("Stopped; run the same command again to resume.\n")
        throw ExitCode(StopSignal.exitCode)
    }
    if let first = outcome.failures.first {
        throw CommandFailure("\(outcome.failures.count) runs failed; the first: \(first)")
    }
    return (runner.items, outcome)
}

/// Each item's summary (algorithm, phi, N, frame seed, seed), followed by the settings that take more than one
/// value across the grid (`lr=0.5`, `delta=256`, ...), so no two rows of a dry run's plan read alike when
/// the grid sweeps a hyperparameter. Settings the whole grid shares are left out.
func planRowNames(_ items: [SweepItem]) -> [String] {
    func text(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value) }
    let settings: [(key: String, value: (SweepItem) -> String)] = [
        ("lr", { text($0.specification.hyperparameters.learningRate) }),
        ("gamma", { text($0.specification.hyperparameters.discount) }),
        ("eps_start", { text($0.specification.hyperparameters.epsilonStart) }),
        ("eps_min", { text($0.specification.hyperparameters.epsilonMin) }),
        ("beta", { text($0.specification.hyperparameters.epsilonDecay) }),
        ("reward", { $0.specification.hyperparameters.reward.rawValue }),
        ("twin_noise", { text($0.specification.hyperparameters.twin.noise) }),
        ("delta", { $0.specification.hyperparameters.algorithm == .dtaql ? String($0.specification.hyperparameters.delta) : "" }),
        ("iterations", { String($0.specification.hyperparameters.iterations) }),
    ]
    let varying = settings.filter { setting in Set(items.map(setting.value)).subtracting([""]).count > 1 }
    return items.map { item in
        ([item.summary] + varying.compactMap { setting in
            let value = setting.value(item)
            return value.isEmpty ? nil : "\(setting.key)=\(value)"
        }).joined(separator: " ")
    }
}

extension SweepOutcome {
    /// What `sweep --format json` prints (and `reproduce --format json` under "sweep").
    /// `stopped`: the sweep was interrupted (SIGINT/SIGTERM); `not_started` counts the runs it never
    /// reached, and `interrupted_runs` names the runs it stopped mid-way (resumable).
    func json(database: String, runs: Int, stopped: Bool = false) -> JSON {
        let reached = started + resumed + skipped + busy + failures.count
        return .object([
            ("database", .string(database)), ("runs", .integer(runs)), ("started", .integer(started)),
            ("resumed", .integer(resumed)), ("already_finished", .integer(skipped)), ("running_elsewhere", .integer(busy)),
            ("failed", .integer(failures.count)), ("interrupted", .integer(interrupted)),
            ("interrupted_runs", .array(interruptedRunIDs.map { .string($0) })),
            ("not_started", .integer(max(0, runs - reached))), ("stopped", .bool(stopped)),
            ("adopted", .array(adopted.map { .string($0) })),
        ])
    }
}

extension ProgressDisplay {
    /// The sweep's one bar: runs done of total, iterations/s (of the iterations computed now), ETA.
    /// "7/12 runs", with ", 2 interrupted" once some runs stopped mid-way; after a stop (`stopped`) the last
    /// line claims no ETA.
    func updateSweep(_ progress: SweepProgress, seconds: Double, force: Bool = false, stopped: Bool = false) {
        let interrupted = progress.runsInterrupted
        update(done: progress.iterationsDone, total: progress.totalIterations,
               sessionDone: progress.iterationsComputed, seconds: seconds, force: force,
               prefix: "\(progress.runsDone)/\(progress.total) runs" + (interrupted > 0 ? ", \(interrupted) interrupted" : ""),
               stopped: stopped)
    }
}

/// `tracker merge`: combine shard databases into one.
public struct MergeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge tracker databases (e.g. sweep shards) into one.",
        discussion: """
            Inputs must have the same schema version. A run's identity is its configuration (config_hash): one \
            present in several inputs is kept once, the copy furthest along (finished over unfinished, else \
            more iterations done). A run id taken by a different configuration gets a fresh id, with a note. \
            A run that a live process records in out.db is never replaced or deleted: the input's copy is \
            skipped ("live here"; merge again once that run stopped). Runs are copied in short transactions \
            (about 25,000 metric rows each), so a run recording into out.db meanwhile is never held up long. \
            Prints, per input, the runs added, replaced and skipped, and each skipped run with its reason.
            """
    )

    @Argument(help: ArgumentHelp("The database to merge into (created if missing).", valueName: "out.db"))
    var output: String

    @Argument(help: ArgumentHelp("Databases to merge.", valueName: "in.db"))
    var inputs: [String]

    @OptionGroup var report: ReportFormatOptions

    @Flag(name: .customLong("single-host"), help: ArgumentHelp(
        "The output is on a shared filesystem and no other host opens it meanwhile: write there, holding its host lease (docs/sweeps.md#shared-filesystems)."))
    var singleHost = false

    public init() {}

    public func validate() throws {
        if singleHost { setenv("TRACKER_SINGLE_HOST", "1", 1) }
        guard !inputs.isEmpty else { throw ValidationError("Give at least one input database.") }
        for input in inputs where URL(fileURLWithPath: input).standardized == URL(fileURLWithPath: output).standardized {
            throw ValidationError("An input cannot be the output (\(input)).")
        }
    }

    public func run() throws {
        for input in inputs where !FileManager.default.fileExists(atPath: input) {
            throw CommandFailure("no such database: \(input)")
        }
        // Every input is opened (and so checked) before the output is created or touched.
        for input in inputs {
            _ = try TrackerStore(path: input, access: .readOnly, busyTimeoutMilliseconds: DatabaseOptions.busyTimeoutMilliseconds)
        }
        let store = try TrackerStore(path: output, busyTimeoutMilliseconds: DatabaseOptions.busyTimeoutMilliseconds)
        var reports: [JSON] = []
        for input in inputs {
            let report = try store.merge(from: input)
            reports.append(.object([
                ("input", .string(input)), ("runs_added", .integer(report.runsAdded)),
                ("runs_replaced", .integer(report.runsReplaced)), ("runs_skipped", .integer(report.runsAlreadyPresent)),
                ("runs_skipped_live", .integer(report.runsLiveHere)),
                ("skipped", .array(report.skipped.map { skipped in
                    .object([("run_id", .string(skipped.runID)), ("reason", .string(skipped.reason.rawValue)),
                             ("kept_run_id", .string(skipped.keptRunID)), ("kept", .string(skipped.detail))])
                })),
                ("frames_added", .integer(report.framesAdded)), ("transactions", .integer(report.transactions)),
                ("renamed_run_ids", .array(report.renamedRunIDs.map { renamed in
                    .object([("original", .string(renamed.original)), ("assigned", .string(renamed.assigned))])
                })),
            ]))
            StandardError.write("\(input): \(report.runsAdded) runs added, \(report.runsReplaced) replaced a copy less far along, "
                + "\(report.runsAlreadyPresent) skipped (already present), "
                + (report.runsLiveHere > 0 ? "\(report.runsLiveHere) skipped (live here), " : "")
                + "\(report.framesAdded) frames added\n")
            for skipped in report.skipped {
                let what = skipped.reason == .liveHere
                    ? "live here: run \(skipped.keptRunID) is running in another process (\(terminalEscaped(skipped.detail))); merge again once it stopped"
                    : "already present as run \(skipped.keptRunID) (\(terminalEscaped(skipped.detail)))"
                StandardError.write("\(input): skipped run \(terminalEscaped(skipped.runID)): \(what)\n")
            }
            for note in report.studyNotes { StandardError.write("\(input): note: \(terminalEscaped(note))\n") }
            for renamed in report.renamedRunIDs {
                StandardError.write("\(input): note: run id \(terminalEscaped(renamed.original)) is taken by a different configuration; added as \(renamed.assigned)\n")
            }
        }
        if report.format == .json { try StandardOutput.print(JSON.array(reports).serialized(pretty: true)) }
    }
}
