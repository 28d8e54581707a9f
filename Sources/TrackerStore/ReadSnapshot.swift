import SQLite

extension TrackerStore {
    /// Runs `body` in one read transaction, so what it reads one statement after another comes from one
    /// snapshot of the database even while another process writes (a live run's record, summary and
    /// checkpoints agree with each other). Inside a transaction already (the dashboard's requests), it
    /// just runs `body`. A store method so callers above never touch the connection.
    public func reading<T>(_ body: () throws -> T) throws -> T {
        if database.isInTransaction { return try body() }
        return try storeOperation("reading one snapshot") { try database.transaction(.deferred) { try body() } }
    }
}
