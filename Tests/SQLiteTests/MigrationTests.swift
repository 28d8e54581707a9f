import Foundation
import Testing
import SQLite
import TestSupport

/// Each migration logs the user_version it saw, so order and exactly-once are both checkable.
private let logged: [Migration] = [
    Migration(version: 1, name: "log", sql: """
        CREATE TABLE log(seen INTEGER NOT NULL);
        INSERT INTO log SELECT user_version FROM pragma_user_version;
        """),
    Migration(version: 2, name: "frames", sql: """
        CREATE TABLE frames(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        INSERT INTO log SELECT user_version FROM pragma_user_version;
        """),
    Migration(version: 3, name: "frames_index", sql: """
        CREATE INDEX frames_name ON frames(name);
        INSERT INTO log SELECT user_version FROM pragma_user_version;
        """),
]

private func log(_ db: Database) throws -> [Int] {
    try db.prepare("SELECT seen FROM log ORDER BY rowid").rows { $0.int(0) }
}

@Suite struct MigrationTests {
    @Test func fileNamesParse() throws {
        let m = try Migration(fileName: "0001_frames", sql: "SELECT 1")
        #expect(m.version == 1 && m.name == "frames" && m.sql == "SELECT 1")
        #expect(m.fileName == "0001_frames")
        let long = try Migration(fileName: "12_add_run-notes", sql: "")
        #expect(long.version == 12 && long.name == "add_run-notes")
        #expect(long.fileName == "0012_add_run-notes")
    }

    @Test(arguments: ["0001_frames.sql", "frames", "0001", "0001_", "_frames", "0000_zero", "x001_frames",
                      "0001_fr ames", "-001_frames", "99999999999999999999999_big"])
    func badFileNamesAreRejected(_ name: String) {
        let error = #expect(throws: MigrationError.self) { try Migration(fileName: name, sql: "") }
        #expect(error?.description.contains(name) == true)
    }

    @Test func versionsMustBeContiguousFromOne() throws {
        let unsorted = try Migrator([logged[2], logged[0], logged[1]])
        #expect(unsorted.migrations.map(\.version) == [1, 2, 3])
        #expect(unsorted.latestVersion == 3)
        #expect(try Migrator([]).latestVersion == 0)
        for bad in [[logged[0], logged[2]], [logged[1]], [logged[0], logged[0]]] {
            let error = #expect(throws: MigrationError.self) { try Migrator(bad) }
            #expect(error?.description.contains("without gaps") == true)
        }
    }

    @Test func appliesInOrderRecordingUserVersion() throws {
        let db = try Database(path: ":memory:")
        #expect(try Migrator(Array(logged.prefix(2))).migrate(db) == [1, 2])
        #expect(try db.userVersion == 2)
        #expect(try Migrator(logged).migrate(db) == [3])
        #expect(try db.userVersion == 3)
        #expect(try log(db) == [0, 1, 2])
        #expect(try Migrator(logged).migrate(db) == [])
        #expect(try log(db) == [0, 1, 2])
    }

    @Test func failingMigrationRollsBackAndNamesItself() throws {
        let db = try Database(path: ":memory:")
        let broken = Migration(version: 2, name: "broken", sql: """
            CREATE TABLE half(x);
            INSERT INTO nowhere VALUES (1);
            """)
        let error = #expect(throws: MigrationError.self) { try Migrator([logged[0], broken]).migrate(db) }
        guard case .failed(let version, let name, let underlying)? = error else {
            Issue.record("unexpected \(String(describing: error))"); return
        }
        #expect(version == 2 && name == "broken")
        #expect(underlying.sql == "INSERT INTO nowhere VALUES (1);")
        #expect(error?.description.contains("0002_broken") == true)
        #expect(error?.description.contains("INSERT INTO nowhere") == true)
        #expect(try db.userVersion == 1)
        #expect(try db.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'half'") == .integer(0))
        #expect(!db.isInTransaction)
        // The fixed migration then applies.
        #expect(try Migrator(Array(logged.prefix(2))).migrate(db) == [2])
    }

    @Test func newerDatabaseIsRefusedAndLeftByteForByteUnchanged() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("newer.db")
        do {
            let db = try Database(path: path)
            try db.execute("CREATE TABLE future(x); INSERT INTO future VALUES (1);")
            try db.setUserVersion(7)
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            let db = try Database(path: path)
            #expect(throws: MigrationError.databaseTooNew(found: 7, supported: 3)) { try Migrator(logged).checkNotNewer(db) }
            let error = #expect(throws: MigrationError.self) { try Migrator(logged).migrate(db) }
            #expect(error == .databaseTooNew(found: 7, supported: 3))
            #expect(error?.description.contains("7") == true)
            #expect(try db.userVersion == 7)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["newer.db"])
    }

    @Test(arguments: [true, false])
    func fourConnectionsMigratingANewFileAtOnce(wal: Bool) throws {
        let dir = try TemporaryDirectory()
        for round in 0..<3 {
            let path = dir.path("shared-\(round).db")
            final class Applied: @unchecked Sendable {
                let lock = NSLock()
                var versions: [Int] = []
            }
            let applied = Applied()
            let migrator = try Migrator(logged)
            let failures = runConcurrently(4) { _ in
                let db = try Database(path: path)
                if wal { try db.enableWAL() }
                let mine = try migrator.migrate(db)
                applied.lock.lock(); applied.versions += mine; applied.lock.unlock()
            }
            #expect(failures.isEmpty, "\(failures)")
            #expect(applied.versions.sorted() == [1, 2, 3])
            let db = try Database(path: path)
            #expect(try db.userVersion == 3)
            #expect(try log(db) == [0, 1, 2])
            #expect(try db.scalar("PRAGMA journal_mode") == .text(wal ? "wal" : "delete"))
        }
    }
}
