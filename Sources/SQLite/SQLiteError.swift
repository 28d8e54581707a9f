import CSQLite

/// A failure reported by SQLite: the extended result code, SQLite's message, and the SQL that failed.
///
/// Match failures on `extendedCode` / `primaryCode` (or the `is…` helpers), never on `message`:
/// the message text is for humans and changes between SQLite versions.
public struct SQLiteError: Error, CustomStringConvertible, Equatable {
    /// The extended result code (e.g. `SQLITE_CONSTRAINT_UNIQUE` = 2067), as from `sqlite3_extended_errcode`.
    public let extendedCode: Int32
    /// The primary result code (e.g. `SQLITE_CONSTRAINT` = 19): the low byte of `extendedCode`.
    public var primaryCode: Int32 { extendedCode & 0xFF }
    /// SQLite's message at the time of the failure (`sqlite3_errmsg`), or a message from this layer.
    public let message: String
    /// The SQL of the statement that failed, when there is one.
    public let sql: String?
    /// Which misuse this layer caught itself, for the `SQLITE_MISUSE` errors SQLite has no code of its
    /// own for; callers match this, not the message.
    public let misuse: Misuse?

    /// Misuse that `Database.prepare` refuses before SQLite sees it.
    public enum Misuse: Sendable, Equatable {
        /// The SQL held no statement (empty, or only comments).
        case noStatement
        /// The SQL held more than one statement.
        case severalStatements
        /// The SQL text held a NUL character, where SQLite would silently stop reading it.
        case nulCharacter
    }

    /// Creates an error from explicit parts; used for failures this layer detects itself.
    public init(extendedCode: Int32, message: String, sql: String? = nil, misuse: Misuse? = nil) {
        self.extendedCode = extendedCode
        self.message = message
        self.sql = sql
        self.misuse = misuse
    }

    /// Reads the connection's error state right after a call returned `resultCode`.
    init(database db: OpaquePointer, resultCode: Int32, sql: String?) {
        let recorded = sqlite3_extended_errcode(db)
        // Some APIs (misuse, range) return a code without recording it on the connection; then the
        // connection still holds an older state, so trust the returned code and SQLite's generic text for it.
        if recorded & 0xFF == resultCode & 0xFF {
            self.init(extendedCode: recorded, message: sqlite3_errmsg(db).map { String(cString: $0) } ?? Self.text(for: recorded), sql: sql)
        } else {
            self.init(extendedCode: resultCode, message: Self.text(for: resultCode), sql: sql)
        }
    }

    static func text(for code: Int32) -> String {
        sqlite3_errstr(code).map { String(cString: $0) } ?? "SQLite error \(code)"
    }

    /// One line: `<message> (code N) in: <sql>`. Whitespace runs in the SQL are collapsed so that
    /// multi-line statements from .sql files still log as one line.
    public var description: String {
        var line = "\(Self.oneLine(message)) (code \(extendedCode))"
        if let sql {
            var text = Self.oneLine(sql)
            if text.count > 500 { text = String(text.prefix(500)) + "…" }
            line += " in: \(text)"
        }
        return line
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// The database is locked by another connection (`SQLITE_BUSY`), even after the busy timeout.
    public var isBusy: Bool { primaryCode == SQLITE_BUSY }
    /// A table is locked within the same shared cache or by this connection (`SQLITE_LOCKED`).
    public var isLocked: Bool { primaryCode == SQLITE_LOCKED }
    /// Any constraint failed (`SQLITE_CONSTRAINT`: UNIQUE, NOT NULL, CHECK, FOREIGN KEY, ...).
    public var isConstraint: Bool { primaryCode == SQLITE_CONSTRAINT }
    /// A UNIQUE or PRIMARY KEY constraint failed.
    public var isUniqueViolation: Bool {
        extendedCode == Self.constraintUnique || extendedCode == Self.constraintPrimaryKey
    }
    /// A FOREIGN KEY constraint failed.
    public var isForeignKeyViolation: Bool { extendedCode == Self.constraintForeignKey }
    /// A write was attempted on a read-only connection or file (`SQLITE_READONLY`).
    public var isReadOnly: Bool { primaryCode == SQLITE_READONLY }
    /// The file exists but is not an SQLite database (`SQLITE_NOTADB`).
    public var isNotADatabase: Bool { primaryCode == SQLITE_NOTADB }
    /// `SQLITE_CORRUPT`: "database disk image is malformed".
    public var isCorrupt: Bool { primaryCode == SQLITE_CORRUPT }
    /// A statement was interrupted: by ``Database/limitTime(to:)``'s deadline, or `sqlite3_interrupt`.
    public var isInterrupted: Bool { primaryCode == SQLITE_INTERRUPT }
    /// A string or blob exceeded the connection's ``Database/maximumValueBytes`` (`SQLITE_TOOBIG`).
    public var isTooBig: Bool { primaryCode == SQLITE_TOOBIG }
    /// The file could not be opened (`SQLITE_CANTOPEN`): missing, a directory, no permission.
    public var isCantOpen: Bool { primaryCode == SQLITE_CANTOPEN }

    // Swift does not import the extended-code macros (they are expressions), so they are spelled out
    // as in sqlite3.h: primary | (n << 8).
    static let constraintForeignKey = SQLITE_CONSTRAINT | (3 << 8)     // 787
    static let constraintPrimaryKey = SQLITE_CONSTRAINT | (6 << 8)     // 1555
    static let constraintUnique = SQLITE_CONSTRAINT | (8 << 8)         // 2067
}
