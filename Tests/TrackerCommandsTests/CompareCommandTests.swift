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
}
