import Foundation
import TrackerStore
import Learning
import Scheduling
import SQLite

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

        let database = store.database
        let now = Timestamp.now()
        let h = specification.hyperparameters
        let runKey = try storeOperation("recording the new run") {
            try database.transaction(.immediate) { () throws -> Int64 in
                // The claim: checked under the write lock, so no other process can insert in between (and
                // migration 0006's trigger refuses a second run of the configuration regardless).
                if let existing = try store.runs(configHash: specification.configHash).first {
                    throw StoreError.configurationTaken(
                        runID: existing.runID, status: existing.displayStatus, resumable: existing.isResumable)
                }
                let frameID = try store.insertFrameIfNeeded(analysis, source: specification.frameSource)
                let runID = try uniqueRunID(in: database, configHash: specification.configHash)
                let insertRun = try database.cachedStatement("""
                    INSERT INTO runs (run_id, algorithm, n, phi, seed, frame_id, status, created_at, started_at,
                        heartbeat_at, planned_iterations, done_iterations, tracker_version, host, pid, label, config_hash)
                    VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)
                    """)
                try insertRun.run([
                    .text(runID), .text(h.algorithm.rawValue), .integer(Int64(specification.frame.count)),
                    // A seed is a UInt64 and SQLite integers are signed 64-bit: the column holds its bit pattern
                    // (seeds from 2^63 up read as negative in raw SQL; RunRecord converts back), as frames.seed does.
                    .integer(h.algorithm == .ql ? 0 : Int64(h.phi)), .integer(Int64(bitPattern: h.seed)), .integer(frameID),
                    .text(now), .text(now), .text(now), .integer(Int64(h.iterations)),
                    .text(specification.trackerVersion), .text(ProcessIdentity.host),
                    .integer(Int64(ProcessIdentity.pid)), specification.label.map { .text($0) } ?? .null,
                    .text(specification.configHash),
                ])
                let runKey = database.lastInsertRowID
                let twin = h.twin.parameters
                let insertParams = try database.cachedStatement("""
                    INSERT INTO run_params (run, delta, learning_rate, discount, epsilon_start, epsilon_min,
                        epsilon_decay, reward, twin_uplink_rate, twin_cpu_hz, twin_zeta, twin_noise, twin_noise_seed,
                        checkpoint_every, aggregation)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                try insertParams.run([
                    .integer(runKey), .integer(Int64(h.delta)), .real(h.learningRate), .real(h.discount),
                    .real(h.epsilonStart), .real(h.epsilonMin), .real(h.epsilonDecay), .text(h.reward.rawValue),
                    twin.map { .real($0.uplinkRate) } ?? .null, twin.map { .real($0.cpuHz) } ?? .null,
                    twin.map { .real($0.zeta) } ?? .null, .real(h.twin.noise),
                    .integer(Int64(bitPattern: h.twin.noiseSeed)), .integer(Int64(specification.checkpointEvery)),
                    .text(h.aggregation.rawValue),
                ])
                if let provenance = specification.provenance { try store.insertProvenance(provenance, runKey: runKey) }
                return runKey
            }
        }
        let record = try store.run(key: runKey)
        let frame = try store.loadFrame(id: record.frameID)
        return RunSession(
            store: store, record: record, frame: frame, learner: learner, plannedIterations: h.iterations,
            checkpointEvery: specification.checkpointEvery, keepCheckpoints: specification.keepCheckpoints,
            recordedActions: try recordedActions(of: record.frameID, in: database))
    }

    /// A short id: the first 8 hex digits of a hash of the configuration, this process and this
    /// instant, lengthened on the rare collision.
    private static func uniqueRunID(in database: Database, configHash: String) throws -> String {
        try TrackerStore.freeRunID(
            derivedFrom: "\(configHash)|\(ProcessIdentity.host)|\(ProcessIdentity.pid)|\(DispatchTime.now().uptimeNanoseconds)",
            in: database)
    }

    private static func recordedActions(of frameID: Int64, in database: Database) throws -> Set<Int> {
        let statement = try database.cachedStatement("SELECT action FROM frame_actions WHERE frame_id = ?")
        return Set(try statement.rows([.integer(frameID)]) { $0.int(0) })
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
        let database = store.database
        var record = try store.run(runID)
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

        // Claim the run: only one process may take it (the row must be exactly as read, and without
        // `force` its heartbeat too, so a live owner's beat in between wins), and rows past the checkpoint
        // go, so the replay writes each iteration exactly once.
        let now = Timestamp.now()
        try storeOperation("claiming run \(record.runID)") {
            try database.transaction(.immediate) {
                // Extended, the run must not become a second copy of a configuration another run holds.
                if configHash != record.configHash,
                   let other = try store.runs(configHash: configHash).first(where: { $0.id != record.id }) {
                    throw StoreError.budgetTaken(
                        runID: record.runID, iterations: planned, holder: other.runID, status: other.displayStatus)
                }
                let claim = try database.cachedStatement("""
                    UPDATE runs SET status = 'running', pid = ?, host = ?, heartbeat_at = ?, error = NULL,
                        finished_at = NULL, planned_iterations = ?, done_iterations = ?, config_hash = ?
                    WHERE id = ? AND status = ? AND coalesce(pid, -1) = ? AND host = ? AND (? OR heartbeat_at IS ?)
                    """)
                try claim.run([
                    .integer(Int64(ProcessIdentity.pid)), .text(ProcessIdentity.host), .text(now),
                    .integer(Int64(planned)), .integer(Int64(resumed.iteration)), .text(configHash), .integer(record.id),
                    .text(record.status.rawValue), .integer(Int64(record.pid ?? -1)), .text(record.host),
                    .integer(force ? 1 : 0), record.heartbeatAt.map { .text($0) } ?? .null,
                ])
                guard database.changes == 1 else {
                    let now = try store.run(key: record.id)
                    throw StoreError.notResumable(
                        runID: record.runID,
                        reason: "another process took it first (\(now.status == .running ? now.ownerDescription : now.status.rawValue))")
                }
                let dropMetrics = try database.cachedStatement("DELETE FROM metrics WHERE run = ? AND iteration >= ?")
                try dropMetrics.run([.integer(record.id), .integer(Int64(resumed.iteration))])
                let dropCheckpoints = try database.cachedStatement("DELETE FROM checkpoints WHERE run = ? AND iteration > ?")
                try dropCheckpoints.run([.integer(record.id), .integer(Int64(resumed.iteration))])
                let dropSummary = try database.cachedStatement("DELETE FROM run_summaries WHERE run = ?")
                try dropSummary.run([.integer(record.id)])
            }
        }
        record = try store.run(key: record.id)
        let checkpointEvery = try store.checkpointEvery(ofRun: record.id)
        return .session(RunSession(
            store: store, record: record, frame: frame, learner: resumed, plannedIterations: planned,
            checkpointEvery: checkpointEvery, keepCheckpoints: keepCheckpoints,
            recordedActions: try recordedActions(of: record.frameID, in: database)))
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
        let database = store.database
        let checkpointer = WALCheckpointer(location: store.location)
        database.leaveCheckpointsToCaller()
        // Runs after the writer has finished (every path below ends it first), so its connection is the
        // store's again, checkpointing by itself.
        defer {
            database.resumeAutomaticCheckpoints()
            checkpointer.stop()
            // Everything into the database file now, not at the last connection's close: a dashboard or
            // shell holding the file open would otherwise keep the run's last rows in the WAL alone until
            // some later writer checkpoints (a copy of the file without its -wal would miss them). When
            // this connection is the last, its close has that much less to do.
            _ = try? database.execute("PRAGMA wal_checkpoint(PASSIVE)")
        }
        let writer = RecordingWriter(batchCapacity: min(checkpointEvery, Self.batchSize)) { [self] batch in
            try commit(batch, elapsed: sessionSeconds())
            checkpointer.logGrew(to: database.walFramesAfterLastCommit, writer: database)
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

    /// One write transaction, on the writer thread: the batch's metric rows and new greedy actions'
    /// outcomes, its checkpoint, the run's progress, and at the end its status and summary.
    private func commit(_ batch: RecordingBatch, elapsed: Double) throws {
        let database = store.database
        let runKey = Int64(record.id)
        let done = batch.done
        let snapshotHash = batch.hasCheckpoint ? CheckpointDigest.hex(batch.snapshot) : ""
        var newActions: [Int] = []
        for row in batch.rows where recordedActions.insert(row.greedyAction).inserted {
            newActions.append(row.greedyAction)
        }
        var summary = batch.summary
        if summary != nil {
            let total = previousElapsedSeconds + elapsed
            summary!.wallSeconds = total
            summary!.iterationsPerSecond = total > 0 ? Double(done) / total : 0
        }
        let now = Timestamp.now()
        do {
        try storeOperation("recording run \(record.runID) at iteration \(done)") {
            try RecordingPatience.retryingWhileLocked {
            try database.transaction(.immediate) {
                try ensureStillOwned(in: database)
                try insertMetrics(batch.rows, runKey: runKey, in: database)
                if !newActions.isEmpty {
                    let insertAction = try database.cachedStatement("""
                        INSERT OR IGNORE INTO frame_actions (frame_id, action, objective, misses, mean_completion_s)
                        VALUES (?, ?, ?, ?, ?)
                        """)
                    for action in newActions {
                        let outcome = frame.frame.outcome(of: Permutations.order(rank: action, count: frame.frame.count))
                        try insertAction.bind(frame.frameID, at: 1)
                        try insertAction.bind(action, at: 2)
                        try insertAction.bind(outcome.objective, at: 3)
                        try insertAction.bind(outcome.misses, at: 4)
                        try insertAction.bind(outcome.meanCompletionSeconds, at: 5)
                        _ = try insertAction.step()
                        insertAction.reset()
                    }
                }
                if batch.hasCheckpoint {
                    let insertCheckpoint = try database.cachedStatement("""
                        INSERT OR REPLACE INTO checkpoints (run, iteration, layout_version, snapshot, bytes, sha256, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """)
                    try insertCheckpoint.bind(runKey, at: 1)
                    try insertCheckpoint.bind(done, at: 2)
                    try insertCheckpoint.bind(Learner.snapshotLayoutVersion, at: 3)
                    try insertCheckpoint.bind(batch.snapshot, at: 4)
                    try insertCheckpoint.bind(batch.snapshot.count, at: 5)
                    try insertCheckpoint.bind(snapshotHash, at: 6)
                    try insertCheckpoint.bind(now, at: 7)
                    _ = try insertCheckpoint.step()
                    insertCheckpoint.reset()
                    if let keep = keepCheckpoints {
                        let prune = try database.cachedStatement("""
                            DELETE FROM checkpoints WHERE run = ?1 AND iteration NOT IN
                                (SELECT iteration FROM checkpoints WHERE run = ?1 ORDER BY iteration DESC LIMIT ?2)
                            """)
                        try prune.run([.integer(runKey), .integer(Int64(keep))])
                    }
                }
                if let summary {
                    try insertSummary(summary, runKey: runKey, in: database)
                }
                let update = try database.cachedStatement("""
                    UPDATE runs SET done_iterations = ?, elapsed_seconds = ?, heartbeat_at = ?,
                        status = coalesce(?, status),
                        finished_at = CASE WHEN ? = 'finished' THEN ? ELSE finished_at END
                    WHERE id = ?
                    """)
                let statusValue: SQLiteValue = batch.status.map { .text($0.rawValue) } ?? .null
                try update.run([
                    .integer(Int64(done)), .real(previousElapsedSeconds + elapsed), .text(now), statusValue,
                    statusValue, .text(now), .integer(runKey),
                ])
            }
            }
        }
        } catch StoreError.database(let error, let context) where error.isBusy || error.isLocked {
            // The hint after it names TRACKER_BUSY_TIMEOUT_MS (one attempt's wait); this is the wait in all.
            throw StoreError.database(error, context: context
                + " after waiting \(Int(RecordingPatience.seconds)) s for the write lock (TRACKER_RECORDING_WAIT_S)")
        }
        if summary != nil { finalSummary = summary }
    }

    /// Inserts metric rows through one statement of ``rowsPerInsert`` rows at a time and a one-row
    /// statement for the rest: one statement step per row cost SQLite more than the row itself.
    private func insertMetrics(_ rows: [MetricRow], runKey: Int64, in database: Database) throws {
        var start = 0
        if rows.count >= Self.rowsPerInsert {
            let insertMany = try database.cachedStatement(Self.insertManyMetrics)
            while rows.count - start >= Self.rowsPerInsert {
                var index: Int32 = 1
                for row in rows[start..<(start + Self.rowsPerInsert)] {
                    try bindMetric(row, runKey: runKey, to: insertMany, from: index)
                    index += 6
                }
                _ = try insertMany.step()
                insertMany.reset()
                start += Self.rowsPerInsert
            }
        }
        guard start < rows.count else { return }
        let insertOne = try database.cachedStatement(
            "INSERT INTO metrics (run, iteration, action, reward, greedy_action, distinct_actions) VALUES (?, ?, ?, ?, ?, ?)")
        for row in rows[start...] {
            try bindMetric(row, runKey: runKey, to: insertOne, from: 1)
            _ = try insertOne.step()
            insertOne.reset()
        }
    }

    @inline(__always)
    private func bindMetric(_ row: MetricRow, runKey: Int64, to statement: Statement, from index: Int32) throws {
        try statement.bind(runKey, at: index)
        try statement.bind(row.iteration, at: index + 1)
        try statement.bind(row.action, at: index + 2)
        try statement.bind(row.reward, at: index + 3)
        try statement.bind(row.greedyAction, at: index + 4)
        try statement.bind(row.distinctActions, at: index + 5)
    }

    /// Rows per multi-row metrics INSERT (6 parameters each, far below SQLite's limit of 32,766).
    static let rowsPerInsert = 64
    static let insertManyMetrics = "INSERT INTO metrics (run, iteration, action, reward, greedy_action, distinct_actions) VALUES "
        + Array(repeating: "(?, ?, ?, ?, ?, ?)", count: rowsPerInsert).joined(separator: ", ")

    private func insertSummary(_ summary: RunSummary, runKey: Int64, in database: Database) throws {
        let statement = try database.cachedStatement("""
            INSERT OR REPLACE INTO run_summaries (run, iterations, greedy_action, greedy_order, objective,
                normalized_reward, misses, mean_completion_s, optimality_ratio, iterations_to_optimal,
                stable_iteration, distinct_actions, wall_seconds, iterations_per_second, qtable_sha256)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try statement.run([
            .integer(runKey), .integer(Int64(summary.iterations)), .integer(Int64(summary.greedyAction)),
            .text(orderJSON(summary.greedyOrder)), .real(summary.objective), .real(summary.normalizedReward),
            .integer(Int64(summary.misses)), .real(summary.meanCompletionSeconds),
            summary.optimalityRatio.map { .real($0) } ?? .null,
            summary.iterationsToOptimal.map { .integer(Int64($0)) } ?? .null,
            .integer(Int64(summary.stableIteration)), .integer(Int64(summary.distinctActions)),
            .real(summary.wallSeconds), .real(summary.iterationsPerSecond), .text(summary.qTableSHA256),
        ])
    }

    /// The summary at the end of training; the writer fills in the wall time when it commits it.
    private func makeSummary() -> RunSummary {
        let greedy = learner.greedyAction
        let order = Permutations.order(rank: greedy, count: frame.frame.count)
        let outcome = frame.frame.outcome(of: order)
        let convergence = learner.convergence
        return RunSummary(
            iterations: learner.iteration, greedyAction: greedy, greedyOrder: order,
            objective: outcome.objective, normalizedReward: frame.edfObjective / outcome.objective,
            misses: outcome.misses, meanCompletionSeconds: outcome.meanCompletionSeconds,
            optimalityRatio: frame.optimalObjective.map { $0 / outcome.objective },
            iterationsToOptimal: convergence.iterationsToOptimal, stableIteration: convergence.stableIteration,
            distinctActions: lastObservation?.distinctActions ?? learner.distinctActions,
            wallSeconds: 0, iterationsPerSecond: 0,
            // The same digest as learner.qTableSHA256(), on the SHA instructions: 1.3 ms less at N = 8.
            qTableSHA256: CheckpointDigest.hex(learner.qTableBytes()))
    }

    /// Best effort: the error that got us here matters more than a second one while recording it. A run
    /// taken over by another process is left to its new owner.
    private func markFailed(_ error: Error) {
        let message = String(describing: error).split(separator: "\n").first.map(String.init) ?? "unknown error"
        let database = store.database
        func mark() -> Bool {
            (try? database.transaction(.immediate) { () throws -> Void in
                let statement = try database.cachedStatement("""
                    UPDATE runs SET status = 'failed', error = ?, heartbeat_at = ?
                    WHERE id = ? AND status = 'running' AND host = ? AND pid = ?
                    """)
                try statement.run([
                    .text(message), .text(Timestamp.now()), .integer(record.id), .text(record.host),
                    .integer(Int64(record.pid ?? -1)),
                ])
            }) != nil
        }
        if mark() { return }
        // A full disk (or file size limit) can leave the WAL no room for even this one-row update, by a
        // margin as thin as a few bytes; a checkpoint moves its committed pages into the database file and
        // lets the WAL start over, which usually makes room.
        _ = try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _ = mark()
    }

    /// Refuses to write when another process has taken the run over (`resume --force`, `sweep
    /// --takeover`), so a session wrongly thought dead cannot interleave its rows with the new owner's.
    private func ensureStillOwned(in database: Database) throws {
        let owner = try database.cachedStatement("SELECT status, host, pid FROM runs WHERE id = ?")
        let row = try owner.rows([.integer(record.id)]) { ($0.text(0), $0.text(1), $0.isNull(2) ? nil : $0.int(2)) }.first
        guard let row, row.0 == RunStatus.running.rawValue, row.1 == record.host, row.2 == record.pid else {
            throw StoreError.takenOver(runID: record.runID)
        }
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
            } catch let error as SQLiteError where (error.isBusy || error.isLocked) && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }
}
