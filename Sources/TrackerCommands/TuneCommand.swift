import ArgumentParser
import Foundation
import Synchronization
import TrackerReports
import TrackerApp
import TrackerStore

/// `tracker tune`: hyperparameter search by successive halving, whose promotions extend runs from their
/// checkpoints (docs/tune.md).
public struct TuneCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Search settings with successive halving (ASHA, Hyperband); running it again continues the study.",
        discussion: """
            A study spec (JSON, docs/tune.md; studies/ has examples) names the problem, the search space, the \
            objective, the budget's rungs, the scheduler and the sampler. Every trial runs on all the study's \
            frames and seeds; promoting a trial extends each of its runs from its last checkpoint to the next \
            rung's budget, bit-identical to a run started with that budget. Promotions are decided from \
            complete rungs, so the finished study does not depend on timing, --jobs, other processes or \
            --shard. Ctrl-C or kill -9 leave it resumable: run the same command again. A spec edited after \
            the study was recorded is refused, naming what changed.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("The study spec (JSON).", valueName: "study.json"))
    var spec: String

    @Option(help: ArgumentHelp("Worker threads (default: the number of cores).", valueName: "J"))
    var jobs: Int?

    @Option(help: ArgumentHelp("Run only the trials whose index is I-1 modulo K, e.g. 2/4; merge the shards and run again to go on past a rung.", valueName: "I/K"))
    var shard: String?

    @Flag(help: ArgumentHelp("Only report where the study stands (trials, objectives, states, the best trial), without writing anything."))
    var status = false

    @Flag(help: "No progress output.")
    var quiet = false

    @OptionGroup var output: ReportFormatOptions

    public init() {}

    public func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs).") }
        if let jobs, jobs > 1024 { throw ValidationError("--jobs must be at most 1024, got \(jobs).") }
        _ = try parsedShard()
        if status && shard != nil { throw ValidationError("--status reads the whole study; it cannot be combined with --shard.") }
    }

    func parsedShard() throws -> (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, count <= 100_000,
              (1...count).contains(index) else {
            throw ValidationError("--shard must be I/K with 1 <= I <= K <= 100000, e.g. 2/4; got '\(shard)'.")
        }
        return (index, count)
    }

    public func run() throws {
        guard FileManager.default.fileExists(atPath: spec) else {
            throw CommandFailure("cannot read study spec \(spec): no such file")
        }
        let text: String
        do {
            text = try String(contentsOfFile: spec, encoding: .utf8)
        } catch {
            throw CommandFailure("cannot read study spec \(spec): not readable UTF-8 text")
        }
        let parsed = try StudySpec.parse(text, source: spec)
        if status {
            try StandardOutput.print(try studyStatus(parsed, path: database.path).render(output.format), terminator: "")
            return
        }
        let workers = jobs ?? ProcessInfo.processInfo.activeProcessorCount
        let runner = StudyRunner(
            path: database.path, spec: parsed, jobs: workers, shard: try parsedShard(), trackerVersion: Tracker.version,
            busyTimeoutMilliseconds: DatabaseOptions.busyTimeoutMilliseconds, provenance: .current(sweep: (spec, text)))
        // Recorded (or checked against the recorded spec) before anything is said about running it.
        _ = try runner.prepare(in: try database.openStore())
        StopSignal.install()
        let quiet = self.quiet
        let total = runner.plan.totalTrialRungs()
        if !quiet {
            StandardError.write("tune: study \(terminalEscaped(parsed.name)): \(parsed.trials) trials, rungs "
                + parsed.rungs.map(String.init).joined(separator: "/") + " iterations, \(parsed.scheduler.rawValue), "
                + "\(parsed.sampler.rawValue), into \(database.path) with \(workers) workers\n")
        }
        let done = Atomic<Int>(0)
        let outcome = try runner.run(shouldStop: { StopSignal.pending != 0 }, recorded: { unit, record in
            let count = done.add(1, ordering: .relaxed).newValue
            guard !quiet else { return }
            StandardError.write("tune: trial \(unit.trial) rung \(unit.rung) (\(record.budget) iterations): \(parsed.objective.rawValue) "
                + (record.objective.map { formatObjective($0) } ?? "beyond the budget")
                + " [\(count) recorded now, of \(total) in the study]\n")
        })
        let store = try database.openStore(.readOnly)
        let current = try store.studyRecord(named: parsed.name).map { try StudyStatus.read(parsed, study: $0.id, in: store) }
            ?? StudyStatus(spec: parsed, rungs: [])
        if !quiet {
            StandardError.write("tune: \(current.trialRungsDone)/\(current.trialRungsTotal) trial-rungs recorded, "
                + "\(current.iterationsSpent) iterations charged"
                + (current.best.map { " ; best: trial \($0.index) " + ($0.objective.map(formatObjective) ?? "beyond the budget") + " at \($0.budget ?? 0)" } ?? "")
                + "\n")
        }
        if StopSignal.pending != 0 || outcome.interrupted && outcome.failures.isEmpty && !outcome.complete {
            if output.format == .json { try StandardOutput.print(statusJSON(current).serialized(pretty: true)) }
            StandardError.write("Stopped; run the same command again to resume.\n")
            throw ExitCode(StopSignal.pending != 0 ? StopSignal.exitCode : 130)
        }
        if let first = outcome.failures.first {
            throw CommandFailure("\(outcome.failures.count) workers failed; the first: \(first)")
        }
        if outcome.waitingOnOtherShards && !quiet {
            StandardError.write("tune: shard \(shard ?? "") has done what it can alone: what it runs next waits on the other shards' results (a rung to complete, or a tpe batch to draw); "
                + "merge the shard databases (tracker merge) and run tune again on the result\n")
        }
        try StandardOutput.print(statusReport(current).render(output.format), terminator: "")
    }
}

/// An objective for people: integers as such, others with 6 significant digits.
func formatObjective(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.6g", value)
}

/// The study's status from `path` (everything pending where the database or the study does not exist yet;
/// nothing is created). A study recorded with another spec is refused, naming what changed.
func studyStatus(_ spec: StudySpec, path: String) throws -> StudyReport {
    guard FileManager.default.fileExists(atPath: path) else { return statusReport(StudyStatus(spec: spec, rungs: [])) }
    let store = try TrackerStore(path: path, access: .readOnly, busyTimeoutMilliseconds: DatabaseOptions.busyTimeoutMilliseconds)
    guard let record = try store.studyRecord(named: spec.name) else { return statusReport(StudyStatus(spec: spec, rungs: [])) }
    guard record.specHash == spec.specHash else {
        let changed = StudySpec.changedKeys(stored: record.spec, now: spec.canonicalJSON)
        throw CommandFailure("study \(spec.name) is recorded with a different spec: "
            + "\(changed.isEmpty ? "its text" : changed.joined(separator: ", ")) changed since; restore the spec or give the study a new name")
    }
    return statusReport(try StudyStatus.read(spec, study: record.id, in: store))
}

/// What `tune` and `tune --status` print: a table of trials, or the status JSON.
struct StudyReport {
    let status: StudyStatus

    func render(_ format: ReportFormat) throws -> String {
        switch format {
        case .json: return statusJSON(status).serialized(pretty: true) + "\n"
        case .table:
            let names = status.spec.search.map(\.name)
            let table = Table(
                columns: ["trial", "state", "budget", status.spec.objective.rawValue] + names,
                rows: status.trials.sorted { a, b in
                    (a.rung ?? -1, a.rung == nil ? 0 : 1) != (b.rung ?? -1, b.rung == nil ? 0 : 1)
                        ? (a.rung ?? -1) > (b.rung ?? -1)
                        : StudyPlan.better((a.index, a.objective), (b.index, b.objective), direction: status.spec.direction)
                }.map { trial in
                    [.integer(trial.index), .string(trial.state), trial.budget.map { .integer($0) } ?? .null,
                     // Beyond the budget, as compare shows a median convergence past it.
                     trial.objective.map { .number($0) } ?? trial.budget.map { .string(">\($0)") } ?? .null]
                        + names.map { name in trial.settings[name].map(jsonValue) ?? .null }
                })
            let best = status.best.map { best in
                "best: trial \(best.index) " + (best.objective.map(formatObjective) ?? "beyond the budget") + " at \(best.budget ?? 0) iterations; "
            } ?? ""
            return try table.render(ReportFormat.table)
                + "\(best)\(status.trialRungsDone)/\(status.trialRungsTotal) trial-rungs, \(status.iterationsSpent) iterations charged"
                + (status.complete ? ", complete" : "") + "\n"
        }
    }
}

func statusReport(_ status: StudyStatus) -> StudyReport { StudyReport(status: status) }

func jsonValue(_ value: StudyValue) -> JSON { StudyStatusJSON.value(value) }

/// `tune --status --format json`: docs/tune.md describes every key (StudyStatusJSON in TrackerReports, shared
/// with the dashboard's `/api/study`).
func statusJSON(_ status: StudyStatus) -> JSON { StudyStatusJSON.status(status) }
