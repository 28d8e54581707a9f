import Learning
import Scheduling
import SQLite

/// The actions a run's newest restorable checkpoint rates highest.
public struct CheckpointTopActions: Sendable {
    /// The checkpoint's iteration.
    public var iteration: Int
    public var actions: [RankedAction]
}

extension TrackerStore {
    /// The run's newest intact checkpoint restored into a learner, or nil when none restores. A checkpoint
    /// whose bytes do not match their stored SHA-256, or that does not restore, is skipped, not trusted.
    public func newestRestorableLearner(
        of record: RunRecord, frame: StoredFrame, hyperparameters: Hyperparameters, memoryLimitBytes: Int
    ) throws -> Learner? {
        for checkpoint in try checkpoints(ofRun: record.id).reversed() {
            let blob = try storeOperation("reading a checkpoint of run \(record.runID)") { () throws -> [UInt8] in
                let statement = try database.cachedStatement(
                    "SELECT snapshot FROM checkpoints WHERE run = ? AND iteration = ?")
                return try statement.rows([.integer(record.id), .integer(Int64(checkpoint.iteration))]) { $0.blob(0) }.first ?? []
            }
            guard CheckpointDigest.hex(blob) == checkpoint.sha256 else { continue }
            if let restored = try? Learner(
                restoring: blob, frame: frame.frame, hyperparameters: hyperparameters,
                optimumObjective: frame.optimalObjective, memoryLimitBytes: memoryLimitBytes),
                restored.iteration == checkpoint.iteration
            {
                return restored
            }
        }
        return nil
    }

    /// The `count` highest-valued actions of the real agent's Q-table in the run's newest restorable
    /// checkpoint, or nil when the run has none (or its tables would need more than `memoryLimitBytes`).
    public func topActions(
        ofRun runID: String, count: Int, memoryLimitBytes: Int = 512 << 20
    ) throws -> CheckpointTopActions? {
        let record = try run(runID)
        // An imported run has no Q-table and no checkpoints.
        if record.isImported { return nil }
        guard let learner = try newestRestorableLearner(
            of: record, frame: try loadFrame(id: record.frameID), hyperparameters: try hyperparameters(of: record),
            memoryLimitBytes: memoryLimitBytes)
        else { return nil }
        return CheckpointTopActions(iteration: learner.iteration, actions: learner.topActions(count))
    }
}
