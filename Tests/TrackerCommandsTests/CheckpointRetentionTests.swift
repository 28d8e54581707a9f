import Foundation
import Testing

import TestSupport
/// `--keep-checkpoints`: the newest few by default, `all` on request, and `show` summarises them.
@Suite struct CheckpointRetentionTests {
    private func checkpointIterations(_ runID: String, db: String) throws -> [Int] {
        let show = try CLI.run(["show", runID, "--db", db, "--format", "json"])
        #expect(show.status == 0, "\(show.stderr)")
        let shown = try #require(try CLI.json(show) as? [String: Any])
        let checkpoints = try #require(shown["checkpoints"] as? [[String: Any]])
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
}
