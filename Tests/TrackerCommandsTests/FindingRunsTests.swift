import Foundation
import SQLite
import Testing
import TestSupport

/// Finding and removing runs (issue 11 section 5): `list`'s columns, sorting, limit and filters;
/// `delete` of several ids or a filter, `--dry-run`, and its refusal of a run live in another process;
/// run-id prefixes resolved the same way by every command that takes a run id.
@Suite(.serialized) struct FindingRunsTests {
    static let quickRun = ["run", "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet"]

    /// Three QL runs (seeds 1, 2, 3; the third labelled "keep") and one DTEQL run off the defaults.
    static func fourRuns(_ db: String) throws {
        for arguments in [["--seed", "1"], ["--seed", "2"], ["--seed", "3", "--label", "keep"]] {
            let result = try CLI.run(quickRun + ["--db", db] + arguments)
            #expect(result.status == 0, "\(result.stderr)")
        }
        let odd = try CLI.run(["run", "--db", db, "--algo", "dteql", "--phi", "3", "--n", "4", "--iterations", "80",
                               "--lr", "0.5", "--rate", "6e6", "--seed", "9", "--quiet"])
        #expect(odd.status == 0, "\(odd.stderr)")
    }

    static func rows(_ result: CLI.Result) -> [[String]] {
        result.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    static func list(_ db: String, _ arguments: [String]) throws -> [[String]] {
        let result = try CLI.run(["list", "--db", db, "--format", "csv"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return rows(result)
    }

    @Test func listShowsFrameSeedAndSettingsAndTakesColumnsSortLimitSince() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        try Self.fourRuns(db)

        let header = try CLI.run(["list", "--db", db, "--format", "csv"]).stdout.split(separator: "\n").first
        #expect(header == "run_id,algorithm,n,phi,seed,frame_seed,settings,status,resumable,iterations,planned,objective,iterations_to_optimal,label,created_at")
        // Newest first by default; --oldest-first gives the order of creation.
        #expect(try Self.list(db, ["--columns", "frame_seed"]).map { $0[0] } == ["9", "3", "2", "1"])
        let settings = try Self.list(db, ["--columns", "algorithm,frame_seed,settings", "--oldest-first"])
        #expect(settings.map { $0[0] } == ["ql", "ql", "ql", "dteql"])
        #expect(settings.map { $0[1] } == ["1", "2", "3", "9"])
        #expect(settings[0][2] == "iterations=50")
        #expect(settings[3][2] == "iterations=80 lr=0.5 rate=6000000")

        // Sorting by a number is numeric, --descending reverses, --limit cuts after sorting.
        let bySeed = try Self.list(db, ["--columns", "seed", "--sort", "seed", "--descending", "--limit", "2"])
        #expect(bySeed == [["9"], ["3"]])
        let byObjective = try Self.list(db, ["--columns", "objective", "--sort", "objective"]).map { Double($0[0])! }
        #expect(byObjective == byObjective.sorted() && byObjective.count == 4)
        // Runs without a label sort last, in the order they came.
        #expect(try Self.list(db, ["--columns", "label,seed", "--sort", "label"]) == [["keep", "3"], ["", "1"], ["", "2"], ["", "9"]])
        #expect(try Self.list(db, ["--columns", "seed", "--descending"]).map { $0[0] } == ["9", "3", "2", "1"])

        // --since: a duration back from now or a UTC date; --status and --where as before.
        #expect(try Self.list(db, ["--since", "1h", "--columns", "seed"]).count == 4)
        #expect(try Self.list(db, ["--since", "2999-01-01", "--columns", "seed"]).isEmpty)
        #expect(try Self.list(db, ["--since", "2000-01-01T00:00:00Z", "--columns", "seed"]).count == 4)
        #expect(try Self.list(db, ["--status", "finished", "--where", "lr=0.5", "--columns", "seed"]) == [["9"]])

        for (arguments, message) in [
            (["--sort", "bogus"], "The value 'bogus' is invalid for '--sort <column>'"),
            (["--columns", "run_id,nope"], "--columns: unknown column 'nope'; known: run_id, algorithm"),
            (["--limit", "0"], "--limit must be at least 1, got 0."),
            (["--since", "tomorrow"], "--since: 'tomorrow' is neither a duration"),
            (["--since", "2026-02-30"], "--since: '2026-02-30' is not a valid date or time"),
        ] {
            let refused = try CLI.run(["list", "--db", db] + arguments)
            #expect(refused.status == 64, "\(arguments)")
            #expect(refused.stderr.contains(message), "\(refused.stderr)")
            #expect(refused.stdout.isEmpty)
        }
    }

    @Test func deleteTakesSeveralIdsOrAFilterAndDryRunChangesNothing() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        try Self.fourRuns(db)
        // delete reports runs oldest first, so the ids are taken in that order.
        let ids = try Self.list(db, ["--columns", "run_id", "--oldest-first"]).map { $0[0] }

        let dry = try CLI.run(["delete", "--db", db, "--algo", "ql", "--dry-run", "--format", "json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let listed = try #require(try CLI.json(dry) as? [[String: Any]])
        #expect(listed.map { $0["run_id"] as? String } == Array(ids.prefix(3)))
        #expect(dry.stderr == "3 runs would be deleted (dry run).\n")
        #expect(try Self.list(db, ["--columns", "run_id"]).count == 4)

        // Without --yes it names the runs and their count, and reads the answer.
        let declined = try CLI.run(["delete", "--db", db, "--where", "lr=0.5"], stdin: "n\n")
        #expect(declined.status == 1)
        #expect(declined.stderr.contains("Delete 1 run (\(ids[3]))? [y/N]"), "\(declined.stderr)")
        #expect(try Self.list(db, ["--columns", "run_id"]).count == 4)

        // Two ids, one as a prefix and one given twice: each run once.
        let byID = try CLI.run(["delete", "--db", db, String(ids[0].prefix(6)), ids[1], ids[1], "--yes"])
        #expect(byID.status == 0, "\(byID.stderr)")
        #expect(byID.stderr == "Deleted 2 runs.\n")
        #expect(byID.stdout.contains(ids[0]) && byID.stdout.contains(ids[1]), "\(byID.stdout)")
        #expect(try Self.list(db, ["--columns", "run_id", "--oldest-first"]).map { $0[0] } == [ids[2], ids[3]])

        let byLabel = try CLI.run(["delete", "--db", db, "--label", "keep", "--status", "finished", "--yes", "--format", "json"])
        #expect(byLabel.status == 0, "\(byLabel.stderr)")
        #expect((try CLI.json(byLabel) as? [[String: Any]])?.map { $0["run_id"] as? String } == [ids[2]])
        let none = try CLI.run(["delete", "--db", db, "--label", "absent", "--yes"])
        #expect(none.status == 0 && none.stderr == "No run matches; nothing deleted.\n", "\(none.stderr)")
        #expect(try Self.list(db, ["--columns", "run_id"]).map { $0[0] } == [ids[3]])
        #expect(try integrityCheck(db) == "ok")

        for (arguments, message) in [
            ([String](), "Give the run ids to delete, or filters"),
            ([ids[3], "--label", "x"], "Give run ids or filters (--label, --status, --where, ...), not both."),
        ] {
            let refused = try CLI.run(["delete", "--db", db, "--yes"] + arguments)
            #expect(refused.status == 64 && refused.stderr.contains(message), "\(refused.stderr)")
        }
    }

    /// The issue's case: deleting a run that another process is running made that process die with a
    /// FOREIGN KEY error. Now the delete is refused, naming the run, host and heartbeat age, while the
    /// heartbeat is fresh; a run whose process is gone, or whose heartbeat is older than the bound on
    /// another host, may be deleted.
    @Test func deleteRefusesARunLiveInAnotherProcess() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let long = ["run", "--db", db, "--algo", "dteql", "--phi", "300", "--n", "7", "--iterations", "400000",
                    "--checkpoint-every", "500", "--quiet"]
        let owner = try CLI.start(long, captureStderr: true)
        waitForProgress(db, atLeast: 500, while: owner)
        #expect(owner.isRunning)
        let runID = try #require(try firstRunID(db))
        // A dry run predicts the refusal rather than "1 run would be deleted".
        for arguments in [[String(runID.prefix(5))], ["--status", "running"], ["--status", "running", "--dry-run"]] {
            let refused = try CLI.run(["delete", "--db", db, "--yes"] + arguments)
            #expect(refused.status == 1)
            #expect(refused.errorLines.count == 1, "\(refused.stderr)")
            #expect(refused.stderr.contains("Error: run \(runID) is running in another process (pid \(owner.processIdentifier) on "),
                    "\(refused.stderr)")
            #expect(refused.stderr.contains(", heartbeat "), "\(refused.stderr)")
            #expect(refused.stdout.isEmpty)
        }
        // Refused before it asks, so a "y" cannot be wasted on a run that will not go.
        let asked = try CLI.run(["delete", "--db", db, runID], stdin: "y\n")
        #expect(asked.status == 1 && !asked.stderr.contains("[y/N]"), "\(asked.stderr)")
        #expect(asked.stderr.contains("is running in another process"), "\(asked.stderr)")
        // The owner never noticed: it stops cleanly on SIGINT, its run intact.
        kill(owner.processIdentifier, SIGINT)
        owner.waitUntilExit()
        #expect(owner.terminationStatus == 130, "\(CLI.capturedStderr(owner))")
        #expect(try integrityCheck(db) == "ok")
        let interrupted = try CLI.run(["delete", "--db", db, runID, "--yes"])
        #expect(interrupted.status == 0, "\(interrupted.stderr)")

        // Killed on another host: its heartbeat is fresh, so it counts as live there until the bound passes.
        let elsewhere = try CLI.start(long, host: "node1")
        waitForProgress(db, atLeast: 500, while: elsewhere)
        kill(elsewhere.processIdentifier, SIGKILL)
        elsewhere.waitUntilExit()
        let killedID = try #require(try firstRunID(db))
        let fresh = try CLI.run(["delete", "--db", db, killedID, "--yes"], environment: ["TRACKER_STALE_AFTER_S": "3600"])
        #expect(fresh.status == 1)
        #expect(fresh.stderr.contains("run \(killedID) is running in another process (pid "), "\(fresh.stderr)")
        #expect(fresh.stderr.contains(" on node1, heartbeat "), "\(fresh.stderr)")
        Thread.sleep(forTimeInterval: 2)
        let stale = try CLI.run(["delete", "--db", db, killedID, "--yes"], environment: ["TRACKER_STALE_AFTER_S": "1"])
        #expect(stale.status == 0, "\(stale.stderr)")
        #expect(try firstRunID(db) == nil)
        #expect(try integrityCheck(db) == "ok")
    }

    /// Every command that takes a run id resolves it through the store's one resolver: a unique prefix
    /// works, an ambiguous one is an error listing the matches, an unknown one an error (exit 1), never
    /// an empty result.
    @Test func runIDPrefixesWorkTheSameInEveryCommand() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        try Self.fourRuns(db)
        // Give three runs ids with a common prefix, so a short prefix is ambiguous.
        let connection = try Database(path: db, mode: .readWrite)
        for (key, id) in [(1, "abc00001"), (2, "abc00002"), (3, "abd00003")] {
            try connection.prepare("UPDATE runs SET run_id = ? WHERE id = ?").run([.text(id), .integer(Int64(key))])
        }
        let commands: [(String, [String]) -> [String]] = [
            { id, db in ["show", id] + db },
            { id, db in ["resume", id, "--quiet"] + db },
            { id, db in ["tag", id, "k=v"] + db },
            { id, db in ["note", id, "text"] + db },
            { id, db in ["query", "run_history", "--param", "run_id=\(id)", "--param", "step=10"] + db },
            { id, db in ["query", "run_settings", "--param", "run_id=\(id)"] + db },
            { id, db in ["query", "checkpoint_sizes", "--param", "run_id=\(id)"] + db },
            { id, db in ["delete", id, "--dry-run"] + db },
        ]
        for command in commands {
            let ambiguous = try CLI.run(command("abc", ["--db", db]))
            #expect(ambiguous.status == 1, "\(command("abc", []))")
            #expect(ambiguous.stderr == "Error: run id 'abc' matches several runs: abc00001, abc00002; give more of it\n",
                    "\(ambiguous.stderr)")
            #expect(ambiguous.stdout.isEmpty)
            let unknown = try CLI.run(command("abe", ["--db", db]))
            #expect(unknown.status == 1, "\(command("abe", []))")
            #expect(unknown.stderr.contains("no run with id 'abe'"), "\(unknown.stderr)")
            #expect(unknown.stdout.isEmpty)
        }
        // A unique prefix finds the run (resume refuses a finished run by its full id: it was found).
        let history = try CLI.run(["query", "run_history", "--param", "run_id=abd", "--db", db, "--format", "csv"])
        #expect(history.status == 0 && history.stdout.split(separator: "\n").count > 2, "\(history.stderr)")
        #expect(try CLI.run(["show", "abc00002", "--db", db]).status == 0)
        #expect(try CLI.run(["tag", "abd", "k=v", "--db", db]).status == 0)
        let resume = try CLI.run(["resume", "abd", "--db", db, "--quiet"])
        #expect(resume.stderr.contains("abd00003"), "\(resume.stderr)")
        let dry = try CLI.run(["delete", "abd", "--dry-run", "--db", db, "--format", "json"])
        #expect((try CLI.json(dry) as? [[String: Any]])?.first?["run_id"] as? String == "abd00003")
    }
}
