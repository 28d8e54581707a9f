import Foundation
import Learning
import Scheduling
import SQLite
import Testing
import TestSupport
@testable import TrackerApp
@testable import TrackerStore

@Suite struct SchemaTests {
    @Test func migrationsAreNumberedFromOneWithoutGaps() {
        #expect(!Schema.migrations.isEmpty)
        #expect(Schema.migrations.map(\.version) == Array(1...Schema.migrations.count))
        #expect(Schema.latestVersion == Schema.migrations.count)
    }

    /// Each migration applies to an empty database, and the rest upgrade a database left at any earlier version.
    @Test func everyVersionUpgradesToTheLatest() throws {
        let dir = try TemporaryDirectory()
        for version in 0...Schema.latestVersion {
            let path = dir.path("v\(version).db")
            let old = try Database(path: path)
            try Migrator(Array(Schema.migrations.prefix(version))).migrate(old)
            #expect(try old.userVersion == version)
            let store = try TrackerStore(path: path)
            #expect(try store.schemaVersion == Schema.latestVersion)
            let tables = try store.database.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
                .rows { $0.text(0) }
            for expected in ["checkpoints", "frame_actions", "frame_tasks", "frames", "iteration_metrics", "metrics",
                             "run_params", "run_summaries", "runs"] {
                #expect(tables.contains(expected), "v\(version): \(expected) missing")
            }
            #expect(try store.database.scalar("PRAGMA foreign_key_check") == nil)
        }
    }

    @Test func aDatabaseWithRunsUpgradesKeepingThem() throws {
        // A frame stored by version 1 survives the upgrade and is used by a new run.
        let dir = try TemporaryDirectory()
        let path = dir.path("old.db")
        let old = try Database(path: path)
        try Migrator(Array(Schema.migrations.prefix(1))).migrate(old)
        try old.execute("""
            INSERT INTO frames (frame_id, fingerprint, n, source, uplink_rate, cpu_hz, zeta, fifo_objective,
                edf_objective, spt_objective, johnson_objective, created_at)
            VALUES (7, 'x', 2, 'file', 1, 1, 0, 1, 1, 1, 1, '2026-01-01T00:00:00.000Z')
            """)
        let store = try TrackerStore(path: path)
        #expect(try store.database.scalar("SELECT fingerprint FROM frames WHERE frame_id = 7") == .text("x"))
        let session = try RunSession.start(smallSpecification(algorithm: .ql, iterations: 10), in: store)
        _ = try finish(session)
    }

    @Test func aNewerDatabaseIsRefusedAndLeftUnchanged() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("future.db")
        do {
            let store = try TrackerStore(path: path)
            try store.database.setUserVersion(Schema.latestVersion + 1)
        }
        let before = try Data(contentsOf: dir.url("future.db"))
        #expect {
            try TrackerStore(path: path)
        } throws: { error in
            guard case StoreError.schemaTooNew(_, let found, let supported)? = error as? StoreError else { return false }
            return found == Schema.latestVersion + 1 && supported == Schema.latestVersion
        }
        #expect(throws: StoreError.self) { try TrackerStore(path: path, access: .readOnly) }
        #expect(try Data(contentsOf: dir.url("future.db")) == before)
    }

    @Test func aFileThatIsNotADatabaseIsAClearErrorAndLeftUnchanged() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("notes.db")
        let text = String(repeating: "these are my notes, not a database\n", count: 200)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try TrackerStore(path: path)
        } throws: { error in
            String(describing: error).contains("not a database")
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
    }

    /// The issue's budget: at most 48 bytes per iteration on disk for the per-iteration metrics, indexes
    /// included, on a finished 25,600-iteration run (measured with SQLite's dbstat).
    @Test func metricRowsStayCompact() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("size.db"))
        var specification = smallSpecification(algorithm: .ql, n: 8, iterations: 25_600, checkpointEvery: 25_600)
        specification.keepCheckpoints = 1
        _ = try finish(try RunSession.start(specification, in: store))
        let bytes = try store.database.scalar("""
            SELECT sum(pgsize) FROM dbstat
            WHERE name IN ('metrics', 'frame_actions')
               OR name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('metrics', 'frame_actions'))
            """)
        guard case .integer(let total)? = bytes else { Issue.record("no dbstat answer"); return }
        let perIteration = Double(total) / 25_600
        #expect(perIteration <= 48, "\(perIteration) bytes per iteration")
        #expect(try store.database.scalar("SELECT count(*) FROM metrics") == .integer(25_600))
    }
}
