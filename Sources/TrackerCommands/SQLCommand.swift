import ArgumentParser
import Foundation
import TrackerReports
import TrackerStore

/// `tracker sql`: one ad-hoc read-only statement.
public struct SQLCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Run one read-only SQL statement on the database ('-' reads it from stdin).",
        discussion: """
            The database is opened read-only and a statement that could write is refused before it runs. \
            Named parameters (:name) take --param name=value, bound as an integer or real when the value \
            is a plain decimal number (-12, 0.5, 1e-3; not 0x10, +5, 007 or inf), else as text. \
            See docs/schema.md for the tables.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("One SQL statement, or - to read it from standard input.", valueName: "sql"))
    var sql: String

    @Option(name: .customLong("param"), help: ArgumentHelp("A named parameter, repeatable.", valueName: "name=value"))
    var parameters: [String] = []

    @Option(help: "Output format.")
    var format: ListingFormat = .table

    @OptionGroup var latex: LaTeXOptions

    @OptionGroup var limit: TimeLimitOption

    public init() {}

    public func validate() throws {
        _ = try parseParameters(parameters)
        try latex.validate(for: format)
    }

    public func run() throws {
        var text = sql
        if sql == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        // SQLite stops reading at a NUL, so the rest of the text would silently not run: refused as a
        // usage error before the database is opened (the store refuses it too, for other callers).
        guard !text.utf8.contains(0) else {
            throw ValidationError("the SQL text holds a NUL character (\\0), where SQLite would stop reading it.")
        }
        let store = try database.openStore(.readOnly)
        try limit.run(on: store) {
            try printRows(format, latex: latex.float) { each in
                try store.readOnlySQL(text, parameters: try parseParameters(parameters), chunkRows: streamedChunkRows, each: each)
            }
        }
    }
}

/// `--timeout SECONDS` of `tracker sql` and `tracker query`: the statement is stopped by SQLite after that
/// long (a progress handler), the command failing with one line; 0 lifts the limit.
struct TimeLimitOption: ParsableArguments {
    @Option(help: ArgumentHelp("Stop the statement after this many seconds (0: no limit).", valueName: "seconds"))
    var timeout: Double = 300

    func validate() throws {
        guard timeout.isFinite, timeout >= 0, timeout <= 86_400 else {
            throw ValidationError("--timeout must be from 0 to 86400 seconds, got \(timeout).")
        }
    }

    /// `body` with the store's statements under the limit; past it, `Error: the statement ran past ...`.
    func run(on store: TrackerStore, _ body: () throws -> Void) throws {
        if timeout > 0 { store.limitTime(to: .milliseconds(Int((timeout * 1000).rounded(.up)))) }
        do {
            try body()
        } catch let error as StoreError where error.isInterrupted {
            let seconds = timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)
            throw CommandFailure("the statement ran past the time limit of \(seconds) s and was stopped (--timeout)")
        }
    }
}

/// Rows per printed piece of a streamed listing.
let streamedChunkRows = 1000

/// Prints a query's rows: CSV and JSON piece by piece as `produce` hands them over (at most
/// `streamedChunkRows` rows held at a time), the aligned table, markdown and LaTeX once every row is in (they size
/// their columns from all of them). A failure after some rows were printed leaves those printed.
func printRows(_ format: ListingFormat, latex: LaTeXFloat = LaTeXFloat(), _ produce: ((QueryResult) throws -> Void) throws -> Void) throws {
    guard ListingStream.supports(format) else {
        var columns: [String] = []
        var rows: [[JSON]] = []
        try produce { chunk in
            columns = chunk.columns
            rows += Table(chunk).rows
        }
        let table = Table(columns: columns, rows: rows)
        try printListing(format == .latex ? table.renderLaTeX(latex) : table.render(format), format)
        return
    }
    var stream = ListingStream(format: format)
    try produce { chunk in
        let text = stream.render(Table(chunk))
        if !text.isEmpty { try printListing(text, format) }
    }
    try printListing(stream.finish(), format)
}
