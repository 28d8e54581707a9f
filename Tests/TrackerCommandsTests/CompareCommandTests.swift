import Foundation
import Testing
import TestSupport

/// `tracker compare` and `plot` through the built binary on a database holding unlike runs.
@Suite(.serialized) struct CompareCommandTests {
    /// Two plain DTEQL phi=40 runs (learner seeds 1, 2), one with --lr 0.9 and one with a 2,000-iteration
    /// budget, all N = 5.
    static func makeUnlikeDatabase(in dir: TemporaryDirectory) throws -> String {
        let db = dir.path("unlike.db")
        let runs: [[String]] = [["--seed", "1"], ["--seed", "2"], ["--seed", "3", "--lr", "0.9"],
                                ["--seed", "4", "--iterations", "2000"]]
        for extra in runs {
            let result = try CLI.run(["run", "--db", db, "--algo", "dteql", "--phi", "40", "--n", "5", "--iterations", "1500",
                                      "--checkpoint-every", "1500", "--quiet"] + extra)
            #expect(result.status == 0, "\(result.stderr)")
        }
        return db
    }

    @Test func compareShowsOneColumnPerConfigurationNamedByWhatDiffers() throws {
        let dir = try TemporaryDirectory()
        let db = try Self.makeUnlikeDatabase(in: dir)
        let table = try CLI.run(["compare", "--db", db, "--n", "5"])
        #expect(table.status == 0, "\(table.stderr)")
        let header = table.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.contains("DTEQL phi=40  "))
        #expect(header.contains("DTEQL phi=40 lr=0.9"))
        #expect(header.contains("DTEQL phi=40 iterations=2000"))
        let runsRow = table.stdout.split(separator: "\n").first { $0.hasPrefix("runs") }.map(String.init) ?? ""
        #expect(runsRow.split(separator: " ").dropFirst() == ["2", "1", "1"])

        let json = try CLI.run(["compare", "--db", db, "--n", "5", "--format", "json"])
        let objects = try #require(try CLI.json(json) as? [[String: Any]])
        #expect(objects.map { $0["configuration"] as? String } == ["DTEQL phi=40", "DTEQL phi=40 lr=0.9", "DTEQL phi=40 iterations=2000"])
        let settings = try #require(objects[1]["settings"] as? [String: Any])
        #expect(settings["lr"] as? Double == 0.9)
        for key in ["iterations", "rate", "cpu_hz", "zeta", "gamma", "eps_start", "eps_min", "beta", "reward", "twin_noise"] {
            #expect(settings[key] != nil, "settings lack \(key)")
        }
        #expect(settings["checkpoint_every"] == nil)

        // Table II keeps them apart too.
        let tableII = try CLI.run(["compare", "--db", db])
        #expect(tableII.stdout.contains("DTEQL phi=40 iterations=2000"))
    }

    @Test func plotDrawsOneLinePerConfiguration() throws {
        let dir = try TemporaryDirectory()
        let db = try Self.makeUnlikeDatabase(in: dir)
        let out = dir.path("fig.svg")
        let result = try CLI.run(["plot", "--db", db, "--n", "5", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        let parsed = try parseSVG(try String(contentsOfFile: out, encoding: .utf8)).get()
        #expect(parsed.count("path") == 3)
        #expect(parsed.texts.filter { $0.hasPrefix("DTEQL") }
                == ["DTEQL φ=40 (2 runs)", "DTEQL φ=40 lr=0.9 (1 run)", "DTEQL φ=40 iterations=2000 (1 run)"])
    }

    @Test func compareByAnySettingAndWhereOnCompareListAndPlot() throws {
        let dir = try TemporaryDirectory()
        let db = try Self.makeUnlikeDatabase(in: dir)
        let byLR = try CLI.run(["compare", "--db", db, "--by", "lr", "--spread", "none"])
        #expect(byLR.status == 0, "\(byLR.stderr)")
        let lines = byLR.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.first?.hasPrefix("lr  ") == true)
        #expect(lines.count == 4)
        #expect(lines[2].hasPrefix("0.1") && lines[3].hasPrefix("0.9"))
        let json = try #require(try CLI.json(try CLI.run(["compare", "--db", db, "--by", "iterations", "--n", "5",
                                                         "--format", "json"])) as? [[String: Any]])
        #expect(json.compactMap { ($0["by"] as? [String: Any])?["value"] as? Int } == [1500, 1500, 2000])

        let only = try CLI.run(["compare", "--db", db, "--n", "5", "--where", "lr=0.9", "--format", "csv"])
        #expect(only.status == 0, "\(only.stderr)")
        #expect(only.stdout.split(separator: "\n").first == "measure,DTEQL phi=40,DTEQL phi=40_lo,DTEQL phi=40_hi")
        #expect(only.stdout.contains("runs,1"))

        let listed = try CLI.run(["list", "--db", db, "--where", "iterations=2000", "--where", "phi=40", "--format", "csv"])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.split(separator: "\n").count == 2)
        #expect(listed.stdout.contains(",2000,2000,"))

        let out = dir.path("lr.svg")
        let plot = try CLI.run(["plot", "--db", db, "--n", "5", "--by", "lr", "--where", "iterations=1500", "--out", out])
        #expect(plot.status == 0, "\(plot.stderr)")
        let parsed = try parseSVG(try String(contentsOfFile: out, encoding: .utf8)).get()
        #expect(parsed.texts.filter { $0.hasPrefix("DTEQL") } == ["DTEQL φ=40 lr=0.1 (2 runs)", "DTEQL φ=40 lr=0.9 (1 run)"])

        let unknown = try CLI.run(["list", "--db", db, "--where", "bogus=1"])
        #expect(unknown.status == 64)  // a wrong name is a usage error from every command (docs/settings.md)
        #expect(unknown.stderr.contains("known: algorithm, n, phi, iterations"))
    }
}
