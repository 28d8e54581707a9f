import Foundation
import Testing
import TestSupport

/// `sweep SPEC --status`: real shards made by `sweep --shard`, one holding a run killed with SIGKILL on
/// another host (`unshare --uts`), one shard never run; read through a quoted glob, a plain path and a
/// merged file, without writing or creating anything.
@Suite(.serialized) struct SweepStatusTests {
    /// Four runs; shard 1/3 holds grid items 0 and 3, 2/3 item 1, 3/3 item 2.
    static let spec = """
        { "label": "status", "n": [7], "frames": 1, "iterations": 6000, "seeds": [5, 6],
          "configurations": [ {"algorithm": "dteql", "phi": [300, 200]} ],
          "checkpoint_every": 500 }
        """

    /// Every file in the directory with its bytes (`-shm` aside: SQLite's shared-memory index, which any
    /// reader may rebuild, holds no data).
    func snapshot(_ dir: TemporaryDirectory) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path("")) {
            files[name] = name.hasSuffix("-shm") ? Data() : try Data(contentsOf: URL(fileURLWithPath: dir.path(name)))
        }
        return files
    }

    func status(_ arguments: [String], in dir: TemporaryDirectory, environment: [String: String] = [:]) throws -> [String: Any] {
        let result = try CLI.run(["sweep", "s.json", "--status", "--format", "json"] + arguments, in: URL(fileURLWithPath: dir.path("")),
                                 environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        return try #require(try CLI.json(result) as? [String: Any])
    }

    func total(_ report: [String: Any]) -> [String: Int] {
        (report["total"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int }
    }

    @Test func shardsWithAKilledRunAndAMissingShard() throws {
        let dir = try TemporaryDirectory()
        try Self.spec.write(toFile: dir.path("s.json"), atomically: true, encoding: .utf8)
        let first = try CLI.run(["sweep", dir.path("s.json"), "--db", dir.path("shard-1.db"), "--shard", "1/3", "--jobs", "1", "--quiet"])
        #expect(first.status == 0, "\(first.stderr)")
        // Shard 2 is killed mid-run on "node1"; shard 3 never ran.
        let shard2 = dir.path("shard-2.db")
        let process = try CLI.start(["sweep", dir.path("s.json"), "--db", shard2, "--shard", "2/3", "--jobs", "1", "--quiet"], host: "node1")
        waitForProgress(shard2, atLeast: 1000, while: process)
        #expect(process.isRunning, "it finished before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let before = try snapshot(dir)

        // Seen from this host, with a bound far longer than the time since the kill: still running on node1.
        let fresh = try status(["--db", "shard-*.db"], in: dir, environment: ["TRACKER_STALE_AFTER_S": "3600"])
        #expect(fresh["grid_runs"] as? Int == 4)
        #expect(total(fresh) == ["finished": 2, "running": 1, "dead": 0, "interrupted": 0, "failed": 0, "not_started": 1])
        let databases = try #require(fresh["databases"] as? [[String: Any]])
        #expect(databases.map { $0["path"] as? String } == ["shard-1.db", "shard-2.db"])
        #expect(databases.map { $0["finished"] as? Int } == [2, 0])
        #expect(databases.map { $0["running"] as? Int } == [0, 1])
        let owned = try #require((fresh["owned_runs"] as? [[String: Any]])?.first)
        #expect(owned["host"] as? String == "node1")
        #expect(owned["state"] as? String == "running")
        #expect(owned["database"] as? String == "shard-2.db")
        #expect(owned["run"] as? String == "dteql phi=200 N=7 frame-seed=1 seed=5")
        let age = try #require(owned["heartbeat_age_s"] as? Double)
        #expect(age >= 0 && age < 600)
        #expect((owned["done_iterations"] as? Int ?? 0) >= 500)

        // Two seconds later under a one-second bound: dead, wherever it ran.
        Thread.sleep(forTimeInterval: 2)
        let stale = try status(["--db", "shard-*.db"], in: dir, environment: ["TRACKER_STALE_AFTER_S": "1"])
        #expect(total(stale) == ["finished": 2, "running": 0, "dead": 1, "interrupted": 0, "failed": 0, "not_started": 1])
        let table = try CLI.run(["sweep", "s.json", "--status", "--db", "shard-*.db"], in: URL(fileURLWithPath: dir.path("")),
                                environment: ["TRACKER_STALE_AFTER_S": "1"])
        #expect(table.status == 0)
        #expect(table.stdout.contains("total (4 runs)"), "\(table.stdout)")
        #expect(table.stdout.contains(" dead "), "\(table.stdout)")
        #expect(table.stdout.contains("node1"), "\(table.stdout)")

        // The slice of one shard: what it lacks is known.
        let sliced = try status(["--db", "shard-2.db", "--shard", "2/3"], in: dir, environment: ["TRACKER_STALE_AFTER_S": "1"])
        #expect(total(sliced)["dead"] == 1 && total(sliced)["not_started"] == 0)
        let missing = try status(["--db", "shard-1.db", "--shard", "3/3"], in: dir)
        #expect(total(missing)["not_started"] == 1 && (missing["databases"] as? [[String: Any]])?.first?["not_in_grid"] as? Int == 2)

        // Nothing was written, nothing created (no -wal or -shm beside the finished shard either).
        #expect(try snapshot(dir) == before)
        #expect(!FileManager.default.fileExists(atPath: dir.path("shard-1.db-wal")))

        // A merged file reads the same (the run killed stays dead there).
        let merge = try CLI.run(["merge", dir.path("merged.db"), dir.path("shard-1.db"), shard2])
        #expect(merge.status == 0, "\(merge.stderr)")
        let merged = try status(["--db", "merged.db"], in: dir, environment: ["TRACKER_STALE_AFTER_S": "1"])
        #expect(total(merged) == total(stale))
        // Merged file and shards together: each run counted once.
        let both = try status(["--db", "*.db"], in: dir, environment: ["TRACKER_STALE_AFTER_S": "1"])
        #expect(total(both) == total(stale))
        #expect((both["databases"] as? [[String: Any]])?.count == 3)
    }

    @Test func refusalsCreateNothing() throws {
        let dir = try TemporaryDirectory()
        try Self.spec.write(toFile: dir.path("s.json"), atomically: true, encoding: .utf8)
        let here = URL(fileURLWithPath: dir.path(""))
        let noMatch = try CLI.run(["sweep", "s.json", "--status", "--db", "shard-*.db"], in: here)
        #expect(noMatch.status == 1)
        #expect(noMatch.stderr == "Error: no database matches 'shard-*.db'\n")
        let noFile = try CLI.run(["sweep", "s.json", "--status", "--db", "shard-1.db"], in: here)
        #expect(noFile.status == 1)
        #expect(noFile.stderr == "Error: no such database: shard-1.db\n")
        let combined = try CLI.run(["sweep", "s.json", "--status", "--takeover", "--db", "x.db"], in: here)
        #expect(combined.status == 64)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path("")) == ["s.json"])

        // A file whose name looks like a pattern is read as itself.
        #expect(try CLI.run(["sweep", "s.json", "--db", "odd[1].db", "--shard", "3/3", "--jobs", "1", "--quiet"], in: here).status == 0)
        let odd = try status(["--db", "odd[1].db"], in: dir)
        #expect(total(odd)["finished"] == 1 && total(odd)["not_started"] == 3)
    }
}
