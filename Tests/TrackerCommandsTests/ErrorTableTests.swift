import Foundation
import SQLite
import Testing
import TestSupport

/// docs/errors.md is the test: its "Cases" table is read here and every row run through the built binary,
/// so the documented messages and exit codes cannot drift from the code's.
@Suite struct ErrorTableTests {
    struct Row: Sendable, CustomStringConvertible {
        let number: Int
        let input: String
        let setup: String
        let command: String
        let exit: Int32
        let message: String
        var description: String { "#\(number) \(input)" }
    }

    static let document: String = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/errors.md")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    /// The rows of the markdown table whose header row is `header`, as trimmed cells.
    static func table(withHeader header: [String]) -> [[String]] {
        var rows: [[String]] = []
        var inside = false
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("|") else {
                if inside { break }
                continue
            }
            var cells = text.dropFirst().split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.last == "" { cells.removeLast() }
            if !inside {
                if cells == header { inside = true }
                continue
            }
            if cells.allSatisfy({ $0.allSatisfy { $0 == "-" || $0 == ":" } }) { continue }
            rows.append(cells)
        }
        return rows
    }

    /// A markdown code span's text: `x` or ``x`` (one space inside the double ticks is padding).
    static func code(_ cell: String) -> String {
        if cell.hasPrefix("``"), cell.hasSuffix("``"), cell.count >= 4 {
            return String(cell.dropFirst(2).dropLast(2)).trimmingCharacters(in: .whitespaces)
        }
        if cell.hasPrefix("`"), cell.hasSuffix("`"), cell.count >= 2 { return String(cell.dropFirst().dropLast()) }
        return cell
    }

    static let rows: [Row] = table(withHeader: ["#", "input", "setup", "command", "exit", "stderr contains"]).compactMap { cells in
        guard cells.count == 6, let number = Int(cells[0]), let exit = Int32(cells[4]) else { return nil }
        return Row(number: number, input: cells[1], setup: cells[2], command: code(cells[3]), exit: exit,
                   message: code(cells[5]))
    }

    /// Fixture name -> bytes, with \n, \r, \\ and \xHH unescaped.
    static let fixtures: [String: [UInt8]] = {
        var result: [String: [UInt8]] = [:]
        for cells in table(withHeader: ["fixture", "content"]) where cells.count == 2 {
            let text = Array(code(cells[1]).utf8)
            var bytes: [UInt8] = []
            var index = 0
            while index < text.count {
                if text[index] == UInt8(ascii: "\\"), index + 1 < text.count {
                    switch text[index + 1] {
                    case UInt8(ascii: "n"): bytes.append(10); index += 2; continue
                    case UInt8(ascii: "r"): bytes.append(13); index += 2; continue
                    case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); index += 2; continue
                    case UInt8(ascii: "x") where index + 3 < text.count:
                        if let byte = UInt8(String(decoding: text[(index + 2)...(index + 3)], as: UTF8.self), radix: 16) {
                            bytes.append(byte); index += 4; continue
                        }
                    default: break
                    }
                }
                bytes.append(text[index])
                index += 1
            }
            result[code(cells[0])] = bytes
        }
        return result
    }()

    /// The command's words: split on spaces, '...' keeps spaces.
    static func words(_ command: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false, started = false
        for character in command {
            if character == "'" { quoted.toggle(); started = true; continue }
            if character == " " && !quoted {
                if started { words.append(current) }
                current = ""; started = false
                continue
            }
            current.append(character); started = true
        }
        if started { words.append(current) }
        return words
    }

    @Test func theDocumentHasItsTables() {
        #expect(Self.rows.count >= 60, "docs/errors.md: \(Self.rows.count) rows parsed")
        #expect(Self.rows.map(\.number) == Array(1...Self.rows.count), "rows must be numbered 1, 2, 3, ...")
        #expect(Self.fixtures.count >= 20)
        let setups: Set = ["db", "none", "text", "newer", "locked", "immutable", "fsize", "fifo", "foreign", "empty", "live", "pair"]
        for row in Self.rows { #expect(setups.contains(row.setup), "\(row): unknown setup '\(row.setup)'") }
        // Every fixture a command names exists.
        for row in Self.rows {
            for word in Self.words(row.command) where word.hasPrefix("$DIR/") {
                let name = String(word.dropFirst(5))
                #expect(Self.fixtures[name] != nil || name.hasPrefix("nothing"), "\(row): no fixture \(name)")
            }
        }
    }

    /// The fault table's tests exist: each `Suite.test` names a `func test(` in some test source file.
    @Test func theFaultTableNamesTestsThatExist() throws {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        var sources = ""
        for case let url as URL in FileManager.default.enumerator(at: tests, includingPropertiesForKeys: nil)!
        where url.pathExtension == "swift" {
            sources += try String(contentsOf: url, encoding: .utf8)
        }
        let rows = Self.table(withHeader: ["fault", "what happens", "test"])
        #expect(rows.count >= 5)
        for row in rows {
            for name in row.last!.split(separator: ",").map({ Self.code($0.trimmingCharacters(in: .whitespaces)) }) {
                let parts = name.split(separator: ".")
                let suiteFound = sources.contains("struct \(parts[0])")
                let testFound = parts.count < 2 || sources.contains("func \(parts[1])(")
                #expect(suiteFound && testFound, "docs/errors.md names \(name), which does not exist")
            }
        }
    }

    /// Builds a database with one finished QL run at `path` and returns the run's id.
    static func makeDatabase(_ path: String) throws -> String {
        let result = try CLI.run(["run", "--db", path, "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet",
                                  "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        return try #require((try CLI.json(result) as? [String: Any])?["run_id"] as? String)
    }

    /// What a database holds, to compare before and after a failed command.
    static func contents(_ path: String) throws -> String {
        let database = try Database(path: path, mode: .readOnly)
        let runs = try database.prepare("SELECT run_id, status, done_iterations, error FROM runs ORDER BY id")
            .rows { row in (0..<4).map { String(describing: row.value(Int32($0))) }.joined(separator: ",") }
        let counts = try ["metrics", "checkpoints", "frames", "run_summaries"].map { table in
            String(describing: try database.scalar("SELECT count(*) FROM \(table)"))
        }
        return (runs + counts).joined(separator: "\n")
    }

    @Test(arguments: rows)
    func documentedErrorHappensAsDocumented(row: Row) throws {
        let dir = try TemporaryDirectory(prefix: "tracker-errors")
        for (name, bytes) in Self.fixtures {
            try Data(bytes).write(to: dir.url(name))
        }
        let db = dir.path("row\(row.number).db")
        var environment: [String: String] = [:]
        var lock: Database?
        var unlock: (() -> Void)?
        defer { unlock?() }
        var runID = ""
        switch row.setup {
        case "db", "locked", "immutable":
            runID = try Self.makeDatabase(db)
        case "pair":
            runID = try Self.makeDatabase(db)
            let other = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "60", "--quiet"])
            #expect(other.status == 0, "\(other.stderr)")
        case "live":
            runID = try Self.makeDatabase(db)
            try Database(path: db).prepare("""
                UPDATE runs SET status = 'running', host = 'node1', pid = 4242, heartbeat_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                """).run()
        case "text":
            try String(repeating: "not a database\n", count: 100).write(toFile: db, atomically: true, encoding: .utf8)
        case "newer":
            runID = try Self.makeDatabase(db)
            try Database(path: db).setUserVersion(99)
        case "fifo":
            #expect(mkfifo(db, 0o644) == 0)
        case "foreign":
            try Database(path: db).execute("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')")
        case "empty":
            #expect(FileManager.default.createFile(atPath: db, contents: nil))
        default:
            break
        }
        if row.setup == "locked" {
            let holder = try Database(path: db)
            try holder.execute("BEGIN IMMEDIATE")
            lock = holder
            environment["TRACKER_BUSY_TIMEOUT_MS"] = "200"
        }
        if row.setup == "immutable" {
            guard let release = makeUnwritable(db) else {
                print("note: row \(row.number) skipped: neither chattr +i nor chmod 0444 makes a file unwritable here")
                return
            }
            unlock = release
        }
        // Only regular files are read: reading a FIFO would wait for a writer forever.
        let byteIdentical = ["text", "newer", "immutable", "foreign", "empty"].contains(row.setup)
        let before = byteIdentical ? try Data(contentsOf: URL(fileURLWithPath: db)) : nil
        let contentsBefore = ["db", "locked", "immutable", "live", "pair"].contains(row.setup) ? try Self.contents(db) : nil

        var arguments = Self.words(row.command).map {
            $0.replacingOccurrences(of: "$DB", with: db).replacingOccurrences(of: "$DIR", with: dir.url.path)
                .replacingOccurrences(of: "$RUN", with: runID)
        }
        // `< FILE` at the end: the file is the command's standard input.
        var stdin: String?
        if arguments.count >= 2, arguments[arguments.count - 2] == "<" {
            stdin = String(decoding: try Data(contentsOf: URL(fileURLWithPath: arguments.last!)), as: UTF8.self)
            arguments.removeLast(2)
        }
        let result: CLI.Result
        if row.setup == "fsize" {
            result = try CLI.run(arguments, prelude: fileSizeLimitPrelude)
        } else if row.setup == "fifo" {
            // Bounded: a command that opened the FIFO would block; timeout kills it (exit 137) instead.
            result = try CLI.run(arguments, prelude: "set -- timeout -s KILL 30 \"$@\"")
        } else {
            result = try CLI.run(arguments, stdin: stdin, environment: environment)
        }
        try lock?.execute("ROLLBACK")
        lock = nil

        let message = row.message.replacingOccurrences(of: "$DB", with: db)
            .replacingOccurrences(of: "$DIR", with: dir.url.path).replacingOccurrences(of: "$RUN", with: runID)
        #expect(result.status == row.exit, "\(row): exit \(result.status), stderr: \(result.stderr)")
        #expect(message.isEmpty || result.stderr.contains(message), "\(row): stderr: \(result.stderr)")
        if row.exit != 0 {
            #expect(result.stderr.hasPrefix("Error: "), "\(row): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(row): stdout: \(result.stdout)")
            if row.exit == 1 { #expect(result.errorLines.count == 1, "\(row): \(result.stderr)") }
        }
        // Nothing half-written.
        if let contentsBefore {
            #expect(try Self.contents(db) == contentsBefore, "\(row): the database changed")
            #expect(try integrityCheck(db) == "ok")
        }
        if byteIdentical {
            #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before, "\(row): the file changed")
            for suffix in ["-journal", "-wal", "-shm"] where ["text", "foreign", "empty"].contains(row.setup) {
                #expect(!FileManager.default.fileExists(atPath: db + suffix), "\(row): \(suffix) left beside the file")
            }
        }
        if row.setup == "none" {
            #expect(!FileManager.default.fileExists(atPath: db), "\(row): the command created \(db)")
        }
        if row.setup == "fifo" {
            var status = stat()
            #expect(stat(db, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO, "\(row): the FIFO was replaced")
        }
        if row.setup == "fsize" {
            #expect(try integrityCheck(db) == "ok")
            let listing = try CLI.json(try CLI.run(["list", "--db", db, "--format", "json"])) as? [[String: Any]]
            #expect(listing?.count == 1)
            #expect(listing?.first?["resumable"] as? Bool == true, "\(row): \(String(describing: listing))")
        }
    }
}

/// Makes a file unwritable even for root: `chattr +i` as root (root ignores permission bits), `chmod 0444`
/// otherwise. Returns the function that undoes it (the test directory must stay removable), or nil when
/// neither works here.
func makeUnwritable(_ path: String) -> (() -> Void)? {
    if getuid() != 0 {
        guard chmod(path, 0o444) == 0 else { return nil }
        return { _ = chmod(path, 0o644) }
    }
    for directory in ["/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
        let chattr = directory + "/chattr"
        guard FileManager.default.isExecutableFile(atPath: chattr) else { continue }
        func run(_ flag: String) -> Bool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: chattr)
            process.arguments = [flag, path]
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return false }
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
        guard run("+i") else { return nil }
        // Check it took: root opening for writing must now fail.
        let descriptor = open(path, O_WRONLY)
        if descriptor >= 0 {
            close(descriptor)
            _ = run("-i")
            return nil
        }
        return { _ = run("-i") }
    }
    return nil
}
