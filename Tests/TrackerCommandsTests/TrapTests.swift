import Foundation
import SQLite
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Issue 22, "Trust, second round": input and environment a user can produce must never trap (exit 132)
/// and a result must never be cut short with exit 0. Each reproduction of the issue is a test here, run
/// against the built binary on real database files; `/dev/full` is a real full device.
@Suite(.serialized) struct TrapTests {
    static let quickRun = ["run", "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet"]

    /// A database with one finished run; returns its path and the run's id.
    static func oneRun(_ dir: TemporaryDirectory, _ name: String = "t.db") throws -> (String, String) {
        let db = dir.path(name)
        let run = try CLI.run(quickRun + ["--db", db, "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try CLI.json(run) as? [String: Any])
        return (db, try #require(object["run_id"] as? String))
    }

    static func execute(_ db: String, _ sql: String, _ values: [SQLiteValue] = []) throws {
        try Database(path: db, mode: .readWrite).prepare(sql).run(values)
    }

    static func status(_ db: String, _ runID: String) throws -> String? {
        try Database(path: db, mode: .readOnly).prepare("SELECT status FROM runs WHERE run_id = ?")
            .rows([.text(runID)]) { $0.text(0) }.first
    }

    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        _ = gethostname(&buffer, buffer.count - 1)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - stdout and stderr

    /// A result that cannot be written whole (`/dev/full`: ENOSPC; stdout closed: EBADF) exits 1 with one
    /// `Error:` line; it used to exit 0 with the file cut short (print's buffer, flushed at exit).
    @Test func aResultThatCannotBeWrittenExitsOne() throws {
        let dir = try TemporaryDirectory()
        let (db, runID) = try Self.oneRun(dir)
        let spec = dir.path("ok.json")
        try #"{"n": [4], "configurations": [{"algorithm": "ql"}], "iterations": 10}"#.write(toFile: spec, atomically: true, encoding: .utf8)
        let commands: [[String]] = [
            ["list", "--db", db],
            ["sql", "--db", db, "SELECT * FROM runs", "--format", "csv"],
            ["show", runID, "--db", db],
            ["show", runID, "--db", db, "--format", "json"],
            ["query", "run_history", "--param", "run_id=\(runID)", "--db", db],
            ["compare", "--db", db],
            ["optimum", "--n", "5"],
            ["frame", "--n", "5"],
            ["sweep", spec, "--db", dir.path("sweep.db"), "--format", "json", "--quiet"],
            ["resume", runID, "--db", db, "--iterations", "5", "--quiet"],
        ]
        for arguments in commands {
            let full = try CLI.run(arguments, prelude: "exec >/dev/full")
            #expect(full.status == 1, "\(arguments): \(full.stderr)")
            #expect(full.errorLines == ["Error: could not write the output: No space left on device"], "\(arguments)")
        }
        // Help and the version are results too (ArgumentParser's print would drop the error).
        for arguments in [["--help"], ["help", "run"], ["--version"]] {
            let full = try CLI.run(arguments, prelude: "exec >/dev/full")
            #expect(full.status == 1 && full.errorLines == ["Error: could not write the output: No space left on device"], "\(arguments)")
        }
        let closed = try CLI.run(["list", "--db", db], prelude: "exec >&-")
        #expect(closed.status == 1)
        #expect(closed.errorLines == ["Error: could not write the output: Bad file descriptor"])
    }

    /// A reader that closes the pipe early (`| head`) ends the command quietly with exit 0, as Unix tools do.
    @Test func aClosedPipeEndsQuietly() throws {
        let dir = try TemporaryDirectory()
        let (db, _) = try Self.oneRun(dir)
        // 200,000 rows: far more than a pipe holds, so the write meets the closed pipe.
        let sql = "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 200000) SELECT i, 'row' FROM k"
        let result = try CLI.tool("/bin/bash", [
            "-c", #""$0" sql --db "$1" "$2" --format csv | head -c 10 >/dev/null; echo "${PIPESTATUS[0]}""#,
            CLI.binary.path, db, sql,
        ])
        #expect(result.stdout == "0\n", "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }

    /// Messages and progress that cannot be written are dropped: `run 2>&-` used to trap and leave its run
    /// `running`; `2>/dev/full` trapped every command that wrote a message.
    @Test func aFullOrClosedStderrNeverStopsACommand() throws {
        let dir = try TemporaryDirectory()
        let (db, runID) = try Self.oneRun(dir)
        for (index, prelude) in ["exec 2>&-", "exec 2>/dev/full"].enumerated() {
            // Without --quiet: the start line and the progress go to stderr.
            let run = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "300", "--seed", "\(10 + index)",
                                   "--format", "json"], prelude: prelude)
            #expect(run.status == 0, "\(prelude)")
            let object = try #require(try CLI.json(run) as? [String: Any])
            let id = try #require(object["run_id"] as? String)
            #expect(try Self.status(db, id) == "finished", "\(prelude)")

            let show = try CLI.run(["show", runID, "--db", db], prelude: prelude)
            #expect(show.status == 0 && show.stdout.contains(runID), "\(prelude)")
            // A failure whose message cannot be shown still exits with its code.
            #expect(try CLI.run(["show", "zzzz", "--db", db], prelude: prelude).status == 1, "\(prelude)")
            #expect(try CLI.run(["list", "--db", db, "--limit", "0"], prelude: prelude).status == 64, "\(prelude)")
            let spec = dir.path("spec\(index).json")
            try #"{"n": [4], "configurations": [{"algorithm": "ql"}], "iterations": 20}"#
                .write(toFile: spec, atomically: true, encoding: .utf8)
            #expect(try CLI.run(["sweep", spec, "--db", dir.path("s\(index).db")], prelude: prelude).status == 0, "\(prelude)")
            #expect(try CLI.run(["delete", id, "--yes", "--db", db], prelude: prelude).status == 0, "\(prelude)")
        }
        // The progress to stdout's neighbour aside, a result to a full stdout is still refused (exit 1).
        #expect(try CLI.run(["list", "--db", db], prelude: "exec 2>&- >/dev/full").status == 1)
    }

    /// `tracker ui` with stdout or stderr closed or full: its URL line cannot be written, and the server
    /// serves anyway (it used to trap); SIGTERM stops it with exit 0.
    @Test func theDashboardServesWithStdoutClosedOrFull() throws {
        let dir = try TemporaryDirectory()
        let (db, _) = try Self.oneRun(dir)
        for prelude in ["exec >&-", "exec >/dev/full", "exec 2>&-", "exec >/dev/full 2>/dev/full"] {
            let port = try Self.freePort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", prelude + "; exec \"$@\"", "sh", CLI.binary.path, "ui", "--db", db, "--port", "\(port)"]
            process.standardInput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            var served = false
            let deadline = Date().addingTimeInterval(30)
            while !served && Date() < deadline && process.isRunning {
                served = (try? Self.httpStatus(port: port, path: "/")) == 200
                if !served { Thread.sleep(forTimeInterval: 0.05) }
            }
            #expect(served, "\(prelude)")
            #expect(try Self.httpStatus(port: port, path: "/api/runs") == 200, "\(prelude)")
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            #expect(waitForExit(process, seconds: 15), "\(prelude)")
            #expect(process.terminationStatus == 0, "\(prelude)")
        }
    }

    // MARK: - stored pids

    /// A recorded pid outside 32 bits (a hostile or merged shard) trapped list, resume, delete and the
    /// dashboard's first page; 0 and -1 counted as alive (kill(0, 0) and kill(-1, 0) succeed). None of
    /// them is a process: the run is dead, and resumable.
    @Test func aStoredPidThatIsNoProcessIsDead() throws {
        for pid: Int64 in [1 << 40, Int64.max, Int64.min, 0, -1] {
            let dir = try TemporaryDirectory()
            let (db, runID) = try Self.oneRun(dir)
            // Running on this host with a fresh heartbeat: only the pid can say it is dead.
            try Self.execute(db, """
                UPDATE runs SET status = 'running', pid = ?, host = ?,
                    heartbeat_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE run_id = ?
                """, [.integer(pid), .text(Self.hostName), .text(runID)])
            let list = try CLI.run(["list", "--db", db, "--format", "csv"])
            #expect(list.status == 0, "pid \(pid): \(list.stderr)")
            #expect(list.stdout.contains("running (dead, resumable)"), "pid \(pid): \(list.stdout)")
            let server = try UIServer(database: db)
            #expect(try server.get("/").status == 200, "pid \(pid)")
            #expect(try server.get("/api/runs").status == 200, "pid \(pid)")
            #expect(server.stop() == 0)
            let dryRun = try CLI.run(["delete", runID, "--dry-run", "--db", db])
            #expect(dryRun.status == 0, "pid \(pid): \(dryRun.stderr)")
            let resume = try CLI.run(["resume", runID, "--db", db, "--quiet"])
            #expect(resume.status == 0, "pid \(pid): \(resume.stderr)")
            #expect(try Self.status(db, runID) == "finished")
            #expect(try CLI.run(["delete", runID, "--yes", "--db", db]).status == 0)
        }
    }

    // MARK: - budgets

    /// One maximum of 1e9 iterations per run (Hyperparameters.maximumIterations), for run, resume, sweep
    /// specs and reproduce; `resume --iterations` near Int.max used to overflow (trap), and so did a
    /// `--memory-limit` past Int.max bytes. The refusals with a fixed message are rows of docs/errors.md.
    @Test func budgetsPastTheMaximumAreRefused() throws {
        let dir = try TemporaryDirectory()
        let (db, runID) = try Self.oneRun(dir)
        #expect(try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "1000000000", "--quiet",
                             "--memory-limit", "1B"]).status == 1)  // the maximum itself is accepted (then refused for memory)
        let overflow = try CLI.run(["resume", runID, "--db", db, "--iterations", "9223372036854775807"])
        #expect(overflow.status == 64 && overflow.stderr.contains("--iterations must be at most 1000000000"))
        let past = try CLI.run(["resume", runID, "--db", db, "--iterations", "1000000000"])
        #expect(past.status == 1)
        #expect(past.errorLines == ["Error: iterations: run \(runID) would plan 1000000050 iterations, more than the maximum of 1000000000 per run"])
        // A stored plan past the maximum (an older or hostile file) is refused too, and so is one whose
        // sum with --iterations overflows.
        try Self.execute(db, "UPDATE runs SET status = 'interrupted', planned_iterations = ? WHERE run_id = ?",
                         [.integer(Int64.max), .text(runID)])
        // (Refused before any checkpoint is read or any learner built.)
        let stored = try CLI.run(["resume", runID, "--db", db, "--quiet"])
        #expect(stored.status == 1)
        #expect(stored.errorLines == [
            "Error: iterations: run \(runID) would plan 9223372036854775807 iterations, more than the maximum of 1000000000 per run"])
        let summed = try CLI.run(["resume", runID, "--db", db, "--iterations", "5", "--quiet"])
        #expect(summed.status == 1)
        #expect(summed.errorLines.count == 1 && summed.stderr.contains("1000000000"), "\(summed.stderr)")
        #expect(try Self.status(db, runID) == "interrupted")
        for size in ["17179869184GiB", "1e300GiB", "9223372036854775808B"] {
            let result = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--memory-limit", size, "--quiet"])
            #expect(result.status == 64 && result.stderr.contains("is more than 9223372036854775807 bytes"), "\(size): \(result.stderr)")
        }
    }

    /// `--since` a duration back past the year 1 (9223372036854775807w) trapped turning the date into
    /// text (`time_t(...)`); it now means since the year 1, as any date before the first run does.
    @Test func aSinceFarInThePastOrFutureIsADate() throws {
        let dir = try TemporaryDirectory()
        let (db, runID) = try Self.oneRun(dir)
        for since in ["9223372036854775807w", "99999999999999999d", "0001-01-01"] {
            let list = try CLI.run(["list", "--db", db, "--since", since, "--format", "csv"])
            #expect(list.status == 0 && list.stdout.contains(runID), "\(since): \(list.stderr)")
        }
        let future = try CLI.run(["list", "--db", db, "--since", "99999-01-01", "--format", "csv"])
        #expect(future.status == 0 && !future.stdout.contains(runID), "\(future.stderr)")
    }

    // MARK: - tag keys

    /// `é` composed (U+00E9) and decomposed (e + U+0301) is one tag key, stored in NFC. A file that holds
    /// both (written before keys were normalized) trapped `show` (a duplicate dictionary key) and made
    /// `compare --by tag.é` report one value by chance; now the value set last wins, when read and when the
    /// file is repaired at its next read-write open.
    @Test func tagKeysEqualUnderNormalizationAreOneKey() throws {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        #expect(Array(composed.utf8) != Array(decomposed.utf8))
        let dir = try TemporaryDirectory()
        let (db, runID) = try Self.oneRun(dir)
        let key = try #require(try Database(path: db, mode: .readOnly).prepare("SELECT id FROM runs WHERE run_id = ?")
            .rows([.text(runID)]) { $0.int64(0) }.first)
        // As an older tracker stored them: first composed, then (set later) decomposed.
        try Self.execute(db, "INSERT INTO run_tags (run, key, value) VALUES (?, ?, 'old')", [.integer(key), .text(composed)])
        try Self.execute(db, "INSERT INTO run_tags (run, key, value) VALUES (?, ?, 'new')", [.integer(key), .text(decomposed)])

        // Read-only commands do not repair; they read the newest value under the NFC key.
        let show = try CLI.run(["show", runID, "--db", db, "--format", "json"])
        #expect(show.status == 0, "\(show.stderr)")
        let object = try #require(try CLI.json(show) as? [String: Any])
        let tags = try #require(object["tags"] as? [String: String])
        #expect(tags.count == 1 && tags.keys.first.map { Array($0.utf8) } == Array(composed.utf8) && tags[composed] == "new")
        #expect(try CLI.run(["show", runID, "--db", db]).status == 0)
        for by in [composed, decomposed] {
            let compare = try CLI.run(["compare", "--db", db, "--by", "tag.\(by)", "--format", "csv"])
            #expect(compare.status == 0, "\(compare.stderr)")
            #expect(compare.stdout.hasPrefix("tag.\(composed),"), "\(compare.stdout)")
            #expect(compare.stdout.contains("\nnew,") && !compare.stdout.contains("\nold,"), "\(compare.stdout)")
        }
        for filter in [["--tag", "\(decomposed)=new"], ["--where", "tag.\(decomposed)=new"], ["--tag", "\(composed)=new"]] {
            let list = try CLI.run(["list", "--db", db, "--format", "csv"] + filter)
            #expect(list.status == 0 && list.stdout.contains(runID), "\(filter): \(list.stderr)")
        }

        // A read-write open repairs the file once: one row, NFC, the newest value.
        #expect(try CLI.run(["tag", runID, "--db", db, "\(decomposed)2=x"]).status == 0)
        let rows = try Database(path: db, mode: .readOnly).prepare("SELECT key, value FROM run_tags ORDER BY key")
            .rows { (Array($0.text(0).utf8), $0.text(1)) }
        #expect(rows.map(\.0) == [Array(composed.utf8), Array((composed + "2").utf8)])
        #expect(rows.map(\.1) == ["new", "x"])
        // Removing either form removes the one key.
        #expect(try CLI.run(["tag", runID, "--db", db, "--remove", decomposed]).status == 0)
        let remaining = try Database(path: db, mode: .readOnly).prepare("SELECT count(*) FROM run_tags").rows { $0.int64(0) }
        #expect(remaining == [1])
    }

    /// When the composed row was set later, the composed value stays (the repair keeps the newest row).
    @Test func theRepairKeepsTheValueSetLast() throws {
        let dir = try TemporaryDirectory()
        let (db, runID) = try Self.oneRun(dir)
        let key = try #require(try Database(path: db, mode: .readOnly).prepare("SELECT id FROM runs WHERE run_id = ?")
            .rows([.text(runID)]) { $0.int64(0) }.first)
        try Self.execute(db, "INSERT INTO run_tags (run, key, value) VALUES (?, ?, 'old')", [.integer(key), .text("e\u{301}")])
        try Self.execute(db, "INSERT INTO run_tags (run, key, value) VALUES (?, ?, 'new')", [.integer(key), .text("\u{E9}")])
        #expect(try CLI.run(["note", runID, "--db", db, "hello"]).status == 0)  // any read-write open
        let rows = try Database(path: db, mode: .readOnly).prepare("SELECT key, value FROM run_tags")
            .rows { (Array($0.text(0).utf8), $0.text(1)) }
        #expect(rows.count == 1 && rows.first?.0 == Array("\u{E9}".utf8) && rows.first?.1 == "new")
    }

    /// `tracker merge` of a shard written by an older tracker (a key in both forms) leaves one NFC key.
    @Test func mergingAShardRepairsItsTagKeys() throws {
        let dir = try TemporaryDirectory()
        let (shard, runID) = try Self.oneRun(dir, "shard.db")
        let key = try #require(try Database(path: shard, mode: .readOnly).prepare("SELECT id FROM runs WHERE run_id = ?")
            .rows([.text(runID)]) { $0.int64(0) }.first)
        try Self.execute(shard, "INSERT INTO run_tags (run, key, value) VALUES (?, ?, 'old')", [.integer(key), .text("\u{E9}")])
        try Self.execute(shard, "INSERT INTO run_tags (run, key, value) VALUES (?, ?, 'new')", [.integer(key), .text("e\u{301}")])
        let out = dir.path("out.db")
        let merge = try CLI.run(["merge", out, shard])
        #expect(merge.status == 0, "\(merge.stderr)")
        let rows = try Database(path: out, mode: .readOnly).prepare("SELECT key, value FROM run_tags")
            .rows { (Array($0.text(0).utf8), $0.text(1)) }
        #expect(rows.count == 1 && rows.first?.0 == Array("\u{E9}".utf8) && rows.first?.1 == "new")
    }

    // MARK: - helpers

    /// A TCP port nothing listens on right now (bound to port 0, read back, closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw CocoaError(.fileWriteUnknown) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The status code of `GET path`, or an error when nothing answers.
    static func httpStatus(port: Int, path: String) throws -> Int {
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n"
        let raw = String(decoding: try UIServer.sendAndReceive(Data(request.utf8), port: port), as: UTF8.self)
        let parts = raw.prefix { $0 != "\r" }.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw CocoaError(.fileReadUnknown) }
        return status
    }
}
