import Foundation
import SQLite
import Testing
import TestSupport

/// Issue 10 section 6: what `tracker sql` and `query` refuse or bind, and what error messages name.
@Suite struct HostileInputTests {
    /// A database with one finished QL run; returns its path and the run's id.
    static func databaseWithOneRun(_ dir: TemporaryDirectory, _ extra: [String] = []) throws -> (db: String, runID: String) {
        let db = dir.path("h.db")
        let result = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet",
                                  "--format", "json"] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        let runID = try #require((try CLI.json(result) as? [String: Any])?["run_id"] as? String)
        return (db, runID)
    }

    // MARK: tracker sql

    /// Before: SQLite stopped at the NUL, so `SELECT 1` ran and the rest was silently dropped.
    @Test func sqlRefusesANulCharacterFromStandardInput() throws {
        let dir = try TemporaryDirectory()
        let (db, _) = try Self.databaseWithOneRun(dir)
        let result = try CLI.run(["sql", "--db", db, "-"], stdin: "SELECT count(*) FROM runs\u{0}; SELECT 'hidden'")
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.errorLines.first == "Error: the SQL text holds a NUL character (\\0), where SQLite would stop reading it.")
        // Without the NUL the same statement runs.
        let fine = try CLI.run(["sql", "--db", db, "-", "--format", "csv"], stdin: "SELECT count(*) AS n FROM runs")
        #expect(fine.status == 0 && fine.stdout == "n\n1\n", "\(fine.stderr)")
    }

    /// Before: `fts3_tokenizer('simple')` returned a C function pointer of the tracker process.
    @Test func sqlRefusesFts3Tokenizer() throws {
        let dir = try TemporaryDirectory()
        let (db, _) = try Self.databaseWithOneRun(dir)
        for (sql, parameters) in [("SELECT hex(fts3_tokenizer('simple'))", [String]()),
                                  ("SELECT hex(fts3_tokenizer(:name))", ["--param", "name=simple"]),
                                  ("SELECT fts3_tokenizer(:name, :pointer)", ["--param", "name=simple", "--param", "pointer=AAAAAAAA"])] {
            let result = try CLI.run(["sql", "--db", db, sql] + parameters)
            #expect(result.status == 1, "\(sql): \(result.stdout)")
            #expect(result.stdout.isEmpty)
            #expect(result.stderr == "Error: SQL error: not authorized to use function: fts3_tokenizer\n", "\(sql)")
        }
    }

    /// Before: `--param x=0x10` bound the real 16.0 (Swift's Double parser reads hex), "+5" and "0123"
    /// bound numbers, so `run_id = :id` with a digit-only id prefix matched nothing.
    @Test func sqlParametersAreNumbersOnlyWhenPlainDecimal() throws {
        let dir = try TemporaryDirectory()
        let (db, _) = try Self.databaseWithOneRun(dir)
        let expected: [(String, String)] = [
            ("0", "integer"), ("-0", "integer"), ("42", "integer"), ("-42", "integer"), ("9223372036854775807", "integer"),
            ("0.5", "real"), ("-1.25e-3", "real"), ("1E+6", "real"), ("1e400", "text"), ("99999999999999999999", "real"),
            ("0x10", "text"), ("0X1p4", "text"), ("+5", "text"), ("0123", "text"), ("00", "text"), (".5", "text"),
            ("5.", "text"), ("1e", "text"), ("inf", "text"), ("-infinity", "text"), ("nan", "text"), ("1_000", "text"),
            ("١٢", "text"), ("12abc", "text"), ("", "text"), ("1 2", "text"),
        ]
        for (value, type) in expected {
            let result = try CLI.run(["sql", "--db", db, "SELECT typeof(:x) AS t", "--param", "x=\(value)", "--format", "csv"])
            #expect(result.stdout == "t\n\(type)\n", "--param x=\(value): \(result.stdout) \(result.stderr)")
        }
        // Text stays exactly as given (no trimming, no case change).
        let text = try CLI.run(["sql", "--db", db, "SELECT :x AS v", "--param", "x=0x10", "--format", "json"])
        #expect(((try CLI.json(text) as? [[String: Any]])?.first?["v"] as? String) == "0x10")
    }

    /// `query --param` for an integer parameter follows the same rule: "+5", "0x10", "05" are refused.
    @Test func savedQueryIntegerParametersArePlainDecimal() throws {
        let dir = try TemporaryDirectory()
        let (db, _) = try Self.databaseWithOneRun(dir)
        for value in ["+4", "0x4", "04", "4.0", "4e0"] {
            let result = try CLI.run(["query", "compare_runs", "--db", db, "--param", "n=\(value)"])
            #expect(result.status == 1, "n=\(value): \(result.stdout)")
            #expect(result.stderr.contains("parameter :n is an integer"), "n=\(value): \(result.stderr)")
        }
        let plain = try CLI.run(["query", "compare_runs", "--db", db, "--param", "n=4", "--format", "json"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect((try CLI.json(plain) as? [[String: Any]])?.count == 1)
    }

    // MARK: Messages

    /// Before: "deleting run 1: database is locked" named the row key, and nothing said how to wait longer.
    @Test func lockedDatabaseMessagesNameTheRunIDAndHowToWaitLonger() throws {
        let dir = try TemporaryDirectory()
        let (db, runID) = try Self.databaseWithOneRun(dir)
        let holder = try Database(path: db)
        try holder.execute("BEGIN IMMEDIATE")
        defer { try? holder.execute("ROLLBACK") }
        let environment = ["TRACKER_BUSY_TIMEOUT_MS": "100"]
        let commands: [([String], String)] = [
            (["delete", runID, "--yes", "--db", db], "deleting run \(runID): database is locked"),
            (["tag", runID, "--db", db, "a=b"], "tagging run \(runID): database is locked"),
            (["note", runID, "--db", db, "text"], "writing the note of run \(runID): database is locked"),
        ]
        for (arguments, message) in commands {
            let result = try CLI.run(arguments, environment: environment)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.errorLines.count == 1, "\(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("set TRACKER_BUSY_TIMEOUT_MS (milliseconds, up to 600000; default 10000) to wait longer"),
                    "\(result.stderr)")
            #expect(!result.stderr.contains("run 1:"), "\(result.stderr)")
        }
    }
}
