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

    // MARK: Stored text on the terminal

    /// Text that would drive a terminal: colour (CSI), a window title (OSC ... BEL), carriage return
    /// (overwrites the line), NUL, DEL, C1 controls (U+009B is CSI on its own, U+0085 NEL), a bidi
    /// override (U+202E reverses what follows) and a line separator.
    static let hostile = "lab\u{1B}[31mred\u{1B}]0;pwned\u{07}\rback\u{0}nul\u{7F}del\u{9B}2Jc1\u{85}nel\u{202E}rtl\u{2028}ls\\z"

    /// What must not reach a terminal raw: C0 controls but the line feed, DEL, C1, format characters
    /// (bidi overrides among them) and line or paragraph separators.
    static func rawControls(in text: String) -> [String] {
        text.unicodeScalars.filter { scalar in
            if scalar == "\n" { return false }
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator: return true
            default: return false
            }
        }.map { "U+" + String($0.value, radix: 16, uppercase: true) }
    }

    /// A database whose run's label, tag and note are the hostile text (written as a hostile file could
    /// hold them: straight into the tables).
    static func hostileDatabase(_ dir: TemporaryDirectory) throws -> (db: String, runID: String) {
        let (db, runID) = try databaseWithOneRun(dir)
        let database = try Database(path: db)
        try database.prepare("UPDATE runs SET label = ?").run([.text(hostile)])
        try database.prepare("INSERT INTO run_tags (run, key, value) SELECT id, ?, ? FROM runs").run([.text("k" + hostile), .text(hostile)])
        try database.prepare("INSERT INTO run_notes (run, note) SELECT id, ? FROM runs").run([.text(hostile)])
        return (db, runID)
    }

    /// Before: list, show, sql and query printed the label's escape sequences raw (only show's tags and
    /// note were escaped).
    @Test func tableAndMarkdownOutputEscapeStoredText() throws {
        let dir = try TemporaryDirectory()
        let (db, runID) = try Self.hostileDatabase(dir)
        let sql = "SELECT label, label AS \"col\u{1B}[1m\u{202E}\" FROM runs"
        let commands: [[String]] = [
            ["list", "--db", db], ["list", "--db", db, "--format", "markdown"],
            ["show", runID, "--db", db],
            ["sql", "--db", db, sql], ["sql", "--db", db, sql, "--format", "markdown"],
            ["query", "run_settings", "--db", db], ["compare", "--db", db, "--n", "4", "--include-unfinished"],
            // LaTeX shows them as the table does, escaped for LaTeX in turn (LaTeXOutputTests compiles such text).
            ["list", "--db", db, "--format", "latex", "--caption", Self.hostile], ["sql", "--db", db, sql, "--format", "latex"],
            ["query", "runs_tidy", "--db", db, "--format", "latex", "--param", "include_unfinished=1"],
        ]
        for arguments in commands {
            let result = try CLI.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(Self.rawControls(in: result.stdout).isEmpty, "\(arguments): \(Self.rawControls(in: result.stdout))")
        }
        // The escapes show what is there, in the one notation of terminalEscaped.
        let list = try CLI.run(["list", "--db", db])
        #expect(list.stdout.contains("lab\\u{1B}[31mred\\u{1B}]0;pwned\\u{7}\\rback"), "\(list.stdout)")
        let show = try CLI.run(["show", runID, "--db", db])
        #expect(show.stdout.contains("\\u{9B}2Jc1\\u{85}nel\\u{202E}rtl\\u{2028}ls\\\\z"), "\(show.stdout)")
        let latex = try CLI.run(["list", "--db", db, "--format", "latex"])
        #expect(latex.stdout.contains(#"lab\textbackslash{}u\{1B\}{[}31mred"#), "\(latex.stdout)")
        let sqlColumns = try CLI.run(["sql", "--db", db, sql])
        #expect(sqlColumns.stdout.hasPrefix("label"), "\(sqlColumns.stdout)")
        #expect(sqlColumns.stdout.contains("col\\u{1B}[1m\\u{202E}"), "\(sqlColumns.stdout)")
    }

    /// JSON escapes every control and format character as \uXXXX, so the same text is exact data for
    /// a parser and inert on a terminal. CSV in a pipe or a file is exact data.
    @Test func jsonAndCSVStayExactData() throws {
        let dir = try TemporaryDirectory()
        let (db, runID) = try Self.hostileDatabase(dir)
        // What the database holds (SQLite text with a NUL reads back up to it in some APIs: compare with
        // what the store itself reads).
        let stored = try #require(try Database(path: db).prepare("SELECT label FROM runs").rows { $0.text(0) }.first)
        for arguments in [["list", "--db", db, "--format", "json"], ["show", runID, "--db", db, "--format", "json"],
                          ["sql", "--db", db, "SELECT label FROM runs", "--format", "json"]] {
            let result = try CLI.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(Self.rawControls(in: result.stdout).isEmpty, "\(arguments): \(Self.rawControls(in: result.stdout))")
            #expect(result.stdout.contains("\\u001b[31mred"), "\(arguments)")
            #expect(result.stdout.contains("\\u009b2Jc1\\u0085nel\\u202ertl\\u2028ls"), "\(arguments): \(result.stdout)")
            let object = try CLI.json(result)
            let label = (object as? [[String: Any]])?.first?["label"] ?? (object as? [String: Any])?["label"]
            #expect(label as? String == stored, "\(arguments)")
        }
        let csv = try CLI.run(["sql", "--db", db, "SELECT label FROM runs", "--format", "csv"])
        #expect(csv.status == 0)
        #expect(csv.stdout == "label\n\"" + stored + "\"\n", "\(csv.stdout.debugDescription)")
    }

    /// CSV on a terminal (here a pseudo-terminal made by script(1)) escapes what a table would.
    @Test func csvOnATerminalIsEscaped() throws {
        let dir = try TemporaryDirectory()
        let (db, _) = try Self.hostileDatabase(dir)
        let command = [CLI.binary.path, "sql", "--db", db, "SELECT label FROM runs", "--format", "csv"]
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let result = try CLI.tool("/usr/bin/script", ["-q", "-e", "-c", command, "/dev/null"])
        #expect(result.status == 0, "\(result.stderr)")
        // The pseudo-terminal turns each line feed into CR LF; nothing else may be raw.
        let output = result.stdout.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(Self.rawControls(in: output).isEmpty, "\(Self.rawControls(in: output)): \(output.debugDescription)")
        #expect(output.contains("lab\\u{1B}[31mred"), "\(output.debugDescription)")
    }

    /// Error messages quote text from files and the database; stderr gets it escaped.
    @Test func errorMessagesEscapeQuotedText() throws {
        let dir = try TemporaryDirectory()
        let (db, _) = try Self.databaseWithOneRun(dir)
        let tasks = dir.path("tasks.csv")
        try Data("data_bits,deadline_s,cycles_per_bit\n1,\u{1B}[2J\u{9B}1m\u{202E}x\u{7},3\n".utf8).write(to: URL(fileURLWithPath: tasks))
        let badTaskFile = try CLI.run(["run", "--db", db, "--algo", "ql", "--tasks", tasks, "--quiet"])
        let badRunID = try CLI.run(["show", "ab\u{1B}[31m\u{202E}", "--db", db])
        for result in [badTaskFile, badRunID] {
            #expect(result.status != 0)
            #expect(result.stderr.hasPrefix("Error: "), "\(result.stderr)")
            #expect(Self.rawControls(in: result.stderr).isEmpty, "\(result.stderr.debugDescription)")
            #expect(result.stderr.contains("\\u{1B}["), "\(result.stderr)")
        }
        #expect(badTaskFile.errorLines.count == 1, "\(badTaskFile.stderr)")
    }
}
