import Foundation
import Testing
import TestSupport

/// The dashboard's interactive charts, runs side by side, the compare page's bands and the edit forms of
/// `tracker ui --allow-edits` (docs/ui.md), against a real server process on a real SQLite file.
@Suite(.serialized) struct UIDashboardDepthTests {
    static func object(_ body: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    static func record(_ db: String, _ arguments: [String]) throws -> String {
        let result = try CLI.run(["run", "--db", db, "--quiet", "--format", "json"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require((try CLI.json(result) as? [String: Any])?["run_id"] as? String)
    }

    /// The run chart's reward line is exactly the run's greedy-action changes (`tracker query
    /// greedy_changes`), epsilon rides on the right axis, a window answers only its iterations, and the
    /// script that draws it is served from the binary under the strict CSP.
    @Test func runChartCarriesEveryGreedyChange() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-chart")
        let db = dir.path("ui.db")
        let run = try Self.record(db, ["--algo", "dtaql", "--phi", "20", "--n", "6", "--iterations", "3000"])
        let changes = try CLI.run(["query", "greedy_changes", "--db", db, "--param", "run_id=\(run)", "--format", "json"])
        #expect(changes.status == 0, "\(changes.stderr)")
        let rows = try #require(try CLI.json(changes) as? [[String: Any]])
        #expect(rows.count >= 2 && rows.last?["iteration"] as? Int == 2999)

        let server = try UIServer(database: db)
        let response = try server.get("/api/runs/\(run)/chart")
        #expect(response.status == 200 && response.headers["content-type"] == "application/json")
        let chart = try Self.object(response.body)
        let series = try #require(chart["series"] as? [[String: Any]])
        #expect(series.map { $0["name"] as? String } == ["normalized reward J_EDF / J", "optimality ratio J* / J", "exploration rate ε"])
        #expect(series.map { $0["axis"] as? String } == ["left", "left", "right"])
        let reward = try #require(series[0]["points"] as? [[Double]])
        #expect(reward.map { Int($0[0]) } == rows.map { $0["iteration"] as? Int ?? -1 }, "every change, at its iteration")
        for (point, row) in zip(reward, rows) {
            #expect(abs(point[1] - (row["normalized_reward"] as? Double ?? .nan)) < 1e-6)
        }
        #expect(chart["x_min"] as? Int == 0 && chart["x_max"] as? Int == 2999)

        // A zoomed window: the action in force at its start, the changes inside it, the action at its end;
        // as a step line, the same values as the whole chart at every iteration of the window.
        let window = try Self.object(try server.get("/api/runs/\(run)/chart?from=1000&to=2000").body)
        let inside = try #require(((window["series"] as? [[String: Any]])?.first?["points"] as? [[Double]]))
        func value(_ points: [[Double]], at x: Int) -> Double? { points.last { Int($0[0]) <= x }?[1] }
        #expect(inside.first.map { Int($0[0]) } == 1000 && inside.last.map { Int($0[0]) } == 2000)
        #expect(inside.allSatisfy { (1000...2000).contains(Int($0[0])) })
        for x in stride(from: 1000, through: 2000, by: 7) {
            #expect(value(inside, at: x) == value(reward, at: x), "iteration \(x)")
        }
        #expect(window["x_min"] as? Int == 1000 && window["x_max"] as? Int == 2000)

        for bad in ["width=5", "width=abc", "from=10&to=5", "from=-1"] {
            let refused = try server.get("/api/runs/\(run)/chart?\(bad)")
            #expect(refused.status == 400 && refused.body.contains("\"error\""), "\(bad)")
        }
        #expect(try server.get("/api/runs/ffffffff/chart").status == 404)

        // The run page holds the chart's box (with the CLI's SVG inside until the script replaces it),
        // and both scripts come from /static/, none inline.
        let page = try server.get("/runs/\(run)").body
        #expect(page.contains("data-src=\"/api/runs/\(run)/chart\"") && page.contains("/runs/\(run)/convergence.svg"))
        #expect(page.contains("<script src=\"/static/charts.js\" defer></script>"))
        #expect(page.components(separatedBy: "<script").count == 3)
        let script = try server.get("/static/charts.js")
        #expect(script.status == 200 && script.headers["content-type"] == "text/javascript; charset=utf-8")
        #expect(script.headers["content-security-policy"]?.contains("script-src 'self'") == true)
        #expect(!script.body.contains("innerHTML") && !script.body.contains("eval("), "names reach the page as text only")
        // Long digests: shortened, the whole value on hover and behind a copy button.
        let sha = try #require(try CLI.json(try CLI.run(["show", run, "--db", db, "--format", "json"])) as? [String: Any])
        let digest = try #require((sha["summary"] as? [String: Any])?["qtable_sha256"] as? String)
        #expect(page.contains("title=\"\(digest)\">\(digest.prefix(12))…</code> <button type=\"button\" class=\"copy\" data-copy=\"\(digest)\">"))
        // A saved query's result scrolls inside its own box.
        let history = try server.get("/queries/run_history?run_id=\(run)&step=1000").body
        #expect(history.contains("<div class=\"result-box\"><table id=\"result\">"))
        #expect(server.stop() == 0)
    }

    /// 2 to 10 ticked runs: the overlay's lines, the settings table with differing rows marked, the
    /// schedules stacked; fewer or more is a 400.
    @Test func runsSideBySide() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-side")
        let db = dir.path("ui.db")
        let a = try Self.record(db, ["--algo", "ql", "--n", "5", "--iterations", "300", "--seed", "1"])
        let b = try Self.record(db, ["--algo", "dteql", "--phi", "20", "--n", "5", "--iterations", "300", "--seed", "1"])
        let c = try Self.record(db, ["--algo", "dtaql", "--phi", "20", "--n", "5", "--iterations", "300", "--seed", "1", "--lr", "0.2"])
        let server = try UIServer(database: db)
        let page = try server.get("/side-by-side?run=\(a)&run=\(b)&run=\(c.prefix(6))")
        #expect(page.status == 200, "\(page.body.prefix(300))")
        #expect(page.body.contains("3 runs side by side") && page.body.contains("id=\"settings-diff\""))
        #expect(page.body.contains("<tr class=\"differs\"><th>algorithm</th>"))
        #expect(page.body.contains("<tr><th>N</th><td>5</td><td>5</td><td>5</td></tr>"), "equal rows are not marked")
        #expect(page.body.contains("<tr class=\"differs\"><th>lr</th>"))
        #expect(page.body.components(separatedBy: "/schedule.svg").count == 4)
        let overlay = try Self.object(try server.get("/api/overlay?run=\(a)&run=\(b)&run=\(c)").body)
        let names = (overlay["series"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        #expect(names.count == 3 && names[0].hasPrefix(a) && names[2].hasPrefix(c))
        #expect(try server.get("/side-by-side?run=\(a)").status == 400)
        #expect(try server.get("/side-by-side?run=\(a)&run=\(a)").status == 400, "a run ticked twice counts once")
        let eleven = (0..<11).map { "run=\(a.prefix(4))\($0)" }.joined(separator: "&")
        #expect(try server.get("/side-by-side?\(eleven)").status == 400)
        #expect(try server.get("/").body.contains("formaction=\"/side-by-side\""))
        #expect(server.stop() == 0)
    }

    /// The compare page's Fig. 2 has tracker plot's 95% band where 3 runs of one configuration contribute,
    /// and its lone numbers take the short form of the cells beside them, right-aligned with their headers.
    @Test func compareFigureHasBandsAndTablesAlign() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-bands")
        let db = dir.path("ui.db")
        for seed in 1...3 { _ = try Self.record(db, ["--algo", "ql", "--n", "5", "--iterations", "300", "--seed", String(seed)]) }
        let server = try UIServer(database: db)
        let chart = try Self.object(try server.get("/api/compare/fig2?n=5").body)
        let series = try #require((chart["series"] as? [[String: Any]])?.first)
        #expect(((series["band"] as? [[Double]])?.count ?? 0) > 10, "the 95% band")
        #expect((chart["note"] as? String)?.contains("95%") == true)
        let svg = try server.get("/compare/fig2.svg?n=5").body
        #expect(svg.contains("shaded"), "the SVG has the band too")
        let page = try server.get("/compare?n=5").body
        #expect(page.contains("data-src=\"/api/compare/fig2?n=5\""))
        #expect(page.contains("<th class=\"num\">QL"), "the configuration's header aligns with its numbers")
        #expect(server.stop() == 0)
    }

    /// A sweep's page, by its spec's name and by its label: progress by state as sweep --status counts
    /// it, Table I of its configurations, and the parallel-coordinates data over the settings that vary.
    @Test func sweepPageShowsProgressTableAndParallelCoordinates() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-sweep")
        let db = dir.path("ui.db"), spec = dir.path("lr <grid>.json")
        try #"{"label": "lr-grid", "n": [4], "frames": 2, "iterations": 150, "configurations": [{"algorithm": "ql"}, {"algorithm": "dtaql", "phi": [2], "delta": [8]}], "hyperparameters": {"learning_rate": [0.5, 0.9]}}"#
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let sweep = try CLI.run(["sweep", spec, "--db", db, "--quiet"])
        #expect(sweep.status == 0, "\(sweep.stderr)")
        _ = try Self.record(db, ["--algo", "ql", "--n", "4", "--iterations", "100"])  // not the sweep's
        let server = try UIServer(database: db)
        let list = try server.get("/sweeps")
        #expect(list.status == 200 && list.body.contains("id=\"sweeps\""))
        #expect(list.body.contains("lr &lt;grid&gt;.json") && !list.body.contains("<grid>"))
        let byName = try server.get("/sweep?name=\(spec.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
        #expect(byName.status == 200, "\(byName.body.prefix(300))")
        #expect(byName.body.contains("id=\"sweep-status\"") && byName.body.contains("8 of 8 recorded runs finished"))
        #expect(byName.body.contains("id=\"sweep-table-i-4\"") && byName.body.contains("data-src=\"/api/sweep/parallel?name="))
        let byLabel = try server.get("/sweep?label=lr-grid")
        #expect(byLabel.status == 200 && byLabel.body.contains("8 of 8 recorded runs finished"))
        let parallel = try Self.object(try server.get("/api/sweep/parallel?label=lr-grid").body)
        let axes = (parallel["axes"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(axes == ["algorithm", "phi", "delta", "lr"], "only the settings that vary: \(axes ?? [])")
        let lines = try #require(parallel["lines"] as? [[String: Any]])
        #expect(lines.count == 4 && lines.allSatisfy { ($0["objective"] as? Double).map { $0 > 0 } == true })
        #expect(try server.get("/sweep?name=nothing.json").status == 404)
        #expect(try server.get("/sweep").status == 400)
        #expect(try server.get("/sweep?name=a&label=b").status == 400)
        // Linked from the run page of one of its runs.
        let runs = try #require(try CLI.json(try CLI.run(["list", "--db", db, "--format", "json"])) as? [[String: Any]])
        let member = try #require(runs.compactMap { $0["run_id"] as? String }.first { id in
            (try? server.get("/runs/\(id)").body.contains("/sweep?name=")) == true
        })
        #expect(try server.get("/runs/\(member)").body.contains("/sweep?label=lr-grid"))
        #expect(server.stop() == 0)
    }

    struct Edit {
        let server: UIServer
        let db: String
        let run: String

        var origin: String { "http://127.0.0.1:\(server.port)" }

        func token() throws -> String {
            let page = try server.get("/runs/\(run)").body
            let range = try #require(page.range(of: #"name="token" value="[0-9a-f]{64}""#, options: .regularExpression))
            return String(page[range].dropLast().suffix(64))
        }

        func post(_ path: String, _ fields: [(String, String)], headers: [String: String]? = nil) throws -> UIServer.Response {
            let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
            return try server.request("POST", path, headers: (headers ?? ["Origin": origin]).merging(
                ["Content-Type": "application/x-www-form-urlencoded"]) { a, _ in a }, body: body)
        }

        func shown() throws -> [String: Any] {
            let result = try CLI.run(["show", run, "--db", db, "--format", "json"])
            #expect(result.status == 0, "\(result.stderr)")
            return try #require(try CLI.json(result) as? [String: Any])
        }
        var tags: [String: String] { get throws { try shown()["tags"] as? [String: String] ?? [:] } }
    }

    /// Read-only by default: every POST is 405 and the run page has no forms.
    @Test func withoutAllowEditsEveryPostIs405() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-readonly")
        let db = dir.path("ui.db")
        let run = try Self.record(db, ["--algo", "ql", "--n", "5", "--iterations", "200"])
        let server = try UIServer(database: db)
        let edit = Edit(server: server, db: db, run: run)
        #expect(!(try server.get("/runs/\(run)").body.contains("name=\"token\"")))
        for path in ["/runs/\(run)/tags", "/runs/\(run)/note"] {
            let response = try edit.post(path, [("key", "a"), ("value", "b"), ("note", "x"), ("token", "0")])
            #expect(response.status == 405 && response.headers["allow"] == "GET, HEAD", "\(path)")
        }
        #expect(try edit.tags.isEmpty)
        #expect(server.stop() == 0)
    }

    /// `--allow-edits`: the forms set and remove tags and the note through tracker tag's and note's code
    /// (NFC keys, the key rules); a POST without the token, with a wrong one, from another origin or
    /// through a host name is 403 and changes nothing.
    @Test func allowEditsSetsTagsAndNotesOnlyWithTokenAndSameOrigin() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-edits")
        let db = dir.path("ui.db")
        let run = try Self.record(db, ["--algo", "ql", "--n", "5", "--iterations", "200"])
        let server = try UIServer(database: db, extraArguments: ["--allow-edits"])
        let edit = Edit(server: server, db: db, run: run)
        let token = try edit.token()
        let tags = "/runs/\(run)/tags", note = "/runs/\(run)/note"
        // The browser must send its Origin with the form (no-referrer would make it `null`).
        #expect(try server.get("/runs/\(run)").headers["referrer-policy"] == "same-origin")

        // Refused, nothing written.
        let refusals: [(String, [(String, String)], [String: String]?)] = [
            ("no token", [("key", "k"), ("value", "v")], nil),
            ("wrong token", [("key", "k"), ("value", "v"), ("token", String(repeating: "0", count: 64))], nil),
            ("cross-origin", [("key", "k"), ("value", "v"), ("token", token)], ["Origin": "http://evil.example"]),
            ("other port", [("key", "k"), ("value", "v"), ("token", token)], ["Origin": "http://127.0.0.1:1"]),
            ("cross-origin referer", [("key", "k"), ("value", "v"), ("token", token)], ["Referer": "http://evil.example/page"]),
            ("no origin at all", [("key", "k"), ("value", "v"), ("token", token)], [:]),
            ("null origin", [("key", "k"), ("value", "v"), ("token", token)], ["Origin": "null"]),
        ]
        for (why, fields, headers) in refusals {
            #expect(try edit.post(tags, fields, headers: headers).status == 403, "\(why)")
            #expect(try edit.post(note, [("note", "x")] + fields.filter { $0.0 == "token" }, headers: headers).status == 403, "\(why)")
        }
        // A host name (DNS rebinding) is refused even with a matching Origin.
        let form = "key=k&value=v&token=\(token)"
        let rebound = try server.exchange(Data(("POST \(tags) HTTP/1.1\r\nHost: evil.example:\(server.port)\r\n"
            + "Origin: http://evil.example:\(server.port)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Content-Length: \(form.utf8.count)\r\nConnection: close\r\n\r\n" + form).utf8))
        #expect(rebound.status == 403)
        #expect(try edit.tags.isEmpty && (try edit.shown()["note"]) is NSNull)

        // Accepted: a tag (its key stored in NFC), then a note; each answers 303 back to the run page.
        let set = try edit.post(tags, [("key", "cafe\u{0301}"), ("value", "yes <b>"), ("token", token)])
        #expect(set.status == 303 && set.headers["location"] == "/runs/\(run)")
        #expect(try edit.tags == ["caf\u{00E9}": "yes <b>"])
        // The Referer stands in for a missing Origin.
        let viaReferer = try edit.post(tags, [("key", "second"), ("value", "2"), ("token", token)],
                                       headers: ["Referer": "\(edit.origin)/runs/\(run)"])
        #expect(viaReferer.status == 303)
        #expect(try edit.post(note, [("note", "looked at it\nline two"), ("token", token)]).status == 303)
        #expect(try edit.shown()["note"] as? String == "looked at it\nline two")
        let page = try server.get("/runs/\(run)").body
        #expect(page.contains("yes &lt;b&gt;") && page.contains("looked at it"))
        // The key rules of tracker tag: '=' in a key, no key at all.
        #expect(try edit.post(tags, [("key", "a=b"), ("value", "v"), ("token", token)]).status == 400)
        #expect(try edit.post(tags, [("value", "v"), ("token", token)]).status == 400)
        // Removing (by the decomposed spelling: one key) and clearing the note.
        #expect(try edit.post(tags, [("remove", "cafe\u{0301}"), ("token", token)]).status == 303)
        #expect(try edit.tags == ["second": "2"])
        #expect(try edit.post(note, [("note", ""), ("token", token)]).status == 303)
        #expect(try edit.shown()["note"] is NSNull)
        // An unknown run is a 404; other paths still take no POST.
        #expect(try edit.post("/runs/ffffffffff/tags", [("key", "k"), ("token", token)]).status == 404)
        #expect(try edit.post("/", [("token", token)]).status == 405)
        // Another process's token is not this one's.
        let other = try UIServer(database: db, extraArguments: ["--allow-edits"])
        let otherToken = try Edit(server: other, db: db, run: run).token()
        #expect(otherToken != token)
        #expect(try edit.post(tags, [("key", "k"), ("value", "v"), ("token", otherToken)]).status == 403)
        #expect(other.stop() == 0)
        #expect(server.stop() == 0)
    }
}
