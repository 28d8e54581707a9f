import Foundation
import SQLite
import Testing
import TestSupport

/// Tags and notes put on runs after the fact (`tracker tag`, `tracker note`): they round-trip through a
/// real database file, select runs (`list --tag`, `--where tag.K=V`), group them only under `--by tag.K`,
/// and travel with their runs through `tracker merge`.
@Suite(.serialized) struct TagTests {
    static let quickRun = ["run", "--algo", "ql", "--n", "4", "--iterations", "50", "--quiet"]

    /// Two finished QL runs of one configuration (seeds 1 and 2); returns their run ids in that order.
    static func twoRuns(_ db: String) throws -> [String] {
        for seed in ["1", "2"] {
            let result = try CLI.run(quickRun + ["--db", db, "--seed", seed])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let list = try CLI.run(["list", "--db", db, "--format", "csv", "--oldest-first"])
        return list.stdout.split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0]) }
    }

    static func show(_ db: String, _ runID: String) throws -> [String: Any] {
        let result = try CLI.run(["show", "--db", db, runID, "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try CLI.json(result) as? [String: Any])
    }

    static func listedRunIDs(_ db: String, _ filters: [String]) throws -> [String] {
        let list = try CLI.run(["list", "--db", db, "--format", "csv", "--oldest-first"] + filters)
        #expect(list.status == 0, "\(list.stderr)")
        return list.stdout.split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0]) }
    }

    @Test func tagsAndNotesRoundTripThroughTheCommandLine() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let ids = try Self.twoRuns(db)
        let hostile = "a\u{1B}[31mb\nc"
        // A prefix of the run id works as everywhere else.
        let tag = try CLI.run(["tag", "--db", db, String(ids[0].prefix(5)), "baseline=yes", "who=\(hostile)", "empty="])
        #expect(tag.status == 0 && tag.stdout.isEmpty, "\(tag.stderr)")
        let note = try CLI.run(["note", "--db", db, ids[0], "first try; 'quoted'\nsecond line"])
        #expect(note.status == 0, "\(note.stderr)")

        var object = try Self.show(db, ids[0])
        #expect(object["tags"] as? [String: String] == ["baseline": "yes", "who": hostile, "empty": ""])
        #expect(object["note"] as? String == "first try; 'quoted'\nsecond line")
        let other = try Self.show(db, ids[1])
        #expect(other["tags"] as? [String: String] == [:])
        #expect(other["note"] is NSNull)

        // The table form escapes what was typed, so it cannot drive the terminal or break a line.
        let table = try CLI.run(["show", "--db", db, ids[0]])
        #expect(table.stdout.contains("Tags\nbaseline  yes\nempty     \nwho       a\\u{1B}[31mb\\nc\n"), "\(table.stdout)")
        #expect(table.stdout.contains("Note\nnote  first try; 'quoted'\\nsecond line\n"))
        #expect(!table.stdout.contains("\u{1B}"))

        // Setting again replaces a value; --remove drops a key (a missing one is no error); an empty note
        // removes the note.
        #expect(try CLI.run(["tag", "--db", db, ids[0], "baseline=no", "--remove", "who", "--remove", "never"]).status == 0)
        #expect(try CLI.run(["note", "--db", db, ids[0], ""]).status == 0)
        object = try Self.show(db, ids[0])
        #expect(object["tags"] as? [String: String] == ["baseline": "no", "empty": ""])
        #expect(object["note"] is NSNull)

        // Tags are their own table, queryable in plain SQL.
        let sql = try Database(path: db, mode: .readOnly).prepare("""
            SELECT r.run_id FROM runs r JOIN run_tags t ON t.run = r.id WHERE t.key = 'baseline' AND t.value = 'no'
            """).rows { $0.text(0) }
        #expect(sql == [ids[0]])

        // A deleted run takes its tags and note with it.
        #expect(try CLI.run(["note", "--db", db, ids[0], "gone soon"]).status == 0)
        #expect(try CLI.run(["delete", "--db", db, ids[0], "--yes"]).status == 0)
        let left = try Database(path: db, mode: .readOnly).prepare(
            "SELECT (SELECT count(*) FROM run_tags) + (SELECT count(*) FROM run_notes)").rows { $0.int(0) }
        #expect(left == [0])
    }

    @Test func tagsSelectWithWhereAndGroupOnlyUnderBy() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("t.db")
        let ids = try Self.twoRuns(db)
        #expect(try CLI.run(["tag", "--db", db, ids[0], "baseline=yes", "batch=1"]).status == 0)
        #expect(try CLI.run(["tag", "--db", db, ids[1], "batch=1"]).status == 0)

        #expect(try Self.listedRunIDs(db, ["--tag", "baseline=yes"]) == [ids[0]])
        #expect(try Self.listedRunIDs(db, ["--tag", "batch=1"]) == ids)
        #expect(try Self.listedRunIDs(db, ["--tag", "batch=1", "--tag", "baseline=yes"]) == [ids[0]])
        #expect(try Self.listedRunIDs(db, ["--where", "tag.baseline=yes"]) == [ids[0]])
        #expect(try Self.listedRunIDs(db, ["--tag", "baseline=no"]) == [])

        // Without --by, tags do not split the configuration: one QL column over both runs.
        let plain = try CLI.run(["compare", "--db", db, "--n", "4", "--format", "json"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let plainRows = try #require(try CLI.json(plain) as? [[String: Any]])
        #expect(plainRows.count == 1 && plainRows.first?["runs"] as? Int == 2, "\(plain.stdout)")

        let filtered = try CLI.run(["compare", "--db", db, "--n", "4", "--where", "tag.baseline=yes", "--format", "json"])
        #expect(filtered.status == 0, "\(filtered.stderr)")
        let filteredRows = try #require(try CLI.json(filtered) as? [[String: Any]])
        #expect(filteredRows.count == 1 && filteredRows.first?["runs"] as? Int == 1, "\(filtered.stdout)")

        // --by tag.K: a row per value, the untagged run under none.
        let byTag = try CLI.run(["compare", "--db", db, "--by", "tag.baseline"])
        #expect(byTag.status == 0, "\(byTag.stderr)")
        let lines = byTag.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("tag.baseline") == true, "\(byTag.stdout)")
        #expect(lines.contains { $0.hasPrefix("none ") } && lines.contains { $0.hasPrefix("yes ") }, "\(byTag.stdout)")

        // plot takes the same --where and --by.
        let svg = dir.path("by-tag.svg")
        let plot = try CLI.run(["plot", "--db", db, "--n", "4", "--by", "tag.baseline", "--where", "tag.batch=1", "--out", svg])
        #expect(plot.status == 0, "\(plot.stderr)")
        let drawn = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(drawn.contains("tag.baseline=yes") && drawn.contains("tag.baseline=none"))
    }

    @Test func mergeCarriesTagsAndNotes() throws {
        let dir = try TemporaryDirectory()
        let src = dir.path("src.db")
        let ids = try Self.twoRuns(src)
        #expect(try CLI.run(["tag", "--db", src, ids[1], "reviewed=yes"]).status == 0)
        #expect(try CLI.run(["note", "--db", src, ids[1], "looks right"]).status == 0)
        let out = dir.path("out.db")
        let merge = try CLI.run(["merge", out, src])
        #expect(merge.status == 0, "\(merge.stderr)")
        let merged = try Self.show(out, ids[1])
        #expect(merged["tags"] as? [String: String] == ["reviewed": "yes"])
        #expect(merged["note"] as? String == "looks right")
        #expect(try Self.show(out, ids[0])["tags"] as? [String: String] == [:])
    }
}
