import SQLite

/// A configuration held by more than one run: possible only in a database written before the
/// one-run-per-configuration rule (migration 0006), by concurrent sweeps or repeated `tracker run`s.
public struct DuplicateConfiguration: Sendable {
    public let configHash: String
    /// The copy that stays: finished first, then the one furthest along, then the oldest.
    public let kept: RunRecord
    /// The other copies, oldest first.
    public let extra: [RunRecord]
}

/// What `removeDuplicateRuns` did.
public struct DeduplicationReport: Sendable {
    /// Run ids deleted.
    public var removed: [String] = []
    /// Extra copies left because a live process is running them (delete them once it stopped).
    public var leftRunning: [String] = []
}

extension TrackerStore {
    /// Every configuration held by more than one run, by configuration hash.
    public func duplicateConfigurations() throws -> [DuplicateConfiguration] {
        let runs = try storeOperation("looking for duplicate runs") {
            try database.prepare("""
                SELECT \(RunRecord.columns) FROM runs
                WHERE config_hash IN (SELECT config_hash FROM runs GROUP BY config_hash HAVING count(*) > 1)
                ORDER BY config_hash, id
                """).rows([], RunRecord.init)
        }
        var groups: [DuplicateConfiguration] = []
        var start = runs.startIndex
        while start < runs.endIndex {
            let hash = runs[start].configHash
            let end = runs[start...].firstIndex { $0.configHash != hash } ?? runs.endIndex
            let copies = Array(runs[start..<end])
            let kept = copies.min { a, b in
                if (a.status == .finished) != (b.status == .finished) { return a.status == .finished }
                if a.doneIterations != b.doneIterations { return a.doneIterations > b.doneIterations }
                return a.id < b.id
            }!
            groups.append(DuplicateConfiguration(configHash: hash, kept: kept, extra: copies.filter { $0.id != kept.id }))
            start = end
        }
        return groups
    }

    /// Deletes every extra copy `duplicateConfigurations` names, in one transaction, except copies a live
    /// process is running: deleting those would make their owner fail mid-run.
    public func removeDuplicateRuns() throws -> DeduplicationReport {
        try storeOperation("removing duplicate runs") {
            try database.transaction(.immediate) { () throws -> DeduplicationReport in
                var report = DeduplicationReport()
                let delete = try database.cachedStatement("DELETE FROM runs WHERE id = ?")
                // The copy kept joins every study that counted a removed one (run_labels), so no label loses
                // the configuration.
                let inherit = try database.cachedStatement(
                    "INSERT OR IGNORE INTO run_labels (run, label) SELECT ?1, label FROM run_labels WHERE run = ?2")
                for group in try duplicateConfigurations() {
                    for copy in group.extra {
                        if copy.status == .running && !copy.isAbandoned {
                            report.leftRunning.append(copy.runID)
                            continue
                        }
                        try inherit.run([.integer(group.kept.id), .integer(copy.id)])
                        try delete.run([.integer(copy.id)])
                        report.removed.append(copy.runID)
                    }
                }
                return report
            }
        }
    }
}
