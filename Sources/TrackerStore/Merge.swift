import Learning
import SQLite

/// What `merge` did with one input file.
public struct MergeReport: Sendable, Equatable {
    public var framesAdded = 0
    /// Runs whose identity (configuration hash) the output did not hold.
    public var runsAdded = 0
    /// Runs the output held as a copy less far along (unfinished where the input's is finished, or with
    /// fewer iterations done), replaced by the input's copy.
    public var runsReplaced = 0
    /// Runs the output already held as far along or further: skipped.
    public var runsAlreadyPresent = 0
    /// Added runs whose run id the output already used for a different configuration: they got a fresh
    /// id, (input's id, new id).
    public var renamedRunIDs: [RenamedRunID] = []

    public struct RenamedRunID: Sendable, Equatable {
        public let original: String
        public let assigned: String
    }
}

extension TrackerStore {
    /// Copies every run of another tracker database (same schema version) into this one, with its frame,
    /// parameters, metrics, checkpoints and summary. A run's identity is its configuration hash (a database
    /// holds one run per configuration, migration 0007), whatever its label:
    /// one already here is kept once, and the copy furthest along wins (a finished copy over an unfinished
    /// one, else the one with more iterations done). A run whose run id is taken here by a different
    /// configuration gets a fresh id. Runs in one transaction: an input that fails to merge leaves this
    /// database as it was.
    public func merge(from inputPath: String) throws -> MergeReport {
        // Opening it read-only checks it is a tracker database of exactly this schema version.
        let input = try TrackerStore(path: inputPath, access: .readOnly)
        let inputVersion = try input.schemaVersion
        guard inputVersion == Schema.latestVersion else {
            throw StoreError.invalidArgument(
                "\(inputPath) has schema version \(inputVersion); merge needs \(Schema.latestVersion) (open it once with this tracker)")
        }
        let report = try storeOperation("merging \(inputPath)") {
            try database.execute("DROP TABLE IF EXISTS temp.frame_map; DROP TABLE IF EXISTS temp.run_map")
            let attachable = try input.attachablePath()
            defer { attachable.cleanUp() }
            let attach = try database.prepare("ATTACH DATABASE ? AS input")
            try attach.run([.text(attachable.path)])
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

                // A run's identity is its configuration hash, never its run id: two different runs may draw
                // the same 8-digit id on different shards. Nor its label: the output holds one run per
                // configuration, so a copy labelled differently is still the same run.
                let inputRuns = try database.prepare("""
                    SELECT id, run_id, config_hash, status = 'finished', done_iterations
                    FROM input.runs ORDER BY id
                    """).rows { row in
                    (key: row.int64(0), runID: row.text(1), configHash: row.text(2), finished: row.int(3) != 0, done: row.int(4))
                }
                // The copy here that an input run is weighed against: the one furthest along.
                let copyHere = try database.prepare("""
                    SELECT status = 'finished', done_iterations FROM main.runs
                    WHERE config_hash = ? ORDER BY status = 'finished' DESC, done_iterations DESC LIMIT 1
                    """)
                let dropCopies = try database.prepare("DELETE FROM main.runs WHERE config_hash = ?")
                let runIDTaken = try database.prepare("SELECT 1 FROM main.runs WHERE run_id = ?")
                let runColumns = try columns(of: "runs").filter { $0 != "id" && $0 != "frame_id" && $0 != "run_id" }
                let insertRun = try database.prepare("""
                    INSERT INTO main.runs (frame_id, run_id, \(runColumns.quoted))
                    SELECT (SELECT new FROM temp.frame_map WHERE old = r.frame_id), ?, \(runColumns.map { "r.\"\($0)\"" }.joined(separator: ", "))
                    FROM input.runs AS r WHERE r.id = ?
                    """)
                let mapRun = try database.prepare("INSERT INTO temp.run_map (old, new) VALUES (?, ?)")
                for run in inputRuns {
                    if let here = try copyHere.rows([.text(run.configHash)], { row in
                        (finished: row.int(0) != 0, done: row.int(1))
                    }).first {
                        let furtherAlong = (run.finished && !here.finished) || (!here.finished && run.done > here.done)
                        guard furtherAlong else {
                            report.runsAlreadyPresent += 1
                            continue
                        }
                        // Every copy here of this identity goes, so the output holds it once.
                        try dropCopies.run([.text(run.configHash)])
                        report.runsReplaced += 1
                    } else {
                        report.runsAdded += 1
                    }
                    var runID = run.runID
                    if try runIDTaken.rows([.text(runID)], { _ in true }).first ?? false {
                        runID = try Self.freeRunID(derivedFrom: "\(run.configHash)|\(run.runID)", in: database)
                        report.renamedRunIDs.append(.init(original: run.runID, assigned: runID))
                    }
                    try insertRun.run([.text(runID), .integer(run.key)])
                    try mapRun.run([.integer(run.key), .integer(database.lastInsertRowID)])
                }
                for table in ["run_params", "run_provenance", "run_tags", "run_notes", "metrics", "checkpoints", "run_summaries"] {
                    try copy(table: table, mapping: "run", through: "run_map", orIgnore: false)
                }
                return report
            }
        }
        // An input written by an older tracker may hold tag keys that are not NFC: repaired here as at open.
        try normalizeTagKeys()
        return report
    }

    /// The first free prefix (8 hex digits, lengthened on a collision) of a hash of `seed`: run ids are
    /// short for people, and unique in their database.
    static func freeRunID(derivedFrom seed: String, in database: Database) throws -> String {
        let digest = SHA256.hexDigest(Array(seed.utf8))
        let exists = try database.cachedStatement("SELECT 1 FROM runs WHERE run_id = ?")
        for length in stride(from: 8, through: digest.count, by: 4) {
            let candidate = String(digest.prefix(length))
            let taken = try exists.rows([.text(candidate)]) { _ in true }.first ?? false
            if !taken { return candidate }
        }
        throw StoreError.invalidArgument("could not find a free run id")
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
