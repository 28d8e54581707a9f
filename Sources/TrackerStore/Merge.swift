import SQLite

/// What `merge` did with one input file.
public struct MergeReport: Sendable, Equatable {
    public var framesAdded = 0
    public var runsAdded = 0
    /// Runs already present (same run id, or same configuration hash and label and not less finished).
    public var runsAlreadyPresent = 0
    /// Unfinished runs in the output replaced by a finished copy from the input.
    public var runsReplaced = 0
}

extension TrackerStore {
    /// Copies every run of another tracker database (same schema version) into this one, with its frame,
    /// parameters, metrics, checkpoints and summary. A run already here, by id or by identity
    /// (configuration hash and label), is kept once; a finished copy wins over an unfinished one. Runs in
    /// one transaction: an input that fails to merge leaves this database as it was.
    public func merge(from inputPath: String) throws -> MergeReport {
        // Opening it read-only checks it is a tracker database of exactly this schema version.
        let input = try TrackerStore(path: inputPath, access: .readOnly)
        let inputVersion = try input.schemaVersion
        guard inputVersion == Schema.latestVersion else {
            throw StoreError.invalidArgument(
                "\(inputPath) has schema version \(inputVersion); merge needs \(Schema.latestVersion) (open it once with this tracker)")
        }
        return try storeOperation("merging \(inputPath)") {
            try database.execute("DROP TABLE IF EXISTS temp.frame_map; DROP TABLE IF EXISTS temp.run_map")
            let attach = try database.prepare("ATTACH DATABASE ? AS input")
            try attach.run([.text(inputPath)])
            defer { try? database.execute("DETACH DATABASE input") }
            return try database.transaction(.immediate) { () throws -> MergeReport in
                var report = MergeReport()
                try database.execute("""
                    CREATE TEMP TABLE frame_map (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);
                    CREATE TEMP TABLE run_map (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);
                    """)
                defer { try? database.execute("DROP TABLE temp.frame_map; DROP TABLE temp.run_map") }

                // Frames: shared by fingerprint.
                let frameColumns = try columns(of: "frames").filter { $0 != "frame_id" }
                try database.execute("""
                    INSERT INTO main.frames (\(frameColumns.quoted)) SELECT \(frameColumns.quoted) FROM input.frames
                    WHERE fingerprint NOT IN (SELECT fingerprint FROM main.frames)
                    """)
                report.framesAdded = database.changes
                try database.execute("""
                    INSERT INTO temp.frame_map (old, new)
                    SELECT i.frame_id, m.frame_id FROM input.frames AS i JOIN main.frames AS m USING (fingerprint)
                    """)
                for table in ["frame_tasks", "frame_actions"] {
                    try copy(table: table, mapping: "frame_id", through: "frame_map", orIgnore: true)
                }

                // An unfinished run here loses to a finished copy of the same identity there.
                try database.execute("""
                    DELETE FROM main.runs WHERE status <> 'finished' AND EXISTS (
                        SELECT 1 FROM input.runs AS i WHERE i.status = 'finished'
                          AND i.config_hash = main.runs.config_hash AND i.label IS main.runs.label
                          AND i.run_id <> main.runs.run_id)
                    """)
                report.runsReplaced = database.changes

                let candidates = try database.prepare("""
                    SELECT i.id,
                           EXISTS (SELECT 1 FROM main.runs AS m WHERE m.run_id = i.run_id
                                   OR (m.config_hash = i.config_hash AND m.label IS i.label
                                       AND (m.status = 'finished' OR i.status <> 'finished')))
                    FROM input.runs AS i ORDER BY i.id
                    """).rows { ($0.int64(0), $0.int(1) != 0) }
                let runColumns = try columns(of: "runs").filter { $0 != "id" && $0 != "frame_id" }
                let insertRun = try database.prepare("""
                    INSERT INTO main.runs (frame_id, \(runColumns.quoted))
                    SELECT (SELECT new FROM temp.frame_map WHERE old = r.frame_id), \(runColumns.map { "r.\"\($0)\"" }.joined(separator: ", "))
                    FROM input.runs AS r WHERE r.id = ?
                    """)
                let mapRun = try database.prepare("INSERT INTO temp.run_map (old, new) VALUES (?, ?)")
                for (oldKey, present) in candidates {
                    if present {
                        report.runsAlreadyPresent += 1
                        continue
                    }
                    try insertRun.run([.integer(oldKey)])
                    try mapRun.run([.integer(oldKey), .integer(database.lastInsertRowID)])
                    report.runsAdded += 1
                }
                for table in ["run_params", "metrics", "checkpoints", "run_summaries"] {
                    try copy(table: table, mapping: "run", through: "run_map", orIgnore: false)
                }
                return report
            }
        }
    }

    /// The columns of a table of this database's schema, in order (identifiers, never values).
    private func columns(of table: String) throws -> [String] {
        let statement = try database.prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid")
        return try statement.rows([.text(table)]) { $0.text(0) }
    }

    /// INSERT INTO main.table SELECT ... FROM input.table, with one key column translated through a map.
    private func copy(table: String, mapping key: String, through map: String, orIgnore: Bool) throws {
        let names = try columns(of: table)
        let selected = names.map { $0 == key ? "map.new" : "t.\"\($0)\"" }.joined(separator: ", ")
        try database.execute("""
            INSERT \(orIgnore ? "OR IGNORE " : "")INTO main.\(table) (\(names.quoted))
            SELECT \(selected) FROM input.\(table) AS t JOIN temp.\(map) AS map ON map.old = t.\(key)
            """)
    }
}

private extension Array where Element == String {
    /// Column names as quoted identifiers: "a", "b".
    var quoted: String { map { "\"\($0)\"" }.joined(separator: ", ") }
}
