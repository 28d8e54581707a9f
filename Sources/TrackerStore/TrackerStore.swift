// Module TrackerStore: persistence. Owns the SQL (migrations/, queries/ and the store's own statements),
// decoding rows into values (by column name), opening a database file (placement, leases, immutable
// reads) and its connection, which stays internal. Must not orchestrate: no threads, no sessions, no
// sweeps, no statistics (TrackerApp), no presentation (TrackerReports), no argument parsing.

import Foundation
import SQLite

/// One tracker database file: opened, checked against the schema version, switched to WAL and migrated.
/// A store is used from one thread; separate processes each open their own.
public final class TrackerStore {
    /// The connection: internal, so SQL stays in this module; other layers call the store's methods.
    let database: Database
    public let path: String
    /// The file as SQLite is given it (``sqliteLocation(of:mayCreate:)``), for a recording session's
    /// helper connections (``SessionConnection``: heartbeat, checkpointer).
    public let location: String
    /// This process's share of the host lease, where the file is on a shared filesystem and opened for
    /// writing (``SharedFilesystem``); given back when the store goes away.
    private let lease: HostLease?

    deinit { lease?.release() }

    public enum Access: Sendable {
        /// Read and write; a file that does not exist yet is created. For commands that record runs.
        case readWrite
        /// Read and write an existing tracker database (migrated to this version); a missing file is an
        /// error and nothing is created. For commands that change or clean what is recorded.
        case readWriteExisting
        /// Read only, an existing tracker database of this schema version.
        case readOnly
        /// Read only like `.readOnly`, for commands that look at files other processes own, such as
        /// `sweep --status` over shards. (Both leave no `-wal` or `-shm` beside the file: a read-only
        /// connection to a WAL database creates both and cannot remove them, so where the file is
        /// writable and has no `-wal` yet, it is opened read-write without create, with `query_only`;
        /// closing the last connection then removes them, the log being empty.)
        case inspect
    }

    /// Opens a database, migrating it when writing. `path` is a plain file path: never an SQLite URI
    /// (`file:x.db` is the file `./file:x.db`) and never `:memory:`. Refused before anything is written:
    /// a path that is not a regular file (directory, device, FIFO: decided by `stat`, never by opening
    /// it), a missing file unless `access` is `.readWrite`, an SQLite file that is not a tracker database
    /// (tables of its own without our schema), and a database from a newer tracker.
    public init(path: String, access: Access = .readWrite, busyTimeoutMilliseconds: Int32 = 10_000) throws {
        self.path = path
        let location = try Self.sqliteLocation(of: path, mayCreate: access == .readWrite)
        self.location = location
        let placement = try Self.placement(of: path, access: access)
        self.lease = placement.lease
        if placement.immutable {
            // A file on a shared filesystem that no host of ours writes in place: read without locks or
            // shared memory, and leave nothing beside it.
            database = try Self.openImmutable(path: path, location: location, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        } else {
            try Self.refuseAnotherProgramsDatabase(path: path, location: location)
            let mode: Database.OpenMode
            switch access {
            case .readWrite: mode = .readWriteCreate
            case .readWriteExisting: mode = .readWrite
            case .readOnly, .inspect: mode = Self.readingLeavesNoTrace(path) ? .readWrite : .readOnly
            }
            do {
                database = try Database(path: location, mode: mode, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            } catch {
                throw StoreError.cannotOpen(path: path, reason: Self.withoutLocation(error.message, location))
            }
        }
        do {
            try Schema.migrator.checkNotNewer(database)
        } catch MigrationError.databaseTooNew(let found, let supported) {
            throw StoreError.schemaTooNew(path: path, found: found, supported: supported)
        } catch let error as SQLiteError {
            throw StoreError.cannotOpen(path: path, reason: error.message + (placement.immutable ? StoreError.racedWriterHint(for: error) : ""))
        }
        let version = try Self.checkOwnership(of: database, path: path, mayBeNew: access == .readWrite)
        guard access != .readOnly && access != .inspect else {
            // Belt and braces over the read-only open: query_only refuses writes at the statement level too.
            try storeOperation("opening \(path) query-only") { try database.execute("PRAGMA query_only = ON") }
            guard version == Schema.latestVersion else {
                throw StoreError.cannotOpen(
                    path: path,
                    reason: "schema version \(version) is older than \(Schema.latestVersion); open it once for writing to upgrade")
            }
            return
        }
        if lease != nil {
            // On a shared filesystem, under the host lease: a rollback journal, so no -shm is ever mapped
            // through a filesystem that cannot keep it coherent (docs/sweeps.md#shared-filesystems).
            try storeOperation("switching \(path) to a rollback journal") { try database.enableRollbackJournal() }
        } else {
            try storeOperation("switching \(path) to WAL") { try database.enableWAL() }
        }
        do {
            try Schema.migrator.migrate(database)
        } catch let error as MigrationError {
            var hint = ""
            if case .failed(_, _, let underlying) = error { hint = StoreError.waitLongerHint(for: underlying) }
            throw StoreError.cannotOpen(path: path, reason: "\(error)" + hint)
        } catch let error as SQLiteError {
            throw StoreError.cannotOpen(path: path, reason: error.message + StoreError.waitLongerHint(for: error))
        }
        // Data a migration adds but SQL cannot compute (migration 0005's D_rand) is filled in here.
        try fillMissingRandomOrderDelays()
        // Tag keys stored before they were normalized to NFC are repaired once (docs/schema.md).
        try normalizeTagKeys()
    }

    /// Opens a file on a shared filesystem immutable. A client may serve a file's old size for a moment
    /// after another host replaced it (FUSE's attribute cache, NFS's before it revalidates): then the
    /// first read finds a malformed file. That is tried again, twice, half a second apart, before it is an
    /// error (with what to do instead).
    private static func openImmutable(path: String, location: String, busyTimeoutMilliseconds: Int32) throws -> Database {
        var attempt = 0
        while true {
            do {
                return try Database(path: location, mode: .readOnlyImmutable, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            } catch {
                attempt += 1
                if attempt < 3 && (error.isCorrupt || error.isNotADatabase) {
                    Thread.sleep(forTimeInterval: 0.5)
                    continue
                }
                throw StoreError.cannotOpen(path: path, reason: Self.withoutLocation(error.message, location)
                                                + StoreError.racedWriterHint(for: error))
            }
        }
    }

    /// What to hand SQLite for a user's path, after refusing what is not a database file. A path
    /// starting with `file:` gets `./` in front, so SQLite builds that allow URIs still read it as a
    /// file name: one rule for every command, whatever the library's compile options.
    static func sqliteLocation(of path: String, mayCreate: Bool) throws -> String {
        guard !path.isEmpty else { throw StoreError.cannotOpen(path: path, reason: "the path is empty") }
        guard path != ":memory:" else {
            throw StoreError.cannotOpen(
                path: path, reason: "an in-memory database keeps nothing; give the path of a file")
        }
        var status = stat()
        if stat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFREG else {
                throw StoreError.cannotOpen(path: path, reason: "not a regular file (\(fileTypeName(status.st_mode)))")
            }
        } else {
            let failure = errno
            guard failure == ENOENT, mayCreate else {
                throw StoreError.cannotOpen(
                    path: path, reason: failure == ENOENT ? "no such file" : String(cString: strerror(failure)))
            }
        }
        return path.hasPrefix("file:") ? "./" + path : path
    }

    /// SQLite's open errors end with the path it was given; the message already names the user's path.
    private static func withoutLocation(_ message: String, _ location: String) -> String {
        message.hasSuffix(": \(location)") ? String(message.dropLast(location.count + 2)) : message
    }

    /// Looks at an existing, non-empty file through a short-lived connection of its own before the real
    /// one opens, and refuses it when it is another program's database. The probe leaves nothing behind:
    /// on a WAL-mode file without a `-wal` beside it, a read-only connection would leave `-wal` and `-shm`
    /// there, so the probe then opens read-write (without create) and only reads; closing it removes them
    /// again without a checkpoint to copy (the log is empty). With a `-wal` there already, or an unwritable
    /// file, it opens read-only. Either way the file's bytes are not changed.
    private static func refuseAnotherProgramsDatabase(path: String, location: String) throws {
        var status = stat()
        guard stat(path, &status) == 0, status.st_size > 0 else { return }
        let probe: Database
        do {
            probe = try Database(path: location, mode: readingLeavesNoTrace(path) ? .readWrite : .readOnly, busyTimeoutMilliseconds: 1000)
        } catch {
            // Not a database at all, locked, unreadable: the real open reports it.
            return
        }
        try checkOwnership(of: probe, path: path, mayBeNew: true)
    }

    /// Whether a read-write connection that only reads removes, when it closes, the `-wal` and `-shm` it
    /// made: the file is writable and has no `-wal` of another connection's beside it.
    private static func readingLeavesNoTrace(_ path: String) -> Bool {
        access(path, W_OK) == 0 && access(path + "-wal", F_OK) != 0
    }

    /// Refuses, before anything is written, an SQLite file that is not a tracker database: one with
    /// tables of its own but no schema version, one whose version claims our schema without our tables,
    /// and (unless the command may create one) an empty file. Returns the schema version.
    ///
    /// The version and the tables are read in one read transaction: read apart, another process's first
    /// migration could commit between them, and a new tracker database would look like another program's.
    @discardableResult
    private static func checkOwnership(of database: Database, path: String, mayBeNew: Bool) throws -> Int {
        let (version, objects, hasFrames) = try storeOperation("reading the schema of \(path)") { () throws -> (Int, Int, Bool) in
            try database.transaction(.deferred) {
                let version = try database.userVersion
                guard case .integer(let count)? = try database.scalar("SELECT count(*) FROM sqlite_master"),
                      case .integer(let frames)? = try database.scalar(
                        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'frames'") else {
                    return (version, 0, false)
                }
                return (version, Int(count), frames > 0)
            }
        }
        if version == 0 && objects > 0 || version > 0 && !hasFrames {
            throw StoreError.cannotOpen(
                path: path, reason: "not a tracker database (it holds tables of another program); the file was not changed")
        }
        if version == 0 && !mayBeNew {
            throw StoreError.cannotOpen(path: path, reason: "not a tracker database (no schema)")
        }
        return version
    }

    public var schemaVersion: Int {
        get throws { try storeOperation("reading the schema version") { try database.userVersion } }
    }
}

/// "a FIFO", "a character device", ... for messages about paths that are not regular files.
public func fileTypeName(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFREG: return "a regular file"
    case S_IFDIR: return "a directory"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFIFO: return "a FIFO"
    case S_IFSOCK: return "a socket"
    case S_IFLNK: return "a symbolic link"
    default: return "not a regular file"
    }
}
