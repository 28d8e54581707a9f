import Foundation
import Testing
import TestSupport

/// `tracker plot` through the built binary, on a small database of short N=5 runs.
@Suite(.serialized) struct PlotCommandTests {
    /// Four configurations (DTEQL phi=40 and 10, DTAQL phi=4, QL), two frames each, 1,500 iterations.
    static func makeDatabase(in dir: TemporaryDirectory) throws -> String {
        let db = dir.path("plot.db")
        let configurations: [[String]] = [
            ["--algo", "dteql", "--phi", "40"], ["--algo", "dteql", "--phi", "10"],
            ["--algo", "dtaql", "--phi", "4", "--delta", "64"], ["--algo", "ql"],
        ]
        for seed in ["1", "2"] {
            for configuration in configurations {
                let result = try CLI.run(["run", "--db", db, "--n", "5", "--seed", seed, "--iterations", "1500",
                                          "--checkpoint-every", "1500", "--quiet"] + configuration)
                #expect(result.status == 0, "\(result.stderr)")
            }
        }
        return db
    }

    @Test func plotWritesAWellFormedSVGWithALinePerConfiguration() throws {
        let dir = try TemporaryDirectory()
        let db = try Self.makeDatabase(in: dir)
        let out = dir.path("fig.svg")
        let result = try CLI.run(["plot", "--db", db, "--n", "5", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.errorLines.first == "wrote \(out)")
        let parsed = try parseSVG(try String(contentsOfFile: out, encoding: .utf8)).get()
        #expect(parsed.count("path") == 4)
        #expect(parsed.texts.filter { $0.hasSuffix("(2 runs)") }
                == ["DTEQL φ=40 (2 runs)", "DTEQL φ=10 (2 runs)", "DTAQL φ=4 (2 runs)", "QL (2 runs)"])
        #expect(parsed.texts.contains("Normalized reward of the greedy order, N = 5"))
        #expect(parsed.texts.contains("iteration"))

        // Log x, another metric, the default file name in reports/ under the working directory (created).
        let log = try CLI.run(["plot", "--db", db, "--n", "5", "--log-x", "--metric", "distinct_actions"], in: dir.url)
        #expect(log.status == 0, "\(log.stderr)")
        let logPath = dir.path("reports/fig2-n5-distinct_actions-logx.svg")
        #expect(log.stderr.contains("wrote reports/fig2-n5-distinct_actions-logx.svg"), "\(log.stderr)")
        let logParsed = try parseSVG(try String(contentsOfFile: logPath, encoding: .utf8)).get()
        #expect(logParsed.count("path") == 4)
        #expect(logParsed.texts.contains("iteration + 1 (log scale)"))
        #expect(logParsed.texts.contains("distinct actions tried, mean over runs"))
        #expect(logParsed.texts.contains("1000"))

        // A label that matches nothing is the same clear error as an N without runs.
        let labelled = try CLI.run(["plot", "--db", db, "--n", "5", "--label", "nope", "--out", dir.path("l.svg")])
        #expect(labelled.status == 1)
        #expect(labelled.errorLines == ["Error: no finished runs with N = 5 and label 'nope' in \(db)"])
    }

    @Test func noRunsForThatNIsAOneLineErrorAndABadMetricAUsageError() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("empty.db")
        let seed = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "200", "--quiet"])
        #expect(seed.status == 0, "\(seed.stderr)")
        let none = try CLI.run(["plot", "--db", db, "--n", "5", "--out", dir.path("x.svg")])
        #expect(none.status == 1)
        #expect(none.errorLines == ["Error: no finished runs with N = 5 in \(db)"])
        #expect(!FileManager.default.fileExists(atPath: dir.path("x.svg")))

        let metric = try CLI.run(["plot", "--db", db, "--n", "4", "--metric", "loss"])
        #expect(metric.status == 64)
        #expect(metric.stderr.contains("--metric"))
        let points = try CLI.run(["plot", "--db", db, "--n", "4", "--points", "1"])
        #expect(points.status == 64)
    }

    @Test func pngAndPDFNeedRsvgConvertAndSVGNeedsNothing() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        #expect(try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "300", "--quiet"]).status == 0)
        let emptyPath = dir.url("bin")
        try FileManager.default.createDirectory(at: emptyPath, withIntermediateDirectories: true)
        let svg = try CLI.run(["plot", "--db", db, "--n", "4", "--out", dir.path("f.svg")], environment: ["PATH": emptyPath.path])
        #expect(svg.status == 0, "\(svg.stderr)")
        #expect(svg.errorLines == ["wrote \(dir.path("f.svg"))"])
        #expect(!FileManager.default.fileExists(atPath: dir.path("f.png")))
        for format in ["png", "pdf"] {
            let result = try CLI.run(["plot", "--db", db, "--n", "4", "--format", format], in: dir.url, environment: ["PATH": emptyPath.path])
            #expect(result.status == 1)
            #expect(result.errorLines == ["Error: --format \(format) needs rsvg-convert, which is not installed (Debian: apt-get install librsvg2-bin); --format svg needs nothing"])
            #expect(!FileManager.default.fileExists(atPath: dir.path("reports/fig2-n4.\(format)")))
            #expect(!FileManager.default.fileExists(atPath: dir.path("reports")), "nothing created")
        }
    }

    @Test func pngAndPDFAreRenderedFromTheSVG() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        #expect(try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "300", "--quiet"]).status == 0)
        func head(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: dir.url(name)).prefix(8)) }
        // --format names the format; without it --out's extension does; the default name follows it.
        let png = try CLI.run(["plot", "--db", db, "--n", "4", "--format", "png"], in: dir.url)
        #expect(png.status == 0, "\(png.stderr)")
        #expect(png.errorLines == ["wrote reports/fig2-n4.png"])
        #expect(try head("reports/fig2-n4.png") == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let pdf = try CLI.run(["plot", "--db", db, "--n", "4", "--out", dir.path("f.pdf")])
        #expect(pdf.status == 0, "\(pdf.stderr)")
        #expect(String(decoding: try head("f.pdf").prefix(5), as: UTF8.self) == "%PDF-")
        // Written again over itself; never over a file of another kind, and nothing is left behind.
        #expect(try CLI.run(["plot", "--db", db, "--n", "4", "--out", dir.path("f.pdf")]).status == 0)
        let overPNG = try CLI.run(["plot", "--db", db, "--n", "4", "--format", "pdf", "--out", dir.path("reports/fig2-n4.png")])
        #expect(overPNG.status == 64)
        #expect(overPNG.stderr.contains("--out \(dir.path("reports/fig2-n4.png")) names a .png file but --format is pdf."))
        let svgFile = try CLI.run(["plot", "--db", db, "--n", "4", "--out", dir.path("s.svg")])
        #expect(svgFile.status == 0)
        let overSVG = try CLI.run(["plot", "--db", db, "--n", "4", "--format", "png", "--out", dir.path("s.svg")])
        #expect(overSVG.status == 64)
        let hidden = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.hasPrefix(".") }
        #expect(hidden.isEmpty, "\(hidden)")
    }

    @Test func bandsShadeTheSpreadWhereThreeOrMoreRunsContribute() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("b.db")
        // QL on three frames (a band), DTEQL phi=10 on two (none).
        for seed in ["1", "2", "3"] {
            #expect(try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "5", "--frame-seed", seed, "--iterations", "600", "--quiet"]).status == 0)
        }
        for seed in ["1", "2"] {
            #expect(try CLI.run(["run", "--db", db, "--algo", "dteql", "--phi", "10", "--n", "5", "--frame-seed", seed,
                                 "--iterations", "600", "--quiet"]).status == 0)
        }
        for (band, note) in [("ci", "shaded: 95% interval of the mean"), ("iqr", "shaded: 25th–75th percentile"), ("none", nil)] {
            let out = dir.path("\(band).svg")
            let result = try CLI.run(["plot", "--db", db, "--n", "5", "--band", band, "--out", out])
            #expect(result.status == 0, "\(result.stderr)")
            let parsed = try parseSVG(try String(contentsOfFile: out, encoding: .utf8)).get()
            #expect(parsed.count("path") == 2)
            #expect(parsed.count("polygon") == (note == nil ? 0 : 1), "\(band)")
            #expect(parsed.texts.contains { $0.hasPrefix("shaded") } == (note != nil))
            if let note { #expect(parsed.texts.contains(note)) }
        }
        // The default is ci, as compare's --spread.
        let plain = try CLI.run(["plot", "--db", db, "--n", "5", "--out", dir.path("d.svg")])
        #expect(plain.status == 0)
        #expect(try String(contentsOfFile: dir.path("d.svg"), encoding: .utf8) == (try String(contentsOfFile: dir.path("ci.svg"), encoding: .utf8)))
        #expect(try CLI.run(["plot", "--db", db, "--n", "5", "--band", "sd"]).status == 64)
    }

    @Test func runDrawsSingleRunsAndARunningOneUpToItsLastCommittedIteration() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("r.db")
        let finished = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "5", "--iterations", "400", "--quiet", "--format", "json"])
        let finishedID = try #require((try CLI.json(finished) as? [String: Any])?["run_id"] as? String)
        let writer = try CLI.start(["run", "--db", db, "--algo", "dteql", "--phi", "4", "--n", "6", "--iterations", "5000000",
                                    "--checkpoint-every", "20000", "--quiet"])
        defer {
            kill(writer.processIdentifier, SIGINT)
            _ = waitForExit(writer, seconds: 20)
        }
        func running() throws -> (id: String, done: Int)? {
            let result = try CLI.run(["sql", "SELECT run_id, done_iterations FROM runs WHERE status = 'running' AND done_iterations > 0",
                                      "--db", db, "--format", "json"])
            guard let row = (try? CLI.json(result) as? [[String: Any]])?.first, let id = row["run_id"] as? String,
                  let done = row["done_iterations"] as? Int else { return nil }
            return (id, done)
        }
        var live: (id: String, done: Int)?
        let deadline = Date().addingTimeInterval(30)
        while live == nil && Date() < deadline {
            live = try running()
            if live == nil { Thread.sleep(forTimeInterval: 0.2) }
        }
        let run = try #require(live, "the running run never committed an iteration")
        let out = dir.path("runs.svg")
        let plot = try CLI.run(["plot", "--db", db, "--run", finishedID, String(run.id.prefix(6)), "--metric", "epsilon", "--out", out])
        #expect(plot.status == 0, "\(plot.stderr)")
        let parsed = try parseSVG(try String(contentsOfFile: out, encoding: .utf8)).get()
        #expect(parsed.count("path") == 2)
        #expect(parsed.count("polygon") == 0)
        #expect(parsed.texts.contains("Exploration rate, N = 5, 6, runs \(finishedID), \(run.id)"))
        #expect(parsed.texts.contains("\(finishedID) QL (finished)"))
        // Drawn as far as it had committed when plot read it: at least what was seen before, never the budget.
        let legend = try #require(parsed.texts.first { $0.hasPrefix("\(run.id) DTEQL φ=4 (running, ") })
        let drawn = try #require(Int(legend.split(separator: " ")[4]))
        #expect(drawn >= run.done && drawn < 5_000_000 && legend.hasSuffix(" of 5000000)"), "\(legend)")

        // The default name, and --run with --n is refused.
        let named = try CLI.run(["plot", "--db", db, "--run", finishedID, "--format", "svg"], in: dir.url)
        #expect(named.errorLines == ["wrote reports/run-\(finishedID).svg"])
        let both = try CLI.run(["plot", "--db", db, "--run", finishedID, "--n", "5"])
        #expect(both.status == 64)
        let none = try CLI.run(["plot", "--db", db, "--run", "zzzz"])
        #expect(none.status == 1 && none.errorLines.count == 1 && none.stderr.hasPrefix("Error: no run with id 'zzzz'"))
    }
}
