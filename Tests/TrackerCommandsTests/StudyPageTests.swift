import Foundation
import Testing
import TestSupport
import TrackerWeb

/// The dashboard's study pages (issue 24, item 4) over a real database made by `tracker tune` on the
/// repository's studies/quick.json: status codes, the progress numbers against `tracker tune --status
/// --format json`, the leaderboard's order, hostile names escaped, an unknown study 404.
@Suite(.serialized) struct StudyPageTests {
    static let hostile = DashboardRouteTests.hostile

    struct Fixture {
        let dir: TemporaryDirectory
        let db: String
        let spec: String
        let hostileSpec: String
        let hostileName: String
    }

    static func makeFixture() throws -> Fixture {
        let dir = try TemporaryDirectory(prefix: "tracker-study-page")
        let db = dir.path("study.db")
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let quick = try String(contentsOf: repository.appendingPathComponent("studies/quick.json"), encoding: .utf8)
        let spec = dir.path("quick.json")
        try quick.write(toFile: spec, atomically: true, encoding: .utf8)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(quick.utf8)) as? [String: Any])
        let hostileName = "q<script>alert(1)</script>&\"'"
        object["name"] = hostileName
        object["description"] = hostile
        object["trials"] = 3
        let hostileSpec = dir.path("hostile.json")
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: hostileSpec))
        for path in [spec, hostileSpec] {
            let result = try CLI.run(["tune", path, "--db", db, "--jobs", "2", "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        return Fixture(dir: dir, db: db, spec: spec, hostileSpec: hostileSpec, hostileName: hostileName)
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text.prefix(300))")
    }

    @Test func studyPagesAgreeWithTuneStatusAndEscapeHostileText() async throws {
        let f = try Self.makeFixture()
        let status = try CLI.run(["tune", f.spec, "--db", f.db, "--status", "--format", "json"])
        #expect(status.status == 0, "\(status.stderr)")
        let expected = try Self.object(status.stdout)
        let name = try #require(expected["study"] as? String)
        let query = "name=" + name  // quick-n5: nothing to encode
        let hostileQuery = "name=" + (f.hostileName.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        let uris = ["/studies", "/api/studies", "/study?\(query)", "/api/study?\(query)", "/api/study/parallel?\(query)",
                    "/api/study/budget?\(query)", "/study?\(hostileQuery)", "/api/study?\(hostileQuery)",
                    "/study?name=no-such-study", "/api/study?name=no-such-study", "/study", "/study?name=%3Cb%3Ex"]
        let answers = try await DashboardRouteTests.get(f.db, uris)
        for (uri, answer) in zip(uris, answers).prefix(8) {
            #expect(answer.status == 200, "\(uri): \(answer.status) \(answer.body.prefix(300))")
            DashboardRouteTests.expectSecurityHeaders(answer, uri)
        }
        // Unknown study: 404 with one line; no name: 400; the hostile name in the message is escaped.
        #expect(answers[8].status == 404 && answers[8].body.contains("no study named"), "\(answers[8].body.prefix(300))")
        let missing = try Self.object(answers[9].body)["error"] as? String
        #expect(answers[9].status == 404 && missing == "no study named 'no-such-study'", "\(missing ?? "")")
        #expect(answers[10].status == 400, "\(answers[10].status)")
        #expect(answers[11].status == 404 && !answers[11].body.contains("<b>x") && answers[11].body.contains("&lt;b&gt;x"),
                "\(answers[11].body.prefix(300))")

        // /api/study is `tune --status --format json`, key for key.
        let served = try Self.object(answers[3].body)
        // Compared as canonical JSON texts (sorted keys): Foundation's NSDictionary equality on Linux tells a
        // parsed `true` from a parsed `true` of another document.
        func canonical(_ value: Any?) -> String {
            String(decoding: (try? JSONSerialization.data(withJSONObject: [value ?? NSNull()], options: [.sortedKeys])) ?? Data(), as: UTF8.self)
        }
        let differing = Set(served.keys).union(expected.keys).filter { canonical(served[$0]) != canonical(expected[$0]) }
        #expect(differing.isEmpty, "/api/study differs from tune --status in \(differing.sorted()): \(differing.map { "\(served[$0] ?? "") vs \(expected[$0] ?? "")" })")
        // The page shows the same progress numbers.
        let page = answers[2].body
        let done = try #require(expected["trial_rungs_done"] as? Int), total = try #require(expected["trial_rungs_total"] as? Int)
        let spent = try #require(expected["iterations_spent"] as? Int)
        #expect(page.contains("\(done) of \(total) trial-rungs done, \(spent) iterations spent"), "\(page.prefix(2000))")
        let trials = try #require(expected["trials"] as? [[String: Any]])
        var counts: [String: Int] = [:]
        for trial in trials { counts[trial["state"] as? String ?? "", default: 0] += 1 }
        let statusRow = try #require(page.range(of: "id=\"study-status\"").map { String(page[$0.upperBound...].prefix(1200)) })
        let cells = statusRow.components(separatedBy: "<td class=\"num\">").dropFirst().prefix(5).map { $0.prefix { $0 != "<" } }
        #expect(cells.map(String.init) == ["pending", "waiting", "promoted", "pruned", "finished"].map { String(counts[$0, default: 0]) },
                "\(cells) vs \(counts)")
        // The leaderboard: best first, deeper rungs before shallower, then the objective (minimize).
        let ranked = trials.filter { $0["rung"] is Int }.sorted { a, b in
            let ra = a["rung"] as! Int, rb = b["rung"] as! Int
            if ra != rb { return ra > rb }
            let oa = a["objective"] as? Double ?? .infinity, ob = b["objective"] as? Double ?? .infinity
            return oa != ob ? oa < ob : (a["trial"] as! Int) < (b["trial"] as! Int)
        }.map { $0["trial"] as! Int }
        let board = try #require(page.range(of: "id=\"study-leaderboard\"").map { String(page[$0.upperBound...]) })
        let rows = board.components(separatedBy: "<tr>").dropFirst(2).prefix(ranked.count)
        let shown = rows.map { row in Int(row.components(separatedBy: "<td class=\"num\">")[2].prefix { $0 != "<" }) ?? -1 }
        #expect(shown == ranked, "leaderboard \(shown) vs \(ranked)")
        #expect(expected["best"].flatMap { ($0 as? [String: Any])?["trial"] as? Int } == ranked.first)
        // The best trial's runs are linked.
        let bestRuns = ((expected["best"] as? [String: Any])?["runs"] as? [String]) ?? []
        #expect(!bestRuns.isEmpty && bestRuns.allSatisfy { page.contains("href=\"/runs/\($0)\"") }, "\(bestRuns)")
        #expect(page.contains("data-src=\"/api/study/budget?\(query)\"") && page.contains("data-src=\"/api/study/parallel?\(query)\""))

        // The list: both studies, linked, with their numbers.
        let list = try #require(try JSONSerialization.jsonObject(with: Data(answers[1].body.utf8)) as? [[String: Any]])
        #expect(Set(list.compactMap { $0["study"] as? String }) == [name, f.hostileName])
        let quick = try #require(list.first { $0["study"] as? String == name })
        #expect(quick["iterations_spent"] as? Int == spent && quick["best_trial"] as? Int == ranked.first)
        #expect(answers[0].body.contains("href=\"/study?\(query)\""), "\(answers[0].body.prefix(2000))")

        // Hostile names and descriptions stay text everywhere.
        for (uri, answer) in [(uris[0], answers[0]), (uris[6], answers[6])] {
            #expect(!answer.body.contains("<script>alert") && !answer.body.contains("<img src=x"), "\(uri)")
            #expect(answer.body.contains("q&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;"), "\(uri): \(answer.body.prefix(1500))")
        }
        let hostileServed = try Self.object(answers[7].body)["study"] as? String
        #expect(hostileServed == f.hostileName)

        // The charts' data: one budget line per ranked trial (at most 40), points at the rungs' budgets.
        let budget = try Self.object(answers[5].body)
        let series = try #require(budget["series"] as? [[String: Any]])
        #expect(series.count == min(40, ranked.count) && series.first?["name"] as? String == "trial \(ranked[0])")
        let rungs = Set((expected["rungs"] as? [Int]) ?? [])
        #expect(series.allSatisfy { (($0["points"] as? [[Double]]) ?? []).allSatisfy { rungs.contains(Int($0[0])) } })
        let parallel = try Self.object(answers[4].body)
        let axes = (parallel["axes"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(axes.contains("lr (log10)") && axes.contains("beta") && axes.contains("phi"), "\(axes)")

        // A run of the study links back to it.
        let runPage = try await DashboardRouteTests.get(f.db, ["/runs/\(bestRuns[0])"])[0]
        #expect(runPage.status == 200 && runPage.body.contains("href=\"/study?\(query)\""), "\(runPage.body.prefix(300))")
    }
}
