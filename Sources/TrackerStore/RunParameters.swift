// A run's recorded settings read back from `run_params`, for resume, reproduce and checkpoint restore.

import Foundation
import Learning
import SQLite

extension TrackerStore {
    /// The hyperparameters a run was started with, read back from `runs` and `run_params`.
    public func hyperparameters(of record: RunRecord) throws -> Hyperparameters {
        try storeOperation("reading the settings of run \(record.runID)") {
            let statement = try database.cachedStatement("""
                SELECT delta, learning_rate, discount, epsilon_start, epsilon_min, epsilon_decay, reward,
                       twin_uplink_rate, twin_cpu_hz, twin_zeta, twin_noise, twin_noise_seed, aggregation
                FROM run_params WHERE run = ?
                """)
            guard let h = try statement.rows([.integer(record.id)], { row in
                try Hyperparameters(record: record, parameterRow: row)
            }).first else {
                throw StoreError.invalidArgument("run \(record.runID) has no settings recorded")
            }
            return h
        }
    }

    public func checkpointEvery(ofRun id: Int64) throws -> Int {
        try runOperation("reading the checkpoint interval of run", key: id) {
            let statement = try database.cachedStatement("SELECT checkpoint_every FROM run_params WHERE run = ?")
            return try statement.rows([.integer(id)]) { $0.int(0) }.first ?? 1024
        }
    }
}
