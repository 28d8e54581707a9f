import Foundation
import Testing
import TestSupport

/// Issue 21 item 3: `tracker list` and the dashboard's runs page (`/api/runs`) select runs through one
/// filter (RunFilter) and one WHERE clause, so the same filters give the same runs.
@Suite(.serialized) struct OneListingTests {
    static func record(_ db: String, _ arguments: [String]) throws -> String {
        let result = try CLI.run(["run", "--db", db, "--quiet", "--format", "json", "--n", "4", "--iterations", "40"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require((try CLI.json(result) as? [String: Any])?["run_id"] as? String)
    }

    /// Run ids `list --format json` prints for `arguments`, oldest first.
    static func listed(_ db: String, _ arguments: [String]) throws -> [String] {
        let result = try CLI.run(["list", "--db", db, "--format", "json"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try #require(try CLI.json(result) as? [[String: Any]])
        return rows.compactMap { $0["run_id"] as? String }
    }

    /// Run ids `/api/runs` gives for `query`, creation order ascending to compare with `list`.
    static func browsed(_ server: UIServer, _ query: String) throws -> [String] {
        let response = try server.get("/api/runs?size=500&sort=created&dir=asc" + (query.isEmpty ? "" : "&" + query))
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
        #expect(try Self.listed(db, ["--label", "base"]) == [ql, dtaql])
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
}
