import CSQLite
import Foundation
import SQLite
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// What bounds a connection whatever the path or the SQL: opens that cannot block (a FIFO at the path),
/// a time limit per statement, and a ceiling on one value's size (issue 22).
@Suite struct LimitsTests {
    /// Runs `body` on a thread and waits at most `seconds`; false when it had not returned by then.
    static func finishes(within seconds: Double, _ body: @escaping @Sendable () -> Void) -> Bool {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            body()
            done.signal()
        }
        return done.wait(timeout: .now() + seconds) == .success
    }

    /// A FIFO at the path: opening it to read waits for a writer forever, unless SQLite's open is the
    /// non-blocking one. Every mode fails at once with SQLITE_CANTOPEN, whatever checked the path before.
    @Test(arguments: [Database.OpenMode.readOnly, .readWrite, .readWriteCreate])
    func aFIFOAtThePathFailsAtOnceInsteadOfBlocking(_ mode: Database.OpenMode) throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("pipe.db")
        #expect(mkfifo(path, 0o600) == 0)
        final class Outcome: @unchecked Sendable { var error: SQLiteError?; var opened = false }
        let outcome = Outcome()
        let finished = Self.finishes(within: 10) {
            do {
                _ = try Database(path: path, mode: mode)
                outcome.opened = true
            } catch {
                outcome.error = error as? SQLiteError
            }
        }
        if !finished {
            // Release the blocked open (a writer arrives), so the test process is not left with a stuck thread.
            let writer = open(path, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
            Issue.record("opening a FIFO blocked for 10 s")
            return
        }
        #expect(!outcome.opened)
        #expect(outcome.error?.isCantOpen == true, "\(String(describing: outcome.error))")
        #expect(Database.opensOnlyRegularFiles)
    }

    /// The same open leaves regular files as they were: a WAL database with its -wal and -shm, written
    /// and read back, and none of the connection's descriptors left non-blocking.
    @Test func regularFilesOpenAsBeforeAndBlocking() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("wal.db")
        let db = try Database(path: path)
        try db.enableWAL()
        try db.execute("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)")
        let reader = try Database(path: path, mode: .readOnly)
        #expect(try reader.scalar("SELECT sum(x) FROM t") == .integer(3))
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(FileManager.default.fileExists(atPath: path + "-shm"))
        // Every descriptor of this process on one of those files is blocking, as SQLite asked.
        var checked = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            guard let fd = Int32(name),
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)"),
                  target.hasPrefix(dir.url.resolvingSymlinksInPath().path) || target.hasPrefix(dir.url.path) else { continue }
            let flags = fcntl(fd, F_GETFL)
            #expect(flags >= 0 && flags & O_NONBLOCK == 0, "\(target) is non-blocking")
            checked += 1
        }
        #expect(checked >= 3, "the database, its -wal and its -shm are open")
        // A rollback-journal database too: the -journal is created, written and deleted through the same open.
        let journal = try Database(path: dir.path("journal.db"))
        try journal.transaction { try journal.execute("CREATE TABLE u(y); INSERT INTO u VALUES (1)") }
        #expect(try journal.scalar("SELECT count(*) FROM u") == .integer(1))
        #expect(!FileManager.default.fileExists(atPath: dir.path("journal.db-journal")))
    }

    /// A statement past the connection's time limit is interrupted; lifting the limit lets it run again.
    @Test func aStatementPastItsTimeLimitIsInterrupted() throws {
        let db = try Database(path: ":memory:")
        let endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
        db.limitTime(to: .milliseconds(200))
        #expect(db.timeLimit == .milliseconds(200))
        let started = ContinuousClock.now
        let error = #expect(throws: SQLiteError.self) { try db.scalar(endless) }
        let took = ContinuousClock.now - started
        #expect(error?.isInterrupted == true, "\(String(describing: error))")
        #expect(took >= .milliseconds(150) && took < .seconds(5), "\(took)")
        // Within the limit, statements run as usual (a new limit counts from when it is set).
        db.limitTime(to: .seconds(30))
        #expect(try db.scalar("SELECT 1 + 1") == .integer(2))
        // Without a limit, a bounded version of the same statement runs to its end.
        db.limitTime(to: nil)
        #expect(db.timeLimit == nil)
        #expect(try db.scalar("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 100000) SELECT count(*) FROM n")
                == .integer(100_000))
    }

    /// zeroblob(1e9) allocates a gigabyte unless one value's size is bounded; with the bound it fails at
    /// once with "string or blob too big", as does reading a stored value over the bound, while length()
    /// of it still answers.
    @Test func oneValueCannotExceedTheLengthLimit() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE b(x)")
        try db.prepare("INSERT INTO b VALUES (zeroblob(200000))").run()
        db.maximumValueBytes = 100_000
        #expect(db.maximumValueBytes == 100_000)
        for sql in ["SELECT zeroblob(1e9)", "SELECT length(zeroblob(1e9))", "SELECT x FROM b", "SELECT hex(x) FROM b"] {
            let error = #expect(throws: SQLiteError.self, "\(sql)") { try db.scalar(sql) }
            #expect(error?.isTooBig == true, "\(sql): \(String(describing: error))")
        }
        #expect(try db.scalar("SELECT length(x) FROM b") == .integer(200_000))
        #expect(try db.scalar("SELECT length(zeroblob(1000))") == .integer(1000))
    }
}
