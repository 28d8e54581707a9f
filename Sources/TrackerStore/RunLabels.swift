// Run labels (`run_labels`) and lookups by configuration hash, for sweeps and `reproduce`.

import Foundation
import SQLite

extension TrackerStore {
    /// Makes every run holding one of these configurations a member of `label` (`run_labels`), for a sweep
    /// or `reproduce` that finds its configuration already recorded: the run is not run again, it joins the
    /// study. Returns the run ids that were not members yet, in the order of `configHashes`. Writes in
    /// transactions of at most 500 configurations, so a live writer never waits long.
    @discardableResult
    public func adopt(configHashes: [String], label: String) throws -> [String] {
        try storeOperation("adding runs to label \(label)") {
            var adopted: [String] = []
            let outsiders = try database.cachedStatement("""
                SELECT id, run_id FROM runs AS r WHERE config_hash = ?1
                  AND NOT EXISTS (SELECT 1 FROM run_labels AS l WHERE l.run = r.id AND l.label = ?2)
                ORDER BY id
                """)
            let join = try database.cachedStatement("INSERT OR IGNORE INTO run_labels (run, label) VALUES (?, ?)")
            var start = 0
            while start < configHashes.count {
                let slice = configHashes[start..<min(start + 500, configHashes.count)]
                start += slice.count
                try database.transaction(.immediate) {
                    for hash in slice {
                        for (key, runID) in try outsiders.rows([.text(hash), .text(label)], { ($0.int64(0), $0.text(1)) }) {
                            try join.run([.integer(key), .text(label)])
                            adopted.append(runID)
                        }
                    }
                }
            }
            return adopted
        }
    }

    /// Every label a run belongs to (`run_labels`), sorted: the one it was created with and those of the
    /// studies that adopted it.
    public func labels(ofRun key: Int64) throws -> [String] {
        try storeOperation("reading the labels of a run") {
            try database.cachedStatement("SELECT label FROM run_labels WHERE run = ? ORDER BY label")
                .rows([.integer(key)]) { $0.text(0) }
        }
    }

    /// Runs with this configuration hash, oldest first: one, or several in a database from before the
    /// one-run-per-configuration rule (see `duplicateConfigurations`).
    public func runs(configHash: String) throws -> [RunRecord] {
        try storeOperation("looking up runs by configuration") {
            let statement = try database.cachedStatement(
                "SELECT \(RunRecord.columns) FROM runs WHERE config_hash = ? ORDER BY id")
            return try statement.rows([.text(configHash)], RunRecord.init)
        }
    }
}
