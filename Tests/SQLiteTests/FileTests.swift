import Foundation
import Testing
import CSQLite
import SQLite
import TestSupport

@Suite struct FileTests {
    @Test func readOnlyModeRejectsWrites() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("ro.db")
        do {
            let db = try Database(path: path)
            try db.execute("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        }
        let db = try Database(path: path, mode: .readOnly)
        #expect(try db.scalar("SELECT x FROM t") == .integer(1))
        let error = #expect(throws: SQLiteError.self) { try db.execute("INSERT INTO t VALUES (2)") }
        #expect(error?.primaryCode == SQLITE_READONLY)
        #expect(error?.isReadOnly == true)
        #expect(throws: SQLiteError.self) { try db.setUserVersion(3) }
    }

    @Test func readWriteModeNeedsAnExistingFile() throws {
        let dir = try TemporaryDirectory()
        let error = #expect(throws: SQLiteError.self) { try Database(path: dir.path("missing.db"), mode: .readWrite) }
        #expect(error?.isCantOpen == true)
        #expect(error?.message.contains("missing.db") == true)
        #expect(!FileManager.default.fileExists(atPath: dir.path("missing.db")))
    }

    // From 2 bytes up: SQLite's unix VFS reports a 1-byte file as empty on purpose (it may write that
    // byte itself on some filesystems, ticket #3260), so a 1-byte file opens as an empty database.
    @Test(arguments: [2, 100, 5000])
    func nonDatabaseFileFailsAtOpenAndIsLeftUnchanged(_ size: Int) throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("notes.txt")
        let text = Data(String(repeating: "not a database, just some notes\n", count: size / 32 + 1).prefix(size).utf8)
        try text.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: SQLiteError.self) { try Database(path: path) }
        #expect(error?.extendedCode == SQLITE_NOTADB)
        #expect(error?.isNotADatabase == true)
        #expect(error?.message.contains(path) == true)
        #expect(error?.sql == nil)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == text)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.url.path)
        #expect(leftovers == ["notes.txt"])
    }

    @Test func openingDoesNotWrite() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("plain.db")
        do {
            let db = try Database(path: path)
            try db.execute("CREATE TABLE t(x)")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            let db = try Database(path: path)
            #expect(try db.userVersion == 0)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func walIsReallyOnAndPersistent() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("wal.db")
        let db = try Database(path: path)
        try db.enableWAL()
        try db.execute("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        #expect(try db.scalar("PRAGMA synchronous") == .integer(1)) // NORMAL
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        let other = try Database(path: path)
        #expect(try other.scalar("PRAGMA journal_mode") == .text("wal"))
        // Header bytes 18 and 19 are the read/write format versions: 2 means WAL.
        let header = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(20)
        #expect(header.count == 20 && header[18] == 2 && header[19] == 2)
        try db.enableWAL() // idempotent
    }

    @Test func walCannotBeEnabledInMemory() throws {
        let db = try Database(path: ":memory:")
        let error = #expect(throws: SQLiteError.self) { try db.enableWAL() }
        #expect(error?.message.contains("memory") == true)
    }

    @Test func concurrentEnableWALOnANewFile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("race.db")
        let failures = runConcurrently(4) { _ in
            let db = try Database(path: path)
            try db.enableWAL()
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(try Database(path: path).scalar("PRAGMA journal_mode") == .text("wal"))
    }
}
