import Foundation
import SQLite
import Testing
import TestSupport

/// `tracker ui` against a real server process on a real SQLite file: pages, API, headers, escaping and
/// every refusal (docs/ui.md).
@Suite(.serialized) struct UICommandTests {
    static let hostileLabel = "<script>alert(1)</script> \"quoted\" 'single' & more"

    /// Two finished runs, one of them labelled with markup and quotes.
    static func makeDatabase(_ dir: TemporaryDirectory) throws -> (path: String, hostileRun: String, plainRun: String) {
        let db = dir.path("ui.db")
        func record(_ arguments: [String]) throws -> String {
            let result = try CLI.run(["run", "--db", db, "--quiet", "--format", "json"] + arguments)
            #expect(result.status == 0, "\(result.stderr)")
            return try #require((try CLI.json(result) as? [String: Any])?["run_id"] as? String)
        }
        let hostile = try record(["--algo", "dteql", "--phi", "20", "--n", "5", "--iterations", "600", "--label", hostileLabel])
        let plain = try record(["--algo", "ql", "--n", "5", "--seed", "2", "--iterations", "400", "--label", "100% plain_run"])
        return (db, hostile, plain)
    }

    @Test func pagesAnswerWithSecurityHeadersAndEscapedText() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui")
        let (db, hostile, plain) = try Self.makeDatabase(dir)
        let server = try UIServer(database: db)
        for path in ["/", "/runs/\(hostile)", "/runs/\(plain)", "/api/runs", "/api/runs/\(hostile)", "/static/app.js", "/nowhere"] {
            let response = try server.get(path)
            let policy = response.headers["content-security-policy"] ?? ""
            #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "\(path): CSP \(policy)")
            #expect(response.headers["x-content-type-options"] == "nosniff", "\(path)")
            #expect(response.headers["referrer-policy"] == "no-referrer", "\(path)")
        }
        let runs = try server.get("/")
        #expect(runs.status == 200)
        #expect(runs.headers["content-type"] == "text/html; charset=utf-8")
        #expect(!runs.body.contains("<script>alert"), "the label must not reach the page as markup")
        #expect(runs.body.contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &apos;single&apos; &amp; more"))
        #expect(runs.body.contains(">\(hostile)</a>") && runs.body.contains(">\(plain)</a>"))
        // The only script is the embedded file, never inline.
        #expect(runs.body.components(separatedBy: "<script").count == 3)
        #expect(runs.body.contains("<script src=\"/static/app.js\" defer></script>"))
        #expect(runs.body.contains("<script src=\"/static/charts.js\" defer></script>"))

        let run = try server.get("/runs/\(hostile)")
        #expect(run.status == 200)
        #expect(!run.body.contains("<script>alert"))
        #expect(run.body.contains("id=\"tasks\"") && run.body.contains("schedule.svg") && run.body.contains("convergence.svg"))
        // A unique prefix finds the run, as on the command line.
        #expect(try server.get("/runs/\(hostile.prefix(6))").status == 200)

        let schedule = try server.get("/runs/\(hostile)/schedule.svg")
        #expect(schedule.status == 200 && schedule.headers["content-type"] == "image/svg+xml")
        #expect(schedule.body.contains("Optimal order") && schedule.body.contains("class=\"deadline\""))
        let curve = try server.get("/runs/\(hostile)/convergence.svg")
        #expect(curve.status == 200 && curve.body.contains("<path d=\"M"))
        // Epsilon on the right-hand axis, the ratios on the left one.
        #expect(curve.body.contains("exploration rate ε (right axis)") && curve.body.contains("class=\"secondary-axis\""))
        #expect(curve.body.contains(">normalized reward, optimality ratio</text>"))

        let api = try server.get("/api/runs?sort=n&dir=asc")
        #expect(api.headers["content-type"] == "application/json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [String: Any])
        #expect(object["total"] as? Int == 2)
        let labels = (object["runs"] as? [[String: Any]])?.compactMap { $0["label"] as? String }
        #expect(labels?.contains(Self.hostileLabel) == true, "JSON carries the label as data, unescaped")
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(server.get("/api/runs/\(plain)").body.utf8)) as? [String: Any])
        #expect((detail["summary"] as? [String: Any])?["objective"] is Double)
        #expect(((detail["frame"] as? [String: Any])?["tasks"] as? [Any])?.count == 5)
        // The newest checkpoint (the finishing one) rates the greedy order highest; values never rise down the list.
        let top = try #require(detail["top_actions"] as? [String: Any])
        #expect(top["checkpoint_iteration"] as? Int == 400)
        let actions = try #require(top["actions"] as? [[String: Any]])
        #expect(actions.count == 10)
        #expect(actions.first?["order"] as? [Int] == detail["greedy_order"] as? [Int])
        #expect(actions.first?["objective"] as? Double == (detail["summary"] as? [String: Any])?["objective"] as? Double)
        let values = actions.compactMap { $0["q"] as? Double }
        #expect(values.count == 10 && zip(values, values.dropFirst()).allSatisfy { $0 >= $1 })
        let runPage = try server.get("/runs/\(plain)").body
        #expect(runPage.contains("Top actions of the newest Q-table") && runPage.contains("id=\"top-actions\""))
        #expect(server.stop() == 0)
    }

    @Test func compareAndQueriesShowWhatTheCommandsPrint() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui")
        let (db, _, plain) = try Self.makeDatabase(dir)
        let server = try UIServer(database: db)
        let compare = try server.get("/compare?n=5")
        #expect(compare.status == 200)
        #expect(compare.body.contains("id=\"table-i-5\"") && compare.body.contains("DTEQL phi=20") && compare.body.contains("/compare/fig2.svg?n=5"))
        // The downloads are byte for byte what `tracker compare` prints in that format.
        for (path, format) in [("/compare.csv?n=5", "csv"), ("/compare.md?n=5", "markdown"), ("/compare.json?n=5", "json")] {
            let download = try server.get(path)
            let printed = try CLI.run(["compare", "--db", db, "--n", "5", "--format", format])
            #expect(download.status == 200 && download.body == printed.stdout, "\(path)")
            #expect(download.headers["content-disposition"]?.hasPrefix("attachment; filename=\"compare-n5.") == true)
        }
        // digits= is --digits.
        let threeDigits = try server.get("/compare.md?n=5&digits=3")
        let threePrinted = try CLI.run(["compare", "--db", db, "--n", "5", "--digits", "3", "--format", "markdown"])
        #expect(threeDigits.status == 200 && threeDigits.body == threePrinted.stdout)
        #expect(try server.get("/compare?n=5&digits=0").status == 400)
        #expect(try server.get("/compare?n=5&digits=3").body.contains("name=\"digits\" type=\"number\" min=\"1\" max=\"6\" value=\"3\""))
        let fig2 = try server.get("/compare/fig2.svg?n=5")
        #expect(fig2.status == 200 && fig2.body.contains("Normalized reward of the greedy order, N = 5"))
        // Ticked runs: only they are compared.
        let ticked = try server.get("/compare?run=\(plain)")
        #expect(ticked.status == 200 && ticked.body.contains(">QL</th>") && !ticked.body.contains("DTEQL phi=20"))
        #expect(try server.get("/compare/fig2.svg?n=5&run=\(plain)").body.contains("QL (1 run)"))
        // --by and --where as on the command line.
        let byIterations = try server.get("/compare?by=iterations")
        #expect(byIterations.status == 200 && byIterations.body.contains("by iterations") && byIterations.body.contains("id=\"table-ii\""))
        let byCSV = try server.get("/compare.csv?by=iterations&where=reward%3Dratio")
        let byPrinted = try CLI.run(["compare", "--db", db, "--by", "iterations", "--where", "reward=ratio", "--format", "csv"])
        #expect(byCSV.body == byPrinted.stdout)
        let onlyDTEQL = try server.get("/compare?n=5&where=iterations%3D600")
        #expect(onlyDTEQL.body.contains("DTEQL phi=20") && !onlyDTEQL.body.contains(">QL</th>"))
        #expect(try server.get("/compare?by=no_such_setting").status == 400)
        #expect(try server.get("/compare?by=phi").status == 400)
        #expect(try server.get("/compare?where=lr").status == 400)
        #expect(try server.get("/compare?run=ffffffffff").status == 404)

        let queries = try server.get("/queries")
        #expect(queries.status == 200 && queries.body.contains("href=\"/queries/run_history\""))
        let form = try server.get("/queries/run_history")
        #expect(form.status == 200 && form.body.contains("name=\"run_id\"") && !form.body.contains("id=\"result\""))
        let result = try server.get("/queries/run_history?run_id=\(plain)&step=100")
        #expect(result.status == 200 && result.body.contains("id=\"result\"") && result.body.contains("rows 1 to 5 ·"))
        let csv = try server.get("/queries/run_history.csv?run_id=\(plain)&step=100")
        let printed = try CLI.run(["query", "run_history", "--db", db, "--param", "run_id=\(plain)", "--param", "step=100", "--format", "csv"])
        #expect(csv.body == printed.stdout)
        #expect(try server.get("/queries/run_history?run_id=\(plain)&step=abc").status == 400)
        #expect(try server.get("/queries/run_history?sql=DROP+TABLE+runs").status == 400)
        #expect(try server.get("/queries/no_such_query").status == 404)
        let api = try JSONSerialization.jsonObject(with: Data(server.get("/api/queries/runs_by_label?label=100%25+plain_run").body.utf8))
        #expect(((api as? [String: Any])?["rows"] as? [Any])?.count == 1)
        #expect(server.stop() == 0)
    }

    @Test func filtersSearchSortAndPagesAreBoundNotSpliced() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui")
        let (db, hostile, plain) = try Self.makeDatabase(dir)
        let server = try UIServer(database: db)
        func runIDs(_ query: String) throws -> [String] {
            let response = try server.get("/api/runs" + query)
            #expect(response.status == 200, "\(query): \(response.body)")
            let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
            return (object?["runs"] as? [[String: Any]])?.compactMap { $0["run_id"] as? String } ?? []
        }
        #expect(try runIDs("?algo=ql") == [plain])
        #expect(try runIDs("?n=5&phi=20") == [hostile])
        #expect(try runIDs("?status=running").isEmpty)
        // '%' and '_' in the search match themselves, quotes are just text.
        #expect(try runIDs("?q=%25") == [plain])
        #expect(try runIDs("?q=plain_run") == [plain])
        #expect(try runIDs("?q=%27single%27") == [hostile])
        #expect(try runIDs("?q=%27%3B+DROP+TABLE+runs%3B--").isEmpty)
        #expect(try runIDs("?sort=created&dir=asc") == [hostile, plain])
        #expect(try runIDs("?sort=created&dir=desc") == [plain, hostile])
        #expect(try runIDs("?sort=created&dir=asc&size=1&page=2") == [plain])
        let page = try server.get("/?size=1")
        #expect(page.body.contains("page 1 of 2") && page.body.contains("rel=\"next\""))
        // Still there after all of that.
        #expect(try runIDs("").count == 2)
        server.stop()
    }

    @Test func badRequestsGetTheirStatusCodes() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui")
        let (db, _, _) = try Self.makeDatabase(dir)
        let server = try UIServer(database: db)
        for (path, status) in [
            ("/nowhere", 404), ("/runs/ffffffffff", 404), ("/api/runs/ffffffffff", 404), ("/runs/", 404),
            ("/?n=abc", 400), ("/?n=0", 400), ("/?sort=id;DROP", 400), ("/?algo=xql", 400), ("/?q=%ZZ", 400),
            ("/?page=0", 400), ("/api/runs?size=100000", 400), ("/?dir=sideways", 400),
        ] {
            let response = try server.get(path)
            #expect(response.status == status, "\(path): \(response.status) \(response.body.prefix(300))")
        }
        let missing = try server.get("/runs/ffffffffff")
        #expect(missing.headers["content-type"] == "text/html; charset=utf-8" && missing.body.contains("no run with id"))
        let missingJSON = try server.get("/api/runs/ffffffffff")
        #expect(missingJSON.headers["content-type"] == "application/json" && missingJSON.body.contains("\"error\""))
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let response = try server.request(method, "/", body: "x=1")
            #expect(response.status == 405, "\(method)")
            #expect(response.headers["allow"] == "GET, HEAD")
        }
        let oversized = try server.request("GET", "/", headers: ["Content-Length": "10000000"])
        #expect(oversized.status == 413)
        let longURL = try server.get("/?q=" + String(repeating: "a", count: 10_000))
        #expect(longURL.status == 414)
        let garbage = try server.exchange(Data("NOT HTTP AT ALL\r\n\r\n".utf8))
        #expect(garbage.status == 400)
        let hugeHeader = try server.exchange(Data("GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 200_000))\r\n\r\n".utf8))
        #expect(hugeHeader.status == 400 || hugeHeader.status == 431)
        // The server is still fine after all of that.
        #expect(try server.get("/").status == 200)
        #expect(server.stop(SIGINT) == 0, "SIGINT stops it cleanly")
    }

    @Test func refusesDatabasesItCannotServeAtStartup() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui")
        let missing = try CLI.run(["ui", "--db", dir.path("missing.db"), "--port", "0"])
        #expect(missing.status == 1 && missing.stderr.hasPrefix("Error: cannot open database"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("missing.db")), "nothing created")
        try String(repeating: "not a database\n", count: 100).write(toFile: dir.path("text.db"), atomically: true, encoding: .utf8)
        let text = try CLI.run(["ui", "--db", dir.path("text.db"), "--port", "0"])
        #expect(text.status == 1 && text.stderr.contains("file is not a database"), "\(text.stderr)")
        let (db, _, _) = try Self.makeDatabase(dir)
        try Database(path: db).setUserVersion(99)
        let newer = try CLI.run(["ui", "--db", db, "--port", "0"])
        #expect(newer.status == 1 && newer.stderr.contains("newer than this tracker supports"), "\(newer.stderr)")
        let badPort = try CLI.run(["ui", "--db", db, "--port", "70000"])
        #expect(badPort.status == 64)
    }

    @Test func warnsWhenListeningBeyondLoopbackAndServesAReadOnlyFile() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui")
        let (db, hostile, _) = try Self.makeDatabase(dir)
        // Checkpoint the WAL into the file first, so an unwritable file holds everything.
        try Database(path: db).execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let wide = try UIServer(database: db, extraArguments: ["--host", "0.0.0.0"])
        #expect(try wide.get("/").status == 200)
        #expect(wide.stop() == 0)
        #expect(wide.stderr.contains("Warning: listening on 0.0.0.0"))

        guard let release = makeUnwritable(db) else {
            Issue.record("neither chattr +i nor chmod 0444 makes a file unwritable here")
            return
        }
        defer { release() }
        let server = try UIServer(database: db)
        #expect(try server.get("/").status == 200)
        #expect(try server.get("/runs/\(hostile)").status == 200)
        #expect(server.stop() == 0)
    }

    @Test func theRunsPageShowsTagsAndItsSearchMatchesThem() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui")
        let (db, hostile, plain) = try Self.makeDatabase(dir)
        #expect(try CLI.run(["tag", plain, "baseline=yes", "why=<i>\"x\"</i>", "--db", db]).status == 0)
        #expect(try CLI.run(["tag", hostile, "reviewer=ann", "--db", db]).status == 0)
        let server = try UIServer(database: db)
        let page = try server.get("/")
        #expect(page.status == 200)
        #expect(page.body.contains("<span class=\"tag\">baseline=yes</span> <span class=\"tag\">why=&lt;i&gt;&quot;x&quot;&lt;/i&gt;</span>"))
        #expect(!page.body.contains("<i>"))
        func ids(_ search: String) throws -> [String] {
            let body = try server.get("/api/runs?q=\(search)").body
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            return (object["runs"] as? [[String: Any]] ?? []).compactMap { $0["run_id"] as? String }
        }
        #expect(try ids("baseline%3Dyes") == [plain])
        #expect(try ids("BASELINE") == [plain])
        #expect(try ids("ann") == [hostile])
        #expect(try ids("plain_run") == [plain], "the label is still searched")
        #expect(try ids("%3Ci%3E%22x") == [plain])
        #expect(try ids("baseline%3Dno").isEmpty)
        // '_' is a plain character in the tags too: 'baseline_yes' matches nothing.
        #expect(try ids("baseline_yes").isEmpty)
        let api = try JSONSerialization.jsonObject(with: Data(try server.get("/api/runs").body.utf8)) as? [String: Any]
        let tagged = try #require((api?["runs"] as? [[String: Any]])?.first { $0["run_id"] as? String == plain })
        #expect(tagged["tags"] as? [String: String] == ["baseline": "yes", "why": "<i>\"x\"</i>"])
        #expect(server.stop() == 0)
    }

    @Test func followsARunThatAnotherProcessIsWriting() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui")
        let (db, _, _) = try Self.makeDatabase(dir)
        let writer = try CLI.start(["run", "--db", db, "--algo", "dtaql", "--phi", "4", "--n", "7", "--iterations", "5000000",
                                    "--checkpoint-every", "20000", "--quiet"])
        defer {
            kill(writer.processIdentifier, SIGINT)
            _ = waitForExit(writer, seconds: 20)
        }
        let server = try UIServer(database: db)
        func running() throws -> (id: String, iterations: Int)? {
            let body = try server.get("/api/runs?status=running").body
            let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            guard let run = (object?["runs"] as? [[String: Any]])?.first, let id = run["run_id"] as? String,
                  let iterations = run["iterations"] as? Int else { return nil }
            return (id, iterations)
        }
        var first: (id: String, iterations: Int)?
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let seen = try running(), seen.iterations > 0 { first = seen; break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let start = try #require(first, "the running run never showed progress")
        let page = try server.get("/runs/\(start.id)")
        #expect(page.body.contains("data-live-run=\"\(start.id)\"") && page.body.contains("<progress"))
        var later = start.iterations
        let until = Date().addingTimeInterval(30)
        while later == start.iterations && Date() < until {
            Thread.sleep(forTimeInterval: 0.5)
            let body = try server.get("/api/runs/\(start.id)/progress").body
            later = (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["iterations"] as? Int ?? later
        }
        #expect(later > start.iterations, "progress moves while the other process writes")
        #expect(try server.get("/runs/\(start.id)/schedule.svg").body.contains("Greedy order so far"))
        #expect(server.stop() == 0)
    }
}
