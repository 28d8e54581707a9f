import Foundation
import HummingbirdTesting
import SQLite
import Testing
import TestSupport
import TrackerWeb

#if canImport(Glibc)
import Glibc
#endif

/// Every producer of a run's JSON (`run`, `show`, `list --format json`, `/api/runs`, `/api/runs/ID`) against
/// docs/run.schema.json, for QL, DTEQL and DTAQL runs that are finished, stopped (interrupted), live and
/// dead, with and without tags, note and label; and the same fact under the same key path in each.
///
/// The schema is checked by Python's `jsonschema` (Draft 2020-12, the reference implementation; scripts/test
/// installs it): a validator of our own would test the schema with the same understanding that wrote it.
@Suite(.serialized) struct RunViewSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let schema = root.appendingPathComponent("docs/run.schema.json").path

    /// Validates each document against the schema's root (`run`) or one of its `$defs` (`row`, `listing`,
    /// `page`); returns one line per violation, empty when all are valid. One python process for all.
    static func violations(_ documents: [(name: String, definition: String, text: String)], in dir: TemporaryDirectory) throws -> String {
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            out = []
            for name, definition, path in json.load(open(sys.argv[2])):
                target = schema if definition == "run" else {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/" + definition}
                validator = jsonschema.Draft202012Validator(target)
                for error in validator.iter_errors(json.load(open(path))):
                    out.append(name + ": " + "/".join(map(str, error.absolute_path)) + ": " + error.message[:300])
            print("\\n".join(out))
            """
        var manifest: [[String]] = []
        for (index, document) in documents.enumerated() {
            let path = dir.path("document-\(index).json")
            try document.text.write(toFile: path, atomically: true, encoding: .utf8)
            manifest.append([document.name, document.definition, path])
        }
        let manifestPath = dir.path("manifest.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: manifestPath))
        let result = try CLI.tool("/usr/bin/env", ["python3", "-c", script, schema, manifestPath])
        #expect(result.status == 0, "python3 with jsonschema (scripts/test installs it): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not an object: \(text.prefix(200))")
    }

    static func record(_ db: String, _ arguments: [String]) throws -> (id: String, output: String) {
        let result = try CLI.run(["run", "--db", db, "--quiet", "--format", "json"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return (try #require(try object(result.stdout)["run_id"] as? String), result.stdout)
    }

    /// Waits (at most 60 s) until the run has committed some iterations.
    static func waitForIterations(_ db: String, run: String, while process: Process) {
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline {
            if let database = try? Database(path: db, mode: .readOnly),
               case .integer(let done)? = try? database.scalar("SELECT done_iterations FROM runs WHERE run_id = ?", [.text(run)]),
               done > 0 {
                return
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// The id of the run recorded after `previous` (the newest), once it exists; nil after 30 s.
    static func waitForNewRun(_ db: String, after previous: String) throws -> String? {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let database = try Database(path: db, mode: .readOnly)
            if case .text(let id)? = try database.scalar("SELECT run_id FROM runs ORDER BY id DESC LIMIT 1"), id != previous {
                return id
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return nil
    }

    /// What the dashboard answers at `uri`, in process.
    static func api(_ db: String, _ uris: [String]) async throws -> [String: (status: Int, body: String)] {
        let app = Dashboard(databasePath: db).makeApplication()
        return try await app.test(.router) { client in
            var answers: [String: (status: Int, body: String)] = [:]
            for uri in uris {
                let response = try await client.execute(uri: uri, method: .get)
                answers[uri] = (response.status.code, String(buffer: response.body))
            }
            return answers
        }
    }

    @Test func everyProducerMatchesTheSchemaAndTheyAgree() async throws {
        let dir = try TemporaryDirectory(prefix: "tracker-run-view")
        let db = dir.path("runs.db")
        var runOutputs: [String: String] = [:]
        // Finished: QL with a hostile label, tags and a note; DTEQL bare; DTAQL with a label and a tag.
        let ql = try Self.record(db, ["--algo", "ql", "--n", "5", "--iterations", "300", "--label", "<b>bold</b> \"q\""])
        let dteql = try Self.record(db, ["--algo", "dteql", "--phi", "20", "--n", "5", "--iterations", "300"])
        let dtaql = try Self.record(db, ["--algo", "dtaql", "--phi", "3", "--delta", "64", "--n", "5", "--iterations", "300",
                                         "--aggregation", "pool", "--label", "agents"])
        // A task file's frame (no frame seed) and seeds above Int64.max (JSON strings).
        let tasks = dir.path("tasks.csv")
        #expect(try CLI.run(["frame", "--n", "4", "--seed", "9", "--out", tasks]).status == 0)
        let fromFile = try Self.record(db, ["--algo", "ql", "--tasks", tasks, "--iterations", "50", "--seed", "18446744073709551615",
                                            "--twin-noise", "0.1", "--twin-noise-seed", "18446744073709551615"])
        for run in [ql, dteql, dtaql, fromFile] { runOutputs[run.id] = run.output }
        #expect(try CLI.run(["tag", ql.id, "--db", db, "baseline=yes", "owner=<script>x</script>"]).status == 0)
        #expect(try CLI.run(["note", ql.id, "--db", db, "line one\nline \"two\""]).status == 0)
        #expect(try CLI.run(["tag", dtaql.id, "--db", db, "phase=2"]).status == 0)

        // Stopped: a DTAQL run interrupted with SIGINT after some iterations (its run output is JSON too).
        let long = ["--n", "8", "--iterations", "2000000", "--checkpoint-every", "50", "--quiet", "--format", "json"]
        let stopping = try CLI.start(["run", "--db", db, "--algo", "dtaql", "--phi", "4"] + long)
        defer { if stopping.isRunning { kill(stopping.processIdentifier, SIGKILL) } }
        let stopped = try #require(try Self.waitForNewRun(db, after: fromFile.id))
        Self.waitForIterations(db, run: stopped, while: stopping)
        kill(stopping.processIdentifier, SIGINT)
        stopping.waitUntilExit()

        // Live, then dead: a DTEQL run read while it runs, then killed with SIGKILL.
        let live = try CLI.start(["run", "--db", db, "--algo", "dteql", "--phi", "50"] + long)
        defer { if live.isRunning { kill(live.processIdentifier, SIGKILL) } }
        let running = try #require(try Self.waitForNewRun(db, after: stopped))
        Self.waitForIterations(db, run: running, while: live)
        #expect(live.isRunning, "the live run ended before it could be read")

        var documents: [(name: String, definition: String, text: String)] = []
        func show(_ id: String) throws -> String {
            let result = try CLI.run(["show", id, "--db", db, "--format", "json"])
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout
        }
        let liveShow = try show(running)
        #expect(try Self.object(liveShow)["status"] as? String == "running")
        #expect(try Self.object(liveShow)["summary"] is NSNull)
        documents.append(("show live", "run", liveShow))
        let liveAPI = try await Self.api(db, ["/api/runs/\(running)", "/api/runs?status=running"])
        documents.append(("api live", "run", liveAPI["/api/runs/\(running)"]!.body))
        documents.append(("api runs live", "page", liveAPI["/api/runs?status=running"]!.body))
        let liveList = try CLI.run(["list", "--db", db, "--status", "running", "--format", "json"])
        documents.append(("list live", "listing", liveList.stdout))
        kill(live.processIdentifier, SIGKILL)
        live.waitUntilExit()

        let all = [ql.id, dteql.id, dtaql.id, fromFile.id, stopped, running]
        var shown: [String: [String: Any]] = [:]
        for id in all {
            let text = try show(id)
            shown[id] = try Self.object(text)
            documents.append(("show \(id)", "run", text))
        }
        #expect(shown[stopped]?["status"] as? String == "interrupted")
        #expect((shown[running]?["status"] as? String)?.hasPrefix("running (dead, resumable") == true)
        for (id, output) in runOutputs { documents.append(("run \(id)", "run", output)) }
        let list = try CLI.run(["list", "--db", db, "--format", "json"])
        #expect(list.status == 0)
        documents.append(("list", "listing", list.stdout))
        for columns in ["run_id,phi,objective", "frame_seed,settings,iterations_to_optimal,planned"] {
            documents.append(("list --columns \(columns)", "listing",
                              try CLI.run(["list", "--db", db, "--format", "json", "--columns", columns]).stdout))
        }
        let uris = all.map { "/api/runs/\($0)" } + ["/api/runs", "/api/runs?size=2&page=2", "/api/runs?algo=dtaql"]
        let answers = try await Self.api(db, uris)
        for uri in uris {
            #expect(answers[uri]?.status == 200, "\(uri): \(answers[uri]?.body.prefix(300) ?? "")")
            documents.append((uri, uri.hasPrefix("/api/runs/") ? "run" : "page", answers[uri]?.body ?? ""))
        }
        // The validator is live: an old key path is refused.
        let refused = try Self.violations([("old", "run", #"{"run_id": "0123abcd", "final_qtable_sha256": "x"}"#)], in: dir)
        #expect(refused.contains("final_qtable_sha256"), "\(refused)")
        let problems = try Self.violations(documents, in: dir)
        #expect(problems.isEmpty, "\(problems)")

        // One fact, one key path: digest, settings, tags and note agree between run, show, the API and list.
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        for id in all {
            let fromShow = try #require(shown[id])
            let fromAPI = try Self.object(answers["/api/runs/\(id)"]!.body)
            let row = try #require(listed.first { $0["run_id"] as? String == id })
            let showSummary = fromShow["summary"] as? [String: Any]
            let apiSummary = fromAPI["summary"] as? [String: Any]
            #expect(showSummary?["qtable_sha256"] as? String == apiSummary?["qtable_sha256"] as? String, "\(id)")
            #expect((fromShow["summary"] is NSNull) == [stopped, running].contains(id), "\(id)")
            #expect(NSDictionary(dictionary: fromShow["settings"] as? [String: Any] ?? [:])
                .isEqual(to: fromAPI["settings"] as? [String: Any] ?? ["missing": true]), "\(id): settings")
            #expect(NSDictionary(dictionary: fromShow["tags"] as? [String: Any] ?? [:])
                .isEqual(to: fromAPI["tags"] as? [String: Any] ?? ["missing": true]), "\(id): tags")
            #expect(fromShow["note"] as? String == fromAPI["note"] as? String)
            if let output = runOutputs[id] {
                let fromRun = try Self.object(output)
                #expect((fromRun["summary"] as? [String: Any])?["qtable_sha256"] as? String == showSummary?["qtable_sha256"] as? String)
                #expect(NSDictionary(dictionary: fromRun["settings"] as? [String: Any] ?? [:])
                    .isEqual(to: fromShow["settings"] as? [String: Any] ?? [:]), "\(id): run vs show settings")
            }
            // The list row's members sit where show has them.
            #expect((row["settings"] as? [String: Any])?["phi"] as? Int == (fromShow["settings"] as? [String: Any])?["phi"] as? Int)
            #expect((row["summary"] as? [String: Any])?["objective"] as? Double == showSummary?["objective"] as? Double)
            #expect((row["frame"] as? [String: Any])?["seed"] as? Int == (fromShow["frame"] as? [String: Any])?["seed"] as? Int)
            #expect(row["status"] as? String == fromShow["status"] as? String)
        }
        // Settings only where the algorithm uses them, under the vocabulary's canonical names.
        let qlSettings = try #require(shown[ql.id]?["settings"] as? [String: Any])
        #expect(qlSettings["phi"] == nil && qlSettings["delta"] == nil && qlSettings["aggregation"] == nil)
        #expect(qlSettings["lr"] != nil && qlSettings["learning_rate"] == nil && qlSettings["beta"] != nil)
        let dtaqlSettings = try #require(shown[dtaql.id]?["settings"] as? [String: Any])
        #expect(dtaqlSettings["delta"] as? Int == 64 && dtaqlSettings["aggregation"] as? String == "pool" && dtaqlSettings["phi"] as? Int == 3)
        #expect(shown[ql.id]?["tags"] as? [String: String] == ["baseline": "yes", "owner": "<script>x</script>"])
        #expect(shown[ql.id]?["note"] as? String == "line one\nline \"two\"")
        #expect(shown[fromFile.id]?["seed"] as? String == "18446744073709551615")
        #expect((shown[fromFile.id]?["frame"] as? [String: Any])?["seed"] is NSNull)
        #expect((shown[fromFile.id]?["settings"] as? [String: Any])?["twin_noise_seed"] as? String == "18446744073709551615")
        #expect(shown[dteql.id]?["label"] is NSNull && (shown[dteql.id]?["tags"] as? [String: Any])?.isEmpty == true)
    }
}
