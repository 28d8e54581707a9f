import Foundation
import Learning
import Scheduling
import SQLite
import Testing
import TestSupport
@testable import TrackerApp
@testable import TrackerStore

/// Migration 0009_imported_runs rebuilds `runs` (to admit imported algorithm names): a database at the
/// previous version keeps every run and every row that references one, its triggers and its view.
@Suite struct ImportedRunsSchemaTests {
    static let importVersion = Schema.migrations.first { $0.name == "imported_runs" }!.version

    @Test func aDatabaseAtThePreviousVersionMigratesWithItsRunsIntact() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("v-before.db")
        let old = try Database(path: path)
        try Migrator(Array(Schema.migrations.prefix(Self.importVersion - 1))).migrate(old)
        try old.execute("""
            INSERT INTO frames (frame_id, fingerprint, n, source, uplink_rate, cpu_hz, zeta, fifo_objective,
                edf_objective, spt_objective, johnson_objective, created_at)
            VALUES (7, 'x', 2, 'file', 1, 1, 0, 1, 1, 1, 1, '2026-01-01T00:00:00.000Z');
            INSERT INTO frame_actions VALUES (7, 0, 1.5, 0, 0.75);
            INSERT INTO runs (id, run_id, algorithm, n, phi, seed, frame_id, status, created_at, planned_iterations,
                done_iterations, tracker_version, host, label, config_hash)
            VALUES (41, 'aaaa1111', 'dteql', 2, 1, 3, 7, 'finished', '2026-01-01T00:00:00.000Z', 2, 2, 'old', 'h', 'study', 'c1'),
                   (42, 'bbbb2222', 'ql', 2, 0, 4, 7, 'interrupted', '2026-01-01T00:00:00.000Z', 5, 1, 'old', 'h', NULL, 'c2');
            INSERT INTO run_params (run, delta, learning_rate, discount, epsilon_start, epsilon_min, epsilon_decay, reward,
                checkpoint_every) VALUES (41, 1, 0.1, 0.9, 1, 0.1, 5000, 'ratio', 1), (42, 1, 0.1, 0.9, 1, 0.1, 5000, 'ratio', 1);
            INSERT INTO metrics VALUES (41, 0, 0, 1.0, 0, 1), (41, 1, 0, 1.0, 0, 1), (42, 0, 0, 1.0, 0, 1);
            INSERT INTO checkpoints VALUES (42, 1, 1, x'00', 1, 'd', '2026-01-01T00:00:00.000Z');
            INSERT INTO run_summaries VALUES (41, 2, 0, '[0,1]', 1.5, 1, 0, 0.75, 1, 0, 0, 1, 0.1, 20, 'q');
            INSERT INTO run_tags VALUES (41, 'k', 'v');
            INSERT INTO run_notes VALUES (42, 'a note');
            INSERT INTO run_labels VALUES (41, 'adopted');
            """)
        let store = try TrackerStore(path: path)
        let db = store.database
        #expect(try store.schemaVersion == Schema.latestVersion)
        let runs = try db.prepare("SELECT id, run_id, algorithm, status, label, origin FROM runs ORDER BY id")
            .rows { "\($0.int(0)) \($0.text(1)) \($0.text(2)) \($0.text(3)) \($0.isNull(4) ? "-" : $0.text(4)) \($0.text(5))" }
        #expect(runs == ["41 aaaa1111 dteql finished study tracker", "42 bbbb2222 ql interrupted - tracker"])
        // Nothing that references a run went with the old table (foreign keys were off around the rebuild).
        for (table, count) in [("metrics", 3), ("checkpoints", 1), ("run_summaries", 1), ("run_params", 2), ("run_tags", 1),
                               ("run_notes", 1), ("run_labels", 2)] {
            #expect(try db.scalar("SELECT count(*) FROM \(table)") == .integer(Int64(count)), "\(table)")
        }
        #expect(try db.scalar("SELECT count(*) FROM iteration_metrics") == .integer(3))
        #expect(try db.scalar("PRAGMA foreign_key_check") == nil)
        #expect(try db.foreignKeysEnabled)
        // The triggers of 0007 and 0008 are back: one run per configuration, the label a membership.
        #expect(throws: SQLiteError.self) {
            try db.execute("""
                INSERT INTO runs (run_id, algorithm, n, phi, seed, frame_id, status, created_at, planned_iterations,
                    tracker_version, host, config_hash) VALUES ('cccc', 'ql', 2, 0, 1, 7, 'finished', 't', 1, 'v', 'h', 'c1')
                """)
        }
        // A built-in algorithm name is refused for an imported run, an unknown one for a tracker run.
        #expect(throws: SQLiteError.self) {
            try db.execute("""
                INSERT INTO runs (run_id, algorithm, n, phi, seed, frame_id, status, created_at, planned_iterations,
                    tracker_version, host, config_hash, origin) VALUES ('dddd', 'QL', 2, 0, 1, 7, 'finished', 't', 1, 'v', 'h', 'c9', 'imported')
                """)
        }
        #expect(throws: SQLiteError.self) {
            try db.execute("""
                INSERT INTO runs (run_id, algorithm, n, phi, seed, frame_id, status, created_at, planned_iterations,
                    tracker_version, host, config_hash) VALUES ('eeee', 'mine', 2, 0, 1, 7, 'finished', 't', 1, 'v', 'h', 'c8')
                """)
        }
        // Deleting a run still cascades (the references name the new table).
        try db.execute("DELETE FROM runs WHERE id = 41")
        #expect(try db.scalar("SELECT count(*) FROM metrics") == .integer(1))
        #expect(try db.scalar("SELECT count(*) FROM run_labels") == .integer(0))
        // And the store records new runs as before.
        _ = try finish(try RunSession.start(smallSpecification(algorithm: .ql, iterations: 10), in: store))
    }

    /// A rebuild that would leave a dangling reference is rolled back whole, and foreign keys are back on.
    @Test func aForeignKeysOffMigrationThatBreaksAReferenceIsRolledBack() throws {
        let dir = try TemporaryDirectory()
        let db = try Database(path: dir.path("fk.db"))
        let first = Migration(version: 1, name: "a", sql: """
            CREATE TABLE parent (id INTEGER PRIMARY KEY) STRICT;
            CREATE TABLE child (parent INTEGER REFERENCES parent (id) ON DELETE CASCADE) STRICT;
            INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1);
            """)
        let breaking = Migration(version: 2, name: "b", sql: Migration.foreignKeysOffMarker + "\nDELETE FROM parent;")
        #expect(throws: MigrationError.self) { try Migrator([first, breaking]).migrate(db) }
        #expect(try db.userVersion == 1)
        #expect(try db.scalar("SELECT count(*) FROM parent") == .integer(1))
        #expect(try db.scalar("SELECT count(*) FROM child") == .integer(1))
        #expect(try db.foreignKeysEnabled)
    }
}
