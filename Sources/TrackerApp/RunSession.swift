import Foundation
import TrackerStore
import Learning
import Scheduling

/// Everything a new run needs. The store records all of it, so the run can be reproduced or resumed
/// from the database alone.
public struct RunSpecification: Sendable {
    public var frame: Frame
    public var frameSource: FrameSource
    public var hyperparameters: Hyperparameters
    /// A checkpoint every this many iterations (and one at the end).
    public var checkpointEvery: Int
    /// Keep only the newest K checkpoints of the run; nil keeps all.
    public var keepCheckpoints: Int?
    public var label: String?
    public var memoryLimitBytes: Int
    public var trackerVersion: String
    /// How the run came to be, recorded with it; nil records none (library callers, tests).
    public var provenance: Provenance?

    public init(
        frame: Frame, frameSource: FrameSource, hyperparameters: Hyperparameters,
        checkpointEvery: Int = 1024, keepCheckpoints: Int? = nil, label: String? = nil,
        memoryLimitBytes: Int = 4 << 30, trackerVersion: String
    ) {
        self.frame = frame
        self.frameSource = frameSource
        self.hyperparameters = hyperparameters
        self.checkpointEvery = checkpointEvery
        self.keepCheckpoints = keepCheckpoints
        self.label = label
        self.memoryLimitBytes = memoryLimitBytes
        self.trackerVersion = trackerVersion
    }

    /// SHA-256 over everything that determines a run's results: two runs with equal hashes end
    /// bit-identical. Sweeps and merges use it as a run's identity.
    public var configHash: String {
        let h = hyperparameters
        let twin = h.twin.parameters
        let fields: [String] = [
            // phi means nothing to QL and delta only to DTAQL: leaving them out keeps equal runs equal.
            "tracker-run-v1", frame.fingerprint, h.algorithm.rawValue,
            String(h.algorithm == .ql ? 0 : h.phi), String(h.algorithm == .dtaql ? h.delta : 0),
            String(h.iterations), String(h.seed), bits(h.learningRate), bits(h.discount), bits(h.epsilonStart),
            bits(h.epsilonMin), bits(h.epsilonDecay), h.reward.rawValue,
            twin.map { "\(bits($0.uplinkRate)),\(bits($0.cpuHz)),\(bits($0.zeta))" } ?? "exact",
            bits(h.twin.noise), String(h.twin.noiseSeed),
        ]
        // Added only when it is not the default, so every configuration that existed before the option
        // keeps its hash (sweeps and merges recognise runs recorded by older builds).
        let aggregation = h.algorithm == .dtaql && h.aggregation != .mean ? ["aggregation=\(h.aggregation.rawValue)"] : []
        return SHA256.hexDigest(Array((fields + aggregation).joined(separator: "|").utf8))
    }
}

private func bits(_ value: Double) -> String { String(value.bitPattern, radix: 16) }

/// How far a session has got, for progress displays.
public struct RunProgress: Sendable {
    public let runID: String
    public let iteration: Int
    public let plannedIterations: Int
    /// Where this session started (0 for a new run, the checkpoint's iteration for a resume).
    public let startIteration: Int
    public let sessionSeconds: Double
}

/// How a session ended.
public enum RunEnd: Sendable {
    case finished(RunSummary)
    /// Stopped on request at this iteration, with a checkpoint there.
    case interrupted(iteration: Int)
}

/// The outcome of asking to resume a run.
public enum ResumeRequest {
    case session(RunSession)
    case alreadyFinished(RunRecord)
}

/// One session of a run: trains the learner and records every iteration, checkpoint and the summary.
///
/// The learner trains on the calling thread; a writer thread commits its metrics in batched `IMMEDIATE`
/// transactions through multi-row inserts. A checkpoint is a snapshot the learner takes at its iteration,
/// committed by the writer in the same transaction as the metrics up to it, so after a crash the database
/// holds a consistent prefix and a resume neither duplicates nor skips an iteration.
public final class RunSession {
    public let store: TrackerStore
    public private(set) var record: RunRecord
    public let frame: StoredFrame
    public let learner: Learner
    public private(set) var plannedIterations: Int
    let checkpointEvery: Int
    let keepCheckpoints: Int?
    let previousElapsedSeconds: Double
    let startIteration: Int

    /// Rows at most per metrics transaction between checkpoints, so other readers see progress.
    static let batchSize = 4096

    /// Greedy actions whose outcomes `frame_actions` holds; used on the writer thread only.
    private var recordedActions: Set<Int>
    private var lastObservation: Observation?

    private init(
        store: TrackerStore, record: RunRecord, frame: StoredFrame, learner: Learner, plannedIterations: Int,
        checkpointEvery: Int, keepCheckpoints: Int?, recordedActions: Set<Int>
    ) {
        self.store = store
        self.record = record
        self.frame = frame
        self.learner = learner
        self.plannedIterations = plannedIterations
        self.checkpointEvery = checkpointEvery
        self.keepCheckpoints = keepCheckpoints
        self.previousElapsedSeconds = record.elapsedSeconds
        self.startIteration = learner.iteration
        self.recordedActions = recordedActions
    }

    // MARK: Starting

    /// Validates the specification, builds the learner (which checks the memory guard), then records
    /// the frame and the run in one transaction. Nothing is written when validation fails.
    public static func start(_ specification: RunSpecification, in store: TrackerStore) throws -> RunSession {
        guard specification.checkpointEvery >= 1 else {
            throw StoreError.invalidArgument("checkpoint-every must be at least 1, got \(specification.checkpointEvery)")
        }
        if let keep = specification.keepCheckpoints, keep < 1 {
            throw StoreError.invalidArgument("keep-checkpoints must be at least 1, got \(keep)")
        }
        try specification.hyperparameters.validate(for: specification.frame)
        let analysis = FrameAnalysis(frame: specification.frame)
        let learner = try Learner(
            frame: specification.frame, hyperparameters: specification.hyperparameters,
            optimumObjective: analysis.optimum?.objective, memoryLimitBytes: specification.memoryLimitBytes)

        let h = specification.hyperparameters
        let recorded = try store.recordNewRun(NewRun(
            analysis: analysis, source: specification.frameSource, hyperparameters: h,
            configHash: specification.configHash, checkpointEvery: specification.checkpointEvery,
            label: specification.label, trackerVersion: specification.trackerVersion,
            provenance: specification.provenance))
        return RunSession(
            store: store, record: recorded.record, frame: recorded.frame, learner: learner, plannedIterations: h.iterations,
            checkpointEvery: specification.checkpointEvery, keepCheckpoints: specification.keepCheckpoints,
            recordedActions: recorded.recordedActions)
    }

    // MARK: Resuming

    /// Continues a stopped or killed run from its newest intact checkpoint (or from the start when it has
    /// none), to its planned iterations, to `additionalIterations` beyond what it has done, or to a budget of
    /// `plannedIterations` in all (at most one of the two). A run that still looks alive (fresh heartbeat) is
    /// refused unless `force`, for a user who knows its owner is gone; either way the claim is atomic, so two
    /// processes never both own the run.
    ///
    /// A new budget also extends a finished run: it continues from its last checkpoint, which a finished run
    /// always has at its final iteration, and ends bit-identical to a run started with that budget, since
    /// nothing a learner computes depends on its budget (docs/learning.md, "The budget"). Its configuration
    /// (`config_hash`) becomes the one with the new budget, so a budget that makes it a configuration
    /// another run holds is refused, as is one not above what the run has done, or past the maximum.
    public static func resume(
        _ runID: String, in store: TrackerStore, additionalIterations: Int? = nil, plannedIterations newBudget: Int? = nil,
        memoryLimitBytes: Int = 4 << 30, force: Bool = false, keepCheckpoints: Int? = nil
    ) throws -> ResumeRequest {
        if let keepCheckpoints, keepCheckpoints < 1 {
            throw StoreError.invalidArgument("keep-checkpoints must be at least 1, got \(keepCheckpoints)")
        }
        if let additionalIterations, additionalIterations < 1 {
            throw StoreError.invalidArgument("iterations must be at least 1, got \(additionalIterations)")
        }
        if additionalIterations != nil && newBudget != nil {
            throw StoreError.invalidArgument("give either more iterations or a new budget, not both")
        }
        if let newBudget, !(1...Hyperparameters.maximumIterations).contains(newBudget) {
            throw StoreError.invalidArgument(
                "a run's budget must be from 1 to \(Hyperparameters.maximumIterations) iterations, got \(newBudget)")
        }
        var record = try store.run(runID)
        if record.isImported {
            throw StoreError.notResumable(
                runID: record.runID,
                reason: "it was imported (tracker import): it has no Q-table and no checkpoints to continue from")
        }
        if record.status == .finished && additionalIterations == nil && newBudget == nil {
            return .alreadyFinished(record)
        }
        if record.status == .running && !record.isAbandoned && !force {
            throw StoreError.notResumable(
                runID: record.runID,
                reason: "it is running (\(record.ownerDescription)); if that process is gone, use --force")
        }
        // Checked, so no stored count (a hostile or merged file) and no --iterations can overflow it.
        let base = max(record.plannedIterations, record.doneIterations)
        let (sum, overflow) = base.addingReportingOverflow(additionalIterations ?? 0)
        let planned = newBudget ?? (additionalIterations == nil ? record.plannedIterations : sum)
        guard !overflow, planned <= Hyperparameters.maximumIterations else {
            throw StoreError.invalidArgument(
                "iterations: run \(record.runID) would plan " + (overflow ? "more than \(Int.max)" : "\(planned)")
                    + " iterations, more than the maximum of \(Hyperparameters.maximumIterations) per run")
        }
        if let newBudget, newBudget <= record.doneIterations {
            throw StoreError.notResumable(
                runID: record.runID,
                reason: "it has done \(record.doneIterations) iterations; a new budget must be more than that, got \(newBudget)")
        }
        let hyperparameters = try store.hyperparameters(of: record)
        let frame = try store.loadFrame(id: record.frameID)

        // A run with a new budget now computes what a run planned that long computes: the budget is part of
        // its configuration and of nothing else (the learner only compares it in `isFinished`).
        var extended = hyperparameters
        extended.iterations = planned
        let configHash = RunSpecification(
            frame: frame.frame, frameSource: frame.source, hyperparameters: extended, trackerVersion: "").configHash
        // Refused before any checkpoint is read; checked again under the write lock below.
        if configHash != record.configHash,
           let other = try store.runs(configHash: configHash).first(where: { $0.id != record.id }) {
            throw StoreError.budgetTaken(runID: record.runID, iterations: planned, holder: other.runID, status: other.displayStatus)
        }

        let learner = try store.newestRestorableLearner(
            of: record, frame: frame, hyperparameters: extended, memoryLimitBytes: memoryLimitBytes)
        let resumed = try learner ?? Learner(
            frame: frame.frame, hyperparameters: extended, optimumObjective: frame.optimalObjective,
            memoryLimitBytes: memoryLimitBytes)
        guard resumed.iteration <= planned else {
            throw StoreError.notResumable(runID: record.runID, reason: "its checkpoint is past its planned iterations")
        }

        // Claim the run (atomically: see ``TrackerStore/claimRun(_:planned:done:configHash:force:)``); rows past
        // the checkpoint go, so the replay writes each iteration exactly once.
        record = try store.claimRun(record, planned: planned, done: resumed.iteration, configHash: configHash, force: force)
        let checkpointEvery = try store.checkpointEvery(ofRun: record.id)
        return .session(RunSession(
            store: store, record: record, frame: frame, learner: resumed, plannedIterations: planned,
            checkpointEvery: checkpointEvery, keepCheckpoints: keepCheckpoints,
            recordedActions: try store.recordedActions(ofFrame: record.frameID)))
    }

    // MARK: Running

    /// Trains to the planned iterations on the calling thread while a writer thread records them (see
    /// ``RecordingWriter``). `shouldStop` is polled once per iteration; when it returns true the session
    /// finishes the iteration, checkpoints, marks the run 'interrupted' and returns. `progress` is called
    /// every ``progressInterval`` iterations, at each batch and at the end. A failure marks the run
    /// 'failed' (its last checkpoint stays usable) and rethrows.
    public func run(
        progress: (RunProgress) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) throws -> RunEnd {
        let clock = ContinuousClock()
        let started = clock.now
        let sessionSeconds = { @Sendable () -> Double in
            let elapsed = clock.now - started
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
        let heartbeat = Heartbeat(path: store.location, runKey: record.id, owner: RunOwner(host: record.host, pid: record.pid ?? -1))
        defer { heartbeat.stop() }
        let store = self.store
        let checkpointer = WALCheckpointer(location: store.location)
        store.leaveCheckpointsToCaller()
        // Runs after the writer has finished (every path below ends it first), so its connection is the
        // store's again, checkpointing by itself.
        defer {
            store.resumeAutomaticCheckpoints()
            checkpointer.stop()
            // Everything into the database file now, not at the last connection's close: a dashboard or
            // shell holding the file open would otherwise keep the run's last rows in the WAL alone until
            // some later writer checkpoints (a copy of the file without its -wal would miss them). When
            // this connection is the last, its close has that much less to do.
            store.checkpointPassively()
        }
        // The run as the last commit left it, which the session's record becomes at the end; set on the
        // writer thread, read after `finish()`.
        defer { if let committedRecord { record = committedRecord } }
        let writer = RecordingWriter(batchCapacity: min(checkpointEvery, Self.batchSize)) { [self] batch in
            try commit(batch, elapsed: sessionSeconds())
            checkpointer.logGrew(to: store.walFramesAfterLastCommit) { store.checkpointPassively() }
        }
        writer.start()
        // Hand-over points are fixed by iteration numbers alone, so a run commits the same transactions
        // however fast its writer is.
        func handOver(_ batch: RecordingBatch, checkpoint: Bool, status: RunStatus?, summary: RunSummary? = nil) {
            batch.done = learner.iteration
            if checkpoint {
                learner.snapshot(into: &batch.snapshot)
                batch.hasCheckpoint = true
            }
            batch.status = status
            batch.summary = summary
            writer.submit(batch)
        }
        func report() {
            progress(RunProgress(
                runID: record.runID, iteration: learner.iteration, plannedIterations: plannedIterations,
                startIteration: startIteration, sessionSeconds: sessionSeconds()))
        }
        do {
            var batch = try writer.freeBatch()
            while learner.iteration < plannedIterations {
                if shouldStop() {
                    handOver(batch, checkpoint: true, status: .interrupted)
                    try writer.finish()
                    return .interrupted(iteration: learner.iteration)
                }
                let observation = learner.step()
                batch.rows.append(MetricRow(
                    iteration: observation.iteration, action: observation.action, reward: observation.reward,
                    greedyAction: observation.greedyAction, distinctActions: observation.distinctActions))
                lastObservation = observation
                let done = learner.iteration
                if done == plannedIterations { break }
                if done % checkpointEvery == 0 || batch.rows.count >= Self.batchSize {
                    handOver(batch, checkpoint: done % checkpointEvery == 0, status: nil)
                    report()
                    batch = try writer.freeBatch()
                } else if done % Self.progressInterval == 0 {
                    report()
                }
            }
            let summary = makeSummary()
            handOver(batch, checkpoint: true, status: .finished, summary: summary)
            report()
            try writer.finish()
            return .finished(finalSummary ?? summary)
        } catch {
            // The writer may still hold batches: stop it before recording the failure on its connection.
            try? writer.finish()
            markFailed(error)
            throw error
        }
    }

    /// Iterations between progress reports (besides one per batch).
    static let progressInterval = 256

    /// The summary as committed, with the wall time at its commit; set on the writer thread, read after
    /// `finish()`.
    private var finalSummary: RunSummary?

    /// The run as committed last; set on the writer thread, read after `finish()`.
    private var committedRecord: RunRecord?

    /// One write transaction, on the writer thread: the batch's metric rows and new greedy actions'
    /// outcomes, its checkpoint, the run's progress, and at the end its status and summary.
    private func commit(_ batch: RecordingBatch, elapsed: Double) throws {
        let done = batch.done
        var newActions: [(action: Int, outcome: Outcome)] = []
        for row in batch.rows where recordedActions.insert(row.greedyAction).inserted {
            let outcome = frame.frame.outcome(of: Permutations.order(rank: row.greedyAction, count: frame.frame.count))
            newActions.append((row.greedyAction, outcome))
        }
        var summary = batch.summary
        if summary != nil {
            let total = previousElapsedSeconds + elapsed
            summary!.wallSeconds = total
            summary!.iterationsPerSecond = total > 0 ? Double(done) / total : 0
        }
        let recording = RecordingCommit(
            rows: batch.rows, newActions: newActions,
            checkpoint: batch.hasCheckpoint ? (batch.snapshot, CheckpointDigest.hex(batch.snapshot)) : nil,
            keepCheckpoints: keepCheckpoints, summary: summary, done: done,
            elapsedSeconds: previousElapsedSeconds + elapsed, status: batch.status)
        do {
            committedRecord = try RecordingPatience.retryingWhileLocked {
                try store.recordBatch(recording, of: record, frameID: frame.frameID)
            }
        } catch let error as StoreError where error.isBusyOrLocked {
            // The hint after it names TRACKER_BUSY_TIMEOUT_MS (one attempt's wait); this is the wait in all.
            throw error.addingContext(
                " after waiting \(Int(RecordingPatience.seconds)) s for the write lock (TRACKER_RECORDING_WAIT_S)")
        }
        if summary != nil { finalSummary = summary }
    }

    /// The summary at the end of training; the writer fills in the wall time when it commits it.
    private func makeSummary() -> RunSummary {
        Self.summary(
            iterations: learner.iteration, greedyAction: learner.greedyAction, frame: frame.frame,
            edfObjective: frame.edfObjective, optimalObjective: frame.optimalObjective,
            convergence: learner.convergence,
            distinctActions: lastObservation?.distinctActions ?? learner.distinctActions,
            // The same digest as learner.qTableSHA256(), on the SHA instructions: 1.3 ms less at N = 8.
            qTableSHA256: CheckpointDigest.hex(learner.qTableBytes()))
    }

    /// A run's summary from its final greedy action and convergence: the one rule for every run, trained
    /// here or imported (`tracker import` tracks the convergence of the imported greedy actions with the
    /// learner's own ``ConvergenceTracker``). The wall time is filled in when it is committed.
    static func summary(
        iterations: Int, greedyAction greedy: Int, frame: Frame, edfObjective: Double, optimalObjective: Double?,
        convergence: Convergence, distinctActions: Int, qTableSHA256: String
    ) -> RunSummary {
        let order = Permutations.order(rank: greedy, count: frame.count)
        let outcome = frame.outcome(of: order)
        return RunSummary(
            iterations: iterations, greedyAction: greedy, greedyOrder: order,
            objective: outcome.objective, normalizedReward: edfObjective / outcome.objective,
            misses: outcome.misses, meanCompletionSeconds: outcome.meanCompletionSeconds,
            optimalityRatio: optimalObjective.map { $0 / outcome.objective },
            iterationsToOptimal: convergence.iterationsToOptimal, stableIteration: convergence.stableIteration,
            distinctActions: distinctActions, wallSeconds: 0, iterationsPerSecond: 0, qTableSHA256: qTableSHA256)
    }

    /// Best effort: the error that got us here matters more than a second one while recording it. A run
    /// taken over by another process is left to its new owner.
    private func markFailed(_ error: Error) {
        let message = String(describing: error).split(separator: "\n").first.map(String.init) ?? "unknown error"
        store.markRunFailed(record, message: message)
    }
}

/// How long a run's writer waits out another process's write lock before the run fails: a run is hours of
/// work, and a lock held for a while (a `merge`, a `delete` of many runs, a `sqlite3` shell left in a
/// transaction) must not cost it. Each attempt waits the connection's busy timeout (10 s,
/// `$TRACKER_BUSY_TIMEOUT_MS`); a commit that still finds the file locked starts over (nothing of it was
/// written: the transaction rolled back) until this much time has passed since its first attempt.
public enum RecordingPatience {
    /// Ten minutes, when `$TRACKER_RECORDING_WAIT_S` is not set.
    public static let defaultSeconds = 600.0

    /// `$TRACKER_RECORDING_WAIT_S` (seconds, 0 to 86400) when set, else ten minutes; anything else in the
    /// variable is ignored, as for `TRACKER_BUSY_TIMEOUT_MS`.
    public static var seconds: Double {
        guard let text = ProcessInfo.processInfo.environment["TRACKER_RECORDING_WAIT_S"],
              let value = Double(text.trimmingCharacters(in: .whitespaces)), (0...86_400).contains(value) else {
            return defaultSeconds
        }
        return value
    }

    /// Runs `body` (one whole transaction) again while it fails with "database is locked" or "busy", for
    /// up to ``seconds`` in all; any other failure, or a lock that outlasts the wait, is thrown.
    static func retryingWhileLocked<T>(_ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            do {
                return try body()
            } catch let error as StoreError where error.isBusyOrLocked && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }
}
