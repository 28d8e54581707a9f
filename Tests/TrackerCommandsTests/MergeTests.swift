import Foundation
import SQLite
import Testing
import TestSupport

/// `tracker merge` weighs copies of one run by how far along they are, and identifies runs by their
/// configuration, not by their short run id.
@Suite(.serialized) struct MergeTests {
    static let killable = ["--algo", "dteql", "--n", "7", "--seed", "5", "--iterations", "6000", "--checkpoint-every", "500",
                           "--phi", "300", "--quiet", "--format", "json"]

    func statuses(_ path: String) throws -> [String] {
        try Database(path: path, mode: .readOnly).prepare("SELECT status FROM runs ORDER BY id").rows { $0.text(0) }
    }

    /// One configuration recorded under two labels in two inputs is one run: the output keeps a single
    /// copy (a database holds one run per configuration) instead of failing the merge on the second.
    @Test func aConfigurationUnderAnotherLabelIsTheSameRun() throws {
        let dir = try TemporaryDirectory()
        let a = dir.path("a.db"), b = dir.path("b.db"), out = dir.path("out.db")
        let settings = ["--algo", "ql", "--n", "4", "--seed", "1", "--iterations", "200", "--quiet"]
        #expect(try CLI.run(["run", "--db", a, "--label", "x"] + settings).status == 0)
        #expect(try CLI.run(["run", "--db", b, "--label", "y"] + settings).status == 0)
        let result = try CLI.run(["merge", out, a, b])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("\(b): 0 runs added, 0 replaced a copy less far along, 1 skipped"), "\(result.stderr)")
        #expect(try statuses(out) == ["finished"])
    }

    /// The case: merged while killed, then again once resumed, the finished copy replaces the
    /// unfinished one (same run id); in one command, in either order of the inputs, the finished copy wins.
    @Test func aFinishedCopyReplacesAnUnfinishedOneWithTheSameRunID() throws {
        let dir = try TemporaryDirectory()
        let src = dir.path("src.db")
        let process = try CLI.start(["run", "--db", src] + Self.killable)
        waitForProgress(src, atLeast: 1000, while: process)
        #expect(process.isRunning, "the run finished before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let runID = try #require(try firstRunID(src))

        let out = dir.path("out.db")
        let unfinished = dir.path("unfinished.db")
        for target in [out, unfinished] {
            let first = try CLI.run(["merge", target, src])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stderr.contains("1 runs added, 0 replaced a copy less far along, 0 skipped"), "\(first.stderr)")
        }
        #expect(try statuses(out) == ["running"])

        #expect(try CLI.run(["resume", runID, "--db", src, "--quiet"]).status == 0)
        let second = try CLI.run(["merge", out, src])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("0 runs added, 1 replaced a copy less far along, 0 skipped"), "\(second.stderr)")
        #expect(try statuses(out) == ["finished"])
        #expect(try runResults(out) == runResults(src))
        #expect(try metricDump(out) == metricDump(src))
        #expect(try firstRunID(out) == runID)

        for (name, inputs) in [("o1.db", [unfinished, src]), ("o2.db", [src, unfinished])] {
            let merged = dir.path(name)
            let result = try CLI.run(["merge", merged] + inputs)
            #expect(result.status == 0, "\(result.stderr)")
            // One summary line per input, and the unfinished copy named when it comes second.
            #expect(result.errorLines.filter { !$0.contains(": skipped run ") }.count == 2, "\(result.stderr)")
            #expect(try statuses(merged) == ["finished"], "\(name)")
            #expect(try runResults(merged) == runResults(src), "\(name)")
            #expect(try integrityCheck(merged) == "ok")
        }
        // Merged again, the finished copy is already there: skipped, nothing changes.
        let again = try CLI.run(["merge", out, unfinished, src])
        #expect(again.stderr.contains("\(unfinished): 0 runs added, 0 replaced a copy less far along, 1 skipped"), "\(again.stderr)")
        #expect(again.stderr.contains("\(src): 0 runs added, 0 replaced a copy less far along, 1 skipped"), "\(again.stderr)")
        #expect(try runResults(out) == runResults(src))
    }

    /// Two different runs whose run ids collide (forced here; likely on big multi-shard grids) are both
    /// kept: the second gets a fresh id, and merge says so.
    @Test func aRunIDCollisionBetweenDifferentConfigurationsKeepsBoth() throws {
        let dir = try TemporaryDirectory()
        let a = dir.path("a.db"), b = dir.path("b.db")
        for (path, seed) in [(a, "1"), (b, "2")] {
            let run = try CLI.run(["run", "--db", path, "--algo", "ql", "--n", "5", "--seed", seed, "--iterations", "300", "--quiet"])
            #expect(run.status == 0, "\(run.stderr)")
        }
        let sharedID = try #require(try firstRunID(a))
        let renamed = try Database(path: b, mode: .readWrite)
        try renamed.prepare("UPDATE runs SET run_id = ?").run([.text(sharedID)])

        let out = dir.path("out.db")
        let merge = try CLI.run(["merge", out, a, b])
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stderr.contains("\(b): 1 runs added"), "\(merge.stderr)")
        #expect(merge.stderr.contains("\(b): note: run id \(sharedID) is taken by a different configuration; added as "),
                "\(merge.stderr)")
        let ids = try Database(path: out, mode: .readOnly).prepare("SELECT run_id FROM runs ORDER BY id").rows { $0.text(0) }
        #expect(ids.count == 2)
        #expect(ids.first == sharedID)
        #expect(Set(ids).count == 2)
        #expect(try runResults(out) == (runResults(a) + runResults(b)).sorted())
        // The renamed run is whole: shown by its new id, with its metrics.
        let show = try CLI.run(["show", ids[1], "--db", out, "--format", "json"])
        #expect(show.status == 0, "\(show.stderr)")
    }

    /// The case: merging into a database where a run is live, from an input that holds a finished
    /// copy of that run's configuration. Before, merge deleted the live row and its owner exited "taken
    /// over"; now the input's copy is skipped and named, the owner finishes its run undisturbed, and merging
    /// again afterwards finds the configuration already present.
    @Test func aLiveRunHereIsNeverReplacedOrDeleted() throws {
        let dir = try TemporaryDirectory()
        let finished = dir.path("finished.db"), out = dir.path("out.db")
        let straight = try CLI.run(["run", "--db", finished] + Self.killable)
        #expect(straight.status == 0, "\(straight.stderr)")

        let live = try CLI.start(["run", "--db", out] + Self.killable, captureStderr: true)
        defer { if live.isRunning { kill(live.processIdentifier, SIGKILL) } }
        waitForProgress(out, atLeast: 500, while: live)
        try #require(live.isRunning, "the live run finished before the merge")
        let liveID = try #require(try firstRunID(out))
        let inputID = try #require(try firstRunID(finished))

        let merge = try CLI.run(["merge", out, finished, "--format", "json"])
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stderr.contains("\(finished): 0 runs added, 0 replaced a copy less far along, 0 skipped (already present), "
                                      + "1 skipped (live here), 0 frames added"), "\(merge.stderr)")
        #expect(merge.stderr.contains("\(finished): skipped run \(inputID): live here: run \(liveID) is running in another process (pid "
                                      + "\(live.processIdentifier) on "), "\(merge.stderr)")
        let json = try #require(try CLI.json(merge) as? [[String: Any]])
        let skipped = try #require(json.first?["skipped"] as? [[String: Any]])
        #expect(skipped.count == 1)
        #expect(skipped.first?["reason"] as? String == "live here")
        #expect(skipped.first?["kept_run_id"] as? String == liveID)

        live.waitUntilExit()
        #expect(live.terminationStatus == 0, "\(CLI.capturedStderr(live))")
        #expect(try statuses(out) == ["finished"])
        #expect(try runResults(out) == runResults(finished))
        #expect(try metricDump(out) == metricDump(finished))

        // Once the run here finished, the input's copy is simply already present, and named as such.
        let again = try CLI.run(["merge", out, finished])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("0 runs added, 0 replaced a copy less far along, 1 skipped (already present), 0 frames added"),
                "\(again.stderr)")
        #expect(again.stderr.contains("skipped run \(inputID): already present as run \(liveID) (finished)"), "\(again.stderr)")
    }

    /// A big input is copied in several transactions (about 25,000 metric rows each), not in one that
    /// holds the write lock for the whole file; the result is the same as copying it whole.
    @Test func aBigInputIsMergedInBoundedTransactions() throws {
        let dir = try TemporaryDirectory()
        let input = dir.path("in.db"), out = dir.path("out.db")
        for seed in ["1", "2", "3"] {
            let run = try CLI.run(["run", "--db", input, "--algo", "ql", "--n", "4", "--seed", seed, "--iterations", "12000",
                                   "--quiet"])
            #expect(run.status == 0, "\(run.stderr)")
        }
        let merge = try CLI.run(["merge", out, input, "--format", "json"])
        #expect(merge.status == 0, "\(merge.stderr)")
        let report = try #require((try CLI.json(merge) as? [[String: Any]])?.first)
        // The frames, then 12,000 + 12,000 rows, then the third run's 12,000.
        #expect(report["transactions"] as? Int == 3, "\(report)")
        #expect(report["runs_added"] as? Int == 3)
        #expect(try runResults(out) == runResults(input))
        #expect(try metricDump(out) == metricDump(input))
        #expect(try integrityCheck(out) == "ok")
    }
}
