import Foundation
import SQLite
import Testing
import TestSupport

/// A configuration (config_hash) is claimed by exactly one run per database, whatever the number of
/// processes, worker threads or duplicate spec lines; an older database with duplicates still upgrades,
/// and `tracker check` finds them and `--fix` keeps the finished copy.
@Suite(.serialized) struct OneRunPerConfigurationTests {
    /// config_hash values held by more than one run.
    static func duplicatedHashes(_ db: String) throws -> [String] {
        try Database(path: db, mode: .readOnly).prepare(
            "SELECT config_hash FROM runs GROUP BY config_hash HAVING count(*) > 1").rows([]) { $0.text(0) }
    }

    static func runCount(_ db: String) throws -> SQLiteValue? {
        try Database(path: db, mode: .readOnly).scalar("SELECT count(*) FROM runs")
    }

    @Test func duplicateSpecLinesWithSeveralWorkersMakeOneRun() throws {
        let dir = try TemporaryDirectory()
        let spec = dir.path("dup.json")
        try #"{"n":[4],"configurations":[{"algorithm":"ql"},{"algorithm":"ql"},{"algorithm":"ql"}],"iterations":50}"#
            .write(toFile: spec, atomically: true, encoding: .utf8)
        for attempt in 0..<3 {
            let db = dir.path("d\(attempt).db")
            let result = try CLI.run(["sweep", spec, "--db", db, "--jobs", "3", "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try Self.runCount(db) == .integer(1))
        }
    }

    /// Four sweep processes with two workers each on one spec and one new database: every configuration
    /// ends up exactly once, finished.
    @Test func concurrentSweepProcessesClaimEachConfigurationOnce() throws {
        let dir = try TemporaryDirectory()
        let spec = dir.path("grid.json")
        try #"""
            {"n": [4], "frames": 3, "iterations": 400,
             "configurations": [{"algorithm": "ql"}, {"algorithm": "dteql", "phi": [4]},
                                {"algorithm": "dtaql", "phi": [2], "delta": 8}]}
            """#.write(toFile: spec, atomically: true, encoding: .utf8)
        let db = dir.path("shared.db")
        let processes = try (0..<4).map { _ in
            try CLI.start(["sweep", spec, "--db", db, "--jobs", "2", "--quiet"], captureStderr: true)
        }
        let deadline = Date().addingTimeInterval(180)
        for process in processes {
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(CLI.capturedStderr(process))")
        }
        #expect(try Self.duplicatedHashes(db).isEmpty)
        #expect(try Self.runCount(db) == .integer(9))
        // Once the others are done, the sweep finds everything finished.
        let again = try CLI.run(["sweep", spec, "--db", db, "--jobs", "2"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("0 started, 0 resumed, 9 already finished"), "\(again.stderr)")
        #expect(try CLI.run(["check", "--db", db]).status == 0)
    }

    @Test func aRepeatedRunIsRefusedAndNamesTheExistingRun() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let arguments = ["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet", "--format", "json"]
        let first = try CLI.run(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        let runID = try #require((try CLI.json(first) as? [String: Any])?["run_id"] as? String)
        // The first run can exit with its last commits still in the -wal file (seen under load); the next
        // connection to close then checkpoints them into the main file, changing its bytes but not its
        // content. Checkpoint first, so only a write by the refused run can change the file.
        try Database(path: db).execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let second = try CLI.run(arguments + ["--label", "again"])
        #expect(second.status == 1)
        #expect(second.errorLines == ["Error: this configuration is already recorded as run \(runID) (finished); "
            + "see `tracker show \(runID)` (a database holds one run per configuration)"])
        #expect(second.stdout.isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        #expect(try Self.runCount(db) == .integer(1))
    }

    /// A database from before the rule (schema version 6) holding two copies of a configuration: opening
    /// it for writing upgrades it all the same, `check` reports the copy, `check --fix` keeps the finished one.
    @Test func anOlderDatabaseWithDuplicatesUpgradesAndCheckFixesIt() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("old.db")
        let made = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet", "--format", "json"])
        #expect(made.status == 0, "\(made.stderr)")
        let runID = try #require((try CLI.json(made) as? [String: Any])?["run_id"] as? String)
        do {
            // What version 6 allowed: the rule's triggers gone, a second (interrupted) copy inserted first.
            let database = try Database(path: db)
            try database.execute("""
                DROP TRIGGER runs_one_per_configuration_insert; DROP TRIGGER runs_one_per_configuration_update;
                DROP TRIGGER run_labels_from_insert; DROP TRIGGER run_labels_from_update; DROP TABLE run_labels;
                DROP TABLE run_imports; DROP TABLE run_import_settings;
                DROP TABLE study_rung_runs; DROP TABLE study_rungs; DROP TABLE study_trials; DROP TABLE studies;
                PRAGMA user_version = 6;
                INSERT INTO runs (run_id, algorithm, n, phi, seed, frame_id, status, created_at, planned_iterations,
                    done_iterations, tracker_version, host, label, config_hash)
                SELECT 'dup00001', algorithm, n, phi, seed, frame_id, 'interrupted', created_at, planned_iterations,
                    10, tracker_version, host, 'older', config_hash FROM runs;
                """)
        }
        let check = try CLI.run(["check", "--db", db, "--format", "csv"])
        #expect(check.status == 1, "\(check.stderr)")
        #expect(check.stdout.contains("\(runID),finished,dup00001,interrupted,10"), "\(check.stdout)")
        #expect(check.errorLines.last?.contains("1 configurations are held by more than one run") == true, "\(check.stderr)")
        // The check upgraded the file although it holds a duplicate, and the rule now holds for new rows.
        #expect(try Database(path: db, mode: .readOnly).userVersion == 10)
        // Refused by the trigger (the configuration is taken), not by the column count.
        let refused = #expect(throws: SQLiteError.self) {
            try Database(path: db).execute("INSERT INTO runs (run_id, algorithm, n, phi, seed, frame_id, status, created_at, planned_iterations, tracker_version, host, config_hash) SELECT 'dup00002', algorithm, n, phi, seed, frame_id, status, created_at, planned_iterations, tracker_version, host, config_hash FROM runs WHERE run_id = 'dup00001'")
        }
        #expect(refused.map { "\($0)" }?.contains("already claimed") == true)

        let fix = try CLI.run(["check", "--db", db, "--fix"])
        #expect(fix.status == 0, "\(fix.stderr)")
        #expect(fix.errorLines == ["Removed 1 duplicate runs: dup00001."])
        #expect(try Self.duplicatedHashes(db).isEmpty)
        let listing = try CLI.json(try CLI.run(["list", "--db", db, "--format", "json"])) as? [[String: Any]]
        #expect(listing?.map { $0["run_id"] as? String } == [runID])
        #expect(listing?.first?["status"] as? String == "finished")
        // The copy removed was labelled 'older': the copy kept now belongs to that label too.
        let older = try CLI.json(try CLI.run(["list", "--db", db, "--label", "older", "--format", "json"])) as? [[String: Any]]
        #expect(older?.map { $0["run_id"] as? String } == [runID])
        let clean = try CLI.run(["check", "--db", db])
        #expect(clean.status == 0)
        #expect(clean.errorLines == ["No duplicates: every configuration is held by one run."])
    }

    /// The issue's case, small: a run made by hand holds the configuration of one of a study's grid runs.
    /// The study's sweep adopts it (it belongs to the study's label too, counts as done, and the sweep says
    /// so once) instead of leaving the study a run short with no word; `list`, `compare`, `delete` and the
    /// saved query by label count it; `merge` of a shard holding the same configuration names the run it
    /// skips and carries the shard's label across to the run kept.
    @Test func aStudyAdoptsARunAlreadyRecordedWithItsConfiguration() throws {
        let dir = try TemporaryDirectory()
        let spec = dir.path("study.json")
        try #"{"label": "study", "n": [4], "frames": 2, "iterations": 200, "configurations": [{"algorithm": "ql"}, {"algorithm": "dteql", "phi": [5]}]}"#
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let db = dir.path("t.db")
        // By hand: frame seed 1, learner seed 1, the grid's budget, another label.
        let byHand = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--seed", "1", "--iterations", "200",
                                  "--label", "scratch", "--quiet"])
        #expect(byHand.status == 0, "\(byHand.stderr)")
        let handID = try #require(try firstRunID(db))

        let sweep = try CLI.run(["sweep", spec, "--db", db, "--jobs", "1", "--format", "json"])
        #expect(sweep.status == 0, "\(sweep.stderr)")
        #expect(sweep.stderr.contains("sweep: adopted 1 run already recorded with this configuration into label study: \(handID)\n"),
                "\(sweep.stderr)")
        #expect(sweep.stderr.contains("3 started, 0 resumed, 1 already finished"), "\(sweep.stderr)")
        let outcome = try #require(try CLI.json(sweep) as? [String: Any])
        #expect(outcome["adopted"] as? [String] == [handID])

        func listed(_ label: String, in path: String) throws -> [String] {
            let list = try CLI.run(["list", "--db", path, "--label", label, "--format", "json"])
            #expect(list.status == 0, "\(list.stderr)")
            return (try CLI.json(list) as? [[String: Any]] ?? []).compactMap { $0["run_id"] as? String }.sorted()
        }
        #expect(try listed("study", in: db).count == 4)
        #expect(try listed("study", in: db).contains(handID))
        #expect(try listed("scratch", in: db) == [handID])
        let show = try #require(try CLI.json(try CLI.run(["show", handID, "--db", db, "--format", "json"])) as? [String: Any])
        #expect(show["labels"] as? [String] == ["scratch", "study"])
        #expect(show["label"] as? String == "scratch")
        // compare counts it in its column: two configurations, two frames each.
        let compare = try CLI.run(["compare", "--db", db, "--n", "4", "--label", "study", "--format", "csv"])
        #expect(compare.status == 0, "\(compare.stderr)")
        #expect(compare.stdout.contains("\nruns,2,,,2,,\n"), "\(compare.stdout)")
        let byLabel = try CLI.run(["query", "runs_by_label", "--db", db, "--format", "csv"])
        #expect(byLabel.stdout.contains("scratch,1,1,0"), "\(byLabel.stdout)")
        #expect(byLabel.stdout.contains("study,4,4,0"), "\(byLabel.stdout)")
        let deleteDry = try CLI.run(["delete", "--label", "study", "--dry-run", "--db", db, "--format", "json"])
        #expect(deleteDry.status == 0, "\(deleteDry.stderr)")
        #expect(deleteDry.stdout.contains(handID), "\(deleteDry.stdout)")
        // Run again: nothing to adopt, nothing said.
        let again = try CLI.run(["sweep", spec, "--db", db, "--jobs", "1"])
        #expect(!again.stderr.contains("adopted"), "\(again.stderr)")
        #expect(again.stderr.contains("0 started, 0 resumed, 4 already finished"), "\(again.stderr)")

        // A shard of the study merged into a database where the same configuration was made by hand: the
        // shard's copy is skipped by name, and the run kept joins the study.
        let shard = dir.path("shard.db"), hand = dir.path("hand.db")
        #expect(try CLI.run(["sweep", spec, "--db", shard, "--jobs", "1", "--quiet"]).status == 0)
        #expect(try CLI.run(["run", "--db", hand, "--algo", "ql", "--n", "4", "--seed", "1", "--iterations", "200",
                             "--label", "scratch", "--quiet"]).status == 0)
        let keptID = try #require(try firstRunID(hand))
        let merge = try CLI.run(["merge", hand, shard])
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stderr.contains("3 runs added, 0 replaced a copy less far along, 1 skipped (already present)"), "\(merge.stderr)")
        #expect(merge.stderr.contains(": skipped run "), "\(merge.stderr)")
        #expect(merge.stderr.contains("already present as run \(keptID) (finished)"), "\(merge.stderr)")
        #expect(try listed("study", in: hand).count == 4)
        #expect(try listed("study", in: hand).contains(keptID))
        #expect(try listed("scratch", in: hand) == [keptID])
    }

    /// The issue's own steps, on the quick grid: `tracker run --algo dteql --phi 500 --n 6 --seed 1` by hand
    /// holds a grid configuration of the paper; `reproduce` adopts it, and `compare --label paper` counts
    /// every frame in every column (before: one run short in the DTEQL phi=500 column, without a word).
    @Test func reproduceAdoptsAHandMadeRunOfThePapersGrid() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("r.db")
        let byHand = try CLI.run(["run", "--db", db, "--algo", "dteql", "--phi", "500", "--n", "6", "--seed", "1",
                                  "--iterations", "300", "--quiet"])
        #expect(byHand.status == 0, "\(byHand.stderr)")
        let handID = try #require(try firstRunID(db))
        let reproduce = try CLI.run(["reproduce", "--quick", "--frames", "2", "--iterations", "300", "--db", db,
                                     "--report", dir.path("report"), "--quiet"])
        #expect(reproduce.status == 0, "\(reproduce.stderr)")
        #expect(reproduce.stderr.contains("sweep: adopted 1 run already recorded with this configuration into label paper: \(handID)"),
                "\(reproduce.stderr)")
        let compare = try CLI.run(["compare", "--db", db, "--n", "6", "--label", "paper", "--format", "csv"])
        #expect(compare.stdout.hasPrefix("measure,DTEQL phi=500,"), "\(compare.stdout)")
        #expect(compare.stdout.contains("\nruns,2,,,2,,,2,,,2,,,2,,,2,,"), "\(compare.stdout)")
    }
}
