import Foundation
import Learning
import Scheduling
import SQLite

/// A run made outside the tracker, validated (`RunImport` reads it from a `tracker-import/1` file) and
/// ready to record: the store records it in one transaction, its summary derived from its metrics.
public struct ImportedRun: Sendable {
    public var format: String
    /// The file as given (a path, or `-`).
    public var source: String
    public var algorithm: String
    public var frame: Frame
    public var frameSource: FrameSource
    public var phi: Int
    /// The learner's seed; nil where the file gives none (recorded as 0, and identified as "none").
    public var seed: UInt64?
    /// Canonical keys (`lr`, not `learning_rate`) for settings the tracker knows, the file's keys otherwise.
    public var settings: [Setting]
    /// The header's `provenance` object, as JSON text.
    public var provenanceJSON: String
    public var label: String?
    public var wallSeconds: Double
    /// Iterations 0, 1, ... in order, as many as the run's budget.
    /// The rows of `metrics`, as a built-in run records them.
    public var metrics: [MetricRow]
    public var trackerVersion: String
    /// How the import came to be (`tracker import ...`), recorded in run_provenance like any run's.
    public var provenance: Provenance?

    public init(format: String, source: String, algorithm: String, frame: Frame, frameSource: FrameSource, phi: Int,
                seed: UInt64?, settings: [Setting], provenanceJSON: String, label: String?, wallSeconds: Double,
                metrics: [MetricRow], trackerVersion: String, provenance: Provenance? = nil) {
        self.format = format
        self.source = source
        self.algorithm = algorithm
        self.frame = frame
        self.frameSource = frameSource
        self.phi = phi
        self.seed = seed
        self.settings = settings
        self.provenanceJSON = provenanceJSON
        self.label = label
        self.wallSeconds = wallSeconds
        self.metrics = metrics
        self.trackerVersion = trackerVersion
        self.provenance = provenance
    }

    /// The run's identity, as `RunSpecification.configHash` is a built-in run's: the frame, the algorithm's
    /// name, phi, the budget, the seed and every setting (sorted by key, typed, texts in hex so no value can
    /// pass for a separator). Provenance, label and wall time are not part of it.
    public var configHash: String {
        func hex(_ text: String) -> String { text.utf8.map { String(format: "%02x", $0) }.joined() }
        let settingFields = settings.sorted { $0.key < $1.key }.map { setting -> String in
            let value: String
            switch setting.value {
            case .null: value = "n"
            case .integer(let v): value = "i\(v)"
            case .real(let v): value = "r" + String(v.bitPattern, radix: 16)
            case .text(let v): value = "t" + hex(v)
            }
            return hex(setting.key) + "=" + value
        }
        let fields: [String] = [
            "tracker-import-v1", frame.fingerprint, hex(algorithm), String(phi), String(metrics.count),
            seed.map(String.init) ?? "none",
        ] + settingFields
        return SHA256.hexDigest(Array(fields.joined(separator: "|").utf8))
    }
}

extension TrackerStore {
    /// Records an imported run, finished, in one IMMEDIATE transaction: its frame (shared with every run on
    /// it), the run (`origin` 'imported'), its settings, metrics and greedy actions' outcomes, and `summary`,
    /// which the caller derived from the metrics by the rules a built-in run's follows (TrackerApp's
    /// `RunImport.summary`). A configuration already recorded is refused as `tracker run` refuses it; on any
    /// failure nothing is written.
    public func recordImportedRun(_ run: ImportedRun, analysis: FrameAnalysis, summary: RunSummary) throws -> RunRecord {
        let configHash = run.configHash
        let now = Timestamp.now()
        let runKey = try storeOperation("recording the imported run") {
            try database.transaction(.immediate) { () throws -> Int64 in
                if let existing = try runs(configHash: configHash).first {
                    throw StoreError.configurationTaken(
                        runID: existing.runID, status: existing.displayStatus, resumable: existing.isResumable)
                }
                let frameID = try frameInsertedIfNeeded(analysis, source: run.frameSource).id
                let runID = try TrackerStore.freeRunID(
                    derivedFrom: "\(configHash)|\(ProcessIdentity.host)|\(ProcessIdentity.pid)|\(DispatchTime.now().uptimeNanoseconds)",
                    in: database)
                let insertRun = try database.cachedStatement("""
                    INSERT INTO runs (run_id, algorithm, n, phi, seed, frame_id, status, created_at, started_at,
                        finished_at, heartbeat_at, planned_iterations, done_iterations, elapsed_seconds, tracker_version,
                        host, pid, label, config_hash, origin)
                    VALUES (?, ?, ?, ?, ?, ?, 'finished', ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, 'imported')
                    """)
                try insertRun.run([
                    .text(runID), .text(run.algorithm), .integer(Int64(run.frame.count)), .integer(Int64(run.phi)),
                    .integer(Int64(bitPattern: run.seed ?? 0)), .integer(frameID), .text(now), .text(now), .text(now),
                    .text(now), .integer(Int64(run.metrics.count)), .integer(Int64(run.metrics.count)),
                    .real(run.wallSeconds), .text(run.trackerVersion), .text(ProcessIdentity.host),
                    run.label.map { .text($0) } ?? .null, .text(configHash),
                ])
                let runKey = database.lastInsertRowID
                let insertImport = try database.cachedStatement(
                    "INSERT INTO run_imports (run, format, source, provenance) VALUES (?, ?, ?, ?)")
                try insertImport.run([.integer(runKey), .text(run.format), .text(run.source), .text(run.provenanceJSON)])
                let insertSetting = try database.cachedStatement(
                    "INSERT INTO run_import_settings (run, key, value) VALUES (?, ?, ?)")
                for setting in run.settings {
                    let value: SQLiteValue
                    switch setting.value {
                    case .null: continue
                    case .integer(let v): value = .integer(v)
                    case .real(let v): value = .real(v)
                    case .text(let v): value = .text(v)
                    }
                    try insertSetting.run([.integer(runKey), .text(setting.key), value])
                }
                if let provenance = run.provenance { try insertProvenance(provenance, runKey: runKey) }
                try insertMetrics(run.metrics, runKey: runKey)
                let known = Set(try database.cachedStatement("SELECT action FROM frame_actions WHERE frame_id = ?")
                    .rows([.integer(frameID)]) { try $0.int("action") })
                var seen = known
                let fresh = run.metrics.compactMap { seen.insert($0.greedyAction).inserted ? $0.greedyAction : nil }
                try insertFrameActions(fresh.map { action in
                    (action, run.frame.outcome(of: Permutations.order(rank: action, count: run.frame.count)))
                }, frameID: frameID)
                try insertSummary(summary, runKey: runKey)
                return runKey
            }
        }
        return try self.run(key: runKey)
    }

    /// What an imported run's file said besides its metrics: its format, the file as given and its
    /// provenance (JSON text); nil for a run not imported.
    public func importDetails(ofRun key: Int64) throws -> (format: String, source: String, provenance: String)? {
        try runOperation("reading the import of run", key: key) {
            let statement = try database.cachedStatement("SELECT format, source, provenance FROM run_imports WHERE run = ?")
            return try statement.rows([.integer(key)]) { ($0.text(0), $0.text(1), $0.text(2)) }.first
        }
    }

    /// Every imported run's settings by run id (an imported run without settings has an empty list), in key order.
    func importedSettingsByRunID() throws -> [String: [Setting]] {
        try storeOperation("reading the settings of imported runs") {
            let ids = try database.cachedStatement("SELECT id, run_id FROM runs WHERE origin = 'imported'")
                .rows { ($0.int64(0), $0.text(1)) }
            guard !ids.isEmpty else { return [:] }
            let byKey = try importedSettingsByRun()
            return Dictionary(ids.map { ($1, byKey[$0] ?? []) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// Every key some imported run's settings use, sorted.
    func importedSettingKeys() throws -> [String] {
        try storeOperation("reading the settings of imported runs") {
            try database.cachedStatement("SELECT DISTINCT key FROM run_import_settings ORDER BY key").rows { $0.text(0) }
        }
    }

    /// Every imported run's settings by run key, in key order.
    public func importedSettingsByRun() throws -> [Int64: [Setting]] {
        try storeOperation("reading the settings of imported runs") {
            let statement = try database.cachedStatement("SELECT run, key, value FROM run_import_settings ORDER BY run, key")
            var settings: [Int64: [Setting]] = [:]
            _ = try statement.rows { row in
                settings[row.int64(0), default: []].append(Setting(key: row.text(1), value: SettingValue(row.value(2))))
            }
            return settings
        }
    }
}
