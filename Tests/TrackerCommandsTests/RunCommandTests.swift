import Foundation
import SQLite
import Testing
import TestSupport

func integrityCheck(_ path: String) throws -> String {
    let database = try Database(path: path, mode: .readOnly)
    guard case .text(let verdict)? = try database.scalar("PRAGMA integrity_check") else { return "no answer" }
    return verdict
}

/// The key paths (docs/run.schema.json) of the results a resumed run must share with a straight run (times aside).
let resultKeys = ["summary.objective", "summary.normalized_reward", "summary.misses", "summary.mean_completion_s",
                  "summary.iterations_to_optimal", "summary.stable_iteration", "summary.qtable_sha256", "iterations",
                  "summary.distinct_actions", "summary.order"]

/// The member of a run's JSON at a dotted key path (`summary.qtable_sha256`); nil when absent.
func member(_ object: [String: Any], _ path: String) -> Any? {
    var current: Any? = object
    for key in path.split(separator: ".") { current = (current as? [String: Any])?[String(key)] }
    return current
}

/// Expects two `--format json` runs to agree on every result.
func expectSameResults(_ got: [String: Any], _ expected: [String: Any], _ context: String) {
    for key in resultKeys {
        #expect(member(got, key) != nil, "\(context): no \(key)")
        #expect(String(describing: member(got, key)) == String(describing: member(expected, key)), "\(context): \(key)")
    }
}

/// Waits up to `seconds` for the process to exit; kills it and returns false if it does not.
func waitForExit(_ process: Process, seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return false
    }
    process.waitUntilExit()
    return true
}

/// The id of the first run in a database.
func firstRunID(_ path: String) throws -> String? {
    let database = try Database(path: path, mode: .readOnly)
    guard case .text(let id)? = try database.scalar("SELECT run_id FROM runs ORDER BY id LIMIT 1") else { return nil }
    return id
}

/// Polls the database (read-only, as a second process would) until its first run has recorded at least
/// `iterations`, or the process has exited.
func waitForProgress(_ path: String, atLeast iterations: Int, while process: Process) {
    let deadline = Date().addingTimeInterval(120)
    while process.isRunning && Date() < deadline {
        if let database = try? Database(path: path, mode: .readOnly),
           case .integer(let done)? = try? database.scalar("SELECT done_iterations FROM runs ORDER BY id LIMIT 1"),
           done >= iterations {
            return
        }
        Thread.sleep(forTimeInterval: 0.002)
    }
}

/// Every metric row of every run, in order, as text: equal dumps, equal rows.
func metricDump(_ path: String) throws -> String {
    let database = try Database(path: path, mode: .readOnly)
    let statement = try database.prepare(
        "SELECT run, iteration, action, reward, greedy_action, distinct_actions FROM metrics ORDER BY run, iteration")
    return try statement.rows { row in
        (0..<6).map { String(describing: row.value(Int32($0))) }.joined(separator: ",")
    }.joined(separator: "\n")
}

/// `tracker run`, `resume`, `show`, `list`, `delete`, `gc` through the built binary, including kills.
@Suite(.serialized) struct RunCommandTests {
    /// Settings small enough for a debug build, big enough to be killed midway.
    static let killable = ["--n", "7", "--seed", "5", "--iterations", "6000", "--checkpoint-every", "500", "--phi", "300",
                           "--delta", "256", "--quiet", "--format", "json"]

    /// A finished run closes every connection it opened (the session's, shared with the writer thread, and
    /// the heartbeat's) before the process exits, so the last close checkpoints the WAL into the file and
    /// removes -wal and -shm. Before, the writer and heartbeat threads could still hold a connection when
    /// the process exited, in about half the runs: the file alone (copied, mailed) then lacked the run.
    @Test func aFinishedRunLeavesNoWALBehind() throws {
        let dir = try TemporaryDirectory()
        for attempt in 1...6 {
            let db = dir.path("wal\(attempt).db")
            let result = try CLI.run(["run", "--db", db, "--algo", attempt % 2 == 0 ? "ql" : "dteql", "--phi", "20",
                                      "--n", "5", "--iterations", "400", "--checkpoint-every", "100", "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
            for suffix in ["-wal", "-shm"] {
                #expect(!FileManager.default.fileExists(atPath: db + suffix), "attempt \(attempt) left \(suffix)")
            }
            // The file on its own holds the finished run.
            let alone = try Database(path: db, mode: .readOnly)
            #expect(try alone.scalar("SELECT count(*) FROM runs WHERE status = 'finished'") == .integer(1))
        }
    }

    @Test func runPrintsTheSummaryKeysAndShowListReadIt() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let result = try CLI.run(["run", "--db", db, "--algo", "dteql", "--phi", "100", "--n", "6", "--iterations", "2000",
                                  "--label", "smoke", "--quiet", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let run = try #require(try CLI.json(result) as? [String: Any])
        for key in ["run_id", "status", "algorithm", "n", "settings.phi", "iterations", "summary.objective",
                    "summary.normalized_reward", "summary.misses", "summary.mean_completion_s", "summary.iterations_to_optimal",
                    "summary.stable_iteration", "summary.qtable_sha256"] {
            #expect(member(run, key) != nil, "missing \(key)")
        }
        #expect(run["status"] as? String == "finished")
        #expect(run["iterations"] as? Int == 2000)
        let runID = try #require(run["run_id"] as? String)

        let show = try CLI.run(["show", runID, "--db", db, "--format", "json"])
        #expect(show.status == 0, "\(show.stderr)")
        let shown = try #require(try CLI.json(show) as? [String: Any])
        for key in run.keys { #expect(shown.keys.contains(key), "show lacks \(key)") }
        #expect(member(shown, "summary.qtable_sha256") as? String == member(run, "summary.qtable_sha256") as? String)
        let settings = try #require(shown["settings"] as? [String: Any])
        #expect(settings["lr"] as? Double == 0.1)
        #expect(settings["beta"] as? Double == 5000)
        let checkpoints = try #require(member(shown, "checkpoints.items") as? [[String: Any]])
        #expect(checkpoints.map { $0["iteration"] as? Int } == [1024, 2000])

        let list = try CLI.run(["list", "--db", db, "--label", "smoke", "--format", "json"])
        let rows = try #require(try CLI.json(list) as? [[String: Any]])
        #expect(rows.count == 1)
        #expect(rows.first?["run_id"] as? String == runID)
        let none = try CLI.run(["list", "--db", db, "--algo", "ql", "--format", "json"])
        #expect((try CLI.json(none) as? [Any])?.isEmpty == true)

        // The default database is ./tracker.db in the working directory, or $TRACKER_DB.
        let local = try CLI.run(["run", "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet"], in: dir.url)
        #expect(local.status == 0, "\(local.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.path("tracker.db")))
        let viaEnvironment = try CLI.run(["list", "--format", "json"], environment: ["TRACKER_DB": db])
        #expect((try CLI.json(viaEnvironment) as? [Any])?.count == 1)
    }

    @Test(arguments: ["ql", "dteql", "dtaql"])
    func killedRunsResumeBitIdentically(algo: String) throws {
        let dir = try TemporaryDirectory()
        let reference = dir.path("reference.db")
        let straight = try CLI.run(["run", "--db", reference, "--algo", algo] + Self.killable)
        #expect(straight.status == 0, "\(straight.stderr)")
        let expected = try #require(try CLI.json(straight) as? [String: Any])

        // SIGKILL once the run has recorded about 1000, 2500 and 4000 iterations, a few milliseconds
        // after a commit (so some kills land between commits, some inside one), resuming in between.
        let db = dir.path("killed.db")
        var runID: String?
        var killed = 0
        for (target, extraDelay) in [(1000, 0.0), (2500, 0.013), (4000, 0.029)] {
            let process = try CLI.start(runID.map { ["resume", $0, "--db", db, "--quiet"] }
                                        ?? ["run", "--db", db, "--algo", algo] + Self.killable)
            waitForProgress(db, atLeast: target, while: process)
            Thread.sleep(forTimeInterval: extraDelay)
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            process.waitUntilExit()
            #expect(try integrityCheck(db) == "ok")
            runID = runID ?? (try? firstRunID(db))
            if let runID {
                let show = try #require(try CLI.json(try CLI.run(["show", runID, "--db", db, "--format", "json"])) as? [String: Any])
                if show["status"] as? String != "finished" {
                    #expect(show["resumable"] as? Bool == true, "a killed run must show as resumable")
                    #expect((show["status"] as? String)?.contains("dead") == true)
                }
            }
        }
        #expect(killed >= 2, "the run finished before it could be killed; make it longer")
        let id = try #require(runID, "the first process was killed before it recorded the run")
        let resumed = try CLI.run(["resume", id, "--db", db, "--quiet", "--format", "json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        expectSameResults(try #require(try CLI.json(resumed) as? [String: Any]), expected, "after the kills")
        #expect(try integrityCheck(db) == "ok")
        #expect(try metricDump(db) == metricDump(reference))
    }

    @Test func sigintAndSigtermStopWithACheckpoint() throws {
        let dir = try TemporaryDirectory()
        for (signal, code) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            let db = dir.path("t\(signal).db")
            let process = try CLI.start(["run", "--db", db, "--algo", "dteql", "--n", "7", "--iterations", "10000000",
                                         "--checkpoint-every", "500", "--phi", "300"], captureStderr: true)
            waitForProgress(db, atLeast: 500, while: process)
            #expect(process.isRunning)
            kill(process.processIdentifier, signal)
            let stopped = waitForExit(process, seconds: 60)
            #expect(stopped, "the run ignored the signal")
            let message = CLI.capturedStderr(process)
            #expect(process.terminationStatus == code, "\(message)")
            #expect(message.contains("tracker resume"), "\(message)")

            let listing = try CLI.run(["list", "--db", db, "--format", "json"])
            let row = try #require((try CLI.json(listing) as? [[String: Any]])?.first)
            #expect(row["status"] as? String == "interrupted")
            #expect(row["resumable"] as? Bool == true)
            let id = try #require(row["run_id"] as? String)
            let show = try #require(try CLI.json(try CLI.run(["show", id, "--db", db, "--format", "json"])) as? [String: Any])
            let checkpoints = try #require(member(show, "checkpoints.items") as? [[String: Any]])
            #expect(checkpoints.last?["iteration"] as? Int == row["iterations"] as? Int)
            #expect(try integrityCheck(db) == "ok")
        }
    }

    @Test func fourConcurrentRunsOnANewDatabaseAllFinish() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("fresh.db")
        let go = dir.path("go")
        // Each child spins until the file `go` appears, so all four open the not-yet-existing database,
        // and migrate it, at the same moment.
        let processes = (0..<4).map { index -> (Process, Pipe) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            let arguments = ["run", "--db", db, "--algo", ["ql", "dteql", "dtaql", "dteql"][index], "--n", "6",
                             "--seed", String(index + 1), "--iterations", "3000", "--checkpoint-every", "200",
                             "--phi", "50", "--quiet"]
            process.arguments = ["-c", "while [ ! -e \"$0\" ]; do :; done; exec \"$@\"", go, CLI.binary.path] + arguments
            let err = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = err
            return (process, err)
        }
        for (process, _) in processes { try process.run() }
        Thread.sleep(forTimeInterval: 0.2)
        #expect(FileManager.default.createFile(atPath: go, contents: Data()))
        for (process, err) in processes {
            process.waitUntilExit()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 0, "\(message)")
            #expect(!message.contains("locked"))
        }
        let listing = try CLI.run(["list", "--db", db, "--format", "json"])
        let rows = try #require(try CLI.json(listing) as? [[String: Any]])
        #expect(rows.count == 4)
        #expect(rows.allSatisfy { $0["status"] as? String == "finished" })
        #expect(try metricDump(db).split(separator: "\n").count == 4 * 3000)
        #expect(try integrityCheck(db) == "ok")
    }

    @Test func deleteAsksAndGCVacuums() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let run = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "5", "--iterations", "3000", "--quiet", "--format", "json"])
        let id = try #require((try CLI.json(run) as? [String: Any])?["run_id"] as? String)
        let gc = try CLI.run(["gc", "--db", db])
        #expect(gc.status == 0)
        #expect(gc.stderr.contains("Dropped 2 checkpoints"), "\(gc.stderr)")
        let refused = try CLI.run(["delete", id, "--db", db], stdin: "n\n")
        #expect(refused.status != 0)
        #expect(try CLI.run(["show", id, "--db", db]).status == 0)
        let deleted = try CLI.run(["delete", id, "--db", db], stdin: "y\n")
        #expect(deleted.status == 0)
        let gone = try CLI.run(["show", id, "--db", db])
        #expect(gone.status == 1)
        #expect(gone.stderr.contains("no run with id"))
    }

    @Test func databaseProblemsAreOneLineErrorsThatChangeNothing() throws {
        let dir = try TemporaryDirectory()
        let notes = dir.path("notes.db")
        try String(repeating: "not a database\n", count: 100).write(toFile: notes, atomically: true, encoding: .utf8)
        let future = dir.path("future.db")
        let created = try CLI.run(["run", "--db", future, "--algo", "ql", "--n", "4", "--iterations", "10", "--quiet"])
        #expect(created.status == 0)
        do {
            let database = try Database(path: future)
            try database.setUserVersion(99)
        }
        for (path, fragment) in [(notes, "not a database"), (future, "newer")] {
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            for arguments in [["list"], ["run", "--algo", "ql", "--n", "4", "--quiet"], ["show", "x"]] {
                let result = try CLI.run(arguments + ["--db", path])
                #expect(result.status == 1, "\(arguments): \(result.stderr)")
                #expect(result.errorLines.count == 1, "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains(fragment), "\(arguments): \(result.stderr)")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        }
        let missing = try CLI.run(["list", "--db", dir.path("nothing-here.db")])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no such file"))
        #expect(!FileManager.default.fileExists(atPath: dir.path("nothing-here.db")))
    }

    @Test func badRunSettingsAreClearErrorsAndWriteNothing() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let cases: [([String], String)] = [
            (["--algo", "dteql", "--n", "5", "--phi", "121"], "phi"),
            (["--algo", "ql", "--n", "1"], "--n"),
            (["--algo", "ql", "--n", "13"], "--n"),
            (["--algo", "ql", "--n", "5", "--iterations", "0"], "iterations"),
            (["--algo", "ql", "--n", "5", "--lr", "0"], "learning-rate"),
            (["--algo", "ql", "--n", "5", "--lr", "1.5"], "learning-rate"),
            (["--algo", "ql", "--n", "5", "--gamma", "-0.1"], "gamma"),
            (["--algo", "sarsa", "--n", "5"], "algo"),
            (["--algo", "dtaql", "--n", "10", "--phi", "500", "--memory-limit", "100MiB"], "memory"),
        ]
        for (arguments, fragment) in cases {
            let result = try CLI.run(["run", "--db", db, "--quiet"] + arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.lowercased().contains(fragment.lowercased()), "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("Error:"), "\(arguments): \(result.stderr)")
        }
        if FileManager.default.fileExists(atPath: db) {
            let listing = try CLI.run(["list", "--db", db, "--format", "json"])
            #expect((try CLI.json(listing) as? [Any])?.isEmpty == true)
        }
        let unknown = try CLI.run(["resume", "nope", "--db", db])
        #expect(unknown.status == 1)
        #expect(unknown.errorLines.count == 1)
    }
}
