import Foundation
import SQLite

/// The declared type of a saved query's parameter; a value given as text is converted to it.
public enum QueryParameterType: String, Sendable, CaseIterable {
    case integer, real, text
}

/// One `-- :name type [= default] description` line of a saved query's header.
public struct QueryParameter: Sendable {
    /// The name without its `:`.
    public let name: String
    public let type: QueryParameterType
    /// The value used when none is given; `.null` for `= NULL`; nil when the parameter is required.
    public let defaultValue: SQLiteValue?
    public let description: String

    public var isRequired: Bool { defaultValue == nil }

    /// The default as the header spells it (`NULL`, `100`, `'text'`), nil when required.
    public var defaultLiteral: String? {
        switch defaultValue {
        case nil: return nil
        case .null?: return "NULL"
        case .integer(let v)?: return String(v)
        case .real(let v)?: return String(v)
        case .text(let v)?: return "'" + v.replacingOccurrences(of: "'", with: "''") + "'"
        case .blob(let v)?: return "x'" + v.map { String(format: "%02x", $0) }.joined() + "'"
        }
    }
}

/// A named, documented SELECT from `queries/<name>.sql`.
///
/// The file starts with a comment header: the first comment line describes what the query returns, each
/// `-- :name type [= default] description` line declares a named parameter (type `integer`, `real` or
/// `text`; the default a literal or `NULL`; no default = required), and further comment lines are free
/// documentation. Then comes exactly one `SELECT` (or `WITH ... SELECT`) statement.
public struct SavedQuery: Sendable {
    public let name: String
    public let description: String
    public let parameters: [QueryParameter]
    /// The whole file: header comments and the statement (SQLite ignores the comments).
    public let sql: String

    /// Parses the header of `text`; a malformed header throws `StoreError.invalidArgument` naming the
    /// file and line.
    public init(name: String, text: String) throws {
        func failure(_ line: Int?, _ message: String) -> StoreError {
            .invalidArgument("queries/\(name).sql\(line.map { " line \($0)" } ?? ""): \(message)")
        }
        var description: String?
        var parameters: [QueryParameter] = []
        var sawStatement = false
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard line.hasPrefix("--") else {
                let keyword = line.prefix { $0.isLetter }.uppercased()
                guard keyword == "SELECT" || keyword == "WITH" else {
                    throw failure(offset + 1, "the statement must be a SELECT (or WITH ... SELECT), found '\(line.prefix(40))'")
                }
                sawStatement = true
                break
            }
            let comment = line.dropFirst(2).trimmingCharacters(in: .whitespaces)
            if description == nil {
                guard !comment.isEmpty, !comment.hasPrefix(":") else {
                    throw failure(offset + 1, "the first comment line must describe what the query returns")
                }
                description = comment
            } else if comment.hasPrefix(":") {
                do {
                    let parameter = try Self.parseParameter(comment)
                    guard !parameters.contains(where: { $0.name == parameter.name }) else {
                        throw StoreError.invalidArgument("parameter :\(parameter.name) is declared twice")
                    }
                    parameters.append(parameter)
                } catch let error as StoreError {
                    throw failure(offset + 1, error.description)
                }
            }
        }
        guard let description else { throw failure(nil, "no header: start with a comment line describing the query") }
        guard sawStatement else { throw failure(nil, "no SELECT statement after the header") }
        self.name = name
        self.description = description
        self.parameters = parameters
        self.sql = text
    }

    /// `:name type [= default] description`, without the leading `--`.
    private static func parseParameter(_ comment: String) throws -> QueryParameter {
        var rest = Substring(comment.dropFirst())
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard !name.isEmpty, name.first?.isNumber == false else {
            throw StoreError.invalidArgument("a parameter line reads ':name type [= default] description'")
        }
        rest = rest.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
        let typeWord = rest.prefix { !$0.isWhitespace }
        guard let type = QueryParameterType(rawValue: typeWord.lowercased()) else {
            throw StoreError.invalidArgument(
                "parameter :\(name) has type '\(typeWord)'; use \(QueryParameterType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        rest = rest.dropFirst(typeWord.count).drop { $0 == " " || $0 == "\t" }
        var defaultValue: SQLiteValue?
        if rest.hasPrefix("=") {
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
            let literal: String
            if rest.hasPrefix("'") {
                // A quoted text default: '' inside is one quote, as in SQL.
                var text = ""
                var index = rest.index(after: rest.startIndex)
                var closed = false
                while index < rest.endIndex {
                    if rest[index] == "'" {
                        let next = rest.index(after: index)
                        if next < rest.endIndex, rest[next] == "'" {
                            text.append("'")
                            index = rest.index(after: next)
                            continue
                        }
                        closed = true
                        index = next
                        break
                    }
                    text.append(rest[index])
                    index = rest.index(after: index)
                }
                guard closed else { throw StoreError.invalidArgument("parameter :\(name): unterminated quoted default") }
                guard type == .text else {
                    throw StoreError.invalidArgument("parameter :\(name): a quoted default needs type text")
                }
                defaultValue = .text(text)
                rest = rest[index...]
                literal = ""
            } else {
                literal = String(rest.prefix { !$0.isWhitespace })
                guard !literal.isEmpty else { throw StoreError.invalidArgument("parameter :\(name): '=' without a default") }
                rest = rest.dropFirst(literal.count)
            }
            if defaultValue == nil {
                if literal.uppercased() == "NULL" {
                    defaultValue = .null
                } else if let value = convertParameter(literal, to: type) {
                    defaultValue = value
                } else {
                    throw StoreError.invalidArgument("parameter :\(name): default '\(literal)' is not \(type.article) \(type.rawValue)")
                }
            }
            rest = rest.drop { $0 == " " || $0 == "\t" }
        }
        let description = rest.trimmingCharacters(in: .whitespaces)
        guard !description.isEmpty else { throw StoreError.invalidArgument("parameter :\(name) has no description") }
        return QueryParameter(name: String(name), type: type, defaultValue: defaultValue, description: description)
    }

    /// `:n (integer: number of tasks)`, for messages.
    func signature(_ parameter: QueryParameter) -> String {
        ":\(parameter.name) (\(parameter.type.rawValue): \(parameter.description))"
    }
}

extension QueryParameterType {
    var article: String { self == .integer ? "an" : "a" }
}

/// `text` as a value of `type`, or nil when it is not one ("8" is an integer, "8.5" is not). Numbers must
/// be plain decimals (``isPlainDecimal(_:)``): Swift's own parsers would also take "0x10", "+8" or "inf".
func convertParameter(_ text: String, to type: QueryParameterType) -> SQLiteValue? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    switch type {
    case .integer:
        guard isPlainDecimal(trimmed) else { return nil }
        return Int64(trimmed).map(SQLiteValue.integer)
    case .real:
        guard isPlainDecimal(trimmed), let value = Double(trimmed), value.isFinite else { return nil }
        return .real(value)
    case .text:
        return .text(text)
    }
}

/// Whether `text` is a number as JSON spells one: an optional `-`, then `0` or digits without a leading
/// zero, an optional `.` with digits, an optional exponent (`e` or `E`, optional sign, digits). Nothing
/// else: no `+` in front, no hex (`0x10`), no `inf` or `nan`, no `.5` or `5.`, no spaces inside. A leading
/// zero is excluded so that digit-only text such as a run id `0123abcd`'s prefix `0123` stays text.
func isPlainDecimal(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    var index = 0
    func digits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index - start
    }
    if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
    let integerStart = index
    let integerDigits = digits()
    guard integerDigits == 1 || (integerDigits > 1 && bytes[integerStart] != UInt8(ascii: "0")) else { return false }
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
        index += 1
        guard digits() > 0 else { return false }
    }
    if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
        index += 1
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digits() > 0 else { return false }
    }
    return index == bytes.count
}

/// The queries shipped in `queries/`, embedded at build time (the files are the only copy).
public enum SavedQueries {
    public static let all: [SavedQuery] = {
        do {
            return try EmbeddedSQL.queries
                .map { try SavedQuery(name: $0.name, text: $0.sql) }
                .sorted { $0.name < $1.name }
        } catch {
            // The tests parse every file; a malformed header is a build mistake, not user input.
            preconditionFailure("queries/ holds a malformed saved query: \(error)")
        }
    }()

    /// The saved query called `name`; an unknown name lists the known ones.
    public static func named(_ name: String) throws -> SavedQuery {
        if let query = all.first(where: { $0.name == name }) { return query }
        throw StoreError.invalidArgument(
            "no saved query named '\(name)'; known: \(all.map(\.name).joined(separator: ", ")) (see `tracker query --list`)")
    }
}

/// One page of a saved query's rows (``TrackerStore/run(_:parameters:offset:maxRows:maxBytes:maxValueBytes:)``).
public struct QueryPage: Sendable {
    public let result: QueryResult
    /// Rows stepped over before the page.
    public let offset: Int
    /// A row follows the page: the next page starts at `offset + result.rows.count`.
    public let hasMore: Bool
}

extension SQLiteValue {
    /// What the value costs to hold, roughly: its bytes for text and blobs, 8 otherwise.
    var byteCount: Int {
        switch self {
        case .text(let text): return text.utf8.count
        case .blob(let bytes): return bytes.count
        default: return 8
        }
    }
}

/// Rows of a query, values as SQLite stored them.
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [[SQLiteValue]]

    public init(columns: [String], rows: [[SQLiteValue]]) {
        self.columns = columns
        self.rows = rows
    }

    /// The index of a column by name, for readers of a saved query's result.
    public func column(_ name: String) -> Int? { columns.firstIndex(of: name) }
}

extension TrackerStore {
    /// Runs a saved query. Each given value is converted to its parameter's declared type, missing ones
    /// take their defaults; unknown names, missing required ones and values of the wrong type are
    /// one-line errors that name the parameter.
    public func run(_ query: SavedQuery, parameters: [String: String]) throws -> QueryResult {
        let statement = try preparedStatement(for: query, parameters: parameters)
        return try storeOperation("running query \(query.name)") {
            try withValueLimit { try Self.collect(statement) }
        }
    }

    /// Runs a saved query and hands its rows to `each` in chunks of at most `chunkRows`, so a caller that
    /// prints them (`tracker query`) never holds more than one chunk. `each` is called at least once (with
    /// no rows for an empty result), so the columns are always known.
    public func run(_ query: SavedQuery, parameters: [String: String], chunkRows: Int, each: (QueryResult) throws -> Void) throws {
        let statement = try preparedStatement(for: query, parameters: parameters)
        try storeOperation("running query \(query.name)") {
            try withValueLimit { try Self.stream(statement, chunkRows: chunkRows, each: each) }
        }
    }

    /// One page of a saved query's rows, for callers that must bound what they hold (the dashboard): the
    /// rows from `offset` on (the ones before are stepped over, never kept), at most `maxRows` of them,
    /// and no more once they hold `maxBytes` (text and blob bytes, 8 per number; the first row of a page
    /// always counts, so every page moves on). `hasMore` says whether a row follows the page.
    public func run(_ query: SavedQuery, parameters: [String: String], offset: Int, maxRows: Int, maxBytes: Int,
                    maxValueBytes: Int = TrackerStore.maximumValueBytes) throws -> QueryPage {
        let statement = try preparedStatement(for: query, parameters: parameters)
        return try storeOperation("running query \(query.name)") {
            try withValueLimit(maxValueBytes) {
                let columns = (0..<statement.columnCount).map { statement.columnName(Int32($0)) }
                defer { statement.reset() }
                var skipped = 0
                while skipped < offset {
                    guard try statement.step() else {
                        return QueryPage(result: QueryResult(columns: columns, rows: []), offset: offset, hasMore: false)
                    }
                    skipped += 1
                }
                var rows: [[SQLiteValue]] = []
                var bytes = 0
                while rows.count < maxRows && (rows.isEmpty || bytes < maxBytes) {
                    guard try statement.step() else {
                        return QueryPage(result: QueryResult(columns: columns, rows: rows), offset: offset, hasMore: false)
                    }
                    let row = (0..<columns.count).map { statement.value(Int32($0)) }
                    bytes += row.reduce(0) { $0 + $1.byteCount }
                    rows.append(row)
                }
                return QueryPage(result: QueryResult(columns: columns, rows: rows), offset: offset, hasMore: try statement.step())
            }
        }
    }

    /// The largest single value (text or blob) `tracker sql` and the saved queries may make or read: 64 MiB.
    /// Beyond it SQLite stops the statement ("string or blob too big") instead of allocating the value, so
    /// `SELECT zeroblob(1e9)` costs nothing; `length(x)` of a larger stored value still answers.
    public static let maximumValueBytes = 64 * 1024 * 1024

    /// `body` with this connection's values bounded by `limit` bytes (``Database/maximumValueBytes``),
    /// the connection's own limit restored after.
    func withValueLimit<T>(_ limit: Int = TrackerStore.maximumValueBytes, _ body: () throws -> T) rethrows -> T {
        let before = database.maximumValueBytes
        database.maximumValueBytes = min(limit, before)
        defer { database.maximumValueBytes = before }
        return try body()
    }

    /// The saved query prepared with its parameters bound: each given value converted to its declared
    /// type, missing ones their defaults.
    private func preparedStatement(for query: SavedQuery, parameters: [String: String]) throws -> Statement {
        let declared = Set(query.parameters.map(\.name))
        for name in parameters.keys.sorted() where !declared.contains(Self.bareName(name)) {
            let known = query.parameters.map { ":" + $0.name }.joined(separator: ", ")
            throw StoreError.invalidArgument(
                "query \(query.name) has no parameter :\(Self.bareName(name))"
                    + (known.isEmpty ? "; it takes none" : "; its parameters: \(known)"))
        }
        let given = Dictionary(parameters.map { (Self.bareName($0.key), $0.value) }, uniquingKeysWith: { _, last in last })
        var values: [String: SQLiteValue] = [:]
        for parameter in query.parameters {
            if let text = given[parameter.name] {
                guard let value = convertParameter(text, to: parameter.type) else {
                    throw StoreError.invalidArgument(
                        "query \(query.name): parameter :\(parameter.name) is \(parameter.type.article) \(parameter.type.rawValue) "
                            + "(\(parameter.description)), got '\(text)'")
                }
                values[parameter.name] = value
            } else if let fallback = parameter.defaultValue {
                values[parameter.name] = fallback
            } else {
                throw StoreError.invalidArgument(
                    "query \(query.name) needs parameter \(query.signature(parameter)); pass --param \(parameter.name)=VALUE")
            }
        }
        return try storeOperation("running query \(query.name)") {
            let statement = try database.prepare(query.sql)
            guard statement.isReadOnly else {
                throw StoreError.invalidArgument("query \(query.name) writes to the database; saved queries must only read")
            }
            for position in 0..<statement.parameterCount {
                let index = Int32(position + 1)
                let spelled = statement.parameterName(index) ?? "?"
                guard let value = values[Self.bareName(spelled)] else {
                    throw StoreError.invalidArgument(
                        "query \(query.name) uses parameter \(spelled), which its header does not declare")
                }
                try statement.bind(value, at: index)
            }
            return statement
        }
    }

    /// Runs one ad-hoc statement that only reads. A statement that could write (`sqlite3_stmt_readonly`
    /// is false) is refused before it runs, so nothing changes. Named parameters are bound as integers or
    /// reals when their text is a plain decimal number (``isPlainDecimal(_:)``), otherwise as text.
    public func readOnlySQL(_ sql: String, parameters: [String: String] = [:]) throws -> QueryResult {
        var columns: [String] = []
        var rows: [[SQLiteValue]] = []
        try readOnlySQL(sql, parameters: parameters, chunkRows: 1000) { chunk in
            columns = chunk.columns
            rows += chunk.rows
        }
        return QueryResult(columns: columns, rows: rows)
    }

    /// ``readOnlySQL(_:parameters:)`` that hands the rows to `each` in chunks of at most `chunkRows` (at
    /// least one call, for the columns), so `tracker sql` prints a large result without holding it.
    public func readOnlySQL(_ sql: String, parameters: [String: String] = [:], chunkRows: Int,
                            each: (QueryResult) throws -> Void) throws {
        let statement = try Self.prepareAdHoc(sql, in: database)
        guard statement.isReadOnly else {
            throw StoreError.invalidArgument("tracker sql runs read-only statements; this one writes")
        }
        var given = Dictionary(parameters.map { (Self.bareName($0.key), $0.value) }, uniquingKeysWith: { _, last in last })
        for position in 0..<statement.parameterCount {
            let index = Int32(position + 1)
            guard let spelled = statement.parameterName(index) else {
                throw StoreError.invalidArgument("use named parameters (:name) with --param name=VALUE, not '?'")
            }
            let name = Self.bareName(spelled)
            guard let text = given.removeValue(forKey: name) else {
                throw StoreError.invalidArgument("the SQL uses \(spelled); pass --param \(name)=VALUE")
            }
            let value = convertParameter(text, to: .integer) ?? convertParameter(text, to: .real) ?? .text(text)
            try storeOperation("binding \(spelled)") { try statement.bind(value, at: index) }
        }
        if let unused = given.keys.sorted().first {
            throw StoreError.invalidArgument("the SQL has no parameter :\(unused)")
        }
        do {
            try withValueLimit { try Self.stream(statement, chunkRows: chunkRows, each: each) }
        } catch let error as SQLiteError where error.isInterrupted {
            // Past the connection's time limit: the caller knows the limit and says so.
            throw StoreError.database(error, context: "running the SQL")
        } catch let error as SQLiteError {
            throw StoreError.invalidArgument("SQL error: \(error.message)")
        }
    }

    private static func prepareAdHoc(_ sql: String, in database: Database) throws -> Statement {
        let prepared: Result<Statement, SQLiteError> = Result { () throws(SQLiteError) in try database.prepare(sql) }
        switch prepared {
        case .success(let statement):
            return statement
        case .failure(let error):
            switch error.misuse {
            case .severalStatements:
                throw StoreError.invalidArgument("tracker sql runs exactly one statement; this text holds several")
            case .noStatement:
                throw StoreError.invalidArgument("no SQL statement given")
            case .nulCharacter:
                throw StoreError.invalidArgument("the SQL text holds a NUL character (\\0), where SQLite would stop reading it")
            case nil:
                throw StoreError.invalidArgument("SQL error: \(error.message)")
            }
        }
    }

    /// The statement's rows in chunks of at most `chunkRows`; `each` is called at least once. The
    /// statement is reset afterwards, also when `each` or a step throws.
    private static func stream(_ statement: Statement, chunkRows: Int, each: (QueryResult) throws -> Void) throws {
        let columns = (0..<statement.columnCount).map { statement.columnName(Int32($0)) }
        defer { statement.reset() }
        var rows: [[SQLiteValue]] = []
        var delivered = false
        while try statement.step() {
            rows.append((0..<columns.count).map { statement.value(Int32($0)) })
            if rows.count >= max(chunkRows, 1) {
                try each(QueryResult(columns: columns, rows: rows))
                delivered = true
                rows.removeAll(keepingCapacity: true)
            }
        }
        if !rows.isEmpty || !delivered { try each(QueryResult(columns: columns, rows: rows)) }
    }

    private static func collect(_ statement: Statement) throws -> QueryResult {
        let columns = (0..<statement.columnCount).map { statement.columnName(Int32($0)) }
        var rows: [[SQLiteValue]] = []
        while try statement.step() {
            rows.append((0..<columns.count).map { statement.value(Int32($0)) })
        }
        statement.reset()
        return QueryResult(columns: columns, rows: rows)
    }

    /// `n` for `:n`, `@n`, `$n` or `n`.
    static func bareName(_ name: String) -> String {
        if let first = name.first, ":@$".contains(first) { return String(name.dropFirst()) }
        return name
    }
}

extension SQLiteValue {
    /// A numeric cell of a query's result as a Double (integers widened); nil for NULL, text and blobs.
    /// Front ends read result cells through this, without importing the SQLite wrapper.
    public var number: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .real(let value): return value
        default: return nil
        }
    }
}
