import Foundation
import Scheduling
import SQLite
import Testing
import TestSupport

/// Faults injected into real `tracker` processes: SIGKILL at random moments, a full disk, a write lock
/// held by another process. Each must leave the file intact and the run resumable to the same results as
/// a run that never met the fault. (Kills during `tracker sweep` are tested with the sweep.)
@Suite(.serialized) struct FaultInjectionTests {
    /// The summary fields a resumed run must reproduce exactly.
    /// A straight run's summary and metric rows, to compare a faulted run with.
    static func reference(_ arguments: [String], in dir: TemporaryDirectory) throws -> (summary: [String: Any], metrics: String) {
        let path = dir.path("reference.db")
        let result = try CLI.run(["run", "--db", path, "--quiet", "--format", "json"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return (try #require(try CLI.json(result) as? [String: Any]), try metricDump(path))
    }

    /// The run's status and resumability, read the way a user would.
    static func shown(_ runID: String, _ db: String) throws -> [String: Any] {
        try #require(try CLI.json(try CLI.run(["show", runID, "--db", db, "--format", "json"])) as? [String: Any])
    }

    @Test func killNineAtTwentyRandomMoments() throws {
        let dir = try TemporaryDirectory()
        let settings = ["--algo", "dteql", "--n", "7", "--seed", "5", "--iterations", "24000", "--checkpoint-every", "500",
                        "--phi", "300"]
        let expected = try Self.reference(settings, in: dir)

        // A seeded generator picks each moment: mostly "once N more iterations are committed, then a few
        // milliseconds more" (N from 300 to 900, so some kills land inside a commit, some between, some
        // before the next checkpoint); every fourth is a plain delay after the process starts, which also
        // hits opening, migrating, recording the run and claiming it for resume.
        var random = Xoshiro256(seed: 0x6B11_1009)
        let db = dir.path("killed.db")
        var runID: String?
        var kills = 0
        var done = 0
        for attempt in 0..<40 where kills < 20 {
            let arguments = runID.map { ["resume", $0, "--db", db, "--quiet"] } ?? ["run", "--db", db, "--quiet"] + settings
            let process = try CLI.start(arguments)
            if attempt % 4 == 3 {
                Thread.sleep(forTimeInterval: 0.02 + 0.15 * random.nextUnit())
            } else {
                waitForProgress(db, atLeast: done + 300 + random.nextInt(below: 600), while: process)
                Thread.sleep(forTimeInterval: 0.03 * random.nextUnit())
            }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
            #expect(try integrityCheck(db) == "ok", "after kill \(kills)")
            runID = runID ?? (try? firstRunID(db))
            guard let runID else { continue }
            let show = try Self.shown(runID, db)
            done = show["iterations"] as? Int ?? done
            if show["status"] as? String == "finished" { break }
            #expect(show["resumable"] as? Bool == true, "after kill \(kills): \(show["status"] ?? "?")")
        }
        #expect(kills == 20, "only \(kills) kills landed before the run finished; make it longer")
        let id = try #require(runID)
        let resumed = try CLI.run(["resume", id, "--db", db, "--quiet", "--format", "json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        expectSameResults(try #require(try CLI.json(resumed) as? [String: Any]), expected.summary, "after 20 kills")
        #expect(try integrityCheck(db) == "ok")
        #expect(try metricDump(db) == expected.metrics)
    }

    @Test func fullDiskLeavesAResumableRun() throws {
        let dir = try TemporaryDirectory()
        let settings = ["--algo", "ql", "--n", "8", "--iterations", "60000"]
        let expected = try Self.reference(settings, in: dir)

        let db = dir.path("full.db")
        let failed = try CLI.run(["run", "--db", db, "--quiet", "--format", "json"] + settings, prelude: fileSizeLimitPrelude)
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.errorLines.count == 1, "\(failed.stderr)")
        #expect(failed.stderr.hasPrefix("Error: recording run "), "\(failed.stderr)")
        #expect(failed.stderr.contains("disk I/O error") || failed.stderr.contains("disk is full"), "\(failed.stderr)")
        #expect(failed.stdout.isEmpty)
        #expect(try integrityCheck(db) == "ok")
        let runID = try #require(try firstRunID(db))
        let show = try Self.shown(runID, db)
        #expect(show["status"] as? String == "failed")
        #expect(show["resumable"] as? Bool == true)
        #expect((member(show, "checkpoints.items") as? [Any])?.isEmpty == false, "no usable checkpoint")
        #expect((show["iterations"] as? Int ?? 0) < 60000)

        let resumed = try CLI.run(["resume", runID, "--db", db, "--quiet", "--format", "json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        expectSameResults(try #require(try CLI.json(resumed) as? [String: Any]), expected.summary, "after the full disk")
        #expect(try integrityCheck(db) == "ok")
        #expect(try metricDump(db) == expected.metrics)
    }

    @Test func heldWriteLockFailsCleanlyThenWorks() throws {
        let dir = try TemporaryDirectory()
        let settings = ["--algo", "ql", "--n", "8", "--iterations", "100000", "--checkpoint-every", "2048"]
        let expected = try Self.reference(settings, in: dir)
        let db = dir.path("locked.db")
        let environment = ["TRACKER_BUSY_TIMEOUT_MS": "300"]

        // 1. Locked before the command starts: it fails after the timeout and writes nothing.
        let first = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet"])
        #expect(first.status == 0)
        let before = try ErrorTableTests.contents(db)
        do {
            let holder = try Database(path: db)
            try holder.execute("BEGIN IMMEDIATE")
            let start = Date()
            let locked = try CLI.run(["run", "--db", db, "--quiet"] + settings, environment: environment)
            let waited = Date().timeIntervalSince(start)
            #expect(locked.status == 1)
            #expect(locked.errorLines.count == 1, "\(locked.stderr)")
            #expect(locked.stderr.contains("database is locked"), "\(locked.stderr)")
            #expect(waited >= 0.3 && waited < 5, "waited \(waited) s")
            #expect(try ErrorTableTests.contents(db) == before)
            try holder.execute("ROLLBACK")
        }
        // Released: the same command works.
        let afterRelease = try CLI.run(["run", "--db", db, "--quiet", "--format", "json"] + settings, environment: environment)
        #expect(afterRelease.status == 0, "\(afterRelease.stderr)")
        expectSameResults(try #require(try CLI.json(afterRelease) as? [String: Any]), expected.summary, "after release")

        // 2. Locked in the middle of a run, for longer than its writer waits (here 1 s, TRACKER_RECORDING_WAIT_S;
        // ten minutes by default, LivenessTests.aRunWaitsOutALongWriteLock): the run fails at its next commit,
        // leaving what it committed; once the lock is gone it resumes to the straight run's results.
        let mid = dir.path("mid.db")
        let process = try CLI.start(["run", "--db", mid, "--quiet"] + settings,
                                    environment: environment.merging(["TRACKER_RECORDING_WAIT_S": "1"]) { $1 }, captureStderr: true)
        waitForProgress(mid, atLeast: 4096, while: process)
        #expect(process.isRunning, "the run finished before the lock was taken; make it longer")
        let holder = try Database(path: mid, busyTimeoutMilliseconds: 10_000)
        try holder.execute("BEGIN IMMEDIATE")
        let stopped = waitForExit(process, seconds: 30)
        try holder.execute("ROLLBACK")
        #expect(stopped)
        let message = CLI.capturedStderr(process)
        #expect(process.terminationStatus == 1, "\(message)")
        #expect(message.contains("after waiting 1 s for the write lock (TRACKER_RECORDING_WAIT_S): database is locked"), "\(message)")
        #expect(message.split(separator: "\n").count == 1, "\(message)")
        #expect(try integrityCheck(mid) == "ok")
        let runID = try #require(try firstRunID(mid))
        #expect(try Self.shown(runID, mid)["resumable"] as? Bool == true)
        let resumed = try CLI.run(["resume", runID, "--db", mid, "--quiet", "--format", "json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        expectSameResults(try #require(try CLI.json(resumed) as? [String: Any]), expected.summary, "after a mid-run lock")
        #expect(try metricDump(mid) == expected.metrics)
    }
}
