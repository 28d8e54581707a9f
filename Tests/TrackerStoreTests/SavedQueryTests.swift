import Foundation
import Learning
import SQLite
import Testing
import TestSupport
import TrackerApp
@testable import TrackerStore

/// The header format of queries/*.sql, every shipped query against a real database, and `readOnlySQL`.
@Suite struct SavedQueryTests {
    static let good = """
        -- Runs of one size.
        -- :n integer            number of tasks
        -- :label text = NULL    only runs with this label
        -- :step integer = 100   sample every step-th iteration
        -- :scale real = 0.5     a factor
        -- :name text = 'it''s'  a quoted default
        -- Free documentation follows; :this is not a parameter line? It is not, it does not start with ':'.
        --
        SELECT :n AS n, :label AS label, :step AS step, :scale AS scale, :name AS name
        """

    @Test func parsesAGoodHeader() throws {
        let query = try SavedQuery(name: "sample", text: Self.good)
        #expect(query.name == "sample")
        #expect(query.description == "Runs of one size.")
        #expect(query.parameters.map(\.name) == ["n", "label", "step", "scale", "name"])
        #expect(query.parameters.map(\.type) == [.integer, .text, .integer, .real, .text])
        #expect(query.parameters[0].defaultValue == nil)
        #expect(query.parameters[0].isRequired)
        #expect(query.parameters[0].description == "number of tasks")
        #expect(query.parameters[1].defaultValue == .null)
        #expect(query.parameters[2].defaultValue == .integer(100))
        #expect(query.parameters[3].defaultValue == .real(0.5))
        #expect(query.parameters[4].defaultValue == .text("it's"))
        #expect(query.parameters[4].defaultLiteral == "'it''s'")
        #expect(query.sql == Self.good)
    }

    @Test func acceptsWithSelect() throws {
        let query = try SavedQuery(name: "w", text: "-- A CTE.\nWITH x AS (SELECT 1 AS a) SELECT a FROM x")
        #expect(query.parameters.isEmpty)
    }

    @Test(arguments: [
        ("SELECT 1", "no header"),
        ("", "no header"),
        ("-- :n integer number\nSELECT 1", "first comment line must describe"),
        ("-- Fine.\n-- :n int number\nSELECT :n", "type 'int'"),
        ("-- Fine.\n-- :n integer = x number\nSELECT :n", "default 'x' is not an integer"),
        ("-- Fine.\n-- :n integer = 5\nSELECT :n", "has no description"),
        ("-- Fine.\n-- :n integer a\n-- :n integer b\nSELECT :n", "declared twice"),
        ("-- Fine.\n-- : integer a\nSELECT 1", ":name type"),
        ("-- Fine.\n-- :s text = 'open a\nSELECT 1", "unterminated"),
        ("-- Fine.\nDELETE FROM runs", "must be a SELECT"),
        ("-- Fine.\n-- only comments", "no SELECT statement"),
    ])
    func rejectsMalformedHeaders(text: String, expected: String) {
        do {
            _ = try SavedQuery(name: "bad", text: text)
            Issue.record("accepted: \(text)")
        } catch {
            let message = "\(error)"
            #expect(message.contains(expected), "\(message)")
            #expect(message.hasPrefix("queries/bad.sql"), "\(message)")
            #expect(!message.contains("\n"))
        }
    }

    @Test func knownQueriesAndUnknownName() throws {
        let names = SavedQueries.all.map(\.name)
        for name in ["compare_runs", "run_history", "checkpoint_sizes", "divergent_hashes", "runs_by_label"] {
            #expect(names.contains(name), "\(name) is not shipped")
        }
        #expect(names == names.sorted())
        #expect(throws: StoreError.self) { try SavedQueries.named("nope") }
        do {
            _ = try SavedQueries.named("nope")
        } catch {
            #expect("\(error)".contains("compare_runs"))
        }
    }

    /// A database with a few finished runs (QL and DTEQL, N = 5), plus one deliberately unfinished run.
    static func populatedStore(_ dir: TemporaryDirectory, file: String = "q.db") throws -> TrackerStore {
        let store = try TrackerStore(path: dir.path(file))
        for (algorithm, seed) in [(Algorithm.ql, 1), (.ql, 2), (.dteql, 1), (.dteql, 2), (.dtaql, 1)] {
            let spec = smallSpecification(algorithm: algorithm, n: 5, iterations: 600, seed: UInt64(seed), phi: 20,
                                          checkpointEvery: 200, label: "q")
            _ = try finish(try RunSession.start(spec, in: store))
        }
        return store
    }

    /// Plausible values for every parameter of a shipped query.
    static func plausible(_ parameter: QueryParameter, runID: String) -> String? {
        switch parameter.name {
        case "run_id": return runID
        case "n": return "5"
        case "label": return "q"
        case "algo": return "ql"
        case "since": return "2000-01-01"
        case "step", "points": return "100"
        default:
            guard parameter.isRequired else { return nil }
            switch parameter.type {
            case .integer: return "1"
            case .real: return "1.0"
            case .text: return "x"
            }
        }
    }

    @Test func everyShippedQueryPreparesAndRuns() throws {
        let dir = try TemporaryDirectory()
        let store = try Self.populatedStore(dir)
        let runID = try store.runs().first!.runID
        #expect(!SavedQueries.all.isEmpty)
        for query in SavedQueries.all {
            // Prepares against the freshly migrated schema, reads only, and uses exactly the declared names.
            let statement = try store.database.prepare(query.sql)
            #expect(statement.isReadOnly, "\(query.name) writes")
            let used = Set((0..<statement.parameterCount).compactMap { statement.parameterName(Int32($0 + 1)) })
            #expect(used == Set(query.parameters.map { ":" + $0.name }), "\(query.name): header and SQL disagree")
            // Runs with defaults only (where nothing is required) and with every parameter given.
            var all: [String: String] = [:]
            for parameter in query.parameters { all[parameter.name] = Self.plausible(parameter, runID: runID) }
            let result = try store.run(query, parameters: all)
            #expect(!result.columns.isEmpty, "\(query.name)")
            let required = all.filter { name, _ in query.parameters.first { $0.name == name }?.isRequired == true }
            _ = try store.run(query, parameters: required)
        }
    }

    @Test func shippedQueriesReturnWhatTheySay() throws {
        let dir = try TemporaryDirectory()
        let store = try Self.populatedStore(dir)
        let compare = try store.run(try SavedQueries.named("compare_runs"), parameters: ["n": "5"])
        #expect(compare.rows.count == 5)
        let qlOnly = try store.run(try SavedQueries.named("compare_runs"), parameters: ["algo": "ql"])
        #expect(qlOnly.rows.count == 2)
        let none = try store.run(try SavedQueries.named("compare_runs"), parameters: ["n": "6"])
        #expect(none.rows.isEmpty)
        let runID = try store.runs().first!.runID
        let history = try store.run(try SavedQueries.named("run_history"), parameters: ["run_id": runID, "step": "100"])
        // 0, 100, ..., 500 and the last iteration 599.
        #expect(history.rows.map { $0[0] } == [0, 100, 200, 300, 400, 500, 599].map { SQLiteValue.integer($0) })
        let sizes = try store.run(try SavedQueries.named("checkpoint_sizes"), parameters: [:])
        #expect(sizes.rows.count == 5)
        let divergent = try store.run(try SavedQueries.named("divergent_hashes"), parameters: [:])
        #expect(divergent.rows.isEmpty)
        let labels = try store.run(try SavedQueries.named("runs_by_label"), parameters: [:])
        #expect(labels.rows.count == 1)
        #expect(labels.rows.first?[1] == .integer(5))
    }

    @Test func parameterErrorsAreOneLineAndNameTheParameter() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("e.db"))
        let query = try SavedQuery(name: "sample", text: Self.good)
        func message(_ parameters: [String: String]) -> String {
            do {
                _ = try store.run(query, parameters: parameters)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(message([:]) == "query sample needs parameter :n (integer: number of tasks); pass --param n=VALUE")
        #expect(message(["n": "eight"]).contains(":n is an integer"))
        #expect(message(["n": "8.5"]).contains("got '8.5'"))
        #expect(message(["n": "8", "scale": "big"]).contains(":scale is a real"))
        #expect(message(["n": "8", "nope": "1"]).contains("has no parameter :nope"))
        let result = try store.run(query, parameters: ["n": "8", ":label": "x"])
        #expect(result.columns == ["n", "label", "step", "scale", "name"])
        #expect(result.rows == [[.integer(8), .text("x"), .integer(100), .real(0.5), .text("it's")]])
        // The SQL may only use declared parameters.
        let undeclared = try SavedQuery(name: "u", text: "-- Undeclared.\nSELECT :x")
        #expect(throws: StoreError.self) { try store.run(undeclared, parameters: [:]) }
    }

    @Test func readOnlySQLBindsByShape() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("r.db"))
        let result = try store.readOnlySQL("SELECT :a AS a, :b AS b, :c AS c, typeof(:a) AS t",
                                           parameters: ["a": "8", "b": "2.5", "c": "x8"])
        #expect(result.rows == [[.integer(8), .real(2.5), .text("x8"), .text("integer")]])
        #expect(throws: StoreError.self) { try store.readOnlySQL("SELECT :a") }
        #expect(throws: StoreError.self) { try store.readOnlySQL("SELECT 1", parameters: ["a": "1"]) }
        #expect(throws: StoreError.self) { try store.readOnlySQL("SELECT 1; SELECT 2") }
        #expect(throws: StoreError.self) { try store.readOnlySQL("SELEC 1") }
    }

    @Test(arguments: [
        "DELETE FROM runs",
        "UPDATE runs SET label = 'x'",
        "INSERT INTO runs_nope VALUES (1)",
        "DROP TABLE metrics",
        "CREATE TABLE t (x)",
        "VACUUM",
        "PRAGMA user_version = 9",
        "WITH x AS (SELECT 1) DELETE FROM runs WHERE id IN (SELECT * FROM x)",
    ])
    func readOnlySQLRefusesWritesAndChangesNothing(sql: String) throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("w.db")
        do {
            _ = try Self.populatedStore(dir, file: "w.db")
        }
        // Checkpoint the WAL so the main file holds everything, then compare its bytes.
        do {
            let database = try Database(path: path, mode: .readWrite)
            try database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let store = try TrackerStore(path: path, access: .readWrite)
        do {
            _ = try store.readOnlySQL(sql)
            Issue.record("ran: \(sql)")
        } catch {
            let message = "\(error)"
            if !sql.contains("runs_nope") {
                #expect(message == "tracker sql runs read-only statements; this one writes")
            }
        }
        #expect(try store.readOnlySQL("SELECT count(*) FROM runs").rows == [[.integer(5)]])
        let after = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(before == after)
        let walSize = fileSize(path + "-wal")
        #expect(walSize == 0)
    }
}

/// `Statistics` and `CompareTable` against hand-computed values.
@Suite struct StatisticsTests {
    func close(_ a: Double?, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= tolerance * max(1, abs(b))
    }

    @Test func meanMedianPercentiles() {
        #expect(Statistics.mean([]) == nil)
        #expect(Statistics.mean([1, 2, 3, 4]) == 2.5)
        #expect(Statistics.median([5, 1, 3]) == 3)
        #expect(Statistics.median([4, 1, 3, 2]) == 2.5)
        #expect(Statistics.median([1, 2, .infinity]) == 2)
        #expect(Statistics.median([1, 2, .infinity, .infinity]) == .infinity)
        // Type 7: rank p (n - 1) over 1, 2, 3, 4, 10: p25 at rank 1 -> 2, p75 at rank 3 -> 4, p90 at 3.6 -> 4 + 0.6 * 6.
        #expect(Statistics.percentile([10, 1, 2, 3, 4], 0.25) == 2)
        #expect(Statistics.percentile([10, 1, 2, 3, 4], 0.75) == 4)
        #expect(close(Statistics.percentile([10, 1, 2, 3, 4], 0.9), 7.6))
        #expect(close(Statistics.percentile([1, 2], 0.25), 1.25))
        #expect(Statistics.percentile([1, 2, .infinity], 0.75) == .infinity)
        // s of 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squares 32, / 7.
        #expect(close(Statistics.standardDeviation([2, 4, 4, 4, 5, 5, 7, 9]), (32.0 / 7).squareRoot()))
    }

    @Test func studentTQuantilesMatchTables() {
        // Two-sided 95% critical values from printed t tables.
        let table: [(Double, Double)] = [(1, 12.7062), (2, 4.3027), (3, 3.1824), (4, 2.7764), (9, 2.2622),
                                         (10, 2.2281), (30, 2.0423), (100, 1.9840), (1e6, 1.9600)]
        for (nu, expected) in table {
            #expect(close(Statistics.studentTQuantile(0.975, degreesOfFreedom: nu), expected, 5e-5), "nu = \(nu)")
        }
        #expect(close(Statistics.studentTQuantile(0.95, degreesOfFreedom: 5), 2.0150, 5e-5))
        #expect(close(Statistics.studentTQuantile(0.025, degreesOfFreedom: 4), -2.7764, 5e-5))
        #expect(close(Statistics.studentTCDF(0, degreesOfFreedom: 3), 0.5))
        // nu = 1 is Cauchy: F(1) = 3/4.
        #expect(close(Statistics.studentTCDF(1, degreesOfFreedom: 1), 0.75, 1e-12))
    }

    @Test func meanIntervalByHand() throws {
        // 1, 2, 3, 4, 5: mean 3, s = sqrt(2.5), t(0.975, 4) = 2.776445; half-width = 2.776445 * 1.581139 / 2.236068.
        let interval = try #require(Statistics.meanConfidenceInterval([1, 2, 3, 4, 5]))
        let halfWidth = 2.7764451052 * 2.5.squareRoot() / 5.0.squareRoot()
        #expect(close(interval.lowerBound, 3 - halfWidth, 1e-8))
        #expect(close(interval.upperBound, 3 + halfWidth, 1e-8))
        #expect(Statistics.meanConfidenceInterval([1]) == nil)
    }

    @Test func medianIntervalFromOrderStatistics() throws {
        // n = 10: P(Bin <= 1) = 11/1024, coverage of [x2, x9] = 1 - 22/1024 = 0.9785; [x3, x8] would be 0.891.
        let ten = try #require(Statistics.medianConfidenceInterval((1...10).map(Double.init)))
        #expect(ten.lower == 2 && ten.upper == 9)
        #expect(close(ten.coverage, 1 - 22.0 / 1024))
        // n = 4: no interval reaches 95%, the range covers 1 - 2/16 = 0.875.
        let four = try #require(Statistics.medianConfidenceInterval([4, 1, 3, 2]))
        #expect(four.lower == 1 && four.upper == 4 && close(four.coverage, 0.875))
        // n = 6: [x1, x6] covers 1 - 2/64 = 0.96875.
        let six = try #require(Statistics.medianConfidenceInterval([1, 2, 3, 4, 5, .infinity]))
        #expect(six.lower == 1 && six.upper == .infinity && close(six.coverage, 0.96875))
    }

    @Test func convergenceRuleAndBudget() throws {
        // 2 of 5 converged: the median is a non-converged run, >B.
        let few = try #require(CompareTable.convergence([100, nil, 300, nil, nil], budgets: [800, 800, 800, 800, 800]))
        #expect(few.exceedsBudget && few.budget == 800 && few.converged == 2 && few.runs == 5)
        // 3 of 5: the median is the third smallest, 500.
        let most = try #require(CompareTable.convergence([100, 500, 300, nil, nil], budgets: [800, 800, 800, 800, 800]))
        #expect(!most.exceedsBudget && most.median == 500)
        // Exactly half of an even K: the upper middle run did not converge, so the median is beyond B.
        let half = try #require(CompareTable.convergence([100, 200, nil, nil], budgets: [800, 800, 600, 900]))
        #expect(half.exceedsBudget && half.budget == 600)
        // All converged with even K: the mean of the middle two.
        let all = try #require(CompareTable.convergence([100, 200, 300, 400], budgets: [800, 800, 800, 800]))
        #expect(all.median == 250 && all.budget == 800)
        #expect(CompareTable.convergence([], budgets: []) == nil)
        // Spreads start at three runs.
        #expect(CompareTable.convergence([1, 2], budgets: [5, 5])?.confidenceInterval == nil)
        #expect(CompareTable.mean([1, 2])?.confidenceInterval == nil)
        #expect(CompareTable.mean([1, 2, 3])?.interquartileRange == 1.5...2.5)
    }

    @Test func compareGroupsOrdersAndCounts() throws {
        func run(_ algorithm: String, _ phi: Int, reward: Double?, misses: Int? = 1, toOptimal: Int? = 10) -> CompareRun {
            CompareRun(algorithm: algorithm, phi: phi, n: 4, plannedIterations: 100, normalizedReward: reward,
                       misses: reward == nil ? nil : misses, meanCompletionSeconds: reward == nil ? nil : 2,
                       iterationsToOptimal: reward == nil ? nil : toOptimal, optimalityRatio: reward == nil ? nil : 1)
        }
        let rows = [
            run("ql", 0, reward: 1), run("dtaql", 4, reward: 1), run("dteql", 50, reward: 1),
            run("dteql", 500, reward: 1, misses: 0), run("dteql", 500, reward: 3, misses: 2), run("dteql", 500, reward: nil),
            run("dtaql", 8, reward: 1),
        ]
        let table = CompareTable.compare(rows)
        #expect(table.map(\.configuration.name) == ["DTEQL phi=500", "DTEQL phi=50", "DTAQL phi=8", "DTAQL phi=4", "QL"])
        let first = table[0]
        #expect(first.runs == 2 && first.unfinishedRuns == 1)
        #expect(first.normalizedReward?.mean == 2)
        // Total misses 2 over K * N = 2 * 4.
        #expect(first.deadlineMissRatio?.mean == 0.25)
    }
}
