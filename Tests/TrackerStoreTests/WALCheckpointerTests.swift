import Foundation
import SQLite
import Testing
import TestSupport
@testable import TrackerApp
@testable import TrackerStore

/// The recording session's checkpoints run on their own thread; the log must still stay bounded and its
/// content reach the database file while the writer keeps committing.
@Suite struct WALCheckpointerTests {
    @Test func aWriterThatNeverStopsKeepsItsLogBoundedAndItsDataInTheFile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("run.db")
        let writer = try Database(path: path)
        try writer.enableWAL()
        try writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB)")
        let checkpointer = WALCheckpointer(location: path)
        writer.leaveCheckpointsToCaller()
        let insert = try writer.cachedStatement("INSERT INTO t (payload) VALUES (randomblob(40000))")
        var largestLog = 0
        // About 100 MB through the log without a pause: 2,500 commits of 10 pages.
        for _ in 0..<2500 {
            try writer.transaction { try insert.run() }
            checkpointer.logGrew(to: writer.walFramesAfterLastCommit) { _ = try? writer.execute("PRAGMA wal_checkpoint(PASSIVE)") }
            largestLog = max(largestLog, fileSize(path + "-wal"))
        }
        checkpointer.stop()
        writer.resumeAutomaticCheckpoints()
        // The writer checkpoints itself from 8,000 frames on (PASSIVE, so it skips a turn while the
        // background checkpoint runs); without it the log would have reached about 100 MB.
        #expect(largestLog <= 2 * WALCheckpointer.framesBeforeWriterCheckpoints * (4096 + 24))
        // Most of the data reached the database file before anything was closed.
        #expect(fileSize(path) > 60_000_000)
        #expect(try writer.scalar("SELECT count(*) FROM t") == .integer(2500))
    }

    @Test func stopReturnsWithTheConnectionClosedSoTheLastCloseRemovesTheLog() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("run.db")
        do {
            let writer = try Database(path: path)
            try writer.enableWAL()
            try writer.execute("CREATE TABLE t (x)")
            let checkpointer = WALCheckpointer(location: path)
            writer.leaveCheckpointsToCaller()
            for _ in 0..<3 {
                try writer.execute("INSERT INTO t VALUES (randomblob(5000000))")
                checkpointer.logGrew(to: writer.walFramesAfterLastCommit) { _ = try? writer.execute("PRAGMA wal_checkpoint(PASSIVE)") }
            }
            checkpointer.stop()
            writer.resumeAutomaticCheckpoints()
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: path + "-shm"))
        let reader = try Database(path: path, mode: .readOnly)
        #expect(try reader.scalar("SELECT count(*) FROM t") == .integer(3))
    }

    @Test func aCheckpointerThatCannotOpenItsConnectionStillStops() throws {
        let dir = try TemporaryDirectory()
        let checkpointer = WALCheckpointer(location: dir.path("missing/run.db"))
        let writer = try Database(path: dir.path("w.db"))
        try writer.enableWAL()
        checkpointer.logGrew(to: WALCheckpointer.framesBeforeCheckpoint) { _ = try? writer.execute("PRAGMA wal_checkpoint(PASSIVE)") }
        checkpointer.stop()
    }
}

/// A finished run's rows are in the database file itself even while another connection (a dashboard, a
/// shell) keeps the file open, so the last close is not the writer's and nothing checkpoints at it.
@Suite struct RunEndCheckpointTests {
    @Test func aRunFinishedWhileAReaderHoldsTheFileLeavesNothingOnlyInTheWAL() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("t.db")
        let store = try TrackerStore(path: path)
        let reader = try Database(path: path, mode: .readOnly)
        #expect(try reader.scalar("SELECT count(*) FROM runs") == .integer(0))
        // Enough rows and snapshots for several background checkpoints and a tail after the last one.
        let session = try RunSession.start(smallSpecification(algorithm: .dteql, iterations: 5000, checkpointEvery: 100), in: store)
        let summary = try finish(session)

        // The file alone, copied while both connections are still open, holds the whole run.
        let copy = dir.path("copy.db")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let copied = try Database(path: copy, mode: .readOnly)
        #expect(try copied.scalar("SELECT count(*) FROM metrics") == .integer(5000))
        #expect(try copied.scalar("SELECT qtable_sha256 FROM run_summaries") == .text(summary.qTableSHA256))
        #expect(try reader.scalar("SELECT count(*) FROM metrics") == .integer(5000))
    }
}
