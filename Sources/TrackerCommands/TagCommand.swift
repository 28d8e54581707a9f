import ArgumentParser
import TrackerStore

/// `tracker tag`: sets or removes tags on a recorded run.
public struct TagCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Tag a run after the fact: KEY=VALUE sets a tag, --remove KEY drops one.",
        discussion: """
            Tags never change how runs are grouped: select with list --tag KEY=VALUE or --where tag.KEY=VALUE \
            (list, compare, plot), group with compare/plot --by tag.KEY. They live in the table run_tags.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("The run's id (or a unique prefix of it).", valueName: "run-id"))
    var runID: String

    @Argument(help: ArgumentHelp(
        "Tags to set; a key must be non-empty and contain no '=', and is stored in Unicode NFC (é typed composed or decomposed is one key).",
        valueName: "KEY=VALUE"))
    var tags: [String] = []

    @Option(help: ArgumentHelp("Remove the tag with this key (no error when the run lacks it). Repeatable.",
                               valueName: "KEY"))
    var remove: [String] = []

    public init() {}

    public func validate() throws {
        if tags.isEmpty && remove.isEmpty { throw ValidationError("Give at least one KEY=VALUE or --remove KEY.") }
        _ = try parsedTags()
        for key in remove {
            do { try RunTags.checkKey(key) } catch { throw ValidationError("--remove: \(error)") }
        }
    }

    func parsedTags() throws -> [(key: String, value: String)] {
        try tags.map { text in
            do { return try RunTags.parse(text) } catch { throw ValidationError("\(error)") }
        }
    }

    public func run() throws {
        let store = try database.openStore(.readWriteExisting)
        let record = try store.run(runID)
        try store.updateTags(ofRun: record.id, setting: try parsedTags(), removing: remove)
    }
}

/// `tracker note`: sets a run's note.
public struct NoteCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "note",
        abstract: "Set a run's note (an empty text removes it); show prints it. It lives in the table run_notes."
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("The run's id (or a unique prefix of it).", valueName: "run-id"))
    var runID: String

    @Argument(help: ArgumentHelp("The note, replacing any earlier one.", valueName: "text"))
    var text: String

    public init() {}

    public func run() throws {
        let store = try database.openStore(.readWriteExisting)
        let record = try store.run(runID)
        try store.setNote(ofRun: record.id, to: text)
    }
}
