import Foundation
import SQLite
import Testing
import TestSupport

/// Issue 21 item 3: `tracker list` and the dashboard's runs page (`/api/runs`) select runs through one
/// filter (RunFilter), one WHERE clause and one SELECT, so the same filters (settings and tags
/// included) give the same runs in the same order (newest first), and a page is a window of the list.
@Suite(.serialized) struct OneListingTests {
    static func record(_ db: String, _ arguments: [String]) throws -> String {
        let result = try CLI.run(["run", "--db", db, "--quiet", "--format", "json", "--n", "4", "--iterations", "40"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require((try CLI.json(result) as? [String: Any])?["run_id"] as? String)
    }

    /// Run ids `list --format json` prints for `arguments` (newest first unless they say otherwise).
    static func listed(_ db: String, _ arguments: [String]) throws -> [String] {
        let result = try CLI.run(["list", "--db", db, "--format", "json"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try #require(try CLI.json(result) as? [[String: Any]])
        return rows.compactMap { $0["run_id"] as? String }
    }

    /// Run ids `/api/runs` gives for `query`, in its default order (newest first) unless `query` sorts.
    static func browsed(_ server: UIServer, _ query: String) throws -> [String] {
        let response = try server.get("/api/runs?size=500" + (query.isEmpty ? "" : "&" + query))
        #expect(response.status == 200, "\(query): \(response.body)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
        let runs = try #require(object["runs"] as? [[String: Any]])
        #expect(object["total"] as? Int == runs.count, "\(query)")
        return runs.compactMap { $0["run_id"] as? String }
    }

    @Test func listAndTheRunsPageSelectTheSameRunsForTheSameFilters() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-one-listing")
        let db = dir.path("l.db")
        let ql = try Self.record(db, ["--algo", "ql", "--seed", "1", "--label", "base"])
        let dteql = try Self.record(db, ["--algo", "dteql", "--phi", "3", "--seed", "2"])
        let dtaql = try Self.record(db, ["--algo", "dtaql", "--phi", "5", "--seed", "3", "--label", "base"])
        _ = try Self.record(db, ["--algo", "ql", "--n", "5", "--seed", "4"])
        #expect(try CLI.run(["tag", dteql, "baseline=yes", "--db", db]).status == 0)
        let importFile = dir.path("import.jsonl")
        try Data(ImportTests.file().utf8).write(to: URL(fileURLWithPath: importFile))
        let imported = try CLI.run(["import", importFile, "--db", db, "--format", "json"])
        #expect(imported.status == 0, "\(imported.stderr)")

        let server = try UIServer(database: db)
        let cases: [([String], String)] = [
            ([], ""),
            (["--algo", "ql"], "algo=ql"),
            (["--algo", "dtaql"], "algo=dtaql"),
            (["--n", "5"], "n=5"),
            (["--n", "4"], "n=4"),
            (["--phi", "3"], "phi=3"),
            (["--status", "finished"], "status=finished"),
            (["--label", "base"], "label=base"),
            (["--label", "nobody"], "label=nobody"),
            (["--since", "1h"], "since=1h"),
            (["--since", "2999-01-01"], "since=2999-01-01"),
            (["--since", "2000-01-01T00:00:00Z"], "since=2000-01-01T00%3A00%3A00Z"),
            (["--label", "base", "--algo", "dtaql", "--n", "4", "--since", "3d", "--status", "finished"],
             "label=base&algo=dtaql&n=4&since=3d&status=finished"),
        ]
        for (arguments, query) in cases {
            let fromList = try Self.listed(db, arguments)
            let fromPage = try Self.browsed(server, query)
            #expect(fromList == fromPage, "list \(arguments) vs /api/runs?\(query)")
        }
        #expect(try Self.listed(db, ["--label", "base"]) == [dtaql, ql])
        #expect(try Self.listed(db, ["--label", "base", "--oldest-first"]) == [ql, dtaql])
        #expect(try Self.browsed(server, "label=base&sort=created&dir=asc") == [ql, dtaql])
        #expect(try Self.listed(db, ["--phi", "3"]) == [dteql])
        #expect(try Self.listed(db, []).count == 5, "four runs and the imported one")

        // The page keeps label and since in its links and its form.
        let page = try server.get("/?label=base&since=3d&size=1")
        #expect(page.status == 200)
        #expect(page.body.contains("label=base") && page.body.contains("since=3d"))
        // A bad since is a 400 on the page, a usage error (64) in list.
        #expect(try server.get("/api/runs?since=yesterday").status == 400)
        #expect(try CLI.run(["list", "--db", db, "--since", "yesterday"]).status == 64)
        #expect(try CLI.run(["list", "--db", db, "--phi", "x"]).status == 64)
    }

    /// A 'running' run whose heartbeat is ten minutes old: dead, as `list` shows it ("running (dead, resumable)").
    static func makeDead(_ db: String, _ runID: String) throws {
        let old = ISO8601DateFormatter.withMilliseconds.string(from: Date().addingTimeInterval(-600))
        try Database(path: db, mode: .readWrite)
            .prepare("UPDATE runs SET status = 'running', heartbeat_at = ?, pid = NULL WHERE run_id = ?")
            .run([.text(old), .text(runID)])
    }

    /// `--where` (any setting, by name or alias), `--tag`, `--status dead` and the rest, alone and
    /// combined: the same runs in the same order from `list` and `/api/runs`, filtered in SQL so the
    /// page's count and paging are exact; bad filters are refused on both sides with one message.
    @Test func settingsTagsAndDeadRunsFilterTheSameOnBothSidesAndPageExactly() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-one-listing-where")
        let db = dir.path("w.db")
        let ql = try Self.record(db, ["--algo", "ql", "--seed", "1", "--label", "base"])
        let dteql = try Self.record(db, ["--algo", "dteql", "--phi", "3", "--seed", "2", "--lr", "0.5"])
        let dtaql = try Self.record(db, ["--algo", "dtaql", "--phi", "5", "--seed", "3", "--label", "base", "--lr", "0.5"])
        let qlFive = try Self.record(db, ["--algo", "ql", "--n", "5", "--seed", "4", "--beta", "123.456"])
        let dead = try Self.record(db, ["--algo", "dteql", "--phi", "20", "--seed", "5", "--label", "base"])
        try Self.makeDead(db, dead)
        for (run, tags) in [(ql, ["k=v", "baseline=yes"]), (dteql, ["k=v"]), (dead, ["k=w"])] {
            #expect(try CLI.run(["tag", run, "--db", db] + tags).status == 0)
        }
        let importFile = dir.path("import.jsonl")
        try Data(ImportTests.file().utf8).write(to: URL(fileURLWithPath: importFile))
        let importedRun = try CLI.run(["import", importFile, "--db", db, "--format", "json"])
        #expect(importedRun.status == 0, "\(importedRun.stderr)")
        let imported = try #require((try CLI.json(importedRun) as? [String: Any])?["run_id"] as? String)

        let server = try UIServer(database: db)
        let cases: [([String], String, [String]?)] = [
            ([], "", [imported, dead, qlFive, dtaql, dteql, ql]),
            (["--where", "lr=0.5"], "where=lr%3D0.5", [imported, dtaql, dteql]),
            (["--where", "learning_rate=0.50"], "where=learning_rate%3D0.50", [imported, dtaql, dteql]),
            (["--where", "lr=0.5", "--where", "phi=5"], "where=lr%3D0.5&where=phi%3D5", [dtaql]),
            (["--where", "phi=20"], "where=phi%3D20", [dead]),
            (["--where", "beta=123.456"], "where=beta%3D123.456", [qlFive]),
            (["--where", "delta=512"], "where=delta%3D512", [dtaql]),
            (["--where", "twin_rate=none", "--where", "algo=ql"], "where=twin_rate%3Dnone&where=algo%3Dql", [qlFive, ql]),
            (["--where", "hidden_units=64"], "where=hidden_units%3D64", [imported]),
            (["--where", "optimizer=adam"], "where=optimizer%3Dadam", [imported]),
            (["--tag", "k=v"], "tag=k%3Dv", [dteql, ql]),
            (["--tag", "k=v", "--tag", "baseline=yes"], "tag=k%3Dv&tag=baseline%3Dyes", [ql]),
            (["--where", "tag.k=w"], "where=tag.k%3Dw", [dead]),
            (["--label", "base"], "label=base", [dead, dtaql, ql]),
            (["--since", "1h"], "since=1h", nil),
            (["--status", "dead"], "status=dead", [dead]),
            (["--status", "running"], "status=running", [dead]),
            (["--status", "finished"], "status=finished", [imported, qlFive, dtaql, dteql, ql]),
            (["--algo", "dteql"], "algo=dteql", [dead, dteql]),
            (["--where", "lr=0.5", "--where", "phi=3", "--tag", "k=v", "--label", "nobody"],
             "where=lr%3D0.5&where=phi%3D3&tag=k%3Dv&label=nobody", []),
            (["--where", "lr=0.1", "--where", "phi=20", "--tag", "k=w", "--label", "base", "--since", "1h",
              "--status", "dead", "--algo", "dteql"],
             "where=lr%3D0.1&where=phi%3D20&tag=k%3Dw&label=base&since=1h&status=dead&algo=dteql", [dead]),
            (["--tag", "k=v", "--algo", "ql", "--label", "base", "--since", "1h"], "tag=k%3Dv&algo=ql&label=base&since=1h", [ql]),
        ]
        for (arguments, query, expected) in cases {
            let fromList = try Self.listed(db, arguments)
            #expect(fromList == (try Self.browsed(server, query)), "list \(arguments) vs /api/runs?\(query)")
            if let expected { #expect(fromList == expected, "list \(arguments)") }
            // --oldest-first is the page's created ascending.
            #expect(try Self.listed(db, arguments + ["--oldest-first"]) == (try Self.browsed(server, query + "&sort=created&dir=asc")))
        }

        // Page 2 of size 2 is list's rows 3 and 4, and the count is list's, filtered or not.
        for (arguments, query) in [([String](), ""), (["--where", "lr=0.1"], "where=lr%3D0.1")] {
            let all = try Self.listed(db, arguments)
            let response = try server.get("/api/runs?size=2&page=2" + (query.isEmpty ? "" : "&" + query))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
            #expect(object["total"] as? Int == all.count, "\(arguments)")
            #expect((object["runs"] as? [[String: Any]])?.compactMap { $0["run_id"] as? String } == Array(all[2..<min(4, all.count)]))
            #expect(try Self.listed(db, arguments + ["--limit", "2"]) == Array(all.prefix(2)))
        }
        // The HTML page: the filters in its form and in its links, and its count.
        let page = try server.get("/?where=lr%3D0.5&tag=k%3Dv&size=1")
        #expect(page.status == 200)
        #expect(page.body.contains("name=\"where\" size=\"12\" placeholder=\"lr=0.1\" value=\"lr=0.5\""))
        #expect(page.body.contains("name=\"tag\" size=\"12\" placeholder=\"baseline=yes\" value=\"k=v\""))
        #expect(page.body.contains("where=lr%3D0.5") && page.body.contains("tag=k%3Dv"))
        #expect(page.body.contains("1 run ·"))
        #expect(page.body.contains("<option selected>dead</option>") == false)
        #expect(try server.get("/?status=dead").body.contains("<option selected>dead</option>"))

        // Bad filters: the CLI's usage error (64) and the page's 400 say the same.
        let refusals: [([String], String)] = [
            (["--where", "bogus=1"], "where=bogus%3D1"),
            (["--where", "tag.=1"], "where=tag.%3D1"),
            (["--where", "lr"], "where=lr"),
            (["--tag", "=v"], "tag=%3Dv"),
            (["--tag", "novalue"], "tag=novalue"),
            (["--status", "zombie"], "status=zombie"),
        ]
        for (arguments, query) in refusals {
            let cli = try CLI.run(["list", "--db", db] + arguments)
            #expect(cli.status == 64, "\(arguments): \(cli.stderr)")
            for path in ["/api/runs?" + query, "/?" + query] {
                let response = try server.get(path)
                #expect(response.status == 400, "\(path)")
                guard path.hasPrefix("/api") else { continue }
                let message = try #require((try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])?["error"] as? String)
                // The same message, the option named as each side names it (`--where: ...` holds `where: ...`);
                // a status ArgumentParser refuses in its own words.
                if arguments.first != "--status" { #expect(cli.stderr.contains(message), "\(arguments): \(cli.stderr) vs \(message)") }
            }
        }
        let unknown = try CLI.run(["list", "--db", db, "--where", "bogus=1"])
        let unknownPage = try server.get("/api/runs?where=bogus%3D1")
        let unknownMessage = try #require((try JSONSerialization.jsonObject(with: Data(unknownPage.body.utf8)) as? [String: Any])?["error"] as? String)
        #expect(unknownMessage.hasPrefix("--where: unknown setting 'bogus'; known: "))
        #expect(unknown.stderr.contains(unknownMessage), "the very same line: \(unknown.stderr)")
        // Nothing was written by any of it.
        #expect(try Self.listed(db, []).count == 6)
        #expect(server.stop() == 0)
    }

    /// The rest of item 3: the run page and `/api/runs/ID` carry tags, note and provenance; a setting an
    /// algorithm does not use is not shown for it; `/api/queries/run_history` resolves a prefix as the
    /// CLI does and refuses an unknown id with the CLI's message.
    @Test func theDashboardShowsWhatShowShowsAndResolvesPrefixesAsTheCLI() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-one-listing-show")
        let db = dir.path("s.db")
        let ql = try Self.record(db, ["--algo", "ql", "--seed", "1"])
        let dteql = try Self.record(db, ["--algo", "dteql", "--phi", "3", "--seed", "2"])
        let dtaql = try Self.record(db, ["--algo", "dtaql", "--phi", "5", "--seed", "3"])
        #expect(try CLI.run(["tag", dteql, "--db", db, "owner=ana"]).status == 0)
        #expect(try CLI.run(["note", dteql, "--db", db, "looked at it"]).status == 0)
        let server = try UIServer(database: db)

        let api = try #require(try JSONSerialization.jsonObject(with: Data(try server.get("/api/runs/\(dteql)").body.utf8)) as? [String: Any])
        #expect((api["tags"] as? [String: Any])?["owner"] as? String == "ana")
        #expect(api["note"] as? String == "looked at it")
        let provenance = try #require(api["provenance"] as? [String: Any])
        for key in ["command_line", "working_directory", "git_commit", "git_dirty", "host", "user", "tracker_version",
                    "sqlite_version", "sweep_name"] {
            #expect(provenance.keys.contains(key), "\(key)")
        }
        let page = try server.get("/runs/\(dteql)").body
        for text in ["owner", "ana", "looked at it", "command line", "working directory", "git commit"] {
            #expect(page.contains(text), "\(text)")
        }
        for (run, hasDelta) in [(ql, false), (dteql, false), (dtaql, true)] {
            let settings = try #require((try JSONSerialization.jsonObject(with: Data(try server.get("/api/runs/\(run)").body.utf8))
                as? [String: Any])?["settings"] as? [String: Any])
            #expect(settings.keys.contains("delta") == hasDelta, "\(run)")
        }
        let rows = try #require((try JSONSerialization.jsonObject(with: Data(try server.get("/api/runs").body.utf8))
            as? [String: Any])?["runs"] as? [[String: Any]])
        for row in rows {
            let settings = try #require(row["settings"] as? [String: Any])
            #expect(settings.keys.contains("delta") == (row["algorithm"] as? String == "dtaql"))
            #expect(settings.keys.contains("phi") == (row["algorithm"] as? String != "ql"))
        }
        // Nor does a QL run show a phi in list's table or the runs page's column.
        let csv = try CLI.run(["list", "--db", db, "--columns", "run_id,phi", "--format", "csv"]).stdout
        #expect(csv.contains("\n\(ql),\n") && csv.contains("\n\(dteql),3\n"), "\(csv)")
        let runsPage = try server.get("/").body
        let qlRow = try #require(runsPage.range(of: "/runs/\(ql)\"").map { String(runsPage[$0.upperBound...].prefix(800)) })
        #expect(qlRow.contains("<td>ql</td><td class=\"num\">4</td><td class=\"num\"></td>"), "\(qlRow)")

        // run_history by a prefix: the CLI's rows; an unknown id: 400 with the CLI's message.
        let prefix = String(dtaql.prefix(6))
        let cli = try #require(try CLI.json(try CLI.run(["query", "run_history", "--db", db, "--param", "run_id=\(prefix)",
                                                           "--format", "json"])) as? [[String: Any]])
        let web = try #require(try JSONSerialization.jsonObject(with: Data(try server.get("/api/queries/run_history?run_id=\(prefix)").body.utf8))
            as? [String: Any])
        let columns = try #require(web["columns"] as? [String])
        let webRows = try #require(web["rows"] as? [[Any]])
        #expect(!cli.isEmpty && webRows.count == cli.count)
        for (index, row) in webRows.enumerated() {
            for (column, value) in zip(columns, row) {
                #expect("\(value)" == "\(cli[index][column] ?? NSNull())", "row \(index) \(column)")
            }
        }
        let unknownCLI = try CLI.run(["query", "run_history", "--db", db, "--param", "run_id=zzzz"])
        let unknownWeb = try server.get("/api/queries/run_history?run_id=zzzz")
        #expect(unknownCLI.status == 1 && unknownWeb.status == 400)
        let message = try #require((try JSONSerialization.jsonObject(with: Data(unknownWeb.body.utf8)) as? [String: Any])?["error"] as? String)
        #expect(unknownCLI.stderr.contains(message), "\(unknownCLI.stderr) vs \(message)")
        #expect(server.stop() == 0)
    }

    /// `dead` is `RunRecord.isAbandoned` on both sides, including its part SQL cannot see: a run of this
    /// host whose process is gone is dead with a fresh heartbeat; one whose process lives (this test's) is not.
    @Test func statusDeadIsTheLivenessRuleOnBothSides() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-one-listing-dead")
        let db = dir.path("d.db")
        let finished = try Self.record(db, ["--algo", "ql", "--seed", "1"])
        let gone = try Self.record(db, ["--algo", "ql", "--seed", "2"])
        let live = try Self.record(db, ["--algo", "ql", "--seed", "3"])
        var name = [CChar](repeating: 0, count: 256)
        #expect(gethostname(&name, 255) == 0)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let now = ISO8601DateFormatter.withMilliseconds.string(from: Date())
        let database = try Database(path: db, mode: .readWrite)
        let update = try database.prepare("UPDATE runs SET status = 'running', heartbeat_at = ?, host = ?, pid = ? WHERE run_id = ?")
        try update.run([.text(now), .text(host), .integer(Int64(exited.processIdentifier)), .text(gone)])
        try update.run([.text(now), .text(host), .integer(Int64(getpid())), .text(live)])

        let server = try UIServer(database: db)
        #expect(try Self.listed(db, ["--status", "dead"]) == [gone])
        #expect(try Self.browsed(server, "status=dead") == [gone])
        #expect(try Self.listed(db, ["--status", "running"]) == [live, gone])
        #expect(try Self.browsed(server, "status=running") == [live, gone])
        #expect(try Self.listed(db, ["--status", "finished"]) == [finished])
        let statuses = try #require(try CLI.json(try CLI.run(["list", "--db", db, "--format", "json", "--status", "dead"])) as? [[String: Any]])
        #expect(statuses.first?["status"] as? String == "running (dead, resumable)")
        #expect(server.stop() == 0)
    }
}
