// The rows a recording session writes: a new run (with its frame, settings and provenance), a resume's
// claim, each batch of metrics with its checkpoint and summary, and a failure. The session that decides
// when to write them lives in TrackerApp (RunSession); every statement is here. Each method returns what
// it wrote, so the session never reads back a row it has just inserted.
import Foundation
import Learning
import Scheduling
import SQLite

/// One metric row: what one iteration did.
public struct MetricRow: Sendable {
    public let iteration: Int
    public let action: Int
    public let reward: Double
    public let greedyAction: Int
    public let distinctActions: Int

    @inlinable
    public init(iteration: Int, action: Int, reward: Double, greedyAction: Int, distinctActions: Int) {
        self.iteration = iteration
        self.action = action
        self.reward = reward
        self.greedyAction = greedyAction
        self.distinctActions = distinctActions
    }
}

/// A new run as `RunSession.start` records it: everything `runs` and `run_params` hold at its start.
public struct NewRun: Sendable {
    public var analysis: FrameAnalysis
    public var source: FrameSource
    public var hyperparameters: Hyperparameters
    public var configHash: String
    public var checkpointEvery: Int
    public var label: String?
    public var trackerVersion: String
    public var provenance: Provenance?

    public init(analysis: FrameAnalysis, source: FrameSource, hyperparameters: Hyperparameters, configHash: String,
                checkpointEvery: Int, label: String?, trackerVersion: String, provenance: Provenance?) {
        self.analysis = analysis
        self.source = source
        self.hyperparameters = hyperparameters
        self.configHash = configHash
        self.checkpointEvery = checkpointEvery
        self.label = label
        self.trackerVersion = trackerVersion
        self.provenance = provenance
    }
}

/// What the store recorded for a new or claimed run, as the session goes on with it.
public struct RecordedRun: Sendable {
    public let record: RunRecord
    public let frame: StoredFrame
    /// Greedy actions whose outcomes `frame_actions` already holds.
    public let recordedActions: Set<Int>
}

/// One write transaction of a session: metric rows, outcomes of new greedy actions, an optional
/// checkpoint, the run's progress, and at the end its status and summary.
public struct RecordingCommit {
    public var rows: [MetricRow]
    public var newActions: [(action: Int, outcome: Outcome)]
    /// The snapshot at `done` with its digest, or nil for a batch without a checkpoint.
    public var checkpoint: (snapshot: [UInt8], sha256: String)?
    public var keepCheckpoints: Int?
    public var summary: RunSummary?
    public var done: Int
    public var elapsedSeconds: Double
    public var status: RunStatus?

    public init(rows: [MetricRow], newActions: [(action: Int, outcome: Outcome)], checkpoint: (snapshot: [UInt8], sha256: String)?,
                keepCheckpoints: Int?, summary: RunSummary?, done: Int, elapsedSeconds: Double, status: RunStatus?) {
        self.rows = rows
        self.newActions = newActions
        self.checkpoint = checkpoint
        self.keepCheckpoints = keepCheckpoints
        self.summary = summary
        self.done = done
        self.elapsedSeconds = elapsedSeconds
        self.status = status
    }
}

extension TrackerStore {
    // MARK: A new run

    /// Records the frame (when new), the run and its settings and provenance in one transaction, after
    /// checking under the write lock that no run holds the configuration. Returns the run as written.
    public func recordNewRun(_ run: NewRun) throws -> RecordedRun {
        let h = run.hyperparameters
        let now = Timestamp.now()
        return try storeOperation("recording the new run") {
            try database.transaction(.immediate) { () throws -> RecordedRun in
                // The claim: checked under the write lock, so no other process can insert in between (and
                // migration 0006's trigger refuses a second run of the configuration regardless).
                if let existing = try runs(configHash: run.configHash).first {
                    throw StoreError.configurationTaken(
                        runID: existing.runID, status: existing.displayStatus, resumable: existing.isResumable)
                }
                let (frameID, inserted) = try frameInsertedIfNeeded(run.analysis, source: run.source)
                let runID = try Self.freeRunID(
                    derivedFrom: "\(run.configHash)|\(ProcessIdentity.host)|\(ProcessIdentity.pid)|\(DispatchTime.now().uptimeNanoseconds)",
                    in: database)
                let phi = h.algorithm == .ql ? 0 : h.phi
                let insertRun = try database.cachedStatement("""
                    INSERT INTO runs (run_id, algorithm, n, phi, seed, frame_id, status, created_at, started_at,
                        heartbeat_at, planned_iterations, done_iterations, tracker_version, host, pid, label, config_hash)
                    VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)
                    """)
                try insertRun.run([
                    .text(runID), .text(h.algorithm.rawValue), .integer(Int64(run.analysis.frame.count)),
                    // A seed is a UInt64 and SQLite integers are signed 64-bit: the column holds its bit pattern
                    // (seeds from 2^63 up read as negative in raw SQL; RunRecord converts back), as frames.seed does.
                    .integer(Int64(phi)), .integer(Int64(bitPattern: h.seed)), .integer(frameID),
                    .text(now), .text(now), .text(now), .integer(Int64(h.iterations)),
                    .text(run.trackerVersion), .text(ProcessIdentity.host),
                    .integer(Int64(ProcessIdentity.pid)), run.label.map { .text($0) } ?? .null,
                    .text(run.configHash),
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
                    .integer(Int64(bitPattern: h.twin.noiseSeed)), .integer(Int64(run.checkpointEvery)),
                    .text(h.aggregation.rawValue),
                ])
                if let provenance = run.provenance { try insertProvenance(provenance, runKey: runKey) }
                let record = RunRecord(
                    id: runKey, runID: runID, algorithm: h.algorithm, n: run.analysis.frame.count, phi: phi, seed: h.seed,
                    frameID: frameID, status: .running, createdAt: now, startedAt: now, finishedAt: nil, heartbeatAt: now,
                    plannedIterations: h.iterations, doneIterations: 0, elapsedSeconds: 0, trackerVersion: run.trackerVersion,
                    host: ProcessIdentity.host, pid: ProcessIdentity.pid, label: run.label, error: nil, configHash: run.configHash)
                // A frame inserted just now is the analysis's; one found by fingerprint is read as stored.
                let frame = inserted
                    ? StoredFrame(
                        frameID: frameID, frame: run.analysis.frame, source: run.source,
                        optimalObjective: run.analysis.optimum?.objective,
                        edfObjective: run.analysis.references[.edf]!.objective)
                    : try loadFrame(id: frameID)
                return RecordedRun(
                    record: record, frame: frame,
                    recordedActions: inserted ? [] : try recordedActions(ofFrame: frameID))
            }
        }
    }

    /// Greedy actions of this frame whose outcomes `frame_actions` holds.
    public func recordedActions(ofFrame frameID: Int64) throws -> Set<Int> {
        try storeOperation("reading the recorded actions of frame \(frameID)") {
            let statement = try database.cachedStatement("SELECT action FROM frame_actions WHERE frame_id = ?")
            return Set(try statement.rows([.integer(frameID)]) { try $0.int("action") })
        }
    }

    // MARK: Resuming

    /// Claims `record` for this process to continue from iteration `done` to `planned` with configuration
    /// `configHash`: only one process may take it (the row must be exactly as read, and without `force` its
    /// heartbeat too, so a live owner's beat in between wins), and rows past `done` go, so the replay writes
    /// each iteration exactly once. Returns the run as claimed.
    public func claimRun(_ record: RunRecord, planned: Int, done: Int, configHash: String, force: Bool) throws -> RunRecord {
        let now = Timestamp.now()
        try storeOperation("claiming run \(record.runID)") {
            try database.transaction(.immediate) {
                // Extended, the run must not become a second copy of a configuration another run holds.
                if configHash != record.configHash,
                   let other = try runs(configHash: configHash).first(where: { $0.id != record.id }) {
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
                    .integer(Int64(planned)), .integer(Int64(done)), .text(configHash), .integer(record.id),
                    .text(record.status.rawValue), .integer(Int64(record.pid ?? -1)), .text(record.host),
                    .integer(force ? 1 : 0), record.heartbeatAt.map { .text($0) } ?? .null,
                ])
                guard database.changes == 1 else {
                    let now = try run(key: record.id)
                    throw StoreError.notResumable(
                        runID: record.runID,
                        reason: "another process took it first (\(now.status == .running ? now.ownerDescription : now.status.rawValue))")
                }
                let dropMetrics = try database.cachedStatement("DELETE FROM metrics WHERE run = ? AND iteration >= ?")
                try dropMetrics.run([.integer(record.id), .integer(Int64(done))])
                let dropCheckpoints = try database.cachedStatement("DELETE FROM checkpoints WHERE run = ? AND iteration > ?")
                try dropCheckpoints.run([.integer(record.id), .integer(Int64(done))])
                let dropSummary = try database.cachedStatement("DELETE FROM run_summaries WHERE run = ?")
                try dropSummary.run([.integer(record.id)])
            }
        }
        return record.with(
            status: .running, heartbeatAt: now, finishedAt: .some(nil), plannedIterations: planned, doneIterations: done,
            host: ProcessIdentity.host, pid: ProcessIdentity.pid, error: .some(nil), configHash: configHash)
    }

    // MARK: Recording

    /// Commits one batch of `record`'s session in one `IMMEDIATE` transaction, refused when another process
    /// has taken the run over (``StoreError/takenOver(runID:)``). Returns the run as it now stands.
    public func recordBatch(_ commit: RecordingCommit, of record: RunRecord, frameID: Int64) throws -> RunRecord {
        let runKey = record.id
        let now = Timestamp.now()
        try storeOperation("recording run \(record.runID) at iteration \(commit.done)") {
            try database.transaction(.immediate) {
                try ensureStillOwned(record)
                try insertMetrics(commit.rows, runKey: runKey)
                try insertFrameActions(commit.newActions, frameID: frameID)
                if let checkpoint = commit.checkpoint {
                    let insertCheckpoint = try database.cachedStatement("""
                        INSERT OR REPLACE INTO checkpoints (run, iteration, layout_version, snapshot, bytes, sha256, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """)
                    try insertCheckpoint.bind(runKey, at: 1)
                    try insertCheckpoint.bind(commit.done, at: 2)
                    try insertCheckpoint.bind(Learner.snapshotLayoutVersion, at: 3)
                    try insertCheckpoint.bind(checkpoint.snapshot, at: 4)
                    try insertCheckpoint.bind(checkpoint.snapshot.count, at: 5)
                    try insertCheckpoint.bind(checkpoint.sha256, at: 6)
                    try insertCheckpoint.bind(now, at: 7)
                    _ = try insertCheckpoint.step()
                    insertCheckpoint.reset()
                    if let keep = commit.keepCheckpoints {
                        let prune = try database.cachedStatement("""
                            DELETE FROM checkpoints WHERE run = ?1 AND iteration NOT IN
                                (SELECT iteration FROM checkpoints WHERE run = ?1 ORDER BY iteration DESC LIMIT ?2)
                            """)
                        try prune.run([.integer(runKey), .integer(Int64(keep))])
                    }
                }
                if let summary = commit.summary {
                    try insertSummary(summary, runKey: runKey)
                }
                let update = try database.cachedStatement("""
                    UPDATE runs SET done_iterations = ?, elapsed_seconds = ?, heartbeat_at = ?,
                        status = coalesce(?, status),
                        finished_at = CASE WHEN ? = 'finished' THEN ? ELSE finished_at END
                    WHERE id = ?
                    """)
                let statusValue: SQLiteValue = commit.status.map { .text($0.rawValue) } ?? .null
                try update.run([
                    .integer(Int64(commit.done)), .real(commit.elapsedSeconds), .text(now), statusValue,
                    statusValue, .text(now), .integer(runKey),
                ])
            }
        }
        return record.with(
            status: commit.status ?? record.status, heartbeatAt: now,
            finishedAt: commit.status == .finished ? now : record.finishedAt,
            doneIterations: commit.done, elapsedSeconds: commit.elapsedSeconds)
    }

    /// Refuses to write when another process has taken the run over (`resume --force`, `sweep
    /// --takeover`), so a session wrongly thought dead cannot interleave its rows with the new owner's.
    private func ensureStillOwned(_ record: RunRecord) throws {
        let owner = try database.cachedStatement("SELECT status, host, pid FROM runs WHERE id = ?")
        let row = try owner.rows([.integer(record.id)]) {
            (try $0.text("status"), try $0.text("host"), try $0.optionalInt("pid"))
        }.first
        guard let row, row.0 == RunStatus.running.rawValue, row.1 == record.host, row.2 == record.pid else {
            throw StoreError.takenOver(runID: record.runID)
        }
    }

    /// The outcomes of greedy actions `frame_actions` does not hold yet (what the iteration_metrics view
    /// joins on); ones it holds are left as they are. Shared with an imported run's recording.
    func insertFrameActions(_ actions: [(action: Int, outcome: Outcome)], frameID: Int64) throws {
        guard !actions.isEmpty else { return }
        let insertAction = try database.cachedStatement("""
            INSERT OR IGNORE INTO frame_actions (frame_id, action, objective, misses, mean_completion_s)
            VALUES (?, ?, ?, ?, ?)
            """)
        for (action, outcome) in actions {
            try insertAction.bind(frameID, at: 1)
            try insertAction.bind(action, at: 2)
            try insertAction.bind(outcome.objective, at: 3)
            try insertAction.bind(outcome.misses, at: 4)
            try insertAction.bind(outcome.meanCompletionSeconds, at: 5)
            _ = try insertAction.step()
            insertAction.reset()
        }
    }

    /// Inserts metric rows through one statement of ``metricRowsPerInsert`` rows at a time and a one-row
    /// statement for the rest: one statement step per row cost SQLite more than the row itself.
    func insertMetrics(_ rows: [MetricRow], runKey: Int64) throws {
        var start = 0
        if rows.count >= Self.metricRowsPerInsert {
            let insertMany = try database.cachedStatement(Self.insertManyMetrics)
            while rows.count - start >= Self.metricRowsPerInsert {
                var index: Int32 = 1
                for row in rows[start..<(start + Self.metricRowsPerInsert)] {
                    try bindMetric(row, runKey: runKey, to: insertMany, from: index)
                    index += 6
                }
                _ = try insertMany.step()
                insertMany.reset()
                start += Self.metricRowsPerInsert
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
    static let metricRowsPerInsert = 64
    static let insertManyMetrics = "INSERT INTO metrics (run, iteration, action, reward, greedy_action, distinct_actions) VALUES "
        + Array(repeating: "(?, ?, ?, ?, ?, ?)", count: metricRowsPerInsert).joined(separator: ", ")

    func insertSummary(_ summary: RunSummary, runKey: Int64) throws {
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

    // MARK: Failure

    /// Marks `record` failed with `message`, best effort: false when even that could not be written. A run
    /// taken over by another process is left to its new owner.
    @discardableResult
    public func markRunFailed(_ record: RunRecord, message: String) -> Bool {
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
        if mark() { return true }
        // A full disk (or file size limit) can leave the WAL no room for even this one-row update, by a
        // margin as thin as a few bytes; a checkpoint moves its committed pages into the database file and
        // lets the WAL start over, which usually makes room.
        _ = try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return mark()
    }

    // MARK: The connection during a session

    /// Stops the connection's automatic checkpoints: the session's checkpointer thread does them
    /// (TrackerApp's WALCheckpointer), off the committing thread.
    public func leaveCheckpointsToCaller() { database.leaveCheckpointsToCaller() }

    /// Undoes ``leaveCheckpointsToCaller()``.
    public func resumeAutomaticCheckpoints() { database.resumeAutomaticCheckpoints() }

    /// A PASSIVE checkpoint on this connection, best effort: copies what it can of the WAL into the file
    /// without waiting for readers.
    public func checkpointPassively() { _ = try? database.execute("PRAGMA wal_checkpoint(PASSIVE)") }

    /// Frames in the WAL after this connection's last commit.
    public var walFramesAfterLastCommit: Int { database.walFramesAfterLastCommit }
}

extension RunRecord {
    /// This record with the fields a session changes replaced.
    func with(
        status: RunStatus? = nil, heartbeatAt: String? = nil, finishedAt: String?? = nil, plannedIterations: Int? = nil,
        doneIterations: Int? = nil, elapsedSeconds: Double? = nil, host: String? = nil, pid: Int?? = nil,
        error: String?? = nil, configHash: String? = nil
    ) -> RunRecord {
        RunRecord(
            id: id, runID: runID, algorithm: algorithm, n: n, phi: phi, seed: seed, frameID: frameID,
            status: status ?? self.status, createdAt: createdAt, startedAt: startedAt,
            finishedAt: finishedAt ?? self.finishedAt, heartbeatAt: heartbeatAt ?? self.heartbeatAt,
            plannedIterations: plannedIterations ?? self.plannedIterations, doneIterations: doneIterations ?? self.doneIterations,
            elapsedSeconds: elapsedSeconds ?? self.elapsedSeconds, trackerVersion: trackerVersion,
            host: host ?? self.host, pid: pid ?? self.pid, label: label, error: error ?? self.error,
            configHash: configHash ?? self.configHash, algorithmName: algorithmName, isImported: isImported)
    }
}
