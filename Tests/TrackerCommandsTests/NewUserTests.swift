import Foundation
import SQLite
import Testing
import TestSupport

/// The small things a new user hit (issue 11 section 8): help that names one default, a sweep summary
/// that adds up, no speed claimed for a sweep with nothing to do, `query --list` fitted to the terminal,
/// plots into reports/, and `--format table|json` on gc, sweep, reproduce, delete and merge.
@Suite(.serialized) struct NewUserTests {
    static let spec = """
        { "label": "small", "n": [5], "frames": 3, "iterations": 20000,
          "configurations": [ {"algorithm": "dteql", "phi": [50, 20]}, {"algorithm": "ql"} ],
          "checkpoint_every": 1000 }
        """

    @Test func jobsHelpNamesOneDefault() throws {
        for command in ["sweep", "reproduce"] {
            let help = try CLI.run([command, "--help"])
            let lines = help.stdout.split(separator: "\n").filter { $0.contains("--jobs <J>") && !$0.contains("USAGE") }
            #expect(lines.count == 1, "\(help.stdout)")
            #expect(lines.first?.components(separatedBy: "default").count == 2, "\(lines)")
        }
    }

    /// The issue's "19 started ... 2 interrupted" when 21 started: a run stopped mid-way was started too.
    @Test func anInterruptedSweepsSummaryAddsUp() throws {
        let dir = try TemporaryDirectory()
        let specPath = dir.path("s.json")
        try Self.spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        let db = dir.path("s.db")
        let process = try CLI.start(["sweep", specPath, "--db", db, "--jobs", "2"], captureStderr: true)
        waitForProgress(db, atLeast: 3000, while: process)
        #expect(process.isRunning, "the sweep finished before it could be interrupted")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let stderr = CLI.capturedStderr(process)
        #expect(process.terminationStatus == 130, "\(stderr)")
        let database = try Database(path: db, mode: .readOnly)
        guard case .integer(let runs)? = try database.scalar("SELECT count(*) FROM runs"),
              case .integer(let unfinished)? = try database.scalar("SELECT count(*) FROM runs WHERE status <> 'finished'") else {
            Issue.record("no counts")
            return
        }
        #expect(unfinished > 0)
        #expect(stderr.contains("sweep: \(runs) started, 0 resumed, 0 already finished; \(unfinished) of those started or resumed interrupted (resumable)"),
                "\(stderr)")

        // Finishing it: the resumed runs are counted as resumed, and the sum is the grid.
        let finish = try CLI.run(["sweep", specPath, "--db", db, "--jobs", "2"])
        #expect(finish.status == 0, "\(finish.stderr)")
        #expect(finish.stderr.contains("sweep: \(9 - runs) started, \(unfinished) resumed, \(runs - unfinished) already finished\n"),
                "\(finish.stderr)")
        #expect(finish.stderr.contains(" it/s"), "\(finish.stderr)")

        // Nothing to do: no iterations computed, so no speed (the same in JSON, which has none).
        let idle = try CLI.run(["sweep", specPath, "--db", db, "--jobs", "2", "--format", "json"])
        #expect(idle.status == 0, "\(idle.stderr)")
        #expect(!idle.stderr.contains("it/s"), "\(idle.stderr)")
        #expect(idle.stderr.contains("sweep: 0 started, 0 resumed, 9 already finished\n"), "\(idle.stderr)")
        let outcome = try #require(try CLI.json(idle) as? [String: Any])
        #expect(outcome["runs"] as? Int == 9 && outcome["already_finished"] as? Int == 9 && outcome["started"] as? Int == 0)
        #expect(outcome["interrupted"] as? Int == 0 && outcome["failed"] as? Int == 0 && outcome["database"] as? String == db)
    }

    @Test func queryListWrapsToTheTerminalWidth() throws {
        let listing = try #require(try CLI.json(try CLI.run(["query", "--list", "--format", "json"])) as? [[String: Any]])
        let names = listing.compactMap { $0["name"] as? String }
        let descriptionWords = Set(listing.compactMap { $0["description"] as? String }.flatMap { $0.split(separator: " ") })
        #expect(names.count >= 5)
        // Not a terminal and no $COLUMNS: 80. $COLUMNS wins when set.
        for (environment, width) in [([String: String](), 80), (["COLUMNS": "120"], 120), (["COLUMNS": "100"], 100)] {
            let list = try CLI.run(["query", "--list"], environment: environment)
            #expect(list.status == 0, "\(list.stderr)")
            let lines = list.stdout.split(separator: "\n")
            #expect(lines.allSatisfy { $0.count <= width }, "\(width): \(lines.map(\.count).max() ?? 0)")
            for name in names { #expect(lines.contains { $0.hasPrefix(name + " ") }, "\(name)") }
            // Wrapping loses no word of any description.
            let words = Set(list.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }))
            #expect(descriptionWords.isSubset(of: words), "\(width): \(descriptionWords.subtracting(words))")
        }
        let wide = try CLI.run(["query", "--list"], environment: ["COLUMNS": "1000"])
        let narrow = try CLI.run(["query", "--list"])
        #expect(wide.stdout.split(separator: "\n").count < narrow.stdout.split(separator: "\n").count)
    }

    @Test func plotWritesIntoReportsAndCreatesItOnlyForAFigure() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("p.db")
        let none = try CLI.run(["plot", "--db", db, "--n", "4"], in: dir.url)
        #expect(none.status == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.path("reports")), "a failed plot created reports/")
        for seed in ["1", "2"] {
            #expect(try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "200", "--seed", seed, "--quiet"]).status == 0)
        }
        let plot = try CLI.run(["plot", "--db", db, "--n", "4"], in: dir.url)
        #expect(plot.status == 0, "\(plot.stderr)")
        #expect(plot.stderr.contains("wrote reports/fig2-n4.svg"), "\(plot.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.path("reports/fig2-n4.svg")))
        #expect(!FileManager.default.fileExists(atPath: dir.path("fig2-n4.svg")))
        // .gitignore lists the folder, so figures never show up as changes in a clone.
        let gitignore = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".gitignore")
        #expect(try String(contentsOf: gitignore, encoding: .utf8).split(separator: "\n").contains("/reports/"))
    }

    /// The report's Fig. 2 shows the runs its tables count (the reading's label), not every run of the
    /// file with that N: a run of another configuration and label must not appear in it.
    @Test func theReportsFiguresShowOnlyTheReproductionsRuns() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("r.db")
        let other = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "7", "--lr", "0.5", "--iterations", "100",
                                 "--label", "other", "--quiet"])
        #expect(other.status == 0, "\(other.stderr)")
        let reproduce = try CLI.run(["reproduce", "--db", db, "--quick", "--frames", "1", "--iterations", "100",
                                     "--report", dir.path("report"), "--quiet"])
        #expect(reproduce.status == 0, "\(reproduce.stderr)")
        for name in ["fig2-n7.svg", "fig2-n7-logx.svg"] {
            let svg = try String(contentsOfFile: dir.path("report/\(name)"), encoding: .utf8)
            #expect(svg.contains("DTEQL"), "\(name)")
            #expect(!svg.contains("lr=0.5"), "\(name) draws a run of another label")
        }
        // Each PNG is its SVG rendered (the report draws a figure once and converts that drawing).
        #expect(reproduce.errorLines.filter { $0.hasPrefix("wrote ") }.map { ($0 as NSString).lastPathComponent } == [
            "fig2-n7.svg", "fig2-n7.png", "fig2-n7-logx.svg", "fig2-n7-logx.png", "report.md"])
        for name in ["fig2-n7", "fig2-n7-logx"] {
            let rendered = dir.path("\(name)-again.png")
            let convert = try CLI.tool("/usr/bin/rsvg-convert", ["--format", "png", "--output", rendered, dir.path("report/\(name).svg")])
            #expect(convert.status == 0, "\(convert.stderr)")
            #expect(FileManager.default.contents(atPath: rendered) == FileManager.default.contents(atPath: dir.path("report/\(name).png")),
                    "\(name).png is not its SVG")
        }
    }

    @Test func gcMergeReproduceAndDeleteTakeFormatJSON() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("r.db")
        let reproduce = try CLI.run(["reproduce", "--db", db, "--quick", "--frames", "1", "--iterations", "100",
                                     "--report", dir.path("report"), "--format", "json"])
        #expect(reproduce.status == 0, "\(reproduce.stderr)")
        let object = try #require(try CLI.json(reproduce) as? [String: Any])
        #expect((object["sweep"] as? [String: Any])?["started"] as? Int == 12)
        #expect((object["table_i"] as? [Any])?.isEmpty == false && (object["table_ii"] as? [Any])?.isEmpty == false,
                "\(reproduce.stdout.prefix(400))")
        #expect((object["files"] as? [String])?.contains(dir.path("report/report.md")) == true)
        #expect(!reproduce.stdout.contains("Table I"))

        let gc = try CLI.run(["gc", "--db", db, "--format", "json"])
        #expect(gc.status == 0, "\(gc.stderr)")
        let collected = try #require(try CLI.json(gc) as? [String: Any])
        #expect(collected["checkpoints_dropped"] is Int && collected["snapshot_bytes_dropped"] is Int)

        let merged = dir.path("m.db")
        let merge = try CLI.run(["merge", merged, db, "--format", "json"])
        #expect(merge.status == 0, "\(merge.stderr)")
        let reports = try #require(try CLI.json(merge) as? [[String: Any]])
        #expect(reports.count == 1 && reports[0]["input"] as? String == db && reports[0]["runs_added"] as? Int == 12)
        #expect(reports[0]["renamed_run_ids"] as? [Any] != nil)

        let delete = try CLI.run(["delete", "--db", merged, "--algo", "ql", "--yes", "--format", "json"])
        #expect(delete.status == 0, "\(delete.stderr)")
        #expect((try CLI.json(delete) as? [[String: Any]])?.count == 2)
        // Table stays the default, and a format no command knows is a usage error everywhere.
        for command in [["gc", "--db", db], ["merge", merged, db], ["delete", "x", "--db", db], ["sweep", "x.json", "--db", db],
                        ["reproduce", "--db", db]] {
            let refused = try CLI.run(command + ["--format", "yaml"])
            #expect(refused.status == 64, "\(command)")
            #expect(refused.stderr.contains("The value 'yaml' is invalid for '--format <format>'"), "\(refused.stderr)")
        }
    }
}
