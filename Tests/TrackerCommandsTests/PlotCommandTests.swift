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

    @Test func aMissingRasterizerIsOneLineAndNotAFailure() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        #expect(try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "300", "--quiet"]).status == 0)
        let emptyPath = dir.url("bin")
        try FileManager.default.createDirectory(at: emptyPath, withIntermediateDirectories: true)
        let result = try CLI.run(["plot", "--db", db, "--n", "4", "--out", dir.path("f.svg")],
                                 environment: ["PATH": emptyPath.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.errorLines == ["wrote \(dir.path("f.svg"))",
                                      "no PNG: rsvg-convert is not installed (Debian: apt-get install librsvg2-bin)"])
        #expect(!FileManager.default.fileExists(atPath: dir.path("f.png")))
    }
}
