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
    public var runsAlreadyPresent: Int { skipped.filter { $0.reason == .alreadyPresent }.count }
    /// Runs the input holds further along than the output's copy, which a live process is recording here:
    /// skipped, so that process keeps its run.
    public var runsLiveHere: Int { skipped.filter { $0.reason == .liveHere }.count }
    /// Every input run not copied, with the run here that kept it out and why, in the input's order.
    public var skipped: [SkippedRun] = []
    /// Added runs whose run id the output already used for a different configuration: they got a fresh
    /// id, (input's id, new id).
    public var renamedRunIDs: [RenamedRunID] = []
    /// Write transactions the merge committed (one for the frames, then one per slice of runs).
    public var transactions = 0
    /// Studies of the input not merged (recorded here with another spec), one line each.
    public var studyNotes: [String] = []

    public struct RenamedRunID: Sendable, Equatable {
        public let original: String
        public let assigned: String
    }

    public struct SkippedRun: Sendable, Equatable {
        public enum Reason: String, Sendable {
            /// The output holds this configuration as far along or further.
            case alreadyPresent = "already present"
            /// The input's copy is further along, but a live process records the output's copy.
            case liveHere = "live here"
        }
        /// The input's run id.
        public let runID: String
        public let reason: Reason
        /// The output's run of the same configuration, and what it is: "finished", or its owner for a live run.
        public let keptRunID: String
        public let detail: String
    }
}

extension TrackerStore {
    /// Input runs whose metric rows (about their done iterations) one merge transaction copies at most; a
    /// slice holds at least one run. A live run's writer waits for the write lock at most this long a
    /// transaction (some tens of milliseconds), instead of for the whole input.
    public static let mergeRowsPerTransaction = 25_000
    /// And at most this many runs, however short.
    public static let mergeRunsPerTransaction = 200

    /// Copies every run of another tracker database (same schema version) into this one, with its frame,
    /// parameters, metrics, checkpoints and summary. A run's identity is its configuration hash (a database
    /// holds one run per configuration, migration 0007), whatever its label:
    /// one already here is kept once, and the copy furthest along wins (a finished copy over an unfinished
    /// one, else the one with more iterations done). A run whose run id is taken here by a different
    /// configuration gets a fresh id.
    ///
    /// A run that a live process records here (the liveness rule of `delete`, ``RunRecord/isLive``) is never
    /// replaced or deleted, whatever the input holds: the input's copy is skipped, and the report says so.
    /// The runs are copied in slices (``mergeRowsPerTransaction``), each its own transaction, so a live
    /// writer of this database waits a moment, never for the whole input. Each run is copied whole or not
    /// at all; an input that fails midway leaves the slices before it merged, and merging it again copies
    /// the rest (what is here is skipped).
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
            try database.execute("""
                CREATE TEMP TABLE frame_map (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);
                CREATE TEMP TABLE run_map (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);
                """)
            defer { try? database.execute("DROP TABLE temp.frame_map; DROP TABLE temp.run_map") }
            var report = MergeReport()

            // Frames: shared by fingerprint.
            try database.transaction(.immediate) {
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
            }
            report.transactions += 1

            // A run's identity is its configuration hash, never its run id: two different runs may draw
            // the same 8-digit id on different shards. Nor its label: the output holds one run per
            // configuration, so a copy labelled differently is still the same run.
            typealias InputRun = (key: Int64, runID: String, configHash: String, finished: Bool, done: Int)
            let inputRuns = try database.prepare("""
                SELECT id, run_id, config_hash, status = 'finished', done_iterations
                FROM input.runs ORDER BY id
                """).rows { row -> InputRun in
                (key: row.int64(0), runID: row.text(1), configHash: row.text(2), finished: row.int(3) != 0, done: row.int(4))
            }
            var slices: [[InputRun]] = []
            var rows = 0
            for run in inputRuns {
                if slices.isEmpty || rows + run.done > Self.mergeRowsPerTransaction && !slices[slices.count - 1].isEmpty
                    || slices[slices.count - 1].count >= Self.mergeRunsPerTransaction {
                    slices.append([])
                    rows = 0
                }
                slices[slices.count - 1].append(run)
                rows += run.done
            }

            // The copies here of an input run's configuration (one, or several in an older database).
            let copiesHere = try database.prepare("SELECT \(RunRecord.columns) FROM main.runs WHERE config_hash = ?")
            let dropCopy = try database.prepare("DELETE FROM main.runs WHERE id = ?")
            let runIDTaken = try database.prepare("SELECT 1 FROM main.runs WHERE run_id = ?")
            let runColumns = try columns(of: "runs").filter { $0 != "id" && $0 != "frame_id" && $0 != "run_id" }
            let insertRun = try database.prepare("""
                INSERT INTO main.runs (frame_id, run_id, \(runColumns.quoted))
                SELECT (SELECT new FROM temp.frame_map WHERE old = r.frame_id), ?, \(runColumns.map { "r.\"\($0)\"" }.joined(separator: ", "))
                FROM input.runs AS r WHERE r.id = ?
                """)
            let mapRun = try database.prepare("INSERT INTO temp.run_map (old, new) VALUES (?, ?)")
            // Memberships (run_labels) go with the run: a copy skipped here still adds its labels to the run
            // kept, and a copy replaced here hands its labels to the one replacing it, so every study that
            // counted the run in either file counts it in the output.
            let carryInputLabels = try database.prepare("""
                INSERT OR IGNORE INTO main.run_labels (run, label) SELECT ?1, label FROM input.run_labels WHERE run = ?2
                """)
            let labelsHere = try database.prepare("SELECT label FROM main.run_labels WHERE run = ?")
            let addLabel = try database.prepare("INSERT OR IGNORE INTO main.run_labels (run, label) VALUES (?, ?)")
            for slice in slices {
                // Liveness is read inside the transaction that acts on it, so no run here can be claimed
                // between the check and the copy.
                let sliceReport = try database.transaction(.immediate) { () throws -> MergeReport in
                    var part = MergeReport()
                    var inheritedLabels: [Int64: [String]] = [:]
                    try database.execute("DELETE FROM temp.run_map")
                    for run in slice {
                        let here = try copiesHere.rows([.text(run.configHash)]) { RunRecord(row: $0) }
                        // The copy here that an input run is weighed against: the one furthest along.
                        if let best = here.max(by: { a, b in
                            (a.status == .finished ? 1 : 0, a.doneIterations) < (b.status == .finished ? 1 : 0, b.doneIterations)
                        }) {
                            let bestFinished = best.status == .finished
                            let furtherAlong = (run.finished && !bestFinished) || (!bestFinished && run.done > best.doneIterations)
                            guard furtherAlong else {
                                part.skipped.append(.init(runID: run.runID, reason: .alreadyPresent, keptRunID: best.runID,
                                                          detail: best.displayStatus))
                                try carryInputLabels.run([.integer(best.id), .integer(run.key)])
                                continue
                            }
                            if let live = here.first(where: \.isLive) {
                                part.skipped.append(.init(runID: run.runID, reason: .liveHere, keptRunID: live.runID,
                                                          detail: live.ownerDescription))
                                try carryInputLabels.run([.integer(live.id), .integer(run.key)])
                                continue
                            }
                            // Every copy here of this identity goes, so the output holds it once; their labels
                            // stay with the copy replacing them.
                            for copy in here {
                                inheritedLabels[run.key, default: []] += try labelsHere.rows([.integer(copy.id)]) { $0.text(0) }
                                try dropCopy.run([.integer(copy.id)])
                            }
                            part.runsReplaced += 1
                        } else {
                            part.runsAdded += 1
                        }
                        var runID = run.runID
                        if try runIDTaken.rows([.text(runID)], { _ in true }).first ?? false {
                            runID = try Self.freeRunID(derivedFrom: "\(run.configHash)|\(run.runID)", in: database)
                            part.renamedRunIDs.append(.init(original: run.runID, assigned: runID))
                        }
                        try insertRun.run([.text(runID), .integer(run.key)])
                        let newKey = database.lastInsertRowID
                        try mapRun.run([.integer(run.key), .integer(newKey)])
                        for label in inheritedLabels[run.key] ?? [] { try addLabel.run([.integer(newKey), .text(label)]) }
                    }
                    for table in ["run_params", "run_provenance", "run_tags", "run_notes", "metrics", "checkpoints", "run_summaries"] {
                        try copy(table: table, mapping: "run", through: "run_map", orIgnore: false)
                    }
                    // OR IGNORE: the insert's trigger (0008) already made each run a member of its own label.
                    try copy(table: "run_labels", mapping: "run", through: "run_map", orIgnore: true)
                    return part
                }
                report.runsAdded += sliceReport.runsAdded
                report.runsReplaced += sliceReport.runsReplaced
                report.skipped += sliceReport.skipped
                report.renamedRunIDs += sliceReport.renamedRunIDs
                report.transactions += 1
            }
            // Studies (`tune`) after the runs, so their run ids can follow the runs' renames.
            if let notes = try mergeStudies(
                renamed: Dictionary(report.renamedRunIDs.map { ($0.original, $0.assigned) }, uniquingKeysWith: { $1 })) {
                report.studyNotes = notes
                report.transactions += 1
            }
            return report
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
    /// The map is the outer loop (CROSS JOIN fixes the order) and every copied table's primary key starts
    /// with the mapped column, so a slice of the runs reads only its own rows of the input.
    /// Copies `table`'s rows of the mapped runs. Tags keep their order of setting (rowid): the tag-key
    /// repair after a merge keeps the value set last when one key was stored in two Unicode forms.
    private func copy(table: String, mapping key: String, through map: String, orIgnore: Bool) throws {
        let names = try columns(of: table)
        let selected = names.map { $0 == key ? "map.new" : "t.\"\($0)\"" }.joined(separator: ", ")
        try database.execute("""
            INSERT \(orIgnore ? "OR IGNORE " : "")INTO main.\(table) (\(names.quoted))
            SELECT \(selected) FROM temp.\(map) AS map CROSS JOIN input.\(table) AS t ON t.\(key) = map.old
            \(table == "run_tags" ? "ORDER BY map.old, t.rowid" : "")
            """)
    }
}

private extension Array where Element == String {
    /// Column names as quoted identifiers: "a", "b".
    var quoted: String { map { "\"\($0)\"" }.joined(separator: ", ") }
}
