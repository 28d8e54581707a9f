import Foundation
import SQLite
import Testing
import TestSupport

/// Which 'running' runs are alive, across hosts (`unshare --uts` gives a process a hostname of its own)
/// and reused pids: heartbeats on a timer, the staleness bound, `resume --force`, `sweep --takeover`, and
/// one owner per run.
@Suite(.serialized) struct LivenessTests {
    static let spec = """
        { "label": "hosts", "n": [7], "frames": 1, "iterations": 6000, "seeds": [5],
          "configurations": [ {"algorithm": "dteql", "phi": [300, 200]} ],
          "checkpoint_every": 500 }
        """

    /// Settings of a single run slow enough to be caught mid-way.
    static let killable = ["--algo", "dteql", "--n", "7", "--seed", "5", "--iterations", "6000", "--checkpoint-every", "500",
                           "--phi", "300", "--quiet", "--format", "json"]

    func write(_ database: String, _ sql: String, _ values: [SQLiteValue]) throws {
        let connection = try Database(path: database, mode: .readWrite)
        try connection.prepare(sql).run(values)
    }

    func runStatuses(_ database: String) throws -> [String] {
        try Database(path: database, mode: .readOnly).prepare("SELECT status FROM runs ORDER BY id").rows { $0.text(0) }
    }

    /// Starts `arguments` and kills it with SIGKILL once its first run has done `iterations`.
    func killMidway(_ arguments: [String], database: String, atLeast iterations: Int, host: String? = nil) throws {
        let process = try CLI.start(arguments, host: host)
        waitForProgress(database, atLeast: iterations, while: process)
        #expect(process.isRunning, "it finished before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The case: a sweep killed on node1 is left 'running'; on node2 the same sweep sees it as
    /// running elsewhere while its heartbeat is fresh, and resumes it once the heartbeat is older than the
    /// bound, ending identical to a sweep never killed.
    @Test func aSweepKilledOnAnotherHostIsResumedOnceItsHeartbeatIsStale() throws {
        let dir = try TemporaryDirectory()
        let specPath = dir.path("s.json")
        try Self.spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        let reference = dir.path("reference.db")
        #expect(try CLI.run(["sweep", specPath, "--db", reference, "--jobs", "1", "--quiet"]).status == 0)

        let db = dir.path("H.db")
        try killMidway(["sweep", specPath, "--db", db, "--jobs", "1", "--quiet"], database: db, atLeast: 1000, host: "node1")
        #expect(try runStatuses(db) == ["running"])
        let runID = try #require(try firstRunID(db))

        // A bound far longer than the time since the kill: still alive, as far as node2 can tell.
        let fresh = ["TRACKER_STALE_AFTER_S": "3600"]
        let busy = try CLI.run(["sweep", specPath, "--db", db, "--jobs", "1"], environment: fresh, host: "node2")
        #expect(busy.status == 0, "\(busy.stderr)")
        #expect(busy.stderr.contains("1 started, 0 resumed, 0 already finished, 1 running elsewhere"), "\(busy.stderr)")
        let refused = try CLI.run(["resume", runID, "--db", db, "--quiet"], environment: fresh, host: "node2")
        #expect(refused.status == 1)
        #expect(refused.errorLines.count == 1)
        #expect(refused.stderr.contains("it is running (pid "), "\(refused.stderr)")
        #expect(refused.stderr.contains(" on node1, heartbeat "), "\(refused.stderr)")
        #expect(refused.stderr.contains("use --force"), "\(refused.stderr)")

        // A one-second bound, two seconds later: dead wherever it ran.
        Thread.sleep(forTimeInterval: 2)
        let stale = try CLI.run(["sweep", specPath, "--db", db, "--jobs", "1"], environment: ["TRACKER_STALE_AFTER_S": "1"],
                                host: "node2")
        #expect(stale.status == 0, "\(stale.stderr)")
        #expect(stale.stderr.contains("0 started, 1 resumed, 1 already finished"), "\(stale.stderr)")
        #expect(try runStatuses(db) == ["finished", "finished"])
        #expect(try integrityCheck(db) == "ok")
        #expect(try metricDump(db) == metricDump(reference))
    }

    /// `sweep --takeover` and `resume --force` for the user who knows the owner on another host is gone:
    /// no waiting for the bound (the default, two minutes).
    @Test func takeoverAndForceDoNotWaitForTheBound() throws {
        let dir = try TemporaryDirectory()
        let specPath = dir.path("s.json")
        try Self.spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        let reference = dir.path("reference.db")
        #expect(try CLI.run(["sweep", specPath, "--db", reference, "--jobs", "1", "--quiet"]).status == 0)

        let db = dir.path("H.db")
        try killMidway(["sweep", specPath, "--db", db, "--jobs", "1", "--quiet"], database: db, atLeast: 1000, host: "node1")
        let dryRun = try CLI.run(["sweep", specPath, "--db", db, "--takeover", "--dry-run"], host: "node2")
        #expect(dryRun.stdout.contains("take over"), "\(dryRun.stdout)")
        let takeover = try CLI.run(["sweep", specPath, "--db", db, "--jobs", "1", "--takeover"], host: "node2")
        #expect(takeover.status == 0, "\(takeover.stderr)")
        #expect(takeover.stderr.contains("1 started, 1 resumed"), "\(takeover.stderr)")
        #expect(try metricDump(db) == metricDump(reference))

        let single = dir.path("single.db")
        let straight = try CLI.run(["run", "--db", reference] + Self.killable)
        let expected = try #require(try CLI.json(straight) as? [String: Any])
        try killMidway(["run", "--db", single] + Self.killable, database: single, atLeast: 1000, host: "node1")
        let runID = try #require(try firstRunID(single))
        #expect(try CLI.run(["resume", runID, "--db", single, "--quiet"], host: "node2").status == 1)
        let forced = try CLI.run(["resume", runID, "--db", single, "--force", "--quiet", "--format", "json"], host: "node2")
        #expect(forced.status == 0, "\(forced.stderr)")
        expectSameResults(try #require(try CLI.json(forced) as? [String: Any]), expected, "resume --force")
    }

    /// The recorded pid now belongs to another live process on this host (here: the test itself). While
    /// the heartbeat is fresh the run counts as running; once it is older than the bound it is dead, pid or
    /// not, and resumes to the same results.
    @Test func aReusedPidDoesNotKeepADeadRunAlive() throws {
        let dir = try TemporaryDirectory()
        let reference = dir.path("reference.db")
        let expected = try #require(try CLI.json(try CLI.run(["run", "--db", reference] + Self.killable)) as? [String: Any])
        let db = dir.path("t.db")
        try killMidway(["run", "--db", db] + Self.killable, database: db, atLeast: 1000)
        let runID = try #require(try firstRunID(db))
        let livePid = Int64(getpid())
        let now = ISO8601DateFormatter.withMilliseconds.string(from: Date())
        try write(db, "UPDATE runs SET pid = ?, heartbeat_at = ?", [.integer(livePid), .text(now)])

        let refused = try CLI.run(["resume", runID, "--db", db, "--quiet"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("it is running (pid \(livePid) on "), "\(refused.stderr)")
        let list = try CLI.run(["list", "--db", db, "--format", "json"])
        #expect((try CLI.json(list) as? [[String: Any]])?.first?["status"] as? String == "running")

        // Ten minutes without a heartbeat: well past the default bound of two minutes.
        let old = ISO8601DateFormatter.withMilliseconds.string(from: Date().addingTimeInterval(-600))
        try write(db, "UPDATE runs SET heartbeat_at = ?", [.text(old)])
        let deadList = try CLI.run(["list", "--db", db, "--format", "json"])
        #expect((try CLI.json(deadList) as? [[String: Any]])?.first?["status"] as? String == "running (dead, resumable)")
        let resumed = try CLI.run(["resume", runID, "--db", db, "--quiet", "--format", "json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        expectSameResults(try #require(try CLI.json(resumed) as? [String: Any]), expected, "after the pid reuse")
        #expect(try metricDump(db) == metricDump(reference))
    }

    /// The heartbeat comes from a timer, not only from commits: a run whose first batch takes seconds to
    /// compute still beats several times a second under a one-second bound.
    @Test func theHeartbeatKeepsComingWhileABatchComputes() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        // DTAQL with 2,000 twin agents on N = 8 (about 650 MB of tables): 4,000 iterations, below the first
        // batch commit at 4,096, take about 5 s of a debug build, so the run outlives the 3 s watch even on
        // an idle machine (with 500 agents it took 1.7 s there) and commits nothing meanwhile.
        let process = try CLI.start(["run", "--db", db, "--algo", "dtaql", "--n", "8", "--phi", "2000", "--iterations", "4000",
                                     "--checkpoint-every", "100000", "--quiet"],
                                    environment: ["TRACKER_STALE_AFTER_S": "1"])
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        var beats: Set<String> = []
        var committed = false
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline && process.isRunning {
            if let database = try? Database(path: db, mode: .readOnly),
               let rows = try? database.prepare("SELECT heartbeat_at, done_iterations FROM runs").rows([], { row in (row.text(0), row.int(1)) }),
               let row = rows.first {
                beats.insert(row.0)
                committed = committed || row.1 > 0
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(process.isRunning, "the run ended before the heartbeat could be watched")
        #expect(!committed, "the run committed a batch while watched; make it slower")
        // A beat every 1/6 s: the claim's timestamp and, even on a loaded machine, at least three more in 3 s
        // (without the timer there would be one).
        #expect(beats.count >= 4, "\(beats.sorted())")
    }

    /// Two resumes of one dead run at once: exactly one claims it, the other says who owns it.
    @Test func twoResumesNeverBothOwnARun() throws {
        let dir = try TemporaryDirectory()
        let reference = dir.path("reference.db")
        let expected = try #require(try CLI.json(try CLI.run(["run", "--db", reference] + Self.killable)) as? [String: Any])
        let db = dir.path("t.db")
        try killMidway(["run", "--db", db] + Self.killable, database: db, atLeast: 500)
        let runID = try #require(try firstRunID(db))
        for round in 0..<3 {
            let a = try CLI.start(["resume", runID, "--db", db, "--quiet"], captureStderr: true)
            let b = try CLI.start(["resume", runID, "--db", db, "--quiet"], captureStderr: true)
            // The loser gives up at once; then the winner is killed, leaving the run dead for the next round.
            let deadline = Date().addingTimeInterval(60)
            while a.isRunning && b.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
            let (loser, winner) = a.isRunning ? (b, a) : (a, b)
            #expect(waitForExit(loser, seconds: 60))
            if winner.isRunning { kill(winner.processIdentifier, SIGKILL) }
            winner.waitUntilExit()
            #expect(loser.terminationStatus == 1, "round \(round): both resumes ran")
            let message = CLI.capturedStderr(loser)
            #expect(message.contains("it is running (pid \(winner.processIdentifier) on ")
                    || message.contains("another process took it first (pid \(winner.processIdentifier) on "),
                    "round \(round): \(message)")
            #expect(try integrityCheck(db) == "ok")
        }
        let resumed = try CLI.run(["resume", runID, "--db", db, "--quiet", "--format", "json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        expectSameResults(try #require(try CLI.json(resumed) as? [String: Any]), expected, "after the races")
        #expect(try metricDump(db) == metricDump(reference))
    }

    /// `resume --force` on a run whose process is in fact alive: the old process notices at its next
    /// commit, writes nothing more and exits 1, leaving the run to its new owner, which ends it identical
    /// to a run never disturbed.
    @Test func aRunTakenOverFromALiveProcessHasOneWriter() throws {
        let dir = try TemporaryDirectory()
        let reference = dir.path("reference.db")
        let expected = try #require(try CLI.json(try CLI.run(["run", "--db", reference] + Self.killable)) as? [String: Any])
        let db = dir.path("t.db")
        let original = try CLI.start(["run", "--db", db] + Self.killable, captureStderr: true)
        defer {
            if original.isRunning { kill(original.processIdentifier, SIGKILL) }
        }
        waitForProgress(db, atLeast: 1000, while: original)
        #expect(original.isRunning, "the run finished before it could be taken over")
        let runID = try #require(try firstRunID(db))
        let forced = try CLI.run(["resume", runID, "--db", db, "--force", "--quiet", "--format", "json"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(waitForExit(original, seconds: 60))
        #expect(original.terminationStatus == 1)
        #expect(CLI.capturedStderr(original).contains("was taken over by another process"))
        expectSameResults(try #require(try CLI.json(forced) as? [String: Any]), expected, "after the takeover")
        #expect(try runStatuses(db) == ["finished"])
        #expect(try metricDump(db) == metricDump(reference))
    }

    /// Another process holds the write lock for seconds (a long merge, a shell left in a transaction) while a
    /// run records: the run's writer waits it out (`TRACKER_RECORDING_WAIT_S`, ten minutes by default)
    /// instead of failing the run with "database is locked", even with a busy timeout of 200 ms, and ends
    /// bit-identical to a run never held up.
    @Test func aRunWaitsOutALongWriteLock() throws {
        let dir = try TemporaryDirectory()
        let reference = dir.path("reference.db"), db = dir.path("t.db")
        #expect(try CLI.run(["run", "--db", reference] + Self.killable).status == 0)
        let process = try CLI.start(["run", "--db", db] + Self.killable, environment: ["TRACKER_BUSY_TIMEOUT_MS": "200"],
                                    captureStderr: true)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        waitForProgress(db, atLeast: 500, while: process)
        let holder = try Database(path: db, mode: .readWrite)
        try holder.execute("BEGIN IMMEDIATE")
        let doneWhenLocked = try holder.scalar("SELECT done_iterations FROM runs")
        Thread.sleep(forTimeInterval: 3)
        #expect(process.isRunning, "the run ended while the lock was held")
        try holder.execute("COMMIT")
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(CLI.capturedStderr(process))")
        #expect(doneWhenLocked != .integer(6000), "the run was done before the lock was taken")
        #expect(try runStatuses(db) == ["finished"])
        #expect(try metricDump(db) == metricDump(reference))
        #expect(try runResults(db) == runResults(reference))
    }

    /// A heartbeat from the future (the owner's clock runs ahead) would keep a dead run 'running' until that
    /// future came. A little ahead is fine (within the bound, as for a little behind); further ahead than the
    /// bound it is dead, and `list` and the refusals name the skew.
    @Test func aHeartbeatFromTheFutureIsStaleAndNamesTheSkew() throws {
        let dir = try TemporaryDirectory()
        let reference = dir.path("reference.db")
        let expected = try #require(try CLI.json(try CLI.run(["run", "--db", reference] + Self.killable)) as? [String: Any])
        let db = dir.path("t.db")
        try killMidway(["run", "--db", db] + Self.killable, database: db, atLeast: 1000)
        let runID = try #require(try firstRunID(db))
        let host = try Database(path: db, mode: .readOnly).prepare("SELECT host FROM runs").rows { $0.text(0) }.first ?? ""
        // The pid of a live process here (the test's own), so only the heartbeat decides.
        let livePid = Int64(getpid())
        func beat(inSeconds seconds: Double) throws {
            let at = ISO8601DateFormatter.withMilliseconds.string(from: Date().addingTimeInterval(seconds))
            try self.write(db, "UPDATE runs SET pid = ?, heartbeat_at = ?", [.integer(livePid), .text(at)])
        }
        func listedStatus() throws -> String? {
            (try CLI.json(try CLI.run(["list", "--db", db, "--format", "json"])) as? [[String: Any]])?.first?["status"] as? String
        }

        // A minute ahead: within the two-minute bound, alive.
        try beat(inSeconds: 60)
        #expect(try listedStatus() == "running")
        let refused = try CLI.run(["resume", runID, "--db", db, "--quiet"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("it is running (pid \(livePid) on \(host), heartbeat 60 s in the future)")
                || refused.stderr.contains("heartbeat 59 s in the future)"), "\(refused.stderr)")

        // Three hours ahead: implausible, so dead, and the status says why.
        try beat(inSeconds: 3 * 3600)
        #expect(try listedStatus() == "running (dead, resumable; heartbeat 3 h in the future: clock skew on \(host)?)")
        let resumed = try CLI.run(["resume", runID, "--db", db, "--quiet", "--format", "json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        expectSameResults(try #require(try CLI.json(resumed) as? [String: Any]), expected, "after the skewed heartbeat")
        #expect(try metricDump(db) == metricDump(reference))
    }
}

extension ISO8601DateFormatter {
    /// The runs table's timestamp form: UTC with milliseconds.
    static var withMilliseconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }

}
