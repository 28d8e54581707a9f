// What the layers above may do with the store's connection without holding it: time limits, read
// transactions, and the few file-level steps of publishing a shard. The connection itself stays internal.
import Foundation
import SQLite

extension TrackerStore {
    /// Stops any statement of this store that runs past `limit` from now (nil lifts the limit); a stopped
    /// statement fails with a ``StoreError`` whose ``StoreError/isInterrupted`` is true.
    public func limitTime(to limit: Duration?) { database.limitTime(to: limit) }

    /// Whether the connection is inside a transaction (a store in that state is not worth keeping).
    public var isInTransaction: Bool { database.isInTransaction }

    /// `body` inside one deferred (read) transaction, so every read in it sees one snapshot; ended before
    /// this returns. SQLite's errors (from BEGIN, COMMIT or a read) become ``StoreError/database(_:context:)``
    /// saying the store was reading this file.
    public func readTransaction<T>(_ body: () throws -> T) throws -> T {
        do {
            return try database.transaction(.deferred) { try body() }
        } catch let error as SQLiteError {
            throw StoreError.database(error, context: "reading \(path)")
        }
    }

    /// Marks every 'running' run dead (no heartbeat), for a copy of a database restored from its published
    /// shard: no process of this copy runs them.
    public func markRunningRunsDead() throws {
        try storeOperation("marking the restored copy's running runs dead") {
            try database.transaction(.immediate) {
                try database.prepare("UPDATE runs SET heartbeat_at = NULL WHERE status = 'running'").run([])
            }
        }
    }

    /// Switches the database file at `path` (a fresh copy, not in use) from WAL to a rollback journal, so a
    /// reader on a shared filesystem needs no shared memory: the step before publishing a shard.
    public static func enableRollbackJournal(at path: String, context: String) throws {
        try storeOperation(context) {
            try Database(path: path, mode: .readWrite).enableRollbackJournal()
        }
    }
}

/// A recording session's helper connection to the store's file (``TrackerStore/location``), for its
/// heartbeat and WAL checkpointer threads: opened on, and used by, the one thread that owns it, and best
/// effort throughout (a failed beat or checkpoint is skipped; the next one tries again).
public final class SessionConnection {
    private let database: Database

    /// nil where the file cannot be opened.
    public init?(location: String, busyTimeoutMilliseconds: Int32) {
        guard let database = try? Database(path: location, mode: .readWrite, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        else { return nil }
        self.database = database
    }

    /// Refreshes the run's `heartbeat_at`, only while the process `owner` still owns it.
    public func beat(runKey: Int64, host: String, pid: Int) {
        _ = try? database.transaction(.immediate) {
            let beat = try database.cachedStatement("""
                UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running' AND host = ? AND pid = ?
                """)
            try beat.run([.text(Timestamp.now()), .integer(runKey), .text(host), .integer(Int64(pid))])
        }
    }

    /// `synchronous = NORMAL` on this connection: a checkpointer's syncs are its own business.
    public func relaxSynchronous() { _ = try? database.execute("PRAGMA synchronous = NORMAL") }

    /// A PASSIVE checkpoint: copies what it can of the WAL into the file without waiting for readers.
    public func checkpointPassively() { _ = try? database.execute("PRAGMA wal_checkpoint(PASSIVE)") }
}
