import Foundation
import TrackerStore

extension Table {
    /// A query's rows, each SQLite value as the JSON value that keeps its type (a blob as x'hex' text).
    /// Shared by `tracker query`/`tracker sql` and the dashboard's queries page.
    public init(_ result: QueryResult) {
        self.init(columns: result.columns, rows: result.rows.map { row in
            row.map { value -> JSON in
                switch value {
                case .null: return .null
                case .integer(let v): return .integer(Int(v))
                case .real(let v): return .number(v)
                case .text(let v): return .string(v)
                case .blob(let v): return .string("x'" + v.map { String(format: "%02x", $0) }.joined() + "'")
                }
            }
        })
    }

    /// `tracker query --list`: each saved query's name, description and parameters.
    public static func savedQueryListing() -> Table {
        Table(columns: ["name", "description", "parameters"], rows: SavedQueries.all.map { query in
            [.string(query.name), .string(query.description),
             .string(query.parameters.map(\.signature).joined(separator: "; "))]
        })
    }
}

extension QueryParameter {
    /// `:n integer = NULL (number of tasks)`; required parameters have no `=`.
    public var signature: String {
        var text = ":\(name) \(type.rawValue)"
        if let value = defaultLiteral { text += " = \(value)" }
        return text + " (\(description))"
    }
}

/// A listing printed in pieces as the rows arrive (`tracker sql` and `tracker query` in CSV and JSON), byte
/// for byte what ``Table/render(_:)`` of all the rows at once prints. The aligned table and markdown size
/// their columns from every row, so they are not streamed.
public struct ListingStream {
    public static func supports(_ format: ListingFormat) -> Bool { format == .csv || format == .json }

    private let format: ListingFormat
    private var header: String?
    private var started = false

    public init(format: ListingFormat) {
        precondition(Self.supports(format), "only CSV and JSON are streamed")
        self.format = format
    }

    /// The text for the next rows (`chunk` holds the columns and some rows; the columns must not change).
    public mutating func render(_ chunk: Table) -> String {
        if header == nil { header = Table(columns: chunk.columns).render(format) }
        guard !chunk.rows.isEmpty else { return "" }
        let text = chunk.render(format)
        defer { started = true }
        switch format {
        case .csv:
            // Every chunk renders the header line first; only the first chunk keeps it.
            return started ? String(decoding: Array(text.utf8.dropFirst(header!.utf8.count)), as: UTF8.self) : text
        default:
            // "[" + "\n  {...}" per row (comma-separated) + "\n]\n": the rows join with a comma.
            let rows = String(decoding: Array(text.utf8.dropFirst(1).dropLast(3)), as: UTF8.self)
            return (started ? "," : "[") + rows
        }
    }

    /// What ends the listing: the closing bracket, or the whole (empty) listing when no row came.
    public func finish() -> String {
        if started { return format == .json ? "\n]\n" : "" }
        return header ?? ""
    }
}
