import Foundation
import SQLite
import Testing
import TestSupport

/// `--db` is a plain path with one rule for every command: no SQLite URI, no `:memory:`, only regular
/// files; a database of another program is refused byte-identical; commands that only read or clean
/// never create a database.
@Suite(.serialized) struct DatabasePathTests {
    /// Every byte of a file and the sorted names beside it: what must not change.
    static func fingerprint(_ path: String) throws -> [Data] {
        let folder = (path as NSString).deletingLastPathComponent
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        return [try Data(contentsOf: URL(fileURLWithPath: path)), Data(names.joined(separator: "/").utf8)]
    }

    static let spec = #"{"n": [4], "configurations": [{"algorithm": "ql"}], "iterations": 20}"#

    /// Every command that takes a database, as it would run against `db`.
    static func everyDatabaseCommand(db: String, dir: TemporaryDirectory, runDB: String) -> [[String]] {
        [
            ["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "20", "--quiet"],
            ["sweep", dir.path("spec.json"), "--db", db, "--quiet", "--jobs", "1"],
            ["sweep", dir.path("spec.json"), "--db", db, "--dry-run"],
            ["reproduce", "--db", db, "--quick", "--dry-run"],
            ["merge", db, runDB],
            ["merge", dir.path("merged.db"), db],
            ["gc", "--db", db],
            ["delete", "x", "--yes", "--db", db],
            ["resume", "x", "--db", db],
            ["list", "--db", db],
            ["show", "x", "--db", db],
            ["compare", "--db", db],
            ["query", "runs_by_label", "--param", "label=x", "--db", db],
            ["sql", "--db", db, "SELECT 1"],
            ["plot", "--db", db, "--n", "4", "--out", dir.path("p.svg")],
        ]
    }

    static func setUp() throws -> (TemporaryDirectory, String) {
        let dir = try TemporaryDirectory()
        try spec.write(toFile: dir.path("spec.json"), atomically: true, encoding: .utf8)
        let runDB = dir.path("runs.db")
        let made = try CLI.run(["run", "--db", runDB, "--algo", "ql", "--n", "4", "--iterations", "20", "--quiet"])
        #expect(made.status == 0, "\(made.stderr)")
        return (dir, runDB)
    }

    /// A command under a hard 30 s bound: on a FIFO, opening it to read would wait forever.
    static func bounded(_ arguments: [String]) throws -> CLI.Result {
        try CLI.run(arguments, prelude: "set -- timeout -s KILL 30 \"$@\"")
    }

    @Test(arguments: ["delete", "wal"])
    func aDatabaseOfAnotherProgramIsRefusedByteIdentical(journal: String) throws {
        let (dir, runDB) = try Self.setUp()
        // In a folder of its own, so that any file appearing beside it shows.
        try FileManager.default.createDirectory(atPath: dir.path("theirs"), withIntermediateDirectories: false)
        let foreign = dir.path("theirs/theirs.sqlite")
        do {
            let database = try Database(path: foreign)
            try database.execute("PRAGMA journal_mode = \(journal == "wal" ? "WAL" : "DELETE")")
            try database.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO runs (note) VALUES ('mine')")
        }
        let before = try Self.fingerprint(foreign)
        for arguments in Self.everyDatabaseCommand(db: foreign, dir: dir, runDB: runDB) {
            let result = try Self.bounded(arguments)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.errorLines.count == 1 && result.stderr.contains("not a tracker database"),
                    "\(arguments): \(result.stderr)")
            #expect(try Self.fingerprint(foreign) == before, "\(arguments) changed \(foreign) or left files")
        }
    }

    @Test func nonRegularFilesAreRefusedAtOnce() throws {
        let (dir, runDB) = try Self.setUp()
        let fifo = dir.path("pipe")
        #expect(mkfifo(fifo, 0o644) == 0)
        let journalExisted = FileManager.default.fileExists(atPath: "/dev/null-journal")
        for (path, kind) in [(fifo, "a FIFO"), ("/dev/null", "a character device"), (dir.url.path, "a directory")] {
            for arguments in Self.everyDatabaseCommand(db: path, dir: dir, runDB: runDB) {
                let result = try Self.bounded(arguments)
                #expect(result.status == 1, "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains("cannot open database \(path): not a regular file (\(kind))"),
                        "\(arguments): \(result.stderr)")
            }
        }
        var status = stat()
        #expect(stat(fifo, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO)
        if !journalExisted { #expect(!FileManager.default.fileExists(atPath: "/dev/null-journal")) }
        #expect(!FileManager.default.fileExists(atPath: dir.path("merged.db")), "merge created its output for a bad input")
    }

    @Test func readingAndCleaningCommandsNeverCreateADatabase() throws {
        let (dir, runDB) = try Self.setUp()
        let missing = dir.path("missing.db")
        let writers: Set = ["run", "sweep", "merge"]
        for arguments in Self.everyDatabaseCommand(db: missing, dir: dir, runDB: runDB)
        where !writers.contains(arguments[0]) || arguments.contains("--dry-run") {
            let result = try Self.bounded(arguments)
            if arguments.contains("--dry-run") {
                // A plan needs no database: every run would start, and it says so.
                #expect(result.status == 0, "\(arguments): \(result.stderr)")
                #expect(result.errorLines == ["note: \(missing) does not exist yet: every run would start (nothing was created)"],
                        "\(arguments): \(result.stderr)")
            } else {
                #expect(result.status == 1, "\(arguments): \(result.stderr)")
                #expect(result.errorLines == ["Error: cannot open database \(missing): no such file"], "\(arguments): \(result.stderr)")
            }
            #expect(!FileManager.default.fileExists(atPath: missing), "\(arguments) created \(missing)")
        }
    }

    /// Issue 22: a command that only reads leaves the directory as it found it. A read-only connection
    /// to a WAL database makes `-wal` and `-shm` and cannot remove them; where the file is writable and
    /// no writer is active, tracker reads through a connection that can (query_only, nothing written).
    @Test func readingCommandsLeaveNoWalOrShmBehind() throws {
        let (dir, runDB) = try Self.setUp()
        let before = try Self.fingerprint(runDB)
        #expect(!FileManager.default.fileExists(atPath: runDB + "-wal"))
        let ids = try CLI.run(["sql", "SELECT run_id FROM runs", "--db", runDB, "--format", "csv"])
        let runID = try #require(ids.stdout.split(separator: "\n").dropFirst().first.map(String.init))
        let elsewhere = try TemporaryDirectory()
        for arguments in [["list"], ["show", runID], ["compare"], ["sql", "SELECT count(*) FROM runs"],
                          ["query", "run_history", "--param", "run_id=\(runID)"], ["plot", "--n", "4", "--out", elsewhere.path("fig.svg")],
                          ["sweep", dir.path("spec.json"), "--status"], ["sweep", dir.path("spec.json"), "--dry-run"]] {
            let result = try CLI.run(arguments + ["--db", runDB])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(try Self.fingerprint(runDB) == before, "\(arguments) left something beside the database")
        }
    }

    /// `:memory:` keeps nothing, so it is refused; `file:` is a file name like any other, for every command.
    @Test func memoryIsRefusedAndAFileURIIsAPlainPath() throws {
        let (dir, runDB) = try Self.setUp()
        for arguments in [
            ["run", "--db", ":memory:", "--algo", "ql", "--n", "4", "--iterations", "20", "--quiet"],
            ["sweep", dir.path("spec.json"), "--db", ":memory:", "--quiet"],
            ["merge", ":memory:", runDB],
            ["list", "--db", ":memory:"],
        ] {
            let result = try CLI.run(arguments, in: dir.url)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("cannot open database :memory:: an in-memory database keeps nothing"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path(":memory:")))

        let uri = "file:u.db?mode=memory"
        let run = try CLI.run(["run", "--db", uri, "--algo", "ql", "--n", "4", "--iterations", "20", "--quiet",
                               "--format", "json"], in: dir.url)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.path(uri)), "the run went somewhere else than ./\(uri)")
        let list = try CLI.run(["list", "--db", uri, "--format", "json"], in: dir.url)
        #expect(list.status == 0, "\(list.stderr)")
        #expect((try CLI.json(list) as? [Any])?.count == 1)
        let merged = try CLI.run(["merge", dir.path("merged.db"), uri], in: dir.url)
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stderr.contains("1 runs added"), "\(merged.stderr)")
    }
}
