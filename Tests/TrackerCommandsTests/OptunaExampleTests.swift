import Foundation
import SQLite
import Testing
import TestSupport

/// examples/optuna/tracker_optuna.py (docs/optuna.md) in small, against a real database made by the
/// built binary: every trial's runs exist with the trial's settings and budget, a promoted trial's runs were
/// resumed to each rung (one run per frame, a checkpoint at every rung, one metric row per iteration), a
/// pruned trial's runs stop at its rung, the iterations it reports are the database's, and every objective
/// it reports is `tracker compare`'s median for that configuration. Needs python3 with optuna (scripts/test
/// installs it from PyPI); fails, never skips, without it.
@Suite(.serialized) struct OptunaExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = root.appendingPathComponent("examples/optuna/tracker_optuna.py").path

    /// N = 5 (120 orders) on three frames: at 100 iterations the fast configurations have converged and the
    /// slow ones not, so the pruner has something to rank (TPE seeded 1 prunes three of the ten trials at 300).
    static let spec = """
        {"name": "small", "n": [5], "frames": 3, "first_frame_seed": 1, "seeds": [1], "algorithm": "dteql",
         "fixed": {"epsilon_min": 0.1},
         "search": {"learning_rate": {"log_uniform": [0.01, 1]}, "epsilon_decay": {"uniform": [50, 2000]},
                    "phi": {"choice": [2, 5, 10]}},
         "objective": "median_convergence",
         "budget": {"min_iterations": 100, "max_iterations": 900, "reduction": 3},
         "trials": 10, "scheduler": "asha", "sampler": "sobol", "seed": 1}
        """

    /// Runs the example (bounded: `timeout` ends it after two minutes).
    static func example(_ arguments: [String]) throws -> CLI.Result {
        try CLI.tool("/usr/bin/timeout", ["120", "python3", script, "--tracker", CLI.binary.path] + arguments)
    }

    static func rows(_ sql: String, _ bindings: [SQLiteValue], db: String) throws -> [[SQLiteValue]] {
        let database = try Database(path: db, mode: .readOnly)
        let statement = try database.prepare(sql)
        return try statement.rows(bindings) { row in (0..<Int32(row.columnCount)).map { row.value($0) } }
    }

    /// Whether a stored setting is the value the example printed. Foundation's JSONSerialization on Linux
    /// reads some 17-digit decimals a few ulps off (Python printed 0.9499968774647316, the shortest text of
    /// the double the run stored, and it reads 0.9499968774647318), so allow that much.
    static func close(_ stored: SQLiteValue, _ printed: Double) -> Bool {
        guard case .real(let value) = stored else { return false }
        return abs(value - printed) <= 4 * value.ulp
    }

    @Test func everyTrialIsInTheDatabaseAndEveryObjectiveIsCompares() throws {
        let dir = try TemporaryDirectory()
        let spec = dir.path("small.json"), db = dir.path("optuna.db")
        try Self.spec.write(toFile: spec, atomically: true, encoding: .utf8)
        let result = try Self.example(["--study", spec, "--db", db, "--json", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        let study = try #require(try CLI.json(result) as? [String: Any])
        let label = try #require(study["label"] as? String)
        #expect(label == "small-optuna-s1")
        #expect(study["rungs"] as? [Int] == [100, 300, 900])
        let trials = try #require(study["trials"] as? [[String: Any]])
        #expect(trials.count == 10)

        // Each trial's configuration as compare groups it: its settings and its budget.
        let compare = try #require(try CLI.json(try CLI.run(["compare", "--db", db, "--label", label, "--format", "json"]))
            as? [[String: Any]])
        #expect(compare.count == trials.count)
        func column(phi: Int, lr: Double, beta: Double, budget: Int) -> [String: Any]? {
            compare.first { object in
                let settings = object["settings"] as? [String: Any] ?? [:]
                return object["phi"] as? Int == phi && settings["lr"] as? Double == lr && settings["beta"] as? Double == beta
                    && settings["iterations"] as? Int == budget
            }
        }

        var spent = 0, pruned = 0, promoted = 0
        for trial in trials {
            let settings = try #require(trial["settings"] as? [String: Any])
            let phi = try #require(settings["phi"] as? Int), lr = try #require(settings["lr"] as? Double)
            let beta = try #require(settings["beta"] as? Double)
            let budget = try #require(trial["budget"] as? Int)
            let rungs = try #require(trial["rungs"] as? [[String: Any]]).map { $0["budget"] as? Int ?? -1 }
            let runs = try #require(trial["runs"] as? [String])
            switch trial["state"] as? String {
            case "complete": #expect(budget == 900 && rungs == [100, 300, 900])
            case "pruned":
                pruned += 1
                #expect(budget < 900 && rungs.last == budget && Array([100, 300, 900].prefix(rungs.count)) == rungs)
            default: Issue.record("trial state \(trial["state"] ?? "nil")")
            }
            if rungs.count > 1 { promoted += 1 }

            // One run per frame, with the trial's settings, finished at its last rung.
            #expect(runs.count == 3)
            var frames: Set<Int64> = []
            for run in runs {
                let row = try #require(try Self.rows("""
                    SELECT r.status, r.planned_iterations, r.done_iterations, r.n, r.phi, p.learning_rate, p.epsilon_decay,
                           p.epsilon_min, f.seed, r.label
                    FROM runs AS r JOIN run_params AS p ON p.run = r.id JOIN frames AS f ON f.frame_id = r.frame_id
                    WHERE r.run_id = ?
                    """, [.text(run)], db: db).first, "run \(run) is not in the database")
                #expect(Array(row[0..<5]) == [.text("finished"), .integer(Int64(budget)), .integer(Int64(budget)), .integer(5),
                                              .integer(Int64(phi))])
                #expect(Self.close(row[5], lr) && Self.close(row[6], beta), "\(row[5]), \(row[6]) against \(lr), \(beta)")
                #expect(row[7] == .real(0.1) && row[9] == .text(label))
                if case .integer(let frame) = row[8] { frames.insert(frame) }
                // Resumed, not rerun: a checkpoint at every rung it passed (a run started at 900 would have
                // one at 900 only, its checkpoint interval being 1024), one metric row per iteration.
                let checkpoints = try Self.rows("""
                    SELECT c.iteration FROM checkpoints AS c JOIN runs AS r ON r.id = c.run WHERE r.run_id = ?
                    ORDER BY c.iteration
                    """, [.text(run)], db: db).map { $0[0] }
                #expect(checkpoints == rungs.map { .integer(Int64($0)) }, "\(run): \(checkpoints)")
                let metrics = try Self.rows("""
                    SELECT count(*), count(DISTINCT m.iteration), min(m.iteration), max(m.iteration)
                    FROM metrics AS m JOIN runs AS r ON r.id = m.run WHERE r.run_id = ?
                    """, [.text(run)], db: db)
                #expect(metrics == [[.integer(Int64(budget)), .integer(Int64(budget)), .integer(0), .integer(Int64(budget - 1))]])
                spent += budget
            }
            #expect(frames == [1, 2, 3])

            // The objective it reports is compare's median for this configuration (null beyond the budget).
            let object = try #require(column(phi: phi, lr: lr, beta: beta, budget: budget), "no compare column for \(settings)")
            #expect(object["runs"] as? Int == 3)
            #expect((trial["exceeds_budget"] as? Bool) == (object["convergence_exceeds_budget"] as? Bool))
            #expect((trial["objective"] as? Double) == (object["convergence_iterations"] as? Double))
        }
        #expect(pruned > 0 && promoted > pruned, "pruned \(pruned), promoted \(promoted)")
        // No other run: a promotion extended the trial's runs instead of starting new ones.
        #expect(try Self.rows("SELECT count(*), sum(done_iterations) FROM runs", [], db: db)
            == [[.integer(30), .integer(Int64(spent))]])
        #expect(study["iterations_spent"] as? Int == spent)

        // The best: the complete trial of lowest objective, with compare's value.
        let best = try #require(study["best"] as? [String: Any])
        let complete = trials.filter { $0["state"] as? String == "complete" && $0["objective"] is Double }
        let lowest = try #require(complete.map { $0["objective"] as! Double }.min())
        #expect(best["objective"] as? Double == lowest)
        #expect(best["budget"] as? Int == 900)

        // Running it again on the same database refuses, naming the label, and records nothing.
        let again = try Self.example(["--study", spec, "--db", db, "--quiet"])
        #expect(again.status == 1 && again.errorLines.count == 1 && again.stderr.contains(label), "\(again.stderr)")
        #expect(try Self.rows("SELECT count(*) FROM runs", [], db: db) == [[.integer(30)]])

        // Under another label the same seed samples the same configurations, and the database holds one run
        // per configuration: the first promotion onto a budget the first study's trial holds is refused. Three
        // runs fail at once there (found by hand: three lines, one per worker); the example says it once.
        let other = try Self.example(["--study", spec, "--db", db, "--quiet", "--label", "other", "--trials", "2"])
        #expect(other.status == 1 && other.errorLines.count == 1, "\(other.stderr)")
        #expect(other.stderr.contains("already recorded") && other.stderr.contains("database of its own"), "\(other.stderr)")
        #expect(other.stdout.isEmpty)

        // A usage error is one line too, exit 64.
        let usage = try Self.example(["--db", db])
        #expect(usage.status == 64 && usage.errorLines.count == 1 && usage.stderr.contains("--study"), "\(usage.stderr)")
    }

    /// A wrong spec: one line, exit 64, no database created.
    @Test(arguments: [
        ("\"learning_rate\": {\"log_uniform\": [0.01, 1]}", "\"learning_rates\": {\"log_uniform\": [0.01, 1]}", "unknown setting 'learning_rates'"),
        ("\"learning_rate\": {\"log_uniform\": [0.01, 1]}", "\"lr\": {\"log_uniform\": [0, 1]}", "bad log_uniform range"),
        ("\"learning_rate\": {\"log_uniform\": [0.01, 1]}", "\"lr\": {\"uniform\": [1, 1e-300]}", "bad uniform range"),
        ("\"reduction\": 3", "\"reduction\": 1", "budget.reduction"),
        ("\"median_convergence\"", "\"mean_delay_score\"", "median_convergence only"),
        ("\"min_iterations\": 100", "\"min_iterations\": 1e308", "budget"),
        ("\"trials\": 10", "\"trials\": 18446744073709551615", "trials"),
    ])
    func aBadSpecIsOneLineAndNothingRecorded(replacing: String, with: String, message: String) throws {
        let dir = try TemporaryDirectory()
        let spec = dir.path("bad.json"), db = dir.path("bad.db")
        #expect(Self.spec.contains(replacing))
        try Self.spec.replacingOccurrences(of: replacing, with: with).write(toFile: spec, atomically: true, encoding: .utf8)
        let result = try Self.example(["--study", spec, "--db", db])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.errorLines.count == 1 && result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: db))
    }
}
