import Foundation
import SQLite
import Testing
import TestSupport

/// `tracker tune` through the built binary (issue 23): refusals, the status JSON, promotions equal to fresh
/// runs, two processes at once, kill -9, shards and merge, compare and plot of a study. Every study here
/// is 9 trials of DTEQL at N = 6 on 2 frames with rungs 300/900/2700: about a second of work.
@Suite(.serialized) struct TuneTests {
    /// With `sampler` tpe: 3 startup trials per bracket, then batches of 2 drawn from the model.
    static func study(name: String = "k", scheduler: String = "asha", trials: Int = 9, seed: Int = 3,
                      objective: String = "median_convergence", sampler: String = "sobol") -> String {
        """
        {"name": "\(name)", "n": [6], "frames": 2, "seeds": [1], "algorithm": "dteql", "fixed": {"eps_min": 0.05},
         "search": {"lr": {"log_uniform": [0.05, 1]}, "epsilon_decay": {"uniform": [50, 3000]}, "phi": {"choice": [5, 10, 20]}},
         "objective": "\(objective)", "budget": {"min_iterations": 300, "max_iterations": 2700, "reduction": 3},
         "trials": \(trials), "scheduler": "\(scheduler)", "sampler": "\(sampler)", "seed": \(seed), "checkpoint_every": 100\(
            sampler == "tpe" ? #", "tpe": {"startup_trials": 3, "batch": 2}"# : "")}
        """
    }

    static func write(_ text: String, _ dir: TemporaryDirectory, _ name: String = "study.json") throws -> String {
        let path = dir.path(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func rows(_ db: String, _ sql: String) throws -> [String] {
        let database = try Database(path: db, mode: .readOnly)
        return try database.prepare(sql).rows { row in
            (0..<row.columnCount).map { String(describing: row.value(Int32($0))) }.joined(separator: "|")
        }
    }

    /// What must be equal between two databases holding the same study: every trial-rung's result, every
    /// run's value in it, and every run by configuration with its final Q-table digest. Run ids are drawn
    /// per database, so they are left out.
    static func dump(_ db: String) throws -> [[String]] {
        [
            try rows(db, "SELECT trial, rung, budget, quote(objective), runs, iterations FROM study_rungs ORDER BY trial, rung"),
            try rows(db, "SELECT trial, bracket, settings FROM study_trials ORDER BY trial"),
            try rows(db, "SELECT trial, rung, position, quote(value) FROM study_rung_runs ORDER BY trial, rung, position"),
            try rows(db, """
                SELECT r.config_hash, r.status, r.done_iterations, s.qtable_sha256 FROM runs AS r
                LEFT JOIN run_summaries AS s ON s.run = r.id ORDER BY r.config_hash
                """),
        ]
    }

    /// No iteration recorded twice: one metric row per done iteration, and the rows are 0..<done per run.
    static func expectEveryIterationOnce(_ db: String) throws {
        let counts = try rows(db, """
            SELECT (SELECT count(*) FROM metrics), (SELECT sum(done_iterations) FROM runs),
                   (SELECT count(*) FROM runs AS r WHERE (SELECT max(iteration) FROM metrics WHERE run = r.id) <> r.done_iterations - 1)
            """)
        let parts = counts[0].split(separator: "|")
        #expect(parts[0] == parts[1] && parts[2] == "0", "\(counts)")
    }

    static func reference(_ dir: TemporaryDirectory, _ spec: String) throws -> String {
        let db = dir.path("reference.db")
        let result = try CLI.run(["tune", spec, "--db", db, "--jobs", "1", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        return db
    }

    @Test func badSpecsAndOptionsAreRefusedInOneLineAndRecordNothing() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let bad: [(String, String)] = [
            (Self.study().replacingOccurrences(of: "[50, 3000]", with: "[3000, 50]"), "search.epsilon_decay.uniform"),
            (Self.study().replacingOccurrences(of: "[0.05, 1]", with: "[0, 1]"), "search.lr.log_uniform"),
            (Self.study().replacingOccurrences(of: "\"phi\": {", with: "\"phy\": {"), "unknown setting 'phy'"),
            (Self.study().replacingOccurrences(of: "median_convergence", with: "speed"), "'objective' 'speed' does not exist"),
            (Self.study().replacingOccurrences(of: "\"reduction\": 3", with: "\"reduction\": 1"), "'budget.reduction' must be at least 2"),
            (Self.study().replacingOccurrences(of: "\"checkpoint_every\": 100", with: "\"checkpoint_every\": 400"), "below one checkpoint interval"),
            (Self.study(trials: 20000), "more than the limit of 10000 trials"),
        ]
        for (text, message) in bad {
            let spec = try Self.write(text, dir)
            let result = try CLI.run(["tune", spec, "--db", db])
            #expect(result.status == 1 && result.errorLines.count == 1 && result.stderr.contains(message), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: db))
        }
        let spec = try Self.write(Self.study(), dir)
        for options in [["--shard", "3/2"], ["--shard", "x"], ["--jobs", "0"], ["--status", "--shard", "1/2"]] {
            #expect(try CLI.run(["tune", spec, "--db", db] + options).status == 64)
        }
        #expect(!FileManager.default.fileExists(atPath: db))

        // A spec edited after the study was recorded: refused, naming what changed, nothing written.
        #expect(try CLI.run(["tune", spec, "--db", db, "--quiet"]).status == 0)
        let before = try Self.dump(db)
        let edited = try Self.write(Self.study(trials: 10).replacingOccurrences(of: "[5, 10, 20]", with: "[5, 10]"), dir, "edited.json")
        for extra in [[], ["--status"]] {
            let result = try CLI.run(["tune", edited, "--db", db] + extra)
            #expect(result.status == 1 && result.stderr.contains("search.phi, trials changed"), "\(result.stderr)")
        }
        #expect(try Self.dump(db) == before)
    }

    /// A study's name is text, bound, never spliced: SQL in it is a name like any other; a control character
    /// (a terminal escape) is refused in one line.
    @Test func hostileNames() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let escape = try Self.write(Self.study(name: "\\u001b[31mred", trials: 1), dir, "escape.json")
        let refused = try CLI.run(["tune", escape, "--db", db])
        #expect(refused.status == 1 && refused.stderr.contains("'name' must be 1 to 200 characters without control characters"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))
        let injected = try Self.write(Self.study(name: "x'); DROP TABLE runs; --", trials: 1), dir, "sql.json")
        let run = try CLI.run(["tune", injected, "--db", db, "--quiet", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect((try CLI.json(run) as? [String: Any])?["study"] as? String == "x'); DROP TABLE runs; --")
        #expect(try Database(path: db, mode: .readOnly).scalar("SELECT count(*) FROM runs") == .integer(2))
        let board = try CLI.run(["query", "study_leaderboard", "--db", db, "--param", "study=x'); DROP TABLE runs; --"])
        #expect(board.status == 0 && board.stdout.contains("2700"), "\(board.stdout) \(board.stderr)")
    }

    @Test func statusJSONHasTheIssuesShape() throws {
        let dir = try TemporaryDirectory()
        let spec = try Self.write(Self.study(), dir)
        let db = dir.path("t.db")
        // Before anything ran: every trial pending, and no database created.
        let empty = try CLI.run(["tune", spec, "--db", db, "--status", "--format", "json"])
        #expect(empty.status == 0, "\(empty.stderr)")
        let pending = try #require(try CLI.json(empty) as? [String: Any])
        #expect(pending["best"] is NSNull && (pending["trials"] as? [[String: Any]])?.allSatisfy { $0["state"] as? String == "pending" } == true)
        #expect(!FileManager.default.fileExists(atPath: db))

        let run = try CLI.run(["tune", spec, "--db", db, "--jobs", "2", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("tune: trial 0 rung 0 (300 iterations)"), "\(run.stderr)")
        let status = try CLI.run(["tune", spec, "--db", db, "--status", "--format", "json"])
        #expect(status.stdout == run.stdout)
        let object = try #require(try CLI.json(status) as? [String: Any])
        #expect(object["complete"] as? Bool == true)
        #expect(object["iterations_spent"] as? Int == 2 * (9 * 300 + 3 * 600 + 1 * 1800))
        let best = try #require(object["best"] as? [String: Any])
        #expect(Set((best["settings"] as? [String: Any] ?? [:]).keys) == ["beta", "lr", "phi"])
        #expect(best["budget"] as? Int == 2700 && best["objective"] is NSNumber && (best["runs"] as? [String])?.count == 2)
        let trials = try #require(object["trials"] as? [[String: Any]])
        #expect(trials.count == 9)
        #expect(Dictionary(grouping: trials, by: { $0["state"] as? String ?? "" }).mapValues(\.count) == ["finished": 1, "pruned": 8])
        for trial in trials {
            #expect(trial["settings"] is [String: Any] && trial["budget"] is Int && trial["objective"] != nil)
        }
        // The leaderboard query agrees on the best trial.
        let board = try CLI.run(["query", "study_leaderboard", "--db", db, "--param", "study=k", "--format", "json"])
        #expect(board.status == 0, "\(board.stderr)")
        let first = try #require((try CLI.json(board) as? [[String: Any]])?.first)
        #expect(first["trial"] as? Int == best["trial"] as? Int && first["budget"] as? Int == 2700)
    }

    /// A promoted run (extended from 300 to 900 to 2700 iterations) equals, bit for bit, a run started
    /// with 2700 iterations by `tracker run`: same configuration, every metric row, the final Q-table.
    @Test func promotedRunsEqualFreshRunsAtTheTopBudget() throws {
        let dir = try TemporaryDirectory()
        let spec = try Self.write(Self.study(), dir)
        let db = try Self.reference(dir, spec)
        let database = try Database(path: db, mode: .readOnly)
        let promoted = try database.prepare("""
            SELECT x.position, r.run_id, r.phi, p.learning_rate, p.epsilon_decay, p.epsilon_min FROM study_rung_runs AS x
            JOIN runs AS r ON r.run_id = x.run_id JOIN run_params AS p ON p.run = r.id WHERE x.rung = 2 ORDER BY x.position
            """).rows { row in
            (position: Int(row.int64(0)), runID: row.text(1), phi: Int(row.int64(2)), lr: row.double(3), beta: row.double(4),
             epsMin: row.double(5))
        }
        #expect(promoted.count == 2)
        // Each went through all three rungs as the same run.
        #expect(try database.prepare("""
            SELECT count(DISTINCT run_id) FROM study_rung_runs WHERE trial = (SELECT trial FROM study_rungs WHERE rung = 2)
            """).rows { $0.int64(0) } == [2])
        for row in promoted {
            let position = row.position, runID = row.runID
            let fresh = dir.path("fresh-\(position).db")
            let result = try CLI.run([
                "run", "--db", fresh, "--n", "6", "--frame-seed", String(position + 1), "--seed", "1", "--algo", "dteql",
                "--phi", String(row.phi), "--lr", String(row.lr), "--beta", String(row.beta), "--eps-min", String(row.epsMin),
                "--iterations", "2700", "--checkpoint-every", "100", "--quiet", "--format", "json",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let freshID = try #require((try CLI.json(result) as? [String: Any])?["run_id"] as? String)
            func outcome(_ path: String, _ id: String) throws -> [[String]] {
                [
                    try Self.rows(path, "SELECT config_hash, planned_iterations, done_iterations FROM runs WHERE run_id = '\(id)'"),
                    try Self.rows(path, """
                        SELECT iteration, action, reward, greedy_action, distinct_actions FROM metrics
                        WHERE run = (SELECT id FROM runs WHERE run_id = '\(id)') ORDER BY iteration
                        """),
                    try Self.rows(path, """
                        SELECT greedy_action, objective, optimality_ratio, iterations_to_optimal, qtable_sha256 FROM run_summaries
                        WHERE run = (SELECT id FROM runs WHERE run_id = '\(id)')
                        """),
                ]
            }
            let mine = try outcome(db, runID), theirs = try outcome(fresh, freshID)
            #expect(mine[1].count == 2700)
            #expect(mine == theirs)
        }
    }

    @Test(arguments: ["sobol", "tpe"]) func twoProcessesAtOnceRunEachTrialOnceAndEqualOneAlone(sampler: String) throws {
        let dir = try TemporaryDirectory()
        let spec = try Self.write(Self.study(sampler: sampler), dir)
        let reference = try Self.reference(dir, spec)
        let db = dir.path("shared.db")
        let a = try CLI.start(["tune", spec, "--db", db, "--jobs", "2", "--quiet"], captureStderr: true)
        let b = try CLI.start(["tune", spec, "--db", db, "--jobs", "2", "--quiet"], captureStderr: true)
        #expect(waitForExit(a, seconds: 120) && waitForExit(b, seconds: 120))
        #expect(a.terminationStatus == 0 && b.terminationStatus == 0, "\(CLI.capturedStderr(a)) \(CLI.capturedStderr(b))")
        #expect(try Self.dump(db) == Self.dump(reference))
        try Self.expectEveryIterationOnce(db)
        #expect(try Self.rows(db, "SELECT count(*) FROM runs") == Self.rows(reference, "SELECT count(*) FROM runs"))
    }

    @Test(arguments: ["sobol", "tpe"]) func killedAtRandomMomentsThenRerunEqualsAnUninterruptedStudy(sampler: String) throws {
        let dir = try TemporaryDirectory()
        let spec = try Self.write(Self.study(sampler: sampler), dir)
        let started = Date()
        let reference = try Self.reference(dir, spec)
        // Kill moments scale with how long the whole study takes on this machine (one job), so they fall
        // inside the study whether the machine is idle or loaded.
        let whole = max(Date().timeIntervalSince(started), 0.2)
        let db = dir.path("killed.db")
        var timings = SeededTimings(seed: 23)
        var kills = 0
        for _ in 0..<4 {
            let process = try CLI.start(["tune", spec, "--db", db, "--jobs", "2", "--quiet"])
            Thread.sleep(forTimeInterval: whole * (0.05 + Double(timings.next() % 400) / 1000))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            #expect(waitForExit(process, seconds: 60))
            #expect(try integrityCheck(db) == "ok")
        }
        #expect(kills >= 2, "the study finished before it could be killed")
        let finish = try CLI.run(["tune", spec, "--db", db, "--jobs", "2", "--quiet"])
        #expect(finish.status == 0, "\(finish.stderr)")
        #expect(try Self.dump(db) == Self.dump(reference))
        try Self.expectEveryIterationOnce(db)
    }

    /// Shards own trials by index modulo K; each stops when its next rung needs the others' results; merged
    /// and run again, the study equals one run whole, and --status reads right in between.
    @Test(arguments: ["asha", "hyperband"], ["sobol", "tpe"])
    func shardsMergedThenFinishedEqualTheWhole(scheduler: String, sampler: String) throws {
        let dir = try TemporaryDirectory()
        let spec = try Self.write(Self.study(scheduler: scheduler, sampler: sampler), dir)
        let reference = try Self.reference(dir, spec)
        for index in 1...2 {
            let shard = try CLI.run(["tune", spec, "--db", dir.path("s\(index).db"), "--shard", "\(index)/2", "--jobs", "1"])
            #expect(shard.status == 0, "\(shard.stderr)")
            #expect(shard.stderr.contains("waits on the other shards"), "\(shard.stderr)")
        }
        let trialsOf = { (db: String) in try Self.rows(db, "SELECT DISTINCT trial FROM study_rungs ORDER BY trial").map { Int($0.filter(\.isNumber))! } }
        #expect(try trialsOf(dir.path("s1.db")).allSatisfy { $0 % 2 == 0 })
        #expect(try trialsOf(dir.path("s2.db")).allSatisfy { $0 % 2 == 1 })
        let merged = dir.path("merged.db")
        let merge = try CLI.run(["merge", merged, dir.path("s1.db"), dir.path("s2.db")])
        #expect(merge.status == 0, "\(merge.stderr)")
        let between = try #require(try CLI.json(try CLI.run(["tune", spec, "--db", merged, "--status", "--format", "json"])) as? [String: Any])
        #expect(between["complete"] as? Bool == false)
        if sampler == "tpe" && scheduler == "asha" {
            // Settings a model has not drawn yet are null, and those trials are pending (hyperband's
            // brackets of 9 trials hold only startup trials).
            let trials = try #require(between["trials"] as? [[String: Any]])
            let undrawn = trials.filter { $0["settings"] is NSNull }
            #expect(!undrawn.isEmpty && undrawn.allSatisfy { $0["state"] as? String == "pending" }, "\(trials)")
        }
        #expect(between["trial_rungs_done"] as? Int == Int(try Self.rows(merged, "SELECT count(*) FROM study_rungs")[0].filter(\.isNumber)))
        let finish = try CLI.run(["tune", spec, "--db", merged, "--jobs", "2", "--quiet"])
        #expect(finish.status == 0, "\(finish.stderr)")
        #expect(try Self.dump(merged)[0] == Self.dump(reference)[0])
        #expect(try Self.dump(merged)[1] == Self.dump(reference)[1])
        #expect(try Self.dump(merged)[2] == Self.dump(reference)[2])
        let final = try CLI.run(["tune", spec, "--db", merged, "--status", "--format", "json"])
        let whole = try CLI.run(["tune", spec, "--db", reference, "--status", "--format", "json"])
        func withoutRuns(_ result: CLI.Result) throws -> String {
            var object = try #require(try CLI.json(result) as? [String: Any])
            var best = object["best"] as? [String: Any] ?? [:]
            best["runs"] = nil
            object["best"] = best
            object["trials"] = (object["trials"] as? [[String: Any]] ?? []).map { var t = $0; t["runs"] = nil; return t }
            return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        #expect(try withoutRuns(final) == withoutRuns(whole))
    }

    /// Each objective: the study completes, its direction is the objective's, and each value lies in the
    /// objective's range (J*/J and the delay score at most 1, the mean greedy reward positive).
    @Test(arguments: ["mean_optimality_ratio", "mean_delay_score", "reward_auc"])
    func everyObjectiveRunsAStudy(objective: String) throws {
        let dir = try TemporaryDirectory()
        let spec = try Self.write(Self.study(trials: 4, objective: objective), dir)
        let result = try CLI.run(["tune", spec, "--db", dir.path("t.db"), "--jobs", "2", "--quiet", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try CLI.json(result) as? [String: Any])
        #expect(object["complete"] as? Bool == true && object["direction"] as? String == "maximize")
        let values = (object["trials"] as? [[String: Any]] ?? []).compactMap { $0["objective"] as? Double }
        #expect(values.count == 4)
        #expect(values.allSatisfy { objective == "reward_auc" ? $0 > 0 : $0 <= 1 + 1e-12 }, "\(values)")
        let best = try #require((object["best"] as? [String: Any])?["objective"] as? Double)
        let top = (object["trials"] as? [[String: Any]] ?? []).filter { $0["budget"] as? Int == 2700 }.compactMap { $0["objective"] as? Double }
        #expect(best == top.max())
    }

    /// Two databases holding a study of one name with different specs: merge keeps the output's, says so,
    /// and still merges the runs.
    @Test func mergeLeavesAStudyWithAnotherSpecAlone() throws {
        let dir = try TemporaryDirectory()
        let a = dir.path("a.db"), b = dir.path("b.db")
        #expect(try CLI.run(["tune", try Self.write(Self.study(trials: 2), dir, "a.json"), "--db", a, "--quiet"]).status == 0)
        #expect(try CLI.run(["tune", try Self.write(Self.study(trials: 3), dir, "b.json"), "--db", b, "--quiet"]).status == 0)
        let before = try Self.dump(a)[0]
        let merge = try CLI.run(["merge", a, b])
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stderr.contains("note: study k is recorded here with another spec"), "\(merge.stderr)")
        #expect(try Self.dump(a)[0] == before)
        #expect(try Self.rows(a, "SELECT spec FROM studies").count == 1)
    }

    @Test func compareAndPlotAStudy() throws {
        let dir = try TemporaryDirectory()
        let spec = try Self.write(Self.study(), dir)
        let db = try Self.reference(dir, spec)
        let compare = try CLI.run(["compare", "--db", db, "--study", "k", "--top", "2", "--format", "json"])
        #expect(compare.status == 0, "\(compare.stderr)")
        #expect(compare.stderr.contains("paper's defaults"), "\(compare.stderr)")
        #expect(compare.stdout.contains("\"runs\""), "\(compare.stdout)")
        for (extra, name) in [([String](), "budget.svg"), (["--by", "learning_rate"], "lr.svg"), (["--by", "beta"], "beta.svg")] {
            let out = dir.path(name)
            let plot = try CLI.run(["plot", "--db", db, "--study", "k", "--out", out] + extra)
            #expect(plot.status == 0, "\(plot.stderr)")
            let svg = try String(contentsOfFile: out, encoding: .utf8)
            #expect(svg.hasPrefix("<svg") || svg.contains("<svg"))
        }
        let wrong = try CLI.run(["plot", "--db", db, "--study", "k", "--by", "gamma", "--out", dir.path("x.svg")])
        #expect(wrong.status == 1 && wrong.stderr.contains("searches beta, lr, phi"), "\(wrong.stderr)")
        let missing = try CLI.run(["compare", "--db", db, "--study", "nope"])
        #expect(missing.status == 1 && missing.stderr.contains("studies: k"), "\(missing.stderr)")
        #expect(try CLI.run(["compare", "--db", db, "--study", "k", "--n", "6"]).status == 64)
        // delete and gc leave the study tables alone, and the study reads on.
        let delete = try CLI.run(["delete", "--db", db, "--status", "finished"], stdin: "y\n")
        #expect(delete.status == 0, "\(delete.stderr)")
        let gc = try CLI.run(["gc", "--db", db])
        #expect(gc.status == 0, "\(gc.stderr)")
        #expect(try CLI.run(["tune", spec, "--db", db, "--status"]).status == 0)
    }
}
