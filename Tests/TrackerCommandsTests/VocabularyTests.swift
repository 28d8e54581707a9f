import Foundation
import Testing
import TestSupport

/// One vocabulary of settings (issue 21, docs/settings.md): every alias accepted wherever a name is, a
/// wrong name refused with exit 64 and the list from every command; and the dashboard shows a run as
/// `tracker show` does. Real binary, real server, real files.
@Suite(.serialized) struct VocabularyTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Records one run and returns its id.
    static func record(_ db: String, _ arguments: [String]) throws -> String {
        let result = try CLI.run(["run", "--db", db, "--quiet", "--format", "json"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require((try CLI.json(result) as? [String: Any])?["run_id"] as? String)
    }

    @Test func docsSettingsIsGeneratedFromTheVocabulary() throws {
        let document = try String(contentsOf: Self.repository.appendingPathComponent("docs/settings.md"), encoding: .utf8)
        let generated = try CLI.run(["settings-reference"])
        #expect(generated.status == 0)
        #expect(generated.stdout == document, "docs/settings.md is stale: run `tracker settings-reference > docs/settings.md`")
        #expect(document.contains("| `lr` | `learning_rate`, `learning-rate` | `learning_rate` |"))
    }

    @Test func everyAliasIsAcceptedWhereANameIs() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-vocabulary")
        let db = dir.path("v.db")
        _ = try Self.record(db, ["--algo", "ql", "--n", "4", "--iterations", "60"])
        let fast = try Self.record(db, ["--algo", "ql", "--n", "4", "--iterations", "60", "--lr", "0.5"])
        _ = try Self.record(db, ["--algo", "dteql", "--phi", "3", "--n", "4", "--iterations", "60", "--learning-rate", "0.5"])

        let byShort = try CLI.run(["compare", "--db", db, "--by", "lr"])
        let byColumn = try CLI.run(["compare", "--db", db, "--by", "learning_rate"])
        let byFlag = try CLI.run(["compare", "--db", db, "--by", "learning-rate"])
        #expect(byShort.status == 0, "\(byShort.stderr)")
        #expect(byShort.stdout == byColumn.stdout && byShort.stdout == byFlag.stdout)
        #expect(byShort.stdout.contains("0.5"))

        let whereShort = try CLI.run(["list", "--db", db, "--where", "lr=0.5", "--where", "algo=ql", "--format", "csv"])
        let whereColumn = try CLI.run(["list", "--db", db, "--where", "learning_rate=0.5", "--where", "algorithm=ql", "--format", "csv"])
        #expect(whereShort.status == 0 && whereShort.stdout == whereColumn.stdout, "\(whereShort.stderr)\(whereColumn.stderr)")
        #expect(whereShort.stdout.contains(fast))
        for (alias, name) in [("gamma", "discount"), ("beta", "epsilon_decay")] {
            let a = try CLI.run(["compare", "--db", db, "--by", alias])
            let b = try CLI.run(["compare", "--db", db, "--by", name])
            #expect(a.status == 0 && a.stdout == b.stdout, "\(alias) / \(name): \(a.stderr)\(b.stderr)")
        }
    }

    @Test func theDashboardTakesEveryNameToo() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-vocabulary")
        let db = dir.path("v.db")
        _ = try Self.record(db, ["--algo", "ql", "--n", "4", "--iterations", "60"])
        _ = try Self.record(db, ["--algo", "ql", "--n", "4", "--iterations", "60", "--lr", "0.5"])
        let server = try UIServer(database: db)
        let short = try server.get("/compare?by=lr&where=discount%3D0.9")
        let long = try server.get("/compare?by=learning_rate&where=gamma%3D0.9")
        #expect(short.status == 200 && short.body == long.body)
        let wrong = try server.get("/compare?by=learning_rat")
        #expect(wrong.status == 400 && wrong.body.contains("unknown setting &apos;learning_rat&apos;") && wrong.body.contains("learning_rate = lr"))
        #expect(try server.get("/compare?by=algo").status == 400)
    }

    @Test func aWrongNameIsExit64WithTheListFromEveryCommand() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-vocabulary")
        let db = dir.path("v.db")
        _ = try Self.record(db, ["--algo", "ql", "--n", "4", "--iterations", "60"])
        let commands: [[String]] = [
            ["compare", "--db", db, "--by", "learning_rat"],
            ["compare", "--db", db, "--where", "learning_rat=1"],
            ["list", "--db", db, "--where", "learning_rat=1"],
            ["plot", "--db", db, "--n", "4", "--where", "learning_rat=1"],
            ["plot", "--db", db, "--n", "4", "--by", "learning_rat"],
            ["delete", "--db", db, "--where", "learning_rat=1", "--yes"],
        ]
        for command in commands {
            let result = try CLI.run(command)
            #expect(result.status == 64, "\(command): \(result.status) \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("unknown setting 'learning_rat'; known: algorithm, n, phi")
                && result.stderr.contains("learning_rate = lr"), "\(command): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        #expect(try CLI.run(["compare", "--db", db, "--by", "algorithm"]).status == 64)
        #expect(try CLI.run(["list", "--db", db]).stdout.contains("ql"), "nothing was deleted")
    }

    @Test func aSweepSpecTakesEveryNameOfASetting() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-vocabulary")
        let db = dir.path("v.db")
        let spec = dir.path("lr.json")
        try #"{"n": [4], "iterations": 40, "configurations": [{"algorithm": "ql"}], "hyperparameters": {"lr": [0.25], "gamma": [0.5], "epsilon_decay": [100]}}"#
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let sweep = try CLI.run(["sweep", spec, "--db", db])
        #expect(sweep.status == 0, "\(sweep.stderr)")
        let listed = try CLI.run(["list", "--db", db, "--where", "learning_rate=0.25", "--where", "discount=0.5",
                                  "--where", "beta=100", "--format", "csv"])
        #expect(listed.status == 0 && listed.stdout.split(separator: "\n").count == 2, "\(listed.stdout)\(listed.stderr)")

        let twice = dir.path("twice.json")
        try #"{"n": [4], "configurations": [{"algorithm": "ql"}], "hyperparameters": {"beta": [1], "epsilon_decay": [2]}}"#
            .write(toFile: twice, atomically: true, encoding: .utf8)
        let refused = try CLI.run(["sweep", twice, "--db", db])
        #expect(refused.status == 1 && refused.stderr.contains("'beta' and 'epsilon_decay' name one setting (beta)"), "\(refused.stderr)")
    }

    @Test func showLeavesOutSettingsTheAlgorithmDoesNotUse() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-vocabulary")
        let db = dir.path("v.db")
        let ql = try Self.record(db, ["--algo", "ql", "--n", "4", "--iterations", "40"])
        let dteql = try Self.record(db, ["--algo", "dteql", "--phi", "3", "--n", "4", "--iterations", "40"])
        let dtaql = try Self.record(db, ["--algo", "dtaql", "--phi", "2", "--n", "4", "--iterations", "40"])
        func params(_ run: String) throws -> [String: Any] {
            let shown = try CLI.run(["show", run, "--db", db, "--format", "json"])
            return try #require((try CLI.json(shown) as? [String: Any])?["settings"] as? [String: Any])
        }
        let qlParams = try params(ql), dteqlParams = try params(dteql), dtaqlParams = try params(dtaql)
        #expect(qlParams["delta"] == nil && qlParams["phi"] == nil && qlParams["aggregation"] == nil && qlParams["lr"] != nil)
        #expect(dteqlParams["delta"] == nil && dteqlParams["phi"] != nil)
        #expect(dtaqlParams["delta"] != nil && dtaqlParams["phi"] != nil && dtaqlParams["aggregation"] != nil)
        let table = try CLI.run(["show", dteql, "--db", db]).stdout
        #expect(!table.contains("delta"))
    }

    @Test func theRunPageShowsWhatShowShows() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-vocabulary")
        let db = dir.path("v.db")
        let ql = try Self.record(db, ["--algo", "ql", "--n", "4", "--iterations", "40"])
        let dteql = try Self.record(db, ["--algo", "dteql", "--phi", "3", "--n", "4", "--iterations", "40"])
        #expect(try CLI.run(["tag", ql, "baseline=yes", "--db", db]).status == 0)
        #expect(try CLI.run(["note", ql, "a <b>note</b> & more", "--db", db]).status == 0)
        let shown = try #require(try CLI.json(try CLI.run(["show", ql, "--db", db, "--format", "json"])) as? [String: Any])
        let provenance = try #require(shown["provenance"] as? [String: Any])
        let commandLine = try #require(provenance["command_line"] as? String)

        let server = try UIServer(database: db)
        let page = try server.get("/runs/\(ql)")
        #expect(page.status == 200)
        #expect(page.body.contains("<h2>Tags</h2>") && page.body.contains(">baseline</th>") && page.body.contains(">yes</span>"))
        #expect(page.body.contains("a &lt;b&gt;note&lt;/b&gt; &amp; more") && !page.body.contains("<b>note"))
        #expect(page.body.contains("command line") && page.body.contains("working directory") && page.body.contains("git commit"))
        #expect(page.body.contains("SQLite version") && page.body.contains(ql))
        #expect(!page.body.contains(">delta</th>") && !page.body.contains(">phi</th>"), "QL has neither delta nor phi")
        let dteqlPage = try server.get("/runs/\(dteql)")
        #expect(!dteqlPage.body.contains(">delta</th>") && dteqlPage.body.contains(">phi</th>"))

        let api = try #require(try JSONSerialization.jsonObject(with: Data(server.get("/api/runs/\(ql)").body.utf8)) as? [String: Any])
        #expect((api["tags"] as? [String: String]) == ["baseline": "yes"])
        #expect(api["note"] as? String == "a <b>note</b> & more")
        let apiProvenance = try #require(api["provenance"] as? [String: Any])
        #expect(apiProvenance["command_line"] as? String == commandLine)
        #expect(apiProvenance["sqlite_version"] as? String == provenance["sqlite_version"] as? String)
        #expect(apiProvenance.keys.contains("git_commit") && apiProvenance.keys.contains("git_dirty"))
        let settings = try #require(api["settings"] as? [String: Any])
        #expect(settings["delta"] == nil && settings["lr"] != nil)
    }

    @Test func savedQueriesResolveRunIDPrefixesAsTheCLIDoes() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-vocabulary")
        let db = dir.path("v.db")
        let run = try Self.record(db, ["--algo", "ql", "--n", "4", "--iterations", "200"])
        let prefix = String(run.prefix(6))
        let cli = try CLI.run(["query", "run_history", "--db", db, "--param", "run_id=\(prefix)", "--param", "step=50", "--format", "csv"])
        #expect(cli.status == 0, "\(cli.stderr)")
        let server = try UIServer(database: db)
        let csv = try server.get("/queries/run_history.csv?run_id=\(prefix)&step=50")
        #expect(csv.status == 200 && csv.body == cli.stdout, "\(csv.body) vs \(cli.stdout)")
        #expect(csv.body.split(separator: "\n").count > 1, "the prefix finds the run's rows")
        let page = try server.get("/queries/run_history?run_id=\(prefix)&step=50")
        #expect(page.status == 200 && page.body.contains("rows 1 to"))

        let unknownCLI = try CLI.run(["query", "run_history", "--db", db, "--param", "run_id=zzzz", "--format", "csv"])
        #expect(unknownCLI.status == 1)
        for path in ["/queries/run_history?run_id=zzzz", "/queries/run_history.csv?run_id=zzzz", "/api/queries/run_history?run_id=zzzz"] {
            let unknown = try server.get(path)
            #expect(unknown.status == 400, "\(path): \(unknown.status)")
            #expect(unknown.body.contains("no run with id"), "\(path): \(unknown.body)")
        }
    }
}
