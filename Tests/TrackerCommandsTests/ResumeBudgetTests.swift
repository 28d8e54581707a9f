import Foundation
import SQLite
import Testing

import TestSupport

/// `tracker resume RUN --to K` (issue 23: promoting a trial to the next rung of a successive-halving
/// search): a finished run given a larger budget continues from its last checkpoint and ends bit-identical
/// to a run started with that budget, through the built binary.
@Suite struct ResumeBudgetTests {
    /// `--algo ...` for each learner; DTAQL averages every 64 iterations, so none of the budgets below
    /// (1000, 2000, 5000) ends on an averaging boundary.
    static let algorithms: [[String]] = [
        ["--algo", "ql"],
        ["--algo", "dteql", "--phi", "20"],
        ["--algo", "dtaql", "--phi", "20", "--delta", "64"],
    ]

    private static func start(_ algorithm: [String], iterations: Int, db: String) throws -> String {
        let run = try CLI.run(["run", "--db", db, "--n", "5", "--seed", "7", "--iterations", String(iterations),
                               "--quiet", "--format", "json"] + algorithm)
        #expect(run.status == 0, "\(run.stderr)")
        return try #require((try CLI.json(run) as? [String: Any])?["run_id"] as? String)
    }

    /// Every row of `sql` (one `?`: the run's id), as SQLite values: Doubles compare bit for bit.
    private static func rows(_ sql: String, run: String, db: String) throws -> [[SQLiteValue]] {
        let database = try Database(path: db, mode: .readOnly)
        let statement = try database.prepare(sql)
        return try statement.rows([.text(run)]) { row in (0..<Int32(row.columnCount)).map { row.value($0) } }
    }

    /// What must be equal between an extended run and a straight one: its identity and budget, every metric
    /// row, the summary but for its times, and the final Q-table's SHA-256 (in the summary).
    private static func outcome(of run: String, db: String) throws -> [[[SQLiteValue]]] {
        [
            try rows("SELECT status, planned_iterations, done_iterations, config_hash FROM runs WHERE run_id = ?", run: run, db: db),
            try rows("""
                SELECT iteration, action, reward, greedy_action, distinct_actions FROM metrics
                WHERE run = (SELECT id FROM runs WHERE run_id = ?) ORDER BY iteration
                """, run: run, db: db),
            try rows("""
                SELECT iterations, greedy_action, greedy_order, objective, normalized_reward, misses, mean_completion_s,
                       optimality_ratio, iterations_to_optimal, stable_iteration, distinct_actions, qtable_sha256
                FROM run_summaries WHERE run = (SELECT id FROM runs WHERE run_id = ?)
                """, run: run, db: db),
        ]
    }

    private static func checkpoints(of run: String, db: String) throws -> [Int] {
        try rows("""
            SELECT iteration FROM checkpoints WHERE run = (SELECT id FROM runs WHERE run_id = ?) ORDER BY iteration
            """, run: run, db: db).map { row in
            guard case .integer(let iteration) = row[0] else { return -1 }
            return Int(iteration)
        }
    }

    @Test(arguments: algorithms) func extendingTwiceEqualsAStraightRun(algorithm: [String]) throws {
        let dir = try TemporaryDirectory()
        let straightDB = dir.path("straight.db"), extendedDB = dir.path("extended.db")
        let straight = try Self.start(algorithm, iterations: 5000, db: straightDB)
        let run = try Self.start(algorithm, iterations: 1000, db: extendedDB)
        // A finished run's last checkpoint is at its final iteration (kept whatever --keep-checkpoints).
        #expect(try Self.checkpoints(of: run, db: extendedDB).last == 1000)

        var done = 1000
        for budget in [2000, 5000] {
            let resumed = try CLI.run(["resume", run, "--db", extendedDB, "--to", String(budget), "--format", "json"])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            // It continued from the final checkpoint: no iteration computed twice.
            #expect(resumed.stderr.contains("from iteration \(done) to \(budget)"), "\(resumed.stderr)")
            let report = try #require(try CLI.json(resumed) as? [String: Any])
            #expect(report["iterations"] as? Int == budget)
            #expect(report["planned_iterations"] as? Int == budget)
            done = budget
        }
        let extended = try Self.outcome(of: run, db: extendedDB)
        #expect(extended[1].count == 5000 && extended[2].count == 1)
        #expect(extended == (try Self.outcome(of: straight, db: straightDB)))
        // The same through the report scripts read, times aside.
        func report(_ run: String, _ db: String) throws -> [String: String] {
            let shown = try CLI.run(["resume", run, "--db", db, "--format", "json"])  // already finished: its report
            #expect(shown.status == 0, "\(shown.stderr)")
            var object = try #require(try CLI.json(shown) as? [String: Any])
            object["summary"] = (object["summary"] as? [String: Any])?.filter { !["wall_seconds", "iterations_per_second"].contains($0.key) }
            // Identity aside, every result and setting (times, process and provenance differ by nature).
            var kept: [String: String] = [:]
            for key in ["status", "algorithm", "n", "seed", "iterations", "planned_iterations",
                        "non_default_settings", "settings", "frame", "summary"] {
                let value = try #require(object[key], "no \(key)")
                kept[key] = String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]),
                                   as: UTF8.self)
            }
            return kept
        }
        #expect(try report(run, extendedDB) == report(straight, straightDB))
    }

    @Test func aStoppedRunCanTakeANewBudgetAndIterationsStillAddsToIt() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db"), straightDB = dir.path("straight.db")
        let algorithm = Self.algorithms[2]
        let straight = try Self.start(algorithm, iterations: 3000, db: straightDB)
        let run = try Self.start(algorithm, iterations: 1000, db: db)
        // --iterations K keeps its meaning: K more than done.
        let more = try CLI.run(["resume", run, "--db", db, "--iterations", "500", "--quiet"])
        #expect(more.status == 0, "\(more.stderr)")
        #expect(try Self.rows("SELECT planned_iterations FROM runs WHERE run_id = ?", run: run, db: db) == [[.integer(1500)]])
        let to = try CLI.run(["resume", run, "--db", db, "--to", "3000", "--quiet"])
        #expect(to.status == 0, "\(to.stderr)")
        #expect(try Self.outcome(of: run, db: db) == Self.outcome(of: straight, db: straightDB))
    }

    /// Refusals: one line, exit 1 (64 for a bad option), and the database exactly as it was.
    @Test func refusalsChangeNothing() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let algorithm = Self.algorithms[1]
        let run = try Self.start(algorithm, iterations: 1000, db: db)
        let holder = try Self.start(algorithm, iterations: 2000, db: db)
        func contents() throws -> [[[SQLiteValue]]] {
            try [Self.rows("SELECT * FROM runs WHERE run_id <> ? ORDER BY id", run: "", db: db),
                 Self.rows("SELECT run, iteration, sha256 FROM checkpoints WHERE ? = '' ORDER BY 1, 2", run: "", db: db),
                 Self.rows("SELECT count(*) FROM metrics WHERE ? = ''", run: "", db: db)]
                + Self.outcome(of: run, db: db)
        }
        let before = try contents()
        let cases: [([String], Int32, String)] = [
            (["--to", "2000"], 1, "run \(run) cannot be given a budget of 2000 iterations: that configuration is already "
                + "recorded as run \(holder) (finished); nothing was changed (a database holds one run per configuration)"),
            (["--to", "1000"], 1, "run \(run) cannot be resumed: it has done 1000 iterations; a new budget must be more than that, got 1000"),
            (["--to", "999"], 1, "run \(run) cannot be resumed: it has done 1000 iterations; a new budget must be more than that, got 999"),
            (["--to", "1000000001"], 64, "--to must be at most 1000000000, got 1000000001."),
            (["--to", "0"], 64, "--to must be at least 1, got 0."),
            (["--to", "3000", "--iterations", "5"], 64, "give one, not both."),
        ]
        for (arguments, status, message) in cases {
            let refused = try CLI.run(["resume", run, "--db", db, "--quiet"] + arguments)
            #expect(refused.status == status, "\(arguments): \(refused.stderr)")
            #expect(refused.errorLines.first.map { $0.hasPrefix("Error: ") && $0.contains(message) } == true,
                    "\(arguments): \(refused.stderr)")
            if status == 1 { #expect(refused.errorLines.count == 1, "\(refused.stderr)") }
            #expect(refused.stdout.isEmpty)
        }
        #expect(try contents() == before)
        // A budget no other run holds is fine.
        let extended = try CLI.run(["resume", run, "--db", db, "--to", "2500", "--quiet"])
        #expect(extended.status == 0, "\(extended.stderr)")
    }
}
