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
