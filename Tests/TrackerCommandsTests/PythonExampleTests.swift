import Foundation
import Testing
import TestSupport

/// examples/python/tracker_pandas.py (docs/python.md) against a database made with the built binary: its
/// pandas Table II medians and Table I means equal `tracker compare --format json`'s, and its Fig. 2 mean
/// curve equals the convergence_curve query's. Needs python3 with pandas and matplotlib (scripts/test
/// installs them from PyPI); fails, never skips, without them.
@Suite(.serialized) struct PythonExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let settingKeys = ["iterations", "rate", "cpu_hz", "zeta", "delta", "lr", "gamma", "eps_start", "eps_min", "beta",
                              "reward", "twin_rate", "twin_cpu_hz", "twin_zeta", "twin_noise", "twin_noise_seed", "aggregation"]

    /// N = 4 and 5: QL, DTEQL phi=5 and DTAQL phi=2 over three seeds each, plus a DTEQL phi=5 run with
    /// --lr 0.9 (a configuration of its own). At 200 iterations some runs converge and some do not, so the
    /// medians meet the `>B` rule.
    static func makeDatabase(in dir: TemporaryDirectory) throws -> String {
        let db = dir.path("pandas.db")
        var runs: [[String]] = []
        for n in [4, 5] {
            for seed in 1...3 {
                for algo in [["--algo", "ql"], ["--algo", "dteql", "--phi", "5"], ["--algo", "dtaql", "--phi", "2"]] {
                    runs.append(algo + ["--n", "\(n)", "--seed", "\(seed)"])
                }
            }
            runs.append(["--algo", "dteql", "--phi", "5", "--lr", "0.9", "--n", "\(n)", "--seed", "9"])
        }
        for arguments in runs {
            let result = try CLI.run(["run", "--db", db, "--iterations", "200", "--checkpoint-every", "200", "--quiet"] + arguments)
            #expect(result.status == 0, "\(result.stderr)")
        }
        return db
    }

    /// A configuration as one string: N, algorithm, phi and every setting (numbers as doubles, null for none).
    static func key(_ object: [String: Any], settings: [String: Any]) -> String {
        func text(_ value: Any?) -> String {
            switch value {
            case nil, is NSNull: return "null"
            case let string as String: return string
            case let number as NSNumber: return "\(number.doubleValue)"
            default: return "\(value!)"
            }
        }
        return (["n", "algorithm", "phi"].map { text(object[$0]) } + settingKeys.map { "\($0)=\(text(settings[$0]))" })
            .joined(separator: " ")
    }

    static func close(_ a: Double?, _ b: Double?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a == b || abs(a - b) <= 1e-12 * max(abs(a), abs(b))
    }

    @Test func pandasFiguresEqualCompareAndTheCurveQuery() throws {
        let dir = try TemporaryDirectory()
        let db = try Self.makeDatabase(in: dir)
        let script = Self.root.appendingPathComponent("examples/python/tracker_pandas.py").path
        let python = try CLI.tool("/usr/bin/env", ["python3", script, "--db", db, "--tracker", CLI.binary.path, "--n", "5",
                                                   "--json", "--out", dir.path("out")])
        #expect(python.status == 0, "\(python.stderr)")
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(python.stdout.utf8)) as? [String: Any])
        #expect(FileManager.default.fileExists(atPath: dir.path("out/fig2-n5.png")))

        // The tidy table names every setting compare groups by, by compare's key.
        let tidy = try CLI.run(["query", "runs_tidy", "--db", db, "--format", "csv"])
        let header = Set(tidy.stdout.split(separator: "\n").first?.split(separator: ",").map(String.init) ?? [])
        let compare = try #require(try CLI.json(try CLI.run(["compare", "--db", db, "--format", "json"])) as? [[String: Any]])
        for object in compare {
            let settings = try #require(object["settings"] as? [String: Any])
            #expect(Set(settings.keys).isSubset(of: header), "runs_tidy lacks \(Set(settings.keys).subtracting(header))")
            #expect(Set(settings.keys).isSubset(of: Set(Self.settingKeys)))
        }
        let compareByKey = Dictionary(uniqueKeysWithValues: compare.map { object in
            (Self.key(object, settings: object["settings"] as? [String: Any] ?? [:]), object)
        })

        // Table II: every (N, configuration), its median (null beyond the budget), budget and converged runs.
        let tableII = try #require(figures["table2"] as? [[String: Any]])
        #expect(tableII.count == compare.count && tableII.count == 8)
        var exceeding = 0, converging = 0
        for row in tableII {
            let object = try #require(compareByKey[Self.key(row, settings: row)], "no compare column for \(row)")
            let median = row["median"] as? Double
            let exceeds = try #require(object["convergence_exceeds_budget"] as? Bool)
            if exceeds {
                exceeding += 1
                #expect(median == nil || median!.isInfinite || (row["cell"] as? String)?.hasPrefix(">") == true)
                #expect(row["cell"] as? String == ">\(object["budget"] as? Int ?? -1)")
            } else {
                converging += 1
                #expect(median == object["convergence_iterations"] as? Double)
            }
            #expect(row["budget"] as? Int == object["budget"] as? Int)
            #expect(row["converged"] as? Int == object["converged_runs"] as? Int)
            #expect(row["runs"] as? Int == object["runs"] as? Int)
        }
        #expect(exceeding > 0 && converging > 0)

        // The same medians in plain SQL (queries/convergence_medians.sql), grouped by the same configurations.
        let medians = try #require(try CLI.json(try CLI.run(["query", "convergence_medians", "--db", db, "--format", "json"])) as? [[String: Any]])
        #expect(medians.count == compare.count)
        for row in medians {
            let configuration = try #require(try JSONSerialization.jsonObject(with: Data((row["configuration"] as? String ?? "").utf8)) as? [String: Any])
            let object = try #require(compareByKey[Self.key(row, settings: configuration)], "no compare column for \(row)")
            #expect(row["median_iterations"] as? Double == object["convergence_iterations"] as? Double)
            #expect((row["exceeds_budget"] as? Int == 1) == (object["convergence_exceeds_budget"] as? Bool))
            #expect(row["budget"] as? Int == object["budget"] as? Int)
            #expect(row["converged"] as? Int == object["converged_runs"] as? Int)
        }

        // Table I at N = 5: every mean.
        let tableI = try #require(figures["table1"] as? [[String: Any]])
        #expect(tableI.count == 4)
        for row in tableI {
            let object = try #require(compareByKey[Self.key(row, settings: row)])
            for measure in ["normalized_reward", "deadline_miss_ratio", "average_delay_s", "optimality_ratio", "delay_score"] {
                #expect(Self.close(row[measure] as? Double, object[measure] as? Double), "\(measure): \(row[measure] ?? "nil") vs \(object[measure] ?? "nil")")
            }
        }

        // Fig. 2: the pandas mean curve at every iteration the saved query samples.
        let curve = try #require(figures["curve"] as? [[String: Any]])
        var pandas: [String: Double] = [:]
        for point in curve {
            pandas[Self.key(point, settings: point) + " @\(point["iteration"] as? Int ?? -1)"] = point["normalized_reward"] as? Double
        }
        let sampled = try #require(try CLI.json(try CLI.run(["query", "convergence_curve", "--db", db, "--param", "n=5",
                                                             "--param", "points=50", "--format", "json"])) as? [[String: Any]])
        #expect(sampled.count > 50)
        for point in sampled {
            let configuration = try #require(try JSONSerialization.jsonObject(with: Data((point["configuration"] as? String ?? "").utf8)) as? [String: Any])
            var object = point
            object["n"] = 5
            let name = Self.key(object, settings: configuration) + " @\(point["iteration"] as? Int ?? -1)"
            #expect(Self.close(pandas[name], point["normalized_reward"] as? Double), "\(name)")
        }
    }
}
