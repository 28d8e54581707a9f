import Foundation
import SQLite
import Testing
import TestSupport

/// `tracker compare`, `query` and `sql` through the built binary, on one small database of short runs.
@Suite(.serialized) struct QueryCommandTests {
    /// 12 runs at N=5 (DTEQL phi 50 and 20, DTAQL phi 4, QL; frames and seeds 1-3) and 2 at N=6.
    final class Fixture: Sendable {
        let dir: TemporaryDirectory
        let db: String

        init() throws {
            dir = try TemporaryDirectory()
            db = dir.path("c.db")
            let configurations = [["--algo", "dteql", "--phi", "50"], ["--algo", "dteql", "--phi", "20"],
                                  ["--algo", "dtaql", "--phi", "4", "--delta", "64"], ["--algo", "ql"]]
            var jobs: [[String]] = []
            for seed in 1...3 {
                for configuration in configurations {
                    jobs.append(configuration + ["--n", "5", "--seed", "\(seed)", "--frame-seed", "\(seed)"])
                }
            }
            jobs.append(["--algo", "ql", "--n", "6", "--seed", "1"])
            jobs.append(["--algo", "dteql", "--phi", "50", "--n", "6", "--seed", "1"])
            for job in jobs {
                let result = try CLI.run(["run", "--db", db, "--iterations", "800", "--checkpoint-every", "400", "--quiet",
                                          "--label", "cmp"] + job)
                guard result.status == 0 else { throw CLIFailure(description: "run \(job): \(result.stderr)") }
            }
        }
    }

    struct CLIFailure: Error, CustomStringConvertible { let description: String }

    static let fixture = Result { try Fixture() }

    var db: String { get throws { try Self.fixture.get().db } }

    func json(_ arguments: [String]) throws -> Any {
        let result = try CLI.run(arguments)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try CLI.json(result)
    }

    /// A single number from `tracker sql`.
    func sqlNumber(_ sql: String) throws -> Double {
        let rows = try #require(try json(["sql", sql, "--db", db, "--format", "json"]) as? [[String: Any]])
        return try #require(rows.first?.values.first as? NSNumber).doubleValue
    }

    @Test func tableIHasThePapersColumnsAndCounts() throws {
        let rows = try #require(try json(["compare", "--n", "5", "--db", db, "--format", "json"]) as? [[String: Any]])
        #expect(rows.map { $0["configuration"] as? String } == ["DTEQL phi=50", "DTEQL phi=20", "DTAQL phi=4", "QL"])
        #expect(rows.map { $0["runs"] as? Int } == [3, 3, 3, 3])
        #expect(rows.allSatisfy { $0["n"] as? Int == 5 && $0["budget"] as? Int == 800 })
        for key in ["normalized_reward", "normalized_reward_ci", "deadline_miss_ratio", "average_delay_s",
                    "convergence_iterations", "convergence_exceeds_budget", "converged_runs", "optimality_ratio",
                    "optimality_ratio_ci", "unfinished_runs", "algorithm", "phi"] {
            #expect(rows[0].keys.contains(key), "missing \(key)")
        }

        // Recomputed independently with plain SQL.
        let ql = try #require(rows.last)
        let reward = try sqlNumber("""
            SELECT avg(s.normalized_reward) FROM runs r JOIN run_summaries s ON s.run = r.id
            WHERE r.algorithm = 'ql' AND r.n = 5
            """)
        #expect(abs((ql["normalized_reward"] as? Double ?? -1) - reward) < 1e-12)
        let missRatio = try sqlNumber("""
            SELECT CAST(sum(s.misses) AS REAL) / (count(*) * 5) FROM runs r JOIN run_summaries s ON s.run = r.id
            WHERE r.algorithm = 'dteql' AND r.phi = 50 AND r.n = 5
            """)
        #expect(abs((rows[0]["deadline_miss_ratio"] as? Double ?? -1) - missRatio) < 1e-12)
        let converged = try sqlNumber("""
            SELECT count(s.iterations_to_optimal) FROM runs r JOIN run_summaries s ON s.run = r.id
            WHERE r.algorithm = 'dteql' AND r.phi = 20 AND r.n = 5
            """)
        #expect(rows[1]["converged_runs"] as? Int == Int(converged))
        for row in rows {
            let exceeds = try #require(row["convergence_exceeds_budget"] as? Bool)
            #expect(exceeds == ((row["converged_runs"] as? Int ?? 0) * 2 <= 3 - 1), "\(row)")
            #expect(exceeds == (row["convergence_iterations"] is NSNull))
        }
    }

    @Test func tableIFormats() throws {
        let table = try CLI.run(["compare", "--n", "5", "--db", db])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.count == 2 + 7)
        let header = try #require(lines.first)
        let positions = ["DTEQL phi=50", "DTEQL phi=20", "DTAQL phi=4"].map { header.range(of: $0)?.lowerBound }
        #expect(header.hasSuffix("  QL"))
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        #expect(lines.contains { $0.hasPrefix("runs") && $0.hasSuffix("3") })
        // Every run's frame has D_rand and D*: the delay score row has a value in every column.
        #expect(lines.contains { $0.hasPrefix("delay score") && !$0.contains(" - ") })
        #expect(table.stdout.contains("±"))

        let csv = try CLI.run(["compare", "--n", "5", "--db", db, "--format", "csv", "--spread", "none"])
        let csvLines = csv.stdout.split(separator: "\n")
        #expect(csvLines.count == 1 + 7)
        #expect(csvLines.first == "measure,DTEQL phi=50,DTEQL phi=20,DTAQL phi=4,QL")
        #expect(csvLines.last == "runs,3,3,3,3")

        let markdown = try CLI.run(["compare", "--n", "5", "--db", db, "--format", "markdown", "--spread", "iqr"])
        #expect(markdown.stdout.split(separator: "\n").count == 2 + 7)
        #expect(markdown.stdout.hasPrefix("| measure | DTEQL phi=50 |"))
    }

    /// `a ± b` split into its two numbers' texts.
    static func meanAndHalfWidth(_ cell: Substring) throws -> (mean: String, halfWidth: String) {
        let parts = cell.components(separatedBy: " ± ")
        try #require(parts.count == 2, "\(cell)")
        return (parts[0], parts[1])
    }

    static func decimals(_ text: String) -> Int {
        text.firstIndex(of: ".").map { text.distance(from: $0, to: text.endIndex) - 1 } ?? 0
    }

    static func significantDigits(_ text: String) -> Int {
        text.filter(\.isNumber).drop { $0 == "0" }.count
    }

    @Test func tableCellsRoundTheHalfWidthAndTheMeanToTheSameDecimalPlace() throws {
        let rows = try #require(try json(["compare", "--n", "5", "--db", db, "--format", "json"]) as? [[String: Any]])
        for digits in [2, 3] {
            let table = try CLI.run(["compare", "--n", "5", "--db", db, "--digits", String(digits), "--format", "markdown"])
            #expect(table.status == 0, "\(table.stderr)")
            let line = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("| normalized reward |") })
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.dropFirst()
            #expect(cells.count == rows.count)
            for (cell, row) in zip(cells, rows) {
                let (meanText, halfText) = try Self.meanAndHalfWidth(Substring(cell))
                let mean = try #require(row["normalized_reward"] as? Double)
                let bounds = try #require(row["normalized_reward_ci"] as? [Double])
                let halfWidth = (bounds[1] - bounds[0]) / 2
                guard halfWidth > 0 else {
                    #expect(halfText == "0")
                    continue
                }
                #expect(Self.significantDigits(halfText) == digits, "\(cell)")
                #expect(Self.decimals(meanText) == Self.decimals(halfText), "\(cell)")
                let unit = pow(10, -Double(Self.decimals(halfText)))
                #expect(abs(try #require(Double(meanText)) - mean) <= unit / 2 + 1e-12, "\(cell) vs \(mean)")
                #expect(abs(try #require(Double(halfText)) - halfWidth) <= unit / 2 + 1e-12, "\(cell) vs \(halfWidth)")
            }
        }
    }

    @Test func csvKeepsFullPrecisionNumbersWithTheBoundsInTheirOwnColumns() throws {
        let rows = try #require(try json(["compare", "--n", "5", "--db", db, "--format", "json"]) as? [[String: Any]])
        let csv = try CLI.run(["compare", "--n", "5", "--db", db, "--format", "csv", "--digits", "1"])
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = try #require(lines.first)
        #expect(header.count == 1 + 3 * rows.count)
        let byMeasure = Dictionary(uniqueKeysWithValues: lines.dropFirst().map { ($0[0], Array($0.dropFirst())) })
        for (index, row) in rows.enumerated() {
            let name = try #require(row["configuration"] as? String)
            #expect(Array(header[(1 + 3 * index)...(3 + 3 * index)]) == [name, name + "_lo", name + "_hi"])
            for (measure, key) in [("normalized reward", "normalized_reward"), ("average delay (s)", "average_delay_s"),
                                   ("optimality ratio J*/J", "optimality_ratio")] {
                let cells = try #require(byMeasure[measure])
                // The JSON's doubles, nothing rounded (Foundation's JSON reader may be one ulp off), each in
                // its shortest round-trip form.
                let values = try (0..<3).map { try #require(Double(cells[3 * index + $0]), "\(measure) \(name)") }
                #expect((0..<3).allSatisfy { "\(values[$0])" == cells[3 * index + $0] })
                let bounds = try #require(row[key + "_ci"] as? [Double])
                let expected = [try #require(row[key] as? Double), bounds[0], bounds[1]]
                #expect(zip(values, expected).allSatisfy { abs($0 - $1) <= 4 * $1.ulp }, "\(values) vs \(expected)")
            }
            #expect(byMeasure["runs"]?[3 * index] == "3")
        }
        // Every cell but the measure names is a number or empty.
        for cells in byMeasure.values { #expect(cells.allSatisfy { $0.isEmpty || Double($0) != nil }, "\(cells)") }

        let iqr = try CLI.run(["compare", "--n", "5", "--db", db, "--format", "csv", "--spread", "iqr"])
        let iqrRows = try #require(try json(["compare", "--n", "5", "--db", db, "--format", "json", "--spread", "iqr"]) as? [[String: Any]])
        let reward = try #require(iqr.stdout.split(separator: "\n").first { $0.hasPrefix("normalized reward,") })
            .split(separator: ",").dropFirst().map { Double($0) }
        let quartiles = try #require(iqrRows[0]["normalized_reward_iqr"] as? [Double])
        #expect(abs((reward[1] ?? 0) - quartiles[0]) <= 4 * quartiles[0].ulp && abs((reward[2] ?? 0) - quartiles[1]) <= 4 * quartiles[1].ulp)
    }

    @Test func tableIIHasOneRowPerN() throws {
        let csv = try CLI.run(["compare", "--db", db, "--format", "csv"])
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(lines.first == "n," + ["DTEQL phi=50", "DTEQL phi=20", "DTAQL phi=4", "QL"]
            .map { "\($0),\($0)_lo,\($0)_hi" }.joined(separator: ","))
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix("5,"))
        // N=6 has no DTEQL phi=20 or DTAQL run: empty cells (value and bounds).
        #expect(lines[2].hasPrefix("6,") && lines[2].contains(",,,,,,"))
        let byN = try CLI.run(["compare", "--by", "n", "--db", db, "--format", "csv"])
        #expect(byN.stdout == csv.stdout)
        let all = try #require(try json(["compare", "--db", db, "--format", "json"]) as? [[String: Any]])
        #expect(all.count == 6)
        #expect(all.map { $0["n"] as? Int } == [5, 5, 5, 5, 6, 6])
        let table = try CLI.run(["compare", "--db", db])
        #expect(table.stdout.split(separator: "\n").count == 2 + 2)
    }

    @Test func compareFiltersAndErrors() throws {
        let ql = try #require(try json(["compare", "--n", "5", "--algo", "ql", "--db", db, "--format", "json"]) as? [[String: Any]])
        #expect(ql.count == 1)
        let labelled = try #require(try json(["compare", "--n", "5", "--label", "cmp", "--iterations", "800", "--since", "2000-01-01",
                                              "--db", db, "--format", "json"]) as? [[String: Any]])
        #expect(labelled.count == 4)
        let none = try CLI.run(["compare", "--n", "5", "--label", "nothing", "--db", db])
        #expect(none.status == 1)
        #expect(none.errorLines.count == 1 && none.stderr.hasPrefix("Error: "))
        let both = try CLI.run(["compare", "--n", "5", "--by", "n", "--db", db])
        #expect(both.status == 64)
    }

    @Test func unfinishedRunsAreCountedNotAggregated() throws {
        let copy = try Self.fixture.get().dir.path("unfinished.db")
        do {
            let source = try Database(path: db, mode: .readWrite)
            try source.execute("VACUUM INTO '\(copy)'")
        }
        do {
            let database = try Database(path: copy, mode: .readWrite)
            try database.execute("""
                UPDATE runs SET status = 'interrupted' WHERE id = (SELECT min(id) FROM runs WHERE algorithm = 'ql' AND n = 5);
                DELETE FROM run_summaries WHERE run = (SELECT min(id) FROM runs WHERE algorithm = 'ql' AND n = 5);
                """)
        }
        let plain = try #require(try json(["compare", "--n", "5", "--db", copy, "--format", "json"]) as? [[String: Any]])
        #expect(plain.last?["runs"] as? Int == 2 && plain.last?["unfinished_runs"] as? Int == 0)
        let with = try #require(try json(["compare", "--n", "5", "--include-unfinished", "--db", copy, "--format", "json"])
            as? [[String: Any]])
        #expect(with.last?["runs"] as? Int == 2 && with.last?["unfinished_runs"] as? Int == 1)
        #expect(with.last?["normalized_reward"] as? Double == plain.last?["normalized_reward"] as? Double)
        let table = try CLI.run(["compare", "--n", "5", "--include-unfinished", "--db", copy])
        #expect(table.stdout.contains("2 (+1 unfinished)"))
    }

    @Test func queryListsAndRuns() throws {
        let list = try #require(try json(["query", "--list", "--format", "json"]) as? [[String: Any]])
        let names = list.compactMap { $0["name"] as? String }
        for name in ["checkpoint_sizes", "compare_runs", "divergent_hashes", "run_history", "runs_by_label"] {
            #expect(names.contains(name))
        }
        let compareRuns = try #require(list.first { $0["name"] as? String == "compare_runs" })
        #expect((compareRuns["parameters"] as? String)?.contains(":n integer = NULL") == true)

        let runs = try #require(try json(["query", "compare_runs", "--param", "n=5", "--param", "algo=dteql", "--db", db,
                                          "--format", "json"]) as? [[String: Any]])
        #expect(runs.count == 6)
        let runID = try #require(runs.first?["run_id"] as? String)
        let history = try CLI.run(["query", "run_history", "--param", "run_id=\(runID)", "--param", "step=200", "--db", db,
                                   "--format", "csv"])
        #expect(history.status == 0, "\(history.stderr)")
        // Header, iterations 0, 200, 400, 600 and the last one, 799.
        #expect(history.stdout.split(separator: "\n").count == 1 + 5)
        #expect(history.stdout.hasPrefix("iteration,epsilon,"))

        let missing = try CLI.run(["query", "run_history", "--db", db])
        #expect(missing.status == 1)
        #expect(missing.errorLines.count == 1)
        #expect(missing.stderr.hasPrefix("Error: query run_history needs parameter :run_id (text: "))
        #expect(missing.stderr.contains("pass --param run_id=VALUE"))
        let badType = try CLI.run(["query", "compare_runs", "--param", "n=five", "--db", db])
        #expect(badType.status == 1 && badType.stderr.contains(":n is an integer"))
        let unknown = try CLI.run(["query", "no_such_query", "--db", db])
        #expect(unknown.status == 1 && unknown.stderr.contains("compare_runs"))
        let malformed = try CLI.run(["query", "compare_runs", "--param", "n", "--db", db])
        #expect(malformed.status == 64)
    }

    @Test func sqlReadsAndRefusesWrites() throws {
        let path = try db
        let count = try CLI.run(["sql", "SELECT count(*) AS runs FROM runs WHERE n = :n", "--param", "n=5", "--db", path,
                                 "--format", "csv"])
        #expect(count.stdout == "runs\n12\n")
        let fromStdin = try CLI.run(["sql", "-", "--db", path, "--format", "json"], stdin: "SELECT 1 AS one, 'a' AS text")
        #expect(fromStdin.stdout.contains("\"one\": 1"))

        // Move everything into the main file, then a refused write must leave its bytes as they were.
        do {
            let database = try Database(path: path, mode: .readWrite)
            try database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        for statement in ["DELETE FROM runs", "UPDATE runs SET label = NULL", "DROP TABLE metrics"] {
            let write = try CLI.run(["sql", statement, "--db", path])
            #expect(write.status == 1)
            #expect(write.stderr == "Error: tracker sql runs read-only statements; this one writes\n")
            #expect(write.stdout.isEmpty)
        }
        let two = try CLI.run(["sql", "SELECT 1; SELECT 2", "--db", path])
        #expect(two.status == 1 && two.errorLines.count == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        let after = try CLI.run(["sql", "SELECT count(*) FROM runs", "--db", path, "--format", "csv"])
        #expect(after.stdout.hasSuffix("\n14\n"))
    }
}
