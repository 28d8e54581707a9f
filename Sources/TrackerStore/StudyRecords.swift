import Foundation
import SQLite

/// A study as recorded (migrations/0010_studies.sql).
public struct StudyRecord: Sendable {
    public let id: Int64
    public let name: String
    public let spec: String
    public let specHash: String
}

/// One trial's result at one rung, with the runs behind it.
public struct StudyRungRecord: Sendable, Equatable {
    public let trial: Int
    public let rung: Int
    public let budget: Int
    public let objective: Double?
    public let iterations: Int
    /// (position, run id, the run's own value), in position order.
    public let runs: [StudyRunValue]

    public init(trial: Int, rung: Int, budget: Int, objective: Double?, iterations: Int, runs: [StudyRunValue]) {
        self.trial = trial
        self.rung = rung
        self.budget = budget
        self.objective = objective
        self.iterations = iterations
        self.runs = runs
    }
}

public struct StudyRunValue: Sendable, Equatable {
    public let position: Int
    public let runID: String
    public let value: Double?
    public init(position: Int, runID: String, value: Double?) {
        self.position = position
        self.runID = runID
        self.value = value
    }
}

/// The study tables' SQL: persistence only; `Tune/` decides what to write.
/// A trial of a study as `study_trials` holds it; `legacySettings`, the same settings as an older tracker
/// wrote them, is accepted in place of `settings` when the row exists.
public struct StudyTrialRow: Sendable {
    public let trial: Int
    public let bracket: Int
    public let settings: String
    public let legacySettings: String?
    public init(trial: Int, bracket: Int, settings: String, legacySettings: String? = nil) {
        self.trial = trial
        self.bracket = bracket
        self.settings = settings
        self.legacySettings = legacySettings
    }
}

extension TrackerStore {
    /// The study named `name`, creating it with its trials when absent. A study recorded with another spec
    /// is refused, naming the keys that changed; nothing is written then.
    public func openStudy(name: String, spec: String, specHash: String, objective: String, direction: String) throws -> StudyRecord {
        try storeOperation("recording study \(name)") {
            try database.transaction(.immediate) {
                if let existing = try studyRecord(named: name) {
                    guard existing.specHash == specHash else {
                        throw StoreError.invalidArgument(StudyRefusal.edited(name: name, stored: existing.spec, now: spec))
                    }
                    return existing
                }
                try database.cachedStatement("""
                    INSERT INTO studies (name, spec, spec_hash, objective, direction, created_at) VALUES (?, ?, ?, ?, ?, ?)
                    """).run([.text(name), .text(spec), .text(specHash), .text(objective), .text(direction), .text(Timestamp.now())])
                return StudyRecord(id: database.lastInsertRowID, name: name, spec: spec, specHash: specHash)
            }
        }
    }

    /// Every recorded trial's settings (JSON, keys sorted), by trial.
    public func studyTrialSettings(_ study: Int64) throws -> [Int: String] {
        try storeOperation("reading a study's trials") {
            let rows = try database.cachedStatement("SELECT trial, settings FROM study_trials WHERE study = ? ORDER BY trial")
                .rows([.integer(study)]) { (Int($0.int64(0)), $0.text(1)) }
            return Dictionary(rows, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Records trials of a study with their drawn settings (JSON, keys sorted), in one transaction. A trial
    /// recorded already with the same settings (its text, or its `legacySettings` text) is left as it is;
    /// with other settings it is refused (the sampler must draw every trial the same way in every
    /// process), and nothing is written.
    public func recordStudyTrials(_ study: Int64, trials: [StudyTrialRow]) throws {
        try storeOperation("recording a study's trials") {
            try database.transaction(.immediate) {
                let find = try database.cachedStatement("SELECT bracket, settings FROM study_trials WHERE study = ? AND trial = ?")
                let insert = try database.cachedStatement(
                    "INSERT INTO study_trials (study, trial, bracket, settings) VALUES (?, ?, ?, ?)")
                for trial in trials {
                    let existing = try find.rows([.integer(study), .integer(Int64(trial.trial))]) {
                        (bracket: Int($0.int64(0)), settings: $0.text(1))
                    }.first
                    if let existing {
                        guard existing.bracket == trial.bracket,
                              existing.settings == trial.settings || existing.settings == trial.legacySettings else {
                            throw StoreError.invalidArgument(
                                "trial \(trial.trial) is recorded with settings \(existing.settings), but this tracker draws \(trial.settings); "
                                + "the study was recorded by a tracker whose sampler differs")
                        }
                        continue
                    }
                    try insert.run([.integer(study), .integer(Int64(trial.trial)), .integer(Int64(trial.bracket)), .text(trial.settings)])
                }
            }
        }
    }

    /// The study named `name`, nil when none is recorded (or the database predates studies).
    public func studyRecord(named name: String) throws -> StudyRecord? {
        try storeOperation("reading study \(name)") {
            guard try hasStudyTables() else { return nil }
            return try database.cachedStatement("SELECT id, name, spec, spec_hash FROM studies WHERE name = ?")
                .rows([.text(name)]) { StudyRecord(id: $0.int64(0), name: $0.text(1), spec: $0.text(2), specHash: $0.text(3)) }
                .first
        }
    }

    /// Every study's name, sorted.
    public func studyNames() throws -> [String] {
        try storeOperation("listing studies") {
            guard try hasStudyTables() else { return [] }
            return try database.cachedStatement("SELECT name FROM studies ORDER BY name").rows([]) { $0.text(0) }
        }
    }

    private func hasStudyTables() throws -> Bool {
        try database.cachedStatement("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'studies'")
            .rows([]) { _ in true }.first ?? false
    }

    /// Every rung result of a study, by trial then rung, each with its runs.
    public func studyRungs(_ study: Int64) throws -> [StudyRungRecord] {
        try storeOperation("reading a study's results") {
            let runs = try database.cachedStatement("""
                SELECT trial, rung, position, run_id, value FROM study_rung_runs WHERE study = ? ORDER BY trial, rung, position
                """).rows([.integer(study)]) { row in
                (trial: Int(row.int64(0)), rung: Int(row.int64(1)),
                 value: StudyRunValue(position: Int(row.int64(2)), runID: row.text(3), value: row.isNull(4) ? nil : row.double(4)))
            }
            let grouped = Dictionary(grouping: runs) { "\($0.trial)/\($0.rung)" }
            return try database.cachedStatement("""
                SELECT trial, rung, budget, objective, iterations FROM study_rungs WHERE study = ? ORDER BY trial, rung
                """).rows([.integer(study)]) { row in
                let trial = Int(row.int64(0)), rung = Int(row.int64(1))
                return StudyRungRecord(
                    trial: trial, rung: rung, budget: Int(row.int64(2)), objective: row.isNull(3) ? nil : row.double(3),
                    iterations: Int(row.int64(4)), runs: (grouped["\(trial)/\(rung)"] ?? []).map(\.value))
            }
        }
    }

    /// Records a trial's result at a rung with its runs, once: a second writer of the same trial-rung (the
    /// same deterministic result) changes nothing. Returns whether this call wrote it.
    @discardableResult
    public func recordStudyRung(_ study: Int64, trial: Int, rung: Int, budget: Int, objective: Double?, iterations: Int,
                                runs: [StudyRunValue]) throws -> Bool {
        try storeOperation("recording trial \(trial) at rung \(rung)") {
            try database.transaction(.immediate) {
                try database.cachedStatement("""
                    INSERT OR IGNORE INTO study_rungs (study, trial, rung, budget, objective, runs, iterations, recorded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """).run([
                        .integer(study), .integer(Int64(trial)), .integer(Int64(rung)), .integer(Int64(budget)),
                        objective.map { .real($0) } ?? .null, .integer(Int64(runs.count)), .integer(Int64(iterations)),
                        .text(Timestamp.now()),
                    ])
                guard database.changes == 1 else { return false }
                let insert = try database.cachedStatement("""
                    INSERT INTO study_rung_runs (study, trial, rung, position, run_id, value) VALUES (?, ?, ?, ?, ?, ?)
                    """)
                for run in runs {
                    try insert.run([.integer(study), .integer(Int64(trial)), .integer(Int64(rung)), .integer(Int64(run.position)),
                                    .text(run.runID), run.value.map { .real($0) } ?? .null])
                }
                return true
            }
        }
    }

    /// The mean over iterations 0..<`upTo` of a run's greedy normalized reward: the area under its
    /// greedy-reward curve divided by the budget. Nil when those iterations are not all recorded.
    public func meanGreedyReward(ofRun runID: String, upTo iterations: Int) throws -> Double? {
        try storeOperation("reading run \(runID)'s greedy rewards") {
            let rows = try database.cachedStatement("""
                SELECT count(*), sum(s.normalized_reward) FROM runs AS r
                JOIN iteration_metrics AS s ON s.run = r.id
                WHERE r.run_id = ? AND s.iteration < ?
                """).rows([.text(runID), .integer(Int64(iterations))]) { row in
                (count: Int(row.int64(0)), sum: row.isNull(1) ? nil : row.double(1))
            }
            guard let first = rows.first, first.count == iterations, let sum = first.sum else { return nil }
            return sum / Double(iterations)
        }
    }

    /// Copies the input's studies (attached as `input`) into this database: a study absent here is added,
    /// one here with the same spec gains the input's trial-rungs it lacks (results are deterministic, so a
    /// trial-rung present in both is the same), one here with another spec is left alone and named in the
    /// returned notes. Run ids follow the runs: one the merge renamed, or one whose configuration was
    /// already here under another id, is rewritten to the id the run has here.
    /// Returns nil, without a transaction, when the input holds no study.
    func mergeStudies(renamed: [String: String]) throws -> [String]? {
        guard try database.prepare("SELECT 1 FROM input.studies LIMIT 1")
            .rows([], { _ in true }).first ?? false else { return nil }
        var notes: [String] = []
        let inputStudies = try database.prepare("SELECT id, name, spec, spec_hash, objective, direction, created_at FROM input.studies ORDER BY id")
            .rows([]) { row -> (Int64, String, String, String, String, String, String) in
                (row.int64(0), row.text(1), row.text(2), row.text(3), row.text(4), row.text(5), row.text(6))
            }
        try database.transaction(.immediate) {
            for (inputID, name, spec, hash, objective, direction, created) in inputStudies {
                let here = try database.prepare("SELECT id, spec_hash FROM main.studies WHERE name = ?")
                    .rows([.text(name)]) { ($0.int64(0), $0.text(1)) }.first
                let id: Int64
                if let here {
                    guard here.1 == hash else {
                        notes.append("study \(name) is recorded here with another spec; the input's results of it were not merged")
                        continue
                    }
                    id = here.0
                } else {
                    try database.prepare("""
                        INSERT INTO main.studies (name, spec, spec_hash, objective, direction, created_at) VALUES (?, ?, ?, ?, ?, ?)
                        """).run([.text(name), .text(spec), .text(hash), .text(objective), .text(direction), .text(created)])
                    id = database.lastInsertRowID
                }
                try database.prepare("""
                    INSERT OR IGNORE INTO main.study_trials (study, trial, bracket, settings)
                    SELECT ?, trial, bracket, settings FROM input.study_trials WHERE study = ?
                    """).run([.integer(id), .integer(inputID)])
                let newRungs = try database.prepare("""
                    SELECT trial, rung FROM input.study_rungs AS i WHERE study = ?1
                      AND NOT EXISTS (SELECT 1 FROM main.study_rungs AS m WHERE m.study = ?2 AND m.trial = i.trial AND m.rung = i.rung)
                    """).rows([.integer(inputID), .integer(id)]) { ($0.int64(0), $0.int64(1)) }
                let copyRung = try database.prepare("""
                    INSERT INTO main.study_rungs (study, trial, rung, budget, objective, runs, iterations, recorded_at)
                    SELECT ?, trial, rung, budget, objective, runs, iterations, recorded_at FROM input.study_rungs
                    WHERE study = ? AND trial = ? AND rung = ?
                    """)
                let inputRuns = try database.prepare("""
                    SELECT i.position, i.run_id, i.value,
                           (SELECT m.run_id FROM main.runs AS m JOIN input.runs AS r ON r.config_hash = m.config_hash
                            WHERE r.run_id = i.run_id ORDER BY m.id LIMIT 1)
                    FROM input.study_rung_runs AS i WHERE study = ? AND trial = ? AND rung = ? ORDER BY position
                    """)
                let insertRun = try database.prepare("""
                    INSERT INTO main.study_rung_runs (study, trial, rung, position, run_id, value) VALUES (?, ?, ?, ?, ?, ?)
                    """)
                for (trial, rung) in newRungs {
                    try copyRung.run([.integer(id), .integer(inputID), .integer(trial), .integer(rung)])
                    let runs = try inputRuns.rows([.integer(inputID), .integer(trial), .integer(rung)]) { row in
                        (row.int64(0), row.text(1), row.value(2), row.isNull(3) ? nil : row.text(3))
                    }
                    for (position, runID, value, sameConfiguration) in runs {
                        let mapped = renamed[runID] ?? sameConfiguration ?? runID
                        try insertRun.run([.integer(id), .integer(trial), .integer(rung), .integer(position), .text(mapped), value])
                    }
                }
            }
        }
        return notes
    }
}

/// The refusals of `tune`'s store side, as one line each.
enum StudyRefusal {
    static func edited(name: String, stored: String, now: String) -> String {
        let changed = StudySpecDifference.changedKeys(stored: stored, now: now)
        return "study \(name) is recorded with a different spec: \(changed.isEmpty ? "its text" : changed.joined(separator: ", ")) changed since; "
            + "restore the spec or give the study a new name"
    }
}

/// What differs between two canonical study specs (JSON texts), for the refusal of an edited spec. Here,
/// beside the refusal, so the store needs nothing from the orchestration in Tune/.
public enum StudySpecDifference {
    /// The keys (one level into objects: `search.lr`, `budget.reduction`) whose values differ between two
    /// canonical specs, sorted; what a refusal of an edited spec names.
    public static func changedKeys(stored: String, now: String) -> [String] {
        func parse(_ text: String) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        }
        func text(_ value: Any?) -> String {
            guard let value else { return "" }
            guard JSONSerialization.isValidJSONObject([value]),
                  let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]) else { return "\(value)" }
            return String(decoding: data, as: UTF8.self)
        }
        let a = parse(stored), b = parse(now)
        var changed: [String] = []
        for key in Set(a.keys).union(b.keys).sorted() where text(a[key]) != text(b[key]) {
            if let x = a[key] as? [String: Any], let y = b[key] as? [String: Any] {
                changed += Set(x.keys).union(y.keys).sorted().filter { text(x[$0]) != text(y[$0]) }.map { "\(key).\($0)" }
            } else {
                changed.append(key)
            }
        }
        return changed
    }
}
