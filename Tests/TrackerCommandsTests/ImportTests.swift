import Foundation
import Testing
import TestSupport

/// `tracker import` (docs/import.md): a tracker-import/1 file becomes a finished run beside the built-in ones,
/// in list, show, compare and plot; every bad file is one line naming its line, with nothing recorded.
@Suite(.serialized) struct ImportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A valid file: N = 4 on generated frame 7, `iterations` lines whose greedy action is `greedy(i)`.
    static func file(algorithm: String = "mylearner", n: Int = 4, iterations: Int = 50, seed: Int? = 1,
                     extraHeader: String = "", greedy: (Int) -> Int = { $0 < 20 ? 5 : 0 }, finalOrder: String? = nil) -> String {
        var lines = ["{\"format\": \"tracker-import/1\", \"algorithm\": \"\(algorithm)\", \"frame\": {\"n\": \(n), \"seed\": 7}, "
            + "\"iterations\": \(iterations)" + (seed.map { ", \"seed\": \($0)" } ?? "")
            + ", \"settings\": {\"lr\": 0.5, \"hidden_units\": 64, \"optimizer\": \"adam\"}" + extraHeader + "}"]
        for i in 0..<iterations {
            lines.append("{\"iteration\": \(i), \"action\": \(i % 24), \"reward\": 0.75, \"greedy_action\": \(greedy(i))}")
        }
        if let finalOrder { lines.append("{\"final_order\": \(finalOrder)}") }
        return lines.joined(separator: "\n") + "\n"
    }

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func count(_ sql: String, db: String) throws -> String {
        let result = try CLI.run(["sql", "--db", db, "--format", "csv", sql])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.split(separator: "\n").dropFirst().first.map(String.init) ?? ""
    }

    static func json(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    @Test func anImportedRunShowsBesideTheBuiltInOnesAndIsNeverResumed() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        #expect(try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--frame-seed", "7", "--iterations", "50", "--quiet"]).status == 0)
        let path = dir.path("run.jsonl")
        try Self.write(Self.file(finalOrder: "[0, 1, 2, 3]"), to: path)
        let imported = try CLI.run(["import", path, "--db", db, "--format", "json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let report = Self.json(imported.stdout) as? [String: Any]
        #expect(report?["algorithm"] as? String == "mylearner")
        #expect(report?["status"] as? String == "finished")
        // Greedy action 0 (order 0,1,2,3) from iteration 20 on: stable from 20, and the summary's J is that order's.
        #expect(report?["stable_iteration"] as? Int == 20)
        let runID = try #require(report?["run_id"] as? String)

        let list = try CLI.run(["list", "--db", db])
        #expect(list.status == 0)
        #expect(list.stdout.contains("mylearner") && list.stdout.contains("imported hidden_units=64 lr=0.5 optimizer=adam"))
        let show = try CLI.run(["show", runID, "--db", db, "--format", "json"])
        #expect(show.status == 0, "\(show.stderr)")
        let shown = Self.json(show.stdout) as? [String: Any]
        #expect(shown?["origin"] as? String == "imported")
        #expect((shown?["import"] as? [String: Any])?["format"] as? String == "tracker-import/1")
        #expect((shown?["settings"] as? [String: Any])?["optimizer"] as? String == "adam")
        #expect(try CLI.run(["show", runID, "--db", db]).stdout.contains("Imported"))

        let compare = try CLI.run(["compare", "--db", db, "--format", "json"])
        #expect(compare.status == 0, "\(compare.stderr)")
        let columns = (Self.json(compare.stdout) as? [[String: Any]]) ?? []
        #expect(Set(columns.compactMap { $0["algorithm"] as? String }) == ["ql", "mylearner"])
        let mine = columns.first { $0["algorithm"] as? String == "mylearner" }
        #expect((mine?["settings"] as? [String: Any])?["hidden_units"] as? Int == 64)
        #expect(mine?["runs"] as? Int == 1)
        let filtered = try CLI.run(["compare", "--db", db, "--format", "json", "--where", "optimizer=adam"])
        #expect(filtered.status == 0, "\(filtered.stderr)")
        #expect(((Self.json(filtered.stdout) as? [[String: Any]]) ?? []).compactMap { $0["algorithm"] as? String } == ["mylearner"])

        let plot = try CLI.run(["plot", "--db", db, "--n", "4", "--out", dir.path("fig.svg")])
        #expect(plot.status == 0, "\(plot.stderr)")
        #expect(try String(contentsOfFile: dir.path("fig.svg"), encoding: .utf8).contains(">mylearner "))

        let resume = try CLI.run(["resume", runID, "--db", db])
        #expect(resume.status == 1)
        #expect(resume.stderr == "Error: run \(runID) cannot be resumed: it was imported (tracker import): it has no Q-table and no checkpoints to continue from\n")

        // The same run twice is one configuration: refused as `tracker run` refuses it, from a file or stdin.
        let again = try CLI.run(["import", "-", "--db", db], stdin: Self.file(finalOrder: "[0, 1, 2, 3]"))
        #expect(again.status == 1)
        #expect(again.stderr.hasPrefix("Error: this configuration is already recorded as run \(runID) (finished)"))
        #expect(try Self.count("SELECT count(*) FROM runs", db: db) == "2")
        // Another seed is another configuration.
        #expect(try CLI.run(["import", "-", "--db", db], stdin: Self.file(seed: 2)).status == 0)
        #expect(try Self.count("SELECT count(*) FROM runs WHERE origin = 'imported'", db: db) == "2")
        #expect(try Self.count("SELECT count(*) FROM iteration_metrics WHERE run_id = '\(runID)'", db: db) == "50")
    }

    /// The dashboard renders an imported run: its page (settings, schedule chart of the final greedy order,
    /// convergence curve, no Q-table), its JSON, the runs list and the compare page with its column.
    @Test func theDashboardRendersAnImportedRun() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        #expect(try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--frame-seed", "7", "--iterations", "50", "--quiet"]).status == 0)
        let text = Self.file(extraHeader: ", \"label\": \"<i>study</i>\"").replacingOccurrences(of: "\"adam\"", with: "\"<b>adam</b>\"")
        let imported = try CLI.run(["import", "-", "--db", db, "--format", "json"], stdin: text)
        #expect(imported.status == 0, "\(imported.stderr)")
        let runID = try #require((Self.json(imported.stdout) as? [String: Any])?["run_id"] as? String)
        let server = try UIServer(database: db)
        defer { _ = server.stop() }
        let page = try server.get("/runs/\(runID)")
        #expect(page.status == 200, "\(page.body.prefix(300))")
        #expect(page.body.contains("mylearner") && page.body.contains("imported (tracker import"))
        #expect(page.body.contains("&lt;b&gt;adam&lt;/b&gt;") && !page.body.contains("<b>adam</b>"))
        let schedule = try server.get("/runs/\(runID)/schedule.svg")
        #expect(schedule.status == 200 && schedule.body.contains("<rect"))
        let curve = try server.get("/runs/\(runID)/convergence.svg")
        #expect(curve.status == 200)
        let api = try server.get("/api/runs/\(runID)")
        #expect(api.status == 200, "\(api.body)")
        let settings = (Self.json(api.body) as? [String: Any])?["settings"] as? [String: Any]
        #expect((Self.json(api.body) as? [String: Any])?["origin"] as? String == "imported" && settings?["hidden_units"] as? Int == 64)
        #expect(try server.get("/").body.contains(runID))
        // The one shape of a run (docs/run.schema.json) holds for an imported run too, in every producer.
        let show = try CLI.run(["show", runID, "--db", db, "--format", "json"])
        let list = try CLI.run(["list", "--db", db, "--format", "json"])
        let rows = try server.get("/api/runs")
        #expect(show.status == 0 && list.status == 0 && rows.status == 200)
        let violations = try RunViewSchemaTests.violations([
            ("show", "run", show.stdout), ("/api/runs/ID", "run", api.body), ("list", "listing", list.stdout),
            ("/api/runs", "page", rows.body),
        ], in: dir)
        #expect(violations.isEmpty, "\(violations)")
        let compare = try server.get("/compare?n=4")
        #expect(compare.status == 200 && compare.body.contains("mylearner"))
    }

    /// `merge` carries an imported run whole: origin, settings, import details, metrics and summary.
    @Test func mergeCarriesAnImportedRun() throws {
        let dir = try TemporaryDirectory()
        let shard = dir.path("shard.db"), out = dir.path("out.db")
        #expect(try CLI.run(["import", "-", "--db", shard], stdin: Self.file()).status == 0)
        #expect(try CLI.run(["run", "--db", out, "--algo", "ql", "--n", "4", "--iterations", "20", "--quiet"]).status == 0)
        let merged = try CLI.run(["merge", out, shard])
        #expect(merged.status == 0, "\(merged.stderr)")
        for db in [shard, out] {
            #expect(try Self.count("""
                SELECT r.algorithm || ' ' || r.origin || ' ' || i.format || ' ' || (SELECT group_concat(key || '=' || value, ',')
                    FROM (SELECT key, value FROM run_import_settings WHERE run = r.id ORDER BY key)) || ' '
                    || (SELECT count(*) FROM metrics WHERE run = r.id) || ' ' || s.stable_iteration AS v
                FROM runs r JOIN run_imports i ON i.run = r.id JOIN run_summaries s ON s.run = r.id
                """, db: db) == "\"mylearner imported tracker-import/1 hidden_units=64,lr=0.5,optimizer=adam 50 20\"", "\(db)")
        }
    }

    /// Each bad file: exit 1, one line naming the file's line (and key), and nothing recorded.
    @Test func badFilesAreRefusedNamingTheLineWithNothingRecorded() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        #expect(try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "20", "--quiet"]).status == 0)
        let valid = Self.file(iterations: 5)
        let lines = valid.split(separator: "\n").map(String.init)
        func with(_ index: Int, _ line: String) -> String {
            var copy = lines
            copy[index] = line
            return copy.joined(separator: "\n") + "\n"
        }
        let header = lines[0]
        let cases: [(String, String, String)] = [
            ("empty file", "", "f.jsonl:1: the file is empty"),
            ("not JSON", with(2, "{\"iteration\": 1, "), "f.jsonl:3: not JSON"),
            ("NaN", with(2, "{\"iteration\": 1, \"action\": 1, \"reward\": NaN, \"greedy_action\": 0}"),
             "f.jsonl:3: not JSON (NaN and Infinity are not JSON"),
            ("negative iteration", with(1, "{\"iteration\": -1, \"action\": 1, \"reward\": 1, \"greedy_action\": 0}"),
             "f.jsonl:2: key 'iteration': -1 is negative"),
            ("greedy action outside N!", with(2, "{\"iteration\": 1, \"action\": 1, \"reward\": 1, \"greedy_action\": 24}"),
             "f.jsonl:3: key 'greedy_action': 24 is not an action of this frame"),
            ("repeated iteration", with(3, "{\"iteration\": 1, \"action\": 1, \"reward\": 1, \"greedy_action\": 0}"),
             "f.jsonl:4: key 'iteration': 1 repeats or goes back"),
            ("iteration out of order", with(3, "{\"iteration\": 3, \"action\": 1, \"reward\": 1, \"greedy_action\": 0}"),
             "f.jsonl:4: key 'iteration': 3 is out of order (expected 2"),
            ("ends mid-run", lines.dropLast(2).joined(separator: "\n") + "\n",
             "f.jsonl:4: the file ends mid-run: the header declares 5 iterations and the file holds 3"),
            ("more iterations than declared", valid + "{\"iteration\": 5, \"action\": 1, \"reward\": 1, \"greedy_action\": 0}\n",
             "f.jsonl:7: key 'iteration': more iterations than the 5 the header declares"),
            ("frame not matching its N", with(0, header.replacingOccurrences(
                of: "{\"n\": 4, \"seed\": 7}", with: "{\"n\": 3, \"tasks\": \"data_bits,deadline_s,cycles_per_bit\\n1e5,2,100\\n2e5,3,200\\n\"}")),
             "f.jsonl:1: key 'frame.n': 3 does not match the frame's tasks, which are 2"),
            ("a built-in algorithm's name", with(0, header.replacingOccurrences(of: "mylearner", with: "DTeQL")),
             "f.jsonl:1: key 'algorithm': \"DTeQL\" is a built-in algorithm's name"),
            ("hostile algorithm name", with(0, header.replacingOccurrences(of: "mylearner", with: "a\\u001b[31mred")),
             "f.jsonl:1: key 'algorithm': \"a"),
            ("a reward that is not finite", with(2, "{\"iteration\": 1, \"action\": 1, \"reward\": 1e999, \"greedy_action\": 0}"),
             "f.jsonl:3: "),
            ("wrong format", with(0, header.replacingOccurrences(of: "tracker-import/1", with: "tracker-import/2")),
             "f.jsonl:1: key 'format': \"tracker-import/2\" is not a format this tracker reads"),
            ("unknown key", with(2, "{\"iteration\": 1, \"action\": 1, \"rewrad\": 1, \"greedy_action\": 0}"),
             "f.jsonl:3: key 'rewrad': unknown in an iteration line"),
            ("a setting of the wrong type", with(0, header.replacingOccurrences(of: "\"lr\": 0.5", with: "\"learning_rate\": \"fast\"")),
             "f.jsonl:1: key 'settings.learning_rate': the tracker's setting 'lr' is a number"),
            ("a final order that is not the greedy action", valid + "{\"final_order\": [3, 2, 1, 0]}\n",
             "f.jsonl:7: key 'final_order': [3, 2, 1, 0] is not the last iteration's greedy action"),
            ("a line after the final order", valid + "{\"final_order\": [0, 3, 2, 1]}\n{\"iteration\": 5}\n",
             "f.jsonl:8: a line after the final_order line"),
            ("huge line", with(2, "{\"iteration\": 1, \"pad\": \"" + String(repeating: "x", count: 1 << 21) + "\"}"),
             "f.jsonl:3: the line is longer than 1048576 bytes"),
            ("an empty line", with(2, ""), "f.jsonl:3: an empty line"),
        ]
        for (name, text, expected) in cases {
            let path = dir.path("f.jsonl")
            try Self.write(text, to: path)
            let result = try CLI.run(["import", "f.jsonl", "--db", db], in: URL(fileURLWithPath: dir.path("")))
            #expect(result.status == 1, "\(name): \(result.stderr)")
            #expect(result.stderr.hasPrefix("Error: " + expected), "\(name): \(result.stderr)")
            #expect(result.stderr.hasSuffix("; nothing was imported\n"), "\(name): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(name): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(name)")
        }
        #expect(try Self.count("SELECT count(*) FROM runs", db: db) == "1")
        #expect(try Self.count("SELECT count(*) FROM run_imports", db: db) == "0")
        // The file itself missing: one line too.
        let missing = try CLI.run(["import", dir.path("nope.jsonl"), "--db", db])
        #expect(missing.status == 1 && missing.stderr.contains("nope.jsonl: cannot open the file"))
    }

    /// Random mutations of a valid file (bytes flipped, inserted or cut, lines repeated or dropped, numbers
    /// pushed to extremes): never a crash; each import either records the whole run or exits 1 with one line
    /// and nothing recorded. 80 cases from a fixed seed.
    @Test func mutatedFilesNeverCrashAndNeverHalfRecord() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        #expect(try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "20", "--quiet"]).status == 0)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        let extremes = ["-0", "1e308", "-1e308", "9223372036854775807", "18446744073709551616", "1.5", "\"7\"", "null",
                        "true", "[]", "{}", "-9223372036854775808", "4.9e-324"]
        var recorded = 0
        for case_ in 0..<80 {
            var lines = Self.file(iterations: 12, seed: case_).split(separator: "\n").map { Array($0.utf8) }
            for _ in 0...next(3) {
                let l = next(lines.count)
                switch next(6) {
                case 0 where !lines[l].isEmpty: lines[l][next(lines[l].count)] = UInt8(next(256))
                case 1: lines[l].insert(UInt8(next(128)), at: next(lines[l].count + 1))
                case 2: lines[l] = Array(lines[l].prefix(next(lines[l].count + 1)))
                case 3: lines.insert(lines[l], at: next(lines.count + 1))
                case 4 where lines.count > 1: lines.remove(at: l)
                default:
                    let text = String(decoding: lines[l], as: UTF8.self)
                    let digits = text.ranges(of: /-?[0-9]+(\.[0-9]+)?/)
                    if let range = digits.isEmpty ? nil : digits[next(digits.count)] {
                        lines[l] = Array(text.replacingCharacters(in: range, with: extremes[next(extremes.count)]).utf8)
                    }
                }
            }
            var bytes = Data()
            for line in lines { bytes.append(contentsOf: line); bytes.append(10) }
            let path = dir.path("m.jsonl")
            try bytes.write(to: URL(fileURLWithPath: path))
            let result = try CLI.run(["import", path, "--db", db])
            #expect(!result.signaled && [0, 1].contains(result.status), "case \(case_): \(result.status) \(result.stderr)")
            if result.status == 0 { recorded += 1 } else {
                #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.hasPrefix("Error: "), "case \(case_): \(result.stderr)")
            }
            let runs = try Self.count("SELECT count(*) FROM runs WHERE origin = 'imported'", db: db)
            #expect(runs == "\(recorded)", "case \(case_)")
        }
        // Every run recorded is whole: as many metric rows as its budget, and a summary.
        #expect(try Self.count("""
            SELECT count(*) FROM runs r WHERE r.origin = 'imported' AND (r.planned_iterations
                <> (SELECT count(*) FROM metrics m WHERE m.run = r.id) OR NOT EXISTS (SELECT 1 FROM run_summaries s WHERE s.run = r.id))
            """, db: db) == "0")
        #expect(try Self.count("PRAGMA integrity_check", db: db) == "ok")
    }

    /// Hostile text where text is allowed (label, setting values, provenance): stored as given and shown
    /// escaped; a terminal escape never reaches the output raw.
    @Test func hostileTextIsStoredAndShownEscaped() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let hostile = "\\u001b]0;owned\\u0007\\u202e'; DROP TABLE runs; --"
        let text = Self.file(extraHeader: ", \"provenance\": {\"command\": \"\(hostile)\", \"host\": \"<script>x</script>\"}, "
            + "\"label\": \"<b>study</b> '; --\"")
        let result = try CLI.run(["import", "-", "--db", db], stdin: text)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("\u{1b}"))
        #expect(try Self.count("SELECT count(*) FROM runs", db: db) == "1")
        let id = try Self.count("SELECT run_id FROM runs", db: db)
        let show = try CLI.run(["show", id, "--db", db])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(!show.stdout.contains("\u{1b}") && !show.stdout.contains("\u{7}"))
        let json = try CLI.run(["show", id, "--db", db, "--format", "json"])
        let provenance = ((Self.json(json.stdout) as? [String: Any])?["import"] as? [String: Any])?["provenance"] as? String
        let stored = Self.json(provenance ?? "") as? [String: Any]
        #expect(stored?["command"] as? String == "\u{1b}]0;owned\u{7}\u{202e}'; DROP TABLE runs; --")
        // A control character in a setting's text value is refused (it would be shown in tables and headers).
        let control = Self.file(seed: 9).replacingOccurrences(of: "\"adam\"", with: "\"ad\\u0007am\"")
        let refused = try CLI.run(["import", "-", "--db", db], stdin: control)
        #expect(refused.status == 1 && refused.stderr.contains("-:1: key 'settings.optimizer'"), "\(refused.stderr)")
    }

    /// kill -9 at any moment of an import leaves the database without the run or with all of it, never part.
    @Test func aKilledImportLeavesNothingHalfWritten() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        #expect(try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "20", "--quiet"]).status == 0)
        let iterations = 150_000
        let path = dir.path("big.jsonl")
        try Self.write(Self.file(iterations: iterations, greedy: { $0 % 24 }), to: path)

        for delay in [0.05, 0.3, 0.8, 1.5, 3.0] {
            let process = try CLI.start(["import", path, "--db", db])
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let runs = try Self.count("SELECT count(*) FROM runs WHERE origin = 'imported'", db: db)
            let metrics = try Self.count(
                "SELECT count(*) FROM metrics WHERE run IN (SELECT id FROM runs WHERE origin = 'imported')", db: db)
            #expect((runs == "0" && metrics == "0") || (runs == "1" && metrics == "\(iterations)"), "after \(delay) s: \(runs) runs, \(metrics) rows")

            if runs == "1" { break }
        }
        #expect(try Self.count("PRAGMA integrity_check", db: db) == "ok")
    }

    /// Two processes importing the same run at once: one records it, the other is refused; one run.
    @Test func twoImportsOfOneRunAtOnceRecordItOnce() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        #expect(try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "20", "--quiet"]).status == 0)
        let path = dir.path("run.jsonl")
        try Self.write(Self.file(iterations: 20_000, greedy: { $0 % 7 }), to: path)
        let group = DispatchGroup()
        nonisolated(unsafe) var results: [CLI.Result] = []
        let lock = NSLock()
        for _ in 0..<2 {
            group.enter()
            DispatchQueue.global().async {
                let result = try? CLI.run(["import", path, "--db", db])
                lock.lock(); if let result { results.append(result) }; lock.unlock()
                group.leave()
            }
        }
        group.wait()
        #expect(results.map(\.status).sorted() == [0, 1], "\(results.map(\.stderr))")
        #expect(results.contains { $0.stderr.contains("this configuration is already recorded as run") })
        #expect(try Self.count("SELECT count(*) FROM runs WHERE origin = 'imported'", db: db) == "1")
    }

    /// examples/python/numpy_qlearner.py writes files that import and compare beside QL on the same frames,
    /// each run's convergence (iterations_to_optimal) derived by the built-in rule: the first iteration
    /// from which the greedy order's J equals J* through the end. Needs python3 with numpy (scripts/test
    /// installs it); fails, never skips, without it.
    @Test func theNumPyLearnersRunsCompareBesideQL() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let script = Self.root.appendingPathComponent("examples/python/numpy_qlearner.py").path
        for seed in 1...3 {
            let run = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--frame-seed", "\(seed)", "--seed", "\(seed)",
                                   "--iterations", "600", "--beta", "150", "--quiet"])
            #expect(run.status == 0, "\(run.stderr)")
            let out = dir.path("numpy\(seed).jsonl")
            let python = try CLI.tool("/usr/bin/env", ["python3", script, "--tracker", CLI.binary.path, "--n", "4",
                                                       "--frame-seed", "\(seed)", "--seed", "\(seed)", "--iterations", "600",
                                                       "--beta", "150", "--out", out])
            #expect(python.status == 0, "\(python.stderr)")
            let imported = try CLI.run(["import", out, "--db", db, "--format", "json"])
            #expect(imported.status == 0, "\(imported.stderr)")
            let report = try #require(Self.json(imported.stdout) as? [String: Any])
            // The rule, applied here to the file's own greedy actions and the frame's J of each.
            let runID = try #require(report["run_id"] as? String)
            let optimum = try #require(report["optimal_objective"] as? Double)
            let objectives = try CLI.run(["sql", "--db", db, "--format", "csv", """
                SELECT m.iteration, g.objective FROM metrics m JOIN runs r ON r.id = m.run
                JOIN frame_actions g ON g.frame_id = r.frame_id AND g.action = m.greedy_action
                WHERE r.run_id = '\(runID)' ORDER BY m.iteration
                """]).stdout.split(separator: "\n").dropFirst().map { line in Double(line.split(separator: ",")[1])! }
            #expect(objectives.count == 600)
            var start: Int?
            for (i, j) in objectives.enumerated() {
                if abs(j - optimum) <= 1e-12 * abs(optimum) { if start == nil { start = i } } else { start = nil }
            }
            #expect(report["iterations_to_optimal"] as? Int == start, "run \(runID)")
        }
        let compare = try CLI.run(["compare", "--db", db, "--format", "json"])
        #expect(compare.status == 0, "\(compare.stderr)")
        let columns = (Self.json(compare.stdout) as? [[String: Any]]) ?? []
        let numpy = columns.first { $0["algorithm"] as? String == "numpy-ql" }
        #expect(numpy?["runs"] as? Int == 3)
        #expect(columns.first { $0["algorithm"] as? String == "ql" }?["runs"] as? Int == 3)
        #expect(numpy?["budget"] as? Int == 600)
        #expect(numpy?["configuration"] as? String != nil)
    }
}
