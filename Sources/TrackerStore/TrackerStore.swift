import Foundation
import SQLite

/// One tracker database file: opened, checked against the schema version, switched to WAL and migrated.
/// A store is used from one thread; separate processes each open their own.
public final class TrackerStore {
    public let database: Database
    public let path: String

    public enum Access: Sendable { case readWrite, readOnly }

    /// Opens (creating if needed) and migrates a database for writing, or opens an existing one for
    /// reading. A database from a newer tracker is refused before anything is written to it.
    public init(path: String, access: Access = .readWrite, busyTimeoutMilliseconds: Int32 = 10_000) throws {
        self.path = path
        do {
            switch access {
            case .readWrite:
                database = try Database(path: path, mode: .readWriteCreate, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            case .readOnly:
                guard path == ":memory:" || FileManager.default.fileExists(atPath: path) else {
                    throw StoreError.cannotOpen(path: path, reason: "no such file")
                }
                database = try Database(path: path, mode: .readOnly, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            }
        } catch let error as SQLiteError {
            throw StoreError.cannotOpen(path: path, reason: error.message)
        }
        do {
            try Schema.migrator.checkNotNewer(database)
        } catch MigrationError.databaseTooNew(let found, let supported) {
            throw StoreError.schemaTooNew(path: path, found: found, supported: supported)
        } catch let error as SQLiteError {
            throw StoreError.cannotOpen(path: path, reason: error.message)
        }
        guard access == .readWrite else {
            let version = try storeOperation("reading the schema version of \(path)") { try database.userVersion }
            guard version == Schema.latestVersion else {
                throw StoreError.cannotOpen(
                    path: path,
                    reason: version == 0 ? "not a tracker database (no schema)"
                        : "schema version \(version) is older than \(Schema.latestVersion); open it once for writing to upgrade")
            }
            return
        }
        if path != ":memory:" {
            try storeOperation("switching \(path) to WAL") { try database.enableWAL() }
        }
        do {
            try Schema.migrator.migrate(database)
        } catch let error as MigrationError {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        } catch let error as SQLiteError {
            throw StoreError.cannotOpen(path: path, reason: error.message)
        }
    }

    public var schemaVersion: Int {
        get throws { try storeOperation("reading the schema version") { try database.userVersion } }
    }
}
