import ArgumentParser
import Foundation
import TrackerReports
import TrackerStore

/// `tracker query`: run a saved query from queries/ by name.
public struct QueryCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a saved query (queries/NAME.sql) on the database; --list shows them.",
        discussion: """
            Parameters are given as --param name=value and converted to the type the query declares; \
            run_id takes a unique prefix of a run id, as every command does. \
            The database is opened read-only. See docs/queries.md.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("The saved query's name (see --list).", valueName: "name"))
    var name: String?

    @Flag(help: "List the saved queries with their descriptions and parameters (wrapped to $COLUMNS or the terminal's width, else 80).")
    var list = false

    @Option(name: .customLong("param"), help: ArgumentHelp("A parameter, repeatable.", valueName: "name=value"))
    var parameters: [String] = []

    @Option(help: "Output format.")
    var format: ListingFormat = .table

    @OptionGroup var latex: LaTeXOptions

    @OptionGroup var limit: TimeLimitOption

    public init() {}

    public func validate() throws {
        if list, name != nil { throw ValidationError("Give a query name or --list, not both.") }
        if !list, name == nil { throw ValidationError("Give a query name, or --list to see them.") }
        _ = try parseParameters(parameters)
        try latex.validate(for: format)
    }

    public func run() throws {
        if list {
            // The descriptions are long: in table form they wrap to the terminal's width.
            let listing = Table.savedQueryListing()
            try printListing(format == .table ? listing.renderWrapped(width: terminalWidth())
                : format == .latex ? listing.renderLaTeX(latex.float) : listing.render(format), format)
            return
        }
        let query = try SavedQueries.named(name ?? "")
        let store = try database.openStore(.readOnly)
        let values = try store.resolvingRunIDs(in: try parseParameters(parameters))
        try limit.run(on: store) {
            try printRows(format, latex: latex.float) { each in try store.run(query, parameters: values, chunkRows: streamedChunkRows, each: each) }
        }
    }
}

/// `--param name=value` options as a dictionary; a name may be spelled with its ':'.
func parseParameters(_ options: [String]) throws -> [String: String] {
    var result: [String: String] = [:]
    for option in options {
        guard let equals = option.firstIndex(of: "=") else {
            throw ValidationError("--param takes name=value, got '\(option)'.")
        }
        var name = String(option[..<equals]).trimmingCharacters(in: .whitespaces)
        if name.hasPrefix(":") { name.removeFirst() }
        guard !name.isEmpty else { throw ValidationError("--param takes name=value, got '\(option)'.") }
        guard result[name] == nil else { throw ValidationError("--param \(name) is given twice.") }
        result[name] = String(option[option.index(after: equals)...])
    }
    return result
}
