import Foundation
import SQLite
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `tracker ui` keeps its read-only stores open between requests (docs/ui.md, "Connections"): these
/// check, against a real server process and real files changed behind its back, that a kept store never
/// serves a file the path no longer names, a schema it does not know, or an old snapshot.
@Suite(.serialized) struct UIStoreReuseTests {
    /// The ids of the runs `/api/runs` lists, and its total.
    static func listedRuns(_ server: UIServer) throws -> (total: Int, ids: Set<String>) {
        let response = try server.get("/api/runs")
        #expect(response.status == 200, "\(response.body)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
        let ids = (object["runs"] as? [[String: Any]] ?? []).compactMap { $0["run_id"] as? String }
        return (object["total"] as? Int ?? -1, Set(ids))
    }

    /// Two runs in a database at `dir/ui.db`, switched to a rollback journal so the file is the whole
    /// database (no -wal or -shm of its own travels with it or stays behind when it is moved).
    static func databaseWithoutLog(_ dir: TemporaryDirectory) throws -> (path: String, runs: Set<String>) {
        let (path, hostile, plain) = try UICommandTests.makeDatabase(dir)
        try Database(path: path).execute("PRAGMA journal_mode = DELETE")
        return (path, [hostile, plain])
    }

    @Test func aFileReplacedByAnotherDatabaseIsServedAfresh() throws {
        let first = try TemporaryDirectory(prefix: "tracker-ui"), second = try TemporaryDirectory(prefix: "tracker-ui")
        let (db, firstRuns) = try Self.databaseWithoutLog(first)
        let (other, secondRuns) = try Self.databaseWithoutLog(second)
        #expect(firstRuns.isDisjoint(with: secondRuns))
        let server = try UIServer(database: db)
        #expect(try Self.listedRuns(server).ids == firstRuns)
        #expect(try Self.listedRuns(server).ids == firstRuns, "a second request on the kept store")
        // As `mv other.db ui.db` does: the path now names another file.
        #expect(rename(other, db) == 0)
        #expect(try Self.listedRuns(server).ids == secondRuns, "the replacement is served, not the kept store's file")
        let page = try server.get("/")
        #expect(page.status == 200 && secondRuns.allSatisfy { page.body.contains(">\($0)</a>") })
        #expect(!firstRuns.contains { page.body.contains($0) })
        #expect(try server.get("/runs/\(firstRuns.first!)").status == 404, "a run of the old file is gone")
        // A file that is no database at all, moved over the path: an error page, then fine again.
        let text = second.path("notes.db")
        try String(repeating: "not a database\n", count: 100).write(toFile: text, atomically: false, encoding: .utf8)
        #expect(rename(db, second.path("kept.db")) == 0 && rename(text, db) == 0)
        let refused = try server.get("/")
        #expect(refused.status == 503 && refused.body.contains("file is not a database"), "\(refused.body.prefix(300))")
        #expect(rename(second.path("kept.db"), db) == 0)
        #expect(try Self.listedRuns(server).ids == secondRuns)
        #expect(server.stop() == 0)
    }

    @Test func aLockedFileIsAnErrorPageAndServedOnceReleased() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui")
        let (db, runs) = try Self.databaseWithoutLog(dir)
        let server = try UIServer(database: db)
        #expect(try Self.listedRuns(server).ids == runs)
        // In rollback-journal mode a writer's EXCLUSIVE transaction keeps readers out: the kept store
        // waits its 2 s busy timeout, answers 503, and the server goes on.
        let writer = try Database(path: db)
        try writer.execute("BEGIN EXCLUSIVE")
        let started = Date()
        let locked = try server.get("/")
        #expect(locked.status == 503 && locked.body.contains("locked"), "\(locked.status) \(locked.body.prefix(300))")
        #expect(Date().timeIntervalSince(started) < 8, "one busy timeout, not a wait per retry")
        try writer.execute("COMMIT")
        #expect(try Self.listedRuns(server).ids == runs)
        #expect(server.stop() == 0)
    }

    @Test func aDeletedFileIsAnErrorPageUntilOneIsBack() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui"), spare = try TemporaryDirectory(prefix: "tracker-ui")
        let (db, runs) = try Self.databaseWithoutLog(dir)
        let (other, otherRuns) = try Self.databaseWithoutLog(spare)
        let server = try UIServer(database: db)
        #expect(try Self.listedRuns(server).ids == runs)
        try FileManager.default.removeItem(atPath: db)
        for path in ["/", "/runs/\(runs.first!)", "/compare?n=5"] {
            let page = try server.get(path)
            #expect(page.status == 503 && page.body.contains("no such file"), "\(path): \(page.status) \(page.body.prefix(300))")
        }
        let api = try server.get("/api/runs")
        #expect(api.status == 503 && api.body.contains("\"error\"") && api.body.contains("no such file"))
        #expect(!FileManager.default.fileExists(atPath: db), "a read-only dashboard creates nothing")
        #expect(rename(other, db) == 0)
        #expect(try Self.listedRuns(server).ids == otherRuns, "served again once a database is back")
        #expect(server.stop() == 0)
    }

    @Test func aSchemaMigratedBeyondThisTrackerIsRefusedThenServedWhenBack() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui")
        let (db, hostile, plain) = try UICommandTests.makeDatabase(dir)
        let version = try Database(path: db).userVersion
        let server = try UIServer(database: db)
        #expect(try Self.listedRuns(server).ids == [hostile, plain])
        // What a newer tracker's migration leaves: a table this one does not know and a higher version.
        let writer = try Database(path: db)
        try writer.transaction {
            try writer.execute("CREATE TABLE from_the_future (x INTEGER)")
            try writer.setUserVersion(version + 1)
        }
        for path in ["/", "/runs/\(plain)", "/api/runs"] {
            let page = try server.get(path)
            #expect(page.status == 503 && page.body.contains("newer than this tracker supports"), "\(path): \(page.body.prefix(300))")
        }
        try writer.transaction {
            try writer.execute("DROP TABLE from_the_future")
            try writer.setUserVersion(version)
        }
        #expect(try Self.listedRuns(server).ids == [hostile, plain])
        #expect(server.stop() == 0)
    }

    @Test func commitsOfOtherProcessesShowInTheNextRequest() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui")
        let (db, hostile, plain) = try UICommandTests.makeDatabase(dir)
        let server = try UIServer(database: db)
        #expect(try Self.listedRuns(server) == (2, [hostile, plain]))
        #expect(try server.get("/").body.contains("2 runs"))
        let result = try CLI.run(["run", "--db", db, "--quiet", "--format", "json", "--algo", "ql", "--n", "4", "--seed", "9", "--iterations", "50"])
        #expect(result.status == 0, "\(result.stderr)")
        let added = try #require((try CLI.json(result) as? [String: Any])?["run_id"] as? String)
        #expect(try Self.listedRuns(server) == (3, [hostile, plain, added]), "a run committed after the first request")
        #expect(try server.get("/").body.contains("3 runs"))
        #expect(try CLI.run(["tag", added, "seen=later", "--db", db]).status == 0)
        #expect(try server.get("/").body.contains("<span class=\"tag\">seen=later</span>"), "a change to an existing run")
        // Between requests the server holds no read snapshot: a truncating checkpoint, which waits for
        // every reader of the log, completes at once.
        let writer = try Database(path: db, busyTimeoutMilliseconds: 0)
        let busy = try writer.prepare("PRAGMA wal_checkpoint(TRUNCATE)").rows { $0.int(0) }
        #expect(busy == [0], "no reader holds the log")
        #expect(try Self.listedRuns(server).total == 3)
        #expect(server.stop() == 0)
    }

    @Test func manyParallelRequestsAllSucceed() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui")
        let (db, hostile, plain) = try UICommandTests.makeDatabase(dir)
        let server = try UIServer(database: db)
        let paths = ["/", "/api/runs", "/runs/\(plain)", "/api/runs/\(hostile)/progress", "/?sort=ratio&dir=asc", "/compare?n=5",
                     "/runs/nosuchrun"]
        final class Failures: @unchecked Sendable {
            let lock = NSLock()
            var list: [String] = []
            func add(_ text: String) { lock.withLock { list.append(text) } }
        }
        let failures = Failures()
        // get() only reads the server's port and opens a socket of its own per request.
        nonisolated(unsafe) let sharedServer = server
        // 16 clients at once, 20 requests each: more clients than the server keeps stores, on both of its
        // event-loop threads, bounded in count (each request has a 10 s socket timeout).
        DispatchQueue.concurrentPerform(iterations: 16) { client in
            for index in 0..<20 {
                let path = paths[(client + index) % paths.count]
                do {
                    let response = try sharedServer.get(path)
                    let expected = path == "/runs/nosuchrun" ? 404 : 200
                    if response.status != expected { failures.add("\(path): \(response.status) \(response.body.prefix(200))") }
                    if path == "/" && !response.body.contains("2 runs") { failures.add("/: no total") }
                } catch {
                    failures.add("\(path): \(error)")
                }
            }
        }
        #expect(failures.list.isEmpty, "\(failures.list.prefix(5))")
        #expect(try Self.listedRuns(server) == (2, [hostile, plain]))
        #expect(server.stop() == 0)
    }
}
