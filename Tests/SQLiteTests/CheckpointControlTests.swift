import Foundation
import Testing
import SQLite
import TestSupport

/// `leaveCheckpointsToCaller`: the connection stops checkpointing by itself and reports the WAL's length
/// after each commit; `resumeAutomaticCheckpoints` gives the job back to SQLite.
@Suite struct CheckpointControlTests {
    /// Commits `count` transactions of about 8 pages each (a 30 KB blob).
    private static func commitBlobs(_ db: Database, count: Int) throws {
        let insert = try db.cachedStatement("INSERT INTO t (payload) VALUES (randomblob(30000))")
        for _ in 0..<count { try db.transaction { try insert.run() } }
    }

    @Test func theFrameCountGrowsPastSQLitesThresholdUntilTheCallerCheckpoints() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("wal.db")
        let db = try Database(path: path)
        try db.enableWAL()
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB)")
        #expect(db.walFramesAfterLastCommit == 0)

        db.leaveCheckpointsToCaller()
        var counts: [Int] = []
        for _ in 0..<200 {
            try Self.commitBlobs(db, count: 1)
            counts.append(db.walFramesAfterLastCommit)
        }
        // SQLite alone would have restarted the log after 1,000 pages; it only grew.
        #expect(counts == counts.sorted())
        #expect(counts.last! > 1500)
        #expect(fileSize(path + "-wal") > 1500 * 4096)

        // A checkpoint from another connection copies everything; the next commit starts the log over.
        let other = try Database(path: path)
        try other.execute("PRAGMA wal_checkpoint(PASSIVE)")
        try Self.commitBlobs(db, count: 1)
        #expect(db.walFramesAfterLastCommit < 20)

        // Given back, SQLite checkpoints by itself again: after 2,000 pages the log holds fewer than
        // 1,100 frames (the WAL file keeps its size; its frames count from its last restart).
        db.resumeAutomaticCheckpoints()
        #expect(db.walFramesAfterLastCommit == 0)
        try Self.commitBlobs(db, count: 250)
        db.leaveCheckpointsToCaller()
        try Self.commitBlobs(db, count: 1)
        #expect(db.walFramesAfterLastCommit < 1100)
    }
}
