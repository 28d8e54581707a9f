/// One schema step: its SQL runs once, in its own transaction, and leaves `user_version = version`.
///
/// The SQL must not contain transaction control (BEGIN/COMMIT/SAVEPOINT): the migrator owns the transaction.
public struct Migration: Sendable, Equatable {
    /// 1-based position in the schema history; recorded in `PRAGMA user_version` once applied.
    public let version: Int
    /// A short name, for error messages.
    public let name: String
    /// The statements to run, `;`-separated.
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Parses a migration file's base name, `NNNN_name` without `.sql` (e.g. `0001_frames` is version 1,
    /// name `frames`). The name may contain letters, digits, `_` and `-`.
    public init(fileName: String, sql: String) throws(MigrationError) {
        let parts = fileName.split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false)
        func invalid(_ why: String) -> MigrationError {
            .invalid("migration file name '\(fileName)' \(why); expected NNNN_name, e.g. 0001_frames")
        }
        guard parts.count == 2 else { throw invalid("has no '_' after the version") }
        let digits = parts[0], name = parts[1]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw invalid("does not start with a decimal version")
        }
        guard let version = Int(digits), version > 0 else { throw invalid("has version 0 or a version too large") }
        guard !name.isEmpty else { throw invalid("has an empty name") }
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw invalid("has a name with characters other than letters, digits, '_' and '-'")
        }
        self.init(version: version, name: String(name), sql: sql)
    }

    /// The first line a migration starts with when it rebuilds a table others reference (SQLite's
    /// "12-step" table change: CREATE new, copy, DROP old, RENAME): with foreign keys on, the DROP would
    /// cascade-delete every referencing row. The migrator turns foreign keys off around such a migration
    /// (a pragma that does nothing inside a transaction) and checks `PRAGMA foreign_key_check` before
    /// committing it.
    public static let foreignKeysOffMarker = "-- migrator: foreign_keys off"

    /// Whether the migration starts with ``foreignKeysOffMarker``.
    public var needsForeignKeysOff: Bool { sql.hasPrefix(Self.foreignKeysOffMarker) }

    /// The canonical file base name, `NNNN_name`, as used in messages.
    public var fileName: String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name
    }
}

/// Why a migration could not run.
public enum MigrationError: Error, CustomStringConvertible, Equatable {
    /// The database was written by a newer build (its `user_version` is above what this build knows).
    /// Nothing was written to it.
    case databaseTooNew(found: Int, supported: Int)
    /// A migration failed; it was rolled back and `user_version` still names the previous one.
    case failed(version: Int, name: String, underlying: SQLiteError)
    /// The migration list or a migration file name is malformed.
    case invalid(String)

    public var description: String {
        switch self {
        case .databaseTooNew(let found, let supported):
            return "database schema version \(found) is newer than this build supports (\(supported)); "
                + "refusing to touch it: use a newer build"
        case .failed(let version, let name, let underlying):
            let file = Migration(version: version, name: name, sql: "").fileName
            return "migration \(file) failed and was rolled back: \(underlying)"
        case .invalid(let why):
            return why
        }
    }
}

/// Brings a database's schema up to date from an ordered list of migrations, tracked in `PRAGMA user_version`.
///
/// Safe for several processes migrating the same (even not-yet-existing) file at once: each migration
/// runs in `BEGIN IMMEDIATE` and re-reads `user_version` inside it, so each is applied exactly once.
public struct Migrator: Sendable {
    /// The migrations, sorted by version.
    public let migrations: [Migration]

    /// Takes migrations in any order; their versions must be exactly 1, 2, 3, … with no gap or duplicate.
    public init(_ migrations: [Migration]) throws(MigrationError) {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (offset, migration) in sorted.enumerated() where migration.version != offset + 1 {
            let versions = sorted.map { String($0.version) }.joined(separator: ", ")
            throw .invalid("migration versions must be 1, 2, 3, … without gaps or duplicates; "
                + "got \(versions) (problem at \(migration.fileName))")
        }
        self.migrations = sorted
    }

    /// The version a fully migrated database has (0 when there are no migrations).
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Throws ``MigrationError/databaseTooNew(found:supported:)`` when the database's `user_version` is
    /// above ``latestVersion``. Only reads.
    public func checkNotNewer(_ db: Database) throws {
        let found = try db.userVersion
        if found > latestVersion { throw MigrationError.databaseTooNew(found: found, supported: latestVersion) }
    }

    /// Applies every migration the database does not have yet, each in its own IMMEDIATE transaction,
    /// and returns the versions this call applied (others may have been applied concurrently by
    /// another connection). Must not be called inside a transaction.
    @discardableResult
    public func migrate(_ db: Database) throws -> [Int] {
        precondition(!db.isInTransaction, "migrate must not run inside a transaction")
        try checkNotNewer(db)
        // Versions only grow, so migrations at or below the version read now are done: skip them without
        // taking the write lock (an up-to-date database then opens even while another process writes,
        // and a lock held past the busy timeout is reported by the statement that needs it).
        let current = try db.userVersion
        var applied: [Int] = []
        for migration in migrations where migration.version > current {
            let didApply: Bool
            // Off outside the transaction (inside, the pragma is a no-op) and back on whatever happens.
            let foreignKeysWereOn = migration.needsForeignKeysOff ? try db.foreignKeysEnabled : false
            if foreignKeysWereOn { try db.execute("PRAGMA foreign_keys = OFF") }
            defer { if foreignKeysWereOn { _ = try? db.execute("PRAGMA foreign_keys = ON") } }
            do {
                didApply = try db.transaction(.immediate) {
                    // Re-read under the write lock: another connection may have got here first.
                    let current = try db.userVersion
                    if current > latestVersion {
                        throw MigrationError.databaseTooNew(found: current, supported: latestVersion)
                    }
                    guard current < migration.version else { return false }
                    try db.execute(migration.sql)
                    if migration.needsForeignKeysOff {
                        let dangling = try db.prepare("PRAGMA foreign_key_check").rows { $0.text(0) }
                        if let table = dangling.first {
                            throw SQLiteError(extendedCode: 787, message: "FOREIGN KEY constraint failed: \(dangling.count) row(s) of \(table) reference nothing after the migration")
                        }
                    }
                    try db.setUserVersion(migration.version)
                    return true
                }
            } catch let error as SQLiteError {
                throw MigrationError.failed(version: migration.version, name: migration.name, underlying: error)
            }
            if didApply { applied.append(migration.version) }
        }
        return applied
    }
}
