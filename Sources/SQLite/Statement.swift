import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One prepared SQL statement. Finalized when the last reference goes away.
///
/// Parameter and column indexes follow SQLite: parameters are 1-based, columns 0-based. An index out of
/// range is a programming error and stops the program (precondition); failures SQLite reports at run
/// time (constraints, I/O, busy) are thrown as ``SQLiteError``.
///
/// Not `Sendable`: like its ``Database``, a statement belongs to one thread at a time.
public final class Statement {
    /// The SQL text this statement was prepared from.
    public let sql: String
    // Owned: finalized in deinit. The connection handle is borrowed; it stays valid for as long as
    // this statement exists because Database closes with sqlite3_close_v2, which waits for the last finalize.
    private let handle: OpaquePointer
    private let db: OpaquePointer
    // Fixed for the statement's lifetime (unlike the column count, which can change on an automatic
    // re-prepare after a schema change), so it is read once to keep bind's range check free.
    private let bindCount: Int32
    // Result column names to indexes, built on the first access by name; rebuilt when an automatic
    // re-prepare changed the columns (see ``columnIndex(_:)``).
    private var columnIndexes: [String: Int32]?

    init(handle: OpaquePointer, db: OpaquePointer, sql: String) {
        self.handle = handle
        self.db = db
        self.sql = sql
        self.bindCount = sqlite3_bind_parameter_count(handle)
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// True when the statement cannot write to the database (`sqlite3_stmt_readonly`).
    public var isReadOnly: Bool { sqlite3_stmt_readonly(handle) != 0 }

    // MARK: Parameters

    /// The number of SQL parameters; the largest valid bind index.
    public var parameterCount: Int { Int(bindCount) }

    /// The 1-based index of a named parameter, spelled with its prefix as in the SQL (`":name"`), or nil.
    public func parameterIndex(_ name: String) -> Int32? {
        let index = sqlite3_bind_parameter_index(handle, name)
        return index == 0 ? nil : index
    }

    /// The name of the parameter at a 1-based index, with its prefix (`":name"`); nil for `?` parameters.
    public func parameterName(_ index: Int32) -> String? {
        sqlite3_bind_parameter_name(handle, index).map { String(cString: $0) }
    }

    @inline(__always)
    private func checkBindIndex(_ index: Int32) {
        precondition(index >= 1 && index <= bindCount,
                     "bind index \(index) out of range 1...\(bindCount) in: \(sql)")
    }

    @inline(__always)
    private func check(_ rc: Int32) throws(SQLiteError) {
        if rc != SQLITE_OK { throw SQLiteError(database: db, resultCode: rc, sql: sql) }
    }

    /// Binds a 64-bit integer to the parameter at a 1-based index.
    public func bind(_ value: Int64, at index: Int32) throws(SQLiteError) {
        checkBindIndex(index)
        try check(sqlite3_bind_int64(handle, index, value))
    }

    /// Binds an integer to the parameter at a 1-based index.
    public func bind(_ value: Int, at index: Int32) throws(SQLiteError) {
        try bind(Int64(value), at: index)
    }

    /// Binds a double to the parameter at a 1-based index. SQLite stores NaN as NULL.
    public func bind(_ value: Double, at index: Int32) throws(SQLiteError) {
        checkBindIndex(index)
        try check(sqlite3_bind_double(handle, index, value))
    }

    /// Binds UTF-8 text (embedded NULs included) to the parameter at a 1-based index; SQLite copies it.
    public func bind(_ value: String, at index: Int32) throws(SQLiteError) {
        checkBindIndex(index)
        var text = value
        let rc = text.withUTF8 { bytes -> Int32 in
            // An empty buffer may have no base address, and binding a nil pointer would store NULL, not ''.
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                return sqlite3_bind_text(handle, index, "", 0, csqlite_transient())
            }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text64(handle, index, $0, sqlite3_uint64(bytes.count), csqlite_transient(), UInt8(SQLITE_UTF8))
            }
        }
        try check(rc)
    }

    /// Binds a blob to the parameter at a 1-based index; SQLite copies it. An empty array binds an
    /// empty blob, not NULL.
    public func bind(_ value: [UInt8], at index: Int32) throws(SQLiteError) {
        checkBindIndex(index)
        let rc = value.withUnsafeBytes { bytes in bindBlob(bytes, at: index) }
        try check(rc)
    }

    /// Binds raw bytes as a blob to the parameter at a 1-based index; SQLite copies them, so the buffer
    /// need only live for the duration of the call.
    public func bind(_ value: UnsafeRawBufferPointer, at index: Int32) throws(SQLiteError) {
        checkBindIndex(index)
        try check(bindBlob(value, at: index))
    }

    private func bindBlob(_ bytes: UnsafeRawBufferPointer, at index: Int32) -> Int32 {
        // Same nil-pointer trap as text: a zero-length blob must be bound explicitly.
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            return sqlite3_bind_zeroblob(handle, index, 0)
        }
        return sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(bytes.count), csqlite_transient())
    }

    /// Binds NULL to the parameter at a 1-based index.
    public func bindNull(at index: Int32) throws(SQLiteError) {
        checkBindIndex(index)
        try check(sqlite3_bind_null(handle, index))
    }

    /// Binds any ``SQLiteValue`` to the parameter at a 1-based index.
    public func bind(_ value: SQLiteValue, at index: Int32) throws(SQLiteError) {
        switch value {
        case .null: try bindNull(at: index)
        case .integer(let v): try bind(v, at: index)
        case .real(let v): try bind(v, at: index)
        case .text(let v): try bind(v, at: index)
        case .blob(let v): try bind(v, at: index)
        }
    }

    /// Binds values positionally to parameters 1...n. The count must equal ``parameterCount``.
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        precondition(values.count == Int(bindCount),
                     "\(values.count) values for \(bindCount) parameters in: \(sql)")
        var index: Int32 = 1
        for value in values {
            try bind(value, at: index)
            index += 1
        }
    }

    /// Binds values by parameter name. Keys may be spelled with their prefix (`":id"`, `"@id"`, `"$id"`)
    /// or bare (`"id"`, meaning `":id"`). A name the SQL does not contain is a precondition failure.
    public func bind(named values: [String: SQLiteValue]) throws(SQLiteError) {
        for (name, value) in values {
            guard let index = parameterIndex(name) ?? parameterIndex(":" + name) else {
                preconditionFailure("no parameter named \(name) in: \(sql)")
            }
            try bind(value, at: index)
        }
    }

    /// Clears all bindings back to NULL.
    public func clearBindings() {
        sqlite3_clear_bindings(handle)
    }

    // MARK: Execution

    /// Runs the statement to its next row. Returns true when a row is available to read, false when done.
    ///
    /// On failure the statement is reset before throwing, so it holds no lock or open read afterwards.
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        let error = SQLiteError(database: db, resultCode: rc, sql: sql)
        sqlite3_reset(handle)
        throw error
    }

    /// Rewinds the statement so it can run again; bindings are kept.
    public func reset() {
        // The rc repeats the last step's error, which step has already thrown.
        sqlite3_reset(handle)
    }

    /// Resets, binds `bindings` positionally (if any; otherwise the current bindings are kept),
    /// steps until done, and resets again so no read stays open.
    public func run(_ bindings: [SQLiteValue] = []) throws(SQLiteError) {
        sqlite3_reset(handle)
        if !bindings.isEmpty { try bind(bindings) }
        defer { sqlite3_reset(handle) }
        while try step() {}
    }

    /// Resets, binds `bindings` (if any), calls `body` once per row with this statement positioned on
    /// it, and resets at the end even when `body` throws.
    public func forEachRow(_ bindings: [SQLiteValue] = [], _ body: (Statement) throws -> Void) throws {
        sqlite3_reset(handle)
        if !bindings.isEmpty { try bind(bindings) }
        defer { sqlite3_reset(handle) }
        while try step() { try body(self) }
    }

    /// Like ``forEachRow(_:_:)`` but collects what `row` returns for each row.
    public func rows<T>(_ bindings: [SQLiteValue] = [], _ row: (Statement) throws -> T) throws -> [T] {
        var result: [T] = []
        try forEachRow(bindings) { result.append(try row($0)) }
        return result
    }

    // MARK: Columns

    /// The number of result columns (0 for statements that return no data).
    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    @inline(__always)
    private func checkColumn(_ index: Int32) {
        precondition(index >= 0 && index < sqlite3_column_count(handle),
                     "column \(index) out of range in: \(sql)")
    }

    /// The name of the result column at a 0-based index (its `AS` alias when there is one).
    public func columnName(_ index: Int32) -> String {
        checkColumn(index)
        return sqlite3_column_name(handle, index).map { String(cString: $0) } ?? ""
    }

    /// True when the current row's column holds NULL.
    public func isNull(_ index: Int32) -> Bool {
        checkColumn(index)
        return sqlite3_column_type(handle, index) == SQLITE_NULL
    }

    /// The column as a 64-bit integer (SQLite's conversion rules apply; NULL reads as 0).
    public func int64(_ index: Int32) -> Int64 {
        checkColumn(index)
        return sqlite3_column_int64(handle, index)
    }

    /// The column as an Int (SQLite's conversion rules apply; NULL reads as 0).
    public func int(_ index: Int32) -> Int {
        Int(int64(index))
    }

    /// The column as a Double (SQLite's conversion rules apply; NULL reads as 0.0).
    public func double(_ index: Int32) -> Double {
        checkColumn(index)
        return sqlite3_column_double(handle, index)
    }

    /// The column as UTF-8 text, embedded NULs included (NULL reads as "").
    public func text(_ index: Int32) -> String {
        checkColumn(index)
        // Pointer first, then length: sqlite3_column_bytes must follow the conversion the pointer call did.
        guard let bytes = sqlite3_column_text(handle, index) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// The column as bytes (NULL and the empty blob both read as []).
    public func blob(_ index: Int32) -> [UInt8] {
        checkColumn(index)
        guard let bytes = sqlite3_column_blob(handle, index) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, index))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// The column in its stored type.
    public func value(_ index: Int32) -> SQLiteValue {
        checkColumn(index)
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, index))
        case SQLITE_TEXT: return .text(text(index))
        case SQLITE_BLOB: return .blob(blob(index))
        default: return .null
        }
    }
}

// MARK: Columns by name

/// Columns read by their result name (the `AS` alias, else the column's own name), in the style of
/// GRDB's `row["name"]`: a decoder that names its columns keeps working when a SELECT gains or reorders
/// columns, and a name the statement does not return is an error that carries the SQL, never a silent 0.
extension Statement {
    /// The 0-based index of the result column called `name` (exact, case-sensitive). Throws when the
    /// statement returns no such column, or more than one (`SELECT a.id, b.id`: alias one of them).
    public func columnIndex(_ name: String) throws(SQLiteError) -> Int32 {
        let count = sqlite3_column_count(handle)
        if let index = columnIndexes?[name], index < count,
           let current = sqlite3_column_name(handle, index), name.withCString({ strcmp(current, $0) }) == 0 {
            return index
        }
        var indexes: [String: Int32] = [:]
        var duplicates: Set<String> = []
        for index in 0..<count {
            let column = sqlite3_column_name(handle, index).map { String(cString: $0) } ?? ""
            if indexes[column] != nil { duplicates.insert(column) } else { indexes[column] = index }
        }
        columnIndexes = indexes
        guard !duplicates.contains(name) else {
            throw SQLiteError(extendedCode: SQLITE_RANGE, message: "more than one result column is named \"\(name)\"", sql: sql)
        }
        guard let index = indexes[name] else {
            let names = (0..<count).map { sqlite3_column_name(handle, $0).map { String(cString: $0) } ?? "" }
            throw SQLiteError(
                extendedCode: SQLITE_RANGE,
                message: "no result column named \"\(name)\" (the statement returns: \(names.joined(separator: ", ")))", sql: sql)
        }
        return index
    }

    /// True when the current row's column `name` holds NULL.
    public func isNull(_ name: String) throws(SQLiteError) -> Bool { isNull(try columnIndex(name)) }
    /// The column `name` as a 64-bit integer (SQLite's conversion rules apply; NULL reads as 0).
    public func int64(_ name: String) throws(SQLiteError) -> Int64 { int64(try columnIndex(name)) }
    /// The column `name` as an Int (SQLite's conversion rules apply; NULL reads as 0).
    public func int(_ name: String) throws(SQLiteError) -> Int { int(try columnIndex(name)) }
    /// The column `name` as a Double (SQLite's conversion rules apply; NULL reads as 0.0).
    public func double(_ name: String) throws(SQLiteError) -> Double { double(try columnIndex(name)) }
    /// The column `name` as UTF-8 text (NULL reads as "").
    public func text(_ name: String) throws(SQLiteError) -> String { text(try columnIndex(name)) }
    /// The column `name` as bytes (NULL and the empty blob both read as []).
    public func blob(_ name: String) throws(SQLiteError) -> [UInt8] { blob(try columnIndex(name)) }
    /// The column `name` in its stored type.
    public func value(_ name: String) throws(SQLiteError) -> SQLiteValue { value(try columnIndex(name)) }

    /// The column `name` as an integer, nil where it holds NULL.
    public func optionalInt(_ name: String) throws(SQLiteError) -> Int? {
        let index = try columnIndex(name)
        return isNull(index) ? nil : int(index)
    }
    /// The column `name` as a Double, nil where it holds NULL.
    public func optionalDouble(_ name: String) throws(SQLiteError) -> Double? {
        let index = try columnIndex(name)
        return isNull(index) ? nil : double(index)
    }
    /// The column `name` as text, nil where it holds NULL.
    public func optionalText(_ name: String) throws(SQLiteError) -> String? {
        let index = try columnIndex(name)
        return isNull(index) ? nil : text(index)
    }
}

@available(*, unavailable, message: "a Statement belongs to one thread at a time")
extension Statement: Sendable {}
