import Foundation
import SQLite
import Testing

import TestSupport
/// `--keep-checkpoints`: the newest few by default, `all` on request, and `show` summarises them.
@Suite struct CheckpointRetentionTests {
    private func checkpointIterations(_ runID: String, db: String) throws -> [Int] {
        let show = try CLI.run(["show", runID, "--db", db, "--format", "json"])
        #expect(show.status == 0, "\(show.stderr)")
        let shown = try #require(try CLI.json(show) as? [String: Any])
        let checkpoints = try #require(member(shown, "checkpoints.items") as? [[String: Any]])
        return checkpoints.compactMap { $0["iteration"] as? Int }
    }

    private func run(_ extra: [String], db: String) throws -> String {
        let run = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "200",
                               "--checkpoint-every", "10", "--quiet", "--format", "json"] + extra)
        #expect(run.status == 0, "\(run.stderr)")
        return try #require((try CLI.json(run) as? [String: Any])?["run_id"] as? String)
    }

    @Test func defaultKeepsTheNewestThreeAndAllKeepsEvery() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let pruned = try run([], db: db)
        #expect(try checkpointIterations(pruned, db: db) == [180, 190, 200])
        let kept = try run(["--keep-checkpoints", "all", "--seed", "2"], db: db)
        #expect(try checkpointIterations(kept, db: db) == Array(stride(from: 10, through: 200, by: 10)))
        let one = try run(["--keep-checkpoints", "1", "--seed", "3"], db: db)
        #expect(try checkpointIterations(one, db: db) == [200])

        let summary = try CLI.run(["show", kept, "--db", db])
        #expect(summary.status == 0, "\(summary.stderr)")
        #expect(summary.stdout.contains("newest_iteration"), "\(summary.stdout)")
        #expect(!summary.stdout.contains("layout_version"), "lists checkpoints without --checkpoints")
        let listed = try CLI.run(["show", kept, "--db", db, "--checkpoints"])
        #expect(listed.stdout.contains("layout_version"))

        let refused = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--keep-checkpoints", "0"])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--keep-checkpoints must be at least 1, got 0."))
    }

    @Test func resumeKeepsTheNewestAfterFurtherTraining() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let id = try run(["--keep-checkpoints", "2"], db: db)
        let resumed = try CLI.run(["resume", id, "--db", db, "--iterations", "100", "--quiet", "--keep-checkpoints", "2"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try checkpointIterations(id, db: db) == [290, 300])
    }

    /// Issue 11 section 6: with the default retention the database of a 1 M-iteration run stays under
    /// 60 MB. A million DTEQL iterations take minutes in a debug build, so this runs the workload
    /// (DTEQL N=8 phi=500, 320 KB checkpoints) for 4,096 iterations with a checkpoint every 64, so 64
    /// checkpoints are written and 61 pruned, and projects from what the file holds:
    /// - everything but the metrics must not grow with the checkpoints written: the newest 3 (4 while one
    ///   is written), the pruned ones' pages reused, the frame, the run, and the greedy actions' outcomes
    ///   (at most one row per distinct action, 8! at N=8);
    /// - the metrics are one fixed-width row per iteration, so they grow linearly; 2 bytes a row are added
    ///   for the wider iteration numbers and B-tree pages of a longer run.
    /// Keeping every checkpoint instead would make this run's file 20 MB and a 1 M-iteration run's (a
    /// checkpoint every 1,024) over 300 MB. docs/benchmarks.md has the measured 1 M-iteration figure.
    @Test func defaultRetentionKeepsAMillionIterationRunUnder60MB() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("retention.db")
        let iterations = 4096
        let run = try CLI.run(["run", "--db", db, "--algo", "dteql", "--phi", "500", "--n", "8", "--iterations",
                               String(iterations), "--checkpoint-every", "64", "--quiet", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let id = try #require((try CLI.json(run) as? [String: Any])?["run_id"] as? String)
        #expect(try checkpointIterations(id, db: db) == [iterations - 128, iterations - 64, iterations])

        // Fold any write-ahead log into the file (the last connection to close does), then measure it.
        let (metricsBytes, snapshotBytes) = try { () throws -> (Int, Int) in
            let database = try Database(path: db)
            let metrics = try database.scalar("SELECT sum(pgsize) FROM dbstat WHERE name = 'metrics'")
            let snapshot = try database.scalar("SELECT max(bytes) FROM checkpoints")
            guard case .integer(let m)? = metrics, case .integer(let s)? = snapshot else {
                throw CLIError("dbstat or checkpoints gave \(String(describing: metrics)), \(String(describing: snapshot))")
            }
            return (Int(m), Int(s))
        }()
        #expect(!FileManager.default.fileExists(atPath: db + "-wal"))
        let fileBytes = try #require(try FileManager.default.attributesOfItem(atPath: db)[.size] as? Int)
        let rest = fileBytes - metricsBytes
        #expect(rest < 5 * snapshotBytes + 512 * 1024, "\(rest) bytes besides the metrics: pruned checkpoints kept?")
        let bytesPerIteration = Double(metricsBytes) / Double(iterations) + 2
        let projected = Double(rest) + bytesPerIteration * 1_000_000
        print("retention: \(fileBytes) bytes after \(iterations) iterations (\(metricsBytes) of metrics, "
              + "\(rest) the rest); 1 M iterations projected at \(Int(projected)) bytes")
        #expect(bytesPerIteration < 40, "\(bytesPerIteration) bytes of metrics per iteration")
        #expect(projected < 60_000_000, "a 1 M-iteration run projected at \(Int(projected)) bytes")
    }

    struct CLIError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
