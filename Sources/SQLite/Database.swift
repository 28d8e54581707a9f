// Module SQLite: a thin, strict wrapper over libsqlite3 (connections, statements, values, errors,
// transactions, migrations). Owns nothing of the tracker's schema; never imported above TrackerStore
// except by tools (TrackerBench) and tests.

import CSQLite

/// One SQLite connection.
///
/// Opened in `NOMUTEX` mode: a connection (and its statements) must be used by one thread at a time;
/// open one connection per thread or process instead of sharing. Closed when the last reference goes
/// away; statements still alive at that point keep the handle open until they are finalized.
public final class Database {
    /// How the file is opened.
    public enum OpenMode: Sendable {
        /// Read and write; create the file when it does not exist.
        case readWriteCreate
        /// Read and write; the file must exist.
        case readWrite
        /// Read only; every write fails with `SQLITE_READONLY`.
        case readOnly
        /// Read only, and promising SQLite that nobody changes the file while it is open (its
        /// `immutable=1`): no locks are taken, no `-wal`, `-shm` or `-journal` is read or made, and a
        /// WAL's frames not yet in the file are not seen. For a file only ever replaced by rename, such
        /// as a copy published to a shared filesystem, where locks and shared memory do not reach.
        case readOnlyImmutable
    }

    /// The kind of top-level transaction; see SQLite's `BEGIN` documentation.
    public enum TransactionKind: Sendable {
        /// Takes locks on first use. A read that later writes can fail with `SQLITE_BUSY` without
        /// waiting, so use it only for transactions that never write.
        case deferred
        /// Takes the write lock at `BEGIN`, waiting up to the busy timeout for it. The default.
        case immediate
        /// Like immediate; in rollback-journal mode also keeps readers out.
        case exclusive
    }

    /// The path given at open (`":memory:"` for an in-memory database).
    public let path: String
    /// Opened `.readOnlyImmutable`.
    public let isImmutable: Bool
    private let db: OpaquePointer
    private let busyTimeout: Int32
    private var cache: [String: Statement] = [:]
    /// Where the WAL hook of ``leaveCheckpointsToCaller()`` writes; nil while SQLite checkpoints itself.
    private var walFrames: UnsafeMutablePointer<Int32>?
    /// The deadline the progress handler of ``limitTime(to:)`` reads (CLOCK_MONOTONIC nanoseconds, 0 for
    /// none); nil until a limit is first set.
    private var deadline: UnsafeMutablePointer<Int64>?
    /// The limit of the last ``limitTime(to:)``, for messages; nil when statements may run as long as they like.
    public private(set) var timeLimit: Duration?
    // Savepoint names only need to be distinct among the ones currently open.
    private var savepointDepth = 0

    /// Opens a connection, sets the busy timeout, turns foreign keys on, and reads the schema once so
    /// that a file that is not a database fails here with `SQLITE_NOTADB`. Opening never writes to the
    /// file (a missing file is created empty in `.readWriteCreate` mode).
    public init(path: String, mode: OpenMode = .readWriteCreate, busyTimeoutMilliseconds: Int32 = 5000) throws(SQLiteError) {
        guard Self.guardOpens == SQLITE_OK else {
            throw SQLiteError(extendedCode: Self.guardOpens,
                              message: "cannot make SQLite open regular files only (its default VFS has no replaceable open): \(path)")
        }
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        switch mode {
        case .readWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readOnlyImmutable: flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
        }
        var opened: OpaquePointer?
        let rc = sqlite3_open_v2(mode == .readOnlyImmutable ? Self.immutableURI(path) : path, &opened, flags, nil)
        guard let handle = opened else {
            // Only out of memory leaves no handle at all.
            throw SQLiteError(extendedCode: rc, message: "\(SQLiteError.text(for: rc)): \(path)")
        }
        func fail(_ rc: Int32) -> SQLiteError {
            let error = SQLiteError(database: handle, resultCode: rc, sql: nil)
            // A failed open still allocates a handle that must be closed.
            sqlite3_close_v2(handle)
            // The path is the useful context at open time; there is no SQL yet.
            return SQLiteError(extendedCode: error.extendedCode, message: "\(error.message): \(path)")
        }
        guard rc == SQLITE_OK else { throw fail(rc) }
        // Older SQLite ignores SQLITE_OPEN_EXRESCODE; this makes extended codes certain.
        sqlite3_extended_result_codes(handle, 1)
        let timeoutRC = sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
        guard timeoutRC == SQLITE_OK else { throw fail(timeoutRC) }
        // fts3_tokenizer() hands out and accepts raw C function pointers; `tracker sql` must not reach
        // it. Turning it off is not enough (SQLite still honours bound arguments), so it is also refused
        // by an authorizer at prepare time: "not authorized".
        let tokenizerRC = csqlite_db_config_int(handle, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, nil)
        guard tokenizerRC == SQLITE_OK else { throw fail(tokenizerRC) }
        let authorizerRC = csqlite_install_fts3_tokenizer_refusal(handle)
        guard authorizerRC == SQLITE_OK else { throw fail(authorizerRC) }

        self.db = handle
        self.path = path
        self.isImmutable = mode == .readOnlyImmutable
        self.busyTimeout = max(busyTimeoutMilliseconds, 0)
        do throws(SQLiteError) {
            try execute("PRAGMA foreign_keys = ON")
            // The schema is read lazily; without this a garbage file would only fail at the first query.
            _ = try retryingWhileBusy { () throws(SQLiteError) in
                try readOnce("SELECT count(*) FROM sqlite_master")
            }
        } catch {
            // deinit closes the handle. The path, not this layer's probe SQL, is what makes
            // "file is not a database" actionable.
            throw SQLiteError(extendedCode: error.extendedCode, message: "\(error.message): \(path)")
        }
    }

    /// `file:PATH?immutable=1`, the path percent-encoded so that no character of a file name (`?`, `#`,
    /// `%`) is read as part of the URI. A relative path stays relative.
    public static func immutableURI(_ path: String) -> String {
        var encoded = ""
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "."),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        // "file://x" would name a host; a path that starts with "//" keeps the authority empty.
        return "file:" + (encoded.hasPrefix("//") ? "//" + encoded : encoded) + "?immutable=1"
    }

    private func readOnce(_ sql: String) throws(SQLiteError) -> SQLiteValue? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.value(0)
    }

    deinit {
        // Finalize what we own first so close_v2 can release the handle now rather than later.
        cache.removeAll()
        resumeAutomaticCheckpoints()
        // A statement still alive elsewhere keeps the handle open past this point: the progress handler
        // must not read the deadline after it is freed.
        if let deadline {
            csqlite_install_deadline(db, nil)
            deadline.deallocate()
        }
        sqlite3_close_v2(db)
    }

    // MARK: Opening only regular files

    /// Installed once, before the first connection opens: SQLite's unix VFS opens every file through a
    /// replacement of `open(2)` that opens non-blocking, checks with `fstat(2)` what it opened, and refuses
    /// anything but a regular file or a directory (`SQLITE_CANTOPEN`), so no open of any connection in the
    /// process can block on a FIFO put at the path after the caller checked it (shim.h,
    /// `csqlite_open_regular_files_only`). Regular files are opened exactly as before.
    private static let guardOpens: Int32 = csqlite_install_regular_file_open()

    /// True once SQLite's `open` is the replacement that opens only regular files (see `guardOpens`).
    public static var opensOnlyRegularFiles: Bool {
        _ = guardOpens
        return csqlite_regular_file_open_installed() != 0
    }

    // MARK: Limits

    /// Interrupts every statement of this connection still running `limit` from now: its `step` fails
    /// with `SQLITE_INTERRUPT` (``SQLiteError/isInterrupted``), and a transaction it was in is rolled back
    /// by ``transaction(_:_:)`` as for any failure. `nil` lifts the limit. Checked every 1,000 SQLite
    /// virtual-machine instructions (a progress handler), so the overshoot is microseconds; waiting for a
    /// lock is bounded by the busy timeout instead.
    public func limitTime(to limit: Duration?) {
        timeLimit = limit
        guard let limit else {
            deadline?.pointee = 0
            return
        }
        if deadline == nil {
            deadline = .allocate(capacity: 1)
            deadline!.initialize(to: 0)
            csqlite_install_deadline(db, deadline)
        }
        let (seconds, attoseconds) = limit.components
        let (scaled, overflow) = max(seconds, 0).multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, pastEnd) = csqlite_monotonic_nanoseconds().addingReportingOverflow(scaled &+ max(attoseconds, 0) / 1_000_000_000)
        // A limit beyond what the clock can count (centuries) is no limit.
        deadline!.pointee = overflow || pastEnd ? 0 : max(1, sum)
    }

    /// The largest string or blob, in bytes, this connection's statements may make or read
    /// (`SQLITE_LIMIT_LENGTH`): beyond it a statement fails with `SQLITE_TOOBIG` ("string or blob too
    /// big") instead of allocating it. SQLite's default is 1,000,000,000; setting a larger value keeps
    /// the default (SQLite's compile-time maximum).
    public var maximumValueBytes: Int {
        get { Int(sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1)) }
        set { sqlite3_limit(db, SQLITE_LIMIT_LENGTH, Int32(clamping: max(newValue, 0))) }
    }

    // MARK: Journal mode

    /// Switches the database to write-ahead logging and `synchronous = NORMAL`.
    ///
    /// WAL is persistent in the file, so this writes (the file header) the first time. Several processes
    /// may race to do this on the same new file; the switch needs an exclusive lock that does not always
    /// go through the busy handler, so `SQLITE_BUSY`/`SQLITE_LOCKED` are retried up to the busy timeout.
    /// Throws when SQLite answers with any mode other than `wal` (e.g. for `:memory:`).
    public func enableWAL() throws(SQLiteError) {
        try switchJournal(to: "wal", synchronous: "NORMAL")
    }

    /// Switches the database to a rollback journal (`journal_mode = DELETE`) and `synchronous = FULL`:
    /// no shared-memory index (`-shm`), which a filesystem shared between hosts cannot keep coherent.
    /// Like `enableWAL()`, retried while busy; throws when SQLite answers with another mode.
    public func enableRollbackJournal() throws(SQLiteError) {
        try switchJournal(to: "delete", synchronous: "FULL")
    }

    /// `mode` and `synchronous` are fixed words of the two callers above, never a user's text.
    private func switchJournal(to mode: String, synchronous: String) throws(SQLiteError) {
        let sql = "PRAGMA journal_mode = \(mode.uppercased())"
        let answer = try retryingWhileBusy { () throws(SQLiteError) in try readOnce(sql) }
        guard case .text(let name)? = answer, name.lowercased() == mode else {
            throw SQLiteError(extendedCode: SQLITE_ERROR,
                              message: "journal mode is \(answer.map(\.description) ?? "unknown"), not \(mode)", sql: sql)
        }
        try execute("PRAGMA synchronous = \(synchronous)")
    }

    /// Stops this connection's automatic checkpoints (SQLite runs one inside the COMMIT that takes the WAL
    /// past 1,000 pages, copying and syncing while the committer waits) and counts instead, after each of
    /// its commits, the frames the WAL holds: ``walFramesAfterLastCommit``. The caller checkpoints, for
    /// instance from another connection on another thread, until ``resumeAutomaticCheckpoints()``.
    public func leaveCheckpointsToCaller() {
        if walFrames == nil {
            walFrames = .allocate(capacity: 1)
            walFrames!.initialize(to: 0)
        }
        csqlite_install_wal_frame_counter(db, walFrames)
    }

    /// Frames in the WAL after this connection's most recent commit, while checkpoints are left to the
    /// caller (0 before the first commit, and when they are not).
    public var walFramesAfterLastCommit: Int { walFrames.map { Int($0.pointee) } ?? 0 }

    /// Back to SQLite's automatic checkpoints, at its default threshold of 1,000 pages.
    public func resumeAutomaticCheckpoints() {
        guard let frames = walFrames else { return }
        sqlite3_wal_autocheckpoint(db, 1000)
        frames.deallocate()
        walFrames = nil
    }

    private func retryingWhileBusy<T>(_ operation: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        let deadline = ContinuousClock.now + .milliseconds(Int(busyTimeout))
        var pause: Int32 = 1
        while true {
            do throws(SQLiteError) {
                return try operation()
            } catch {
                guard error.isBusy || error.isLocked, ContinuousClock.now < deadline else { throw error }
                sqlite3_sleep(pause)
                pause = min(pause * 2, 32)
            }
        }
    }

    // MARK: Statements

    /// Runs one or more `;`-separated statements without parameters (migrations, schema).
    ///
    /// Each statement is prepared and run in turn, so a failure names the statement that failed and
    /// the ones before it have taken effect (wrap in ``transaction(_:_:)`` for all-or-nothing).
    public func execute(_ sql: String) throws(SQLiteError) {
        try refuseNulCharacter(in: sql)
        var failure: SQLiteError?
        sql.withCString { start in
            let end = start + sql.utf8.count
            var cursor = start
            while cursor < end {
                var prepared: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let rc = sqlite3_prepare_v2(db, cursor, Int32(clamping: end - cursor), &prepared, &tail)
                let next = tail ?? end
                guard rc == SQLITE_OK else {
                    // tail is unreliable on failure: find where this statement ends instead.
                    let error = SQLiteError(database: db, resultCode: rc, sql: nil)
                    failure = SQLiteError(extendedCode: error.extendedCode, message: error.message,
                                          sql: Self.text(from: cursor, to: Self.endOfStatement(from: cursor, to: end)))
                    return
                }
                // Whitespace or a trailing comment prepares to no statement.
                if let statement = prepared {
                    let text = Self.text(from: cursor, to: next)
                    var stepRC = sqlite3_step(statement)
                    while stepRC == SQLITE_ROW { stepRC = sqlite3_step(statement) }
                    if stepRC != SQLITE_DONE {
                        failure = SQLiteError(database: db, resultCode: stepRC, sql: text)
                    }
                    sqlite3_finalize(statement)
                    if failure != nil { return }
                }
                guard next > cursor else { return }
                cursor = next
            }
        }
        if let failure { throw failure }
    }

    /// SQLite reads SQL text only up to a NUL, so "SELECT 1\0; DROP ..." would run as "SELECT 1" and the
    /// rest vanish without a word; such text is refused instead.
    private func refuseNulCharacter(in sql: String) throws(SQLiteError) {
        guard sql.utf8.contains(0) else { return }
        throw SQLiteError(extendedCode: SQLITE_MISUSE, message: "the SQL text holds a NUL character",
                          sql: nil, misuse: .nulCharacter)
    }

    /// The statement's own text: leading whitespace and comments (which belong to the gap between
    /// statements in a script) are dropped so that error messages start at the SQL that failed.
    private static func text(from start: UnsafePointer<CChar>, to end: UnsafePointer<CChar>) -> String {
        var cursor = start
        func at(_ text: StaticString) -> Bool {
            end - cursor >= text.utf8CodeUnitCount
                && (0..<text.utf8CodeUnitCount).allSatisfy { UInt8(bitPattern: cursor[$0]) == text.utf8Start[$0] }
        }
        while cursor < end {
            if UInt8(bitPattern: cursor.pointee) == UInt8(ascii: " ") || (9...13).contains(cursor.pointee) {
                cursor += 1
            } else if at("--") {
                while cursor < end && cursor.pointee != 10 { cursor += 1 }
            } else if at("/*") {
                cursor += 2
                while cursor < end && !at("*/") { cursor += 1 }
                cursor = min(cursor + 2, end)
            } else {
                break
            }
        }
        let bytes = UnsafeRawPointer(cursor).assumingMemoryBound(to: UInt8.self)
        let text = String(decoding: UnsafeBufferPointer(start: bytes, count: end - cursor), as: UTF8.self)
        return text.trimmingWhitespace()
    }

    /// The end of the first complete statement at `start` (just past its `;`), or `end`. Only used on
    /// the error path, so the quadratic scan does not matter; `sqlite3_complete` knows about quotes,
    /// comments and trigger bodies, which a plain search for `;` would not.
    private static func endOfStatement(from start: UnsafePointer<CChar>, to end: UnsafePointer<CChar>) -> UnsafePointer<CChar> {
        var cursor = start
        while cursor < end {
            if cursor.pointee == CChar(UInt8(ascii: ";")) {
                var candidate = [CChar](UnsafeBufferPointer(start: start, count: cursor - start + 1))
                candidate.append(0)
                if sqlite3_complete(candidate) != 0 { return cursor + 1 }
            }
            cursor += 1
        }
        return end
    }

    /// Prepares exactly one statement, finalized when the returned object is released.
    ///
    /// SQL with more than one statement, or none, throws `SQLITE_MISUSE`: silently ignoring the rest
    /// would hide bugs. Use ``execute(_:)`` for scripts.
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        try prepare(sql, flags: 0)
    }

    /// Returns this connection's cached statement for `sql`, preparing it on first use.
    ///
    /// A statement handed out again is reset and its bindings cleared first, so a caller that still
    /// iterates an earlier hand-out of the same SQL loses its position. Cached statements live as long
    /// as the connection; use them for SQL that is fixed in the program, not for generated SQL.
    public func cachedStatement(_ sql: String) throws(SQLiteError) -> Statement {
        if let statement = cache[sql] {
            statement.reset()
            statement.clearBindings()
            return statement
        }
        // PERSISTENT tells SQLite the statement is long-lived, so it allocates it outside the lookaside pool.
        let statement = try prepare(sql, flags: UInt32(SQLITE_PREPARE_PERSISTENT))
        cache[sql] = statement
        return statement
    }

    private func prepare(_ sql: String, flags: UInt32) throws(SQLiteError) -> Statement {
        try refuseNulCharacter(in: sql)
        var failure: SQLiteError?
        var result: Statement?
        sql.withCString { start in
            let end = start + sql.utf8.count
            var prepared: OpaquePointer?
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(db, start, Int32(clamping: end - start), flags, &prepared, &tail)
            guard rc == SQLITE_OK else {
                failure = SQLiteError(database: db, resultCode: rc, sql: sql)
                return
            }
            guard let handle = prepared else {
                failure = SQLiteError(extendedCode: SQLITE_MISUSE, message: "no SQL statement to prepare", sql: sql, misuse: .noStatement)
                return
            }
            let statement = Statement(handle: handle, db: db, sql: sql)
            if let rest = tail, rest < end, !Self.text(from: rest, to: end).isEmpty {
                // Anything left must be comments only: prepare it to find out.
                var extra: OpaquePointer?
                let extraRC = sqlite3_prepare_v2(db, rest, Int32(clamping: end - rest), &extra, nil)
                if extraRC != SQLITE_OK || extra != nil {
                    sqlite3_finalize(extra)
                    failure = SQLiteError(extendedCode: SQLITE_MISUSE,
                                          message: "more than one statement given to prepare; use execute for scripts",
                                          sql: sql, misuse: .severalStatements)
                    return
                }
            }
            result = statement
        }
        if let failure { throw failure }
        guard let result else {
            throw SQLiteError(extendedCode: SQLITE_MISUSE, message: "no SQL statement to prepare", sql: sql, misuse: .noStatement)
        }
        return result
    }

    /// Runs a single-statement query through the statement cache and returns the first column of the
    /// first row, or nil when there is no row. The statement is reset afterwards, so no read stays open.
    public func scalar(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> SQLiteValue? {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        if !bindings.isEmpty { try statement.bind(bindings) }
        guard try statement.step() else { return nil }
        return statement.value(0)
    }

    // MARK: Transactions

    /// True while a transaction is open (`sqlite3_get_autocommit` is 0).
    public var isInTransaction: Bool { sqlite3_get_autocommit(db) == 0 }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE (`sqlite3_changes64`).
    public var changes: Int { Int(sqlite3_changes64(db)) }

    /// The rowid of the most recent successful INSERT on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(db) }

    /// Runs `body` in a transaction and commits it; if `body` throws, rolls back and rethrows.
    ///
    /// Top level: `BEGIN <kind>` … `COMMIT`. If COMMIT fails (e.g. `SQLITE_BUSY` after the busy
    /// timeout) the transaction is rolled back and the error thrown: no transaction is ever left open.
    /// Nested (already in a transaction): a savepoint, so a throwing inner body undoes only its own
    /// work; `kind` is then ignored.
    @discardableResult
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        if isInTransaction { return try savepoint(body) }
        let begin: String
        switch kind {
        case .deferred: begin = "BEGIN DEFERRED"
        case .immediate: begin = "BEGIN IMMEDIATE"
        case .exclusive: begin = "BEGIN EXCLUSIVE"
        }
        try cachedStatement(begin).run()
        let result: T
        do {
            result = try body()
        } catch {
            // Some errors (SQLITE_FULL, IOERR, a body that ran ROLLBACK) already ended the transaction.
            if isInTransaction { try? cachedStatement("ROLLBACK").run() }
            throw error
        }
        do {
            try cachedStatement("COMMIT").run()
        } catch {
            if isInTransaction { try? cachedStatement("ROLLBACK").run() }
            throw error
        }
        return result
    }

    private func savepoint<T>(_ body: () throws -> T) throws -> T {
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        // The name is built from an Int counter, never from caller text.
        let name = "tracker_savepoint_\(savepointDepth)"
        try cachedStatement("SAVEPOINT \(name)").run()
        let result: T
        do {
            result = try body()
        } catch {
            if isInTransaction {
                // ROLLBACK TO keeps the savepoint open; RELEASE closes it without committing anything.
                try? cachedStatement("ROLLBACK TO \(name)").run()
                try? cachedStatement("RELEASE \(name)").run()
            }
            throw error
        }
        do {
            try cachedStatement("RELEASE \(name)").run()
        } catch {
            if isInTransaction {
                try? cachedStatement("ROLLBACK TO \(name)").run()
                try? cachedStatement("RELEASE \(name)").run()
            }
            throw error
        }
        return result
    }

    // MARK: Schema version

    /// `PRAGMA user_version`: the schema version stored in the database header (0 for a new file).
    public var userVersion: Int {
        get throws(SQLiteError) {
            guard case .integer(let version)? = try scalar("PRAGMA user_version") else {
                throw SQLiteError(extendedCode: SQLITE_ERROR, message: "PRAGMA user_version returned no integer",
                                  sql: "PRAGMA user_version")
            }
            return Int(version)
        }
    }

    /// `PRAGMA foreign_keys`: whether this connection enforces foreign keys (on for every connection
    /// this wrapper opens).
    public var foreignKeysEnabled: Bool {
        get throws(SQLiteError) {
            guard case .integer(let on)? = try scalar("PRAGMA foreign_keys") else { return false }
            return on != 0
        }
    }

    /// Sets `PRAGMA user_version`. The value must fit the header's 32-bit field.
    public func setUserVersion(_ version: Int) throws(SQLiteError) {
        precondition(version >= Int(Int32.min) && version <= Int(Int32.max), "user_version \(version) does not fit 32 bits")
        // PRAGMA takes no bound parameters, so the value is formatted into the SQL. That is safe only
        // because it is a Swift Int, whose decimal rendering cannot contain anything but digits and '-'.
        try execute("PRAGMA user_version = \(version)")
    }
}

@available(*, unavailable, message: "a Database connection belongs to one thread at a time; open one per thread")
extension Database: Sendable {}

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
