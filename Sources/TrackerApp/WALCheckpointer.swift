import Foundation
import TrackerStore

/// Checkpoints a recording session's WAL from a thread and connection of its own, so the writer never
/// waits for a checkpoint.
///
/// SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 pages: it copies
/// the log into the database file and syncs both, up to 13 ms here, while the committing thread waits
/// (and, with the writer's batches all queued, the learner behind it). The session's connection instead
/// counts the WAL's frames after each commit (``Database/leaveCheckpointsToCaller()``) and hands the
/// checkpoint to this thread. A PASSIVE checkpoint never blocks the writer, and copies only what is
/// committed; the writer restarts the log at its next transaction once everything is copied.
///
/// A checkpoint racing a writer that keeps committing can copy all but the newest frames every time, and
/// SQLite only restarts a log that is copied to its end; so past ``framesBeforeWriterCheckpoints`` the
/// writer checkpoints itself, as SQLite would have, which bounds the WAL at about 32 MB of 4 KB pages
/// (PASSIVE too, so a little more while the background checkpoint holds the lock, and, as with SQLite's
/// own checkpoints, more while another process reads an old snapshot).
final class WALCheckpointer: @unchecked Sendable {
    /// Frames after which a checkpoint is asked for: SQLite's own automatic threshold.
    static let framesBeforeCheckpoint = 1000
    /// Frames after which the writer checkpoints on its own connection, waiting for it.
    static let framesBeforeWriterCheckpoints = 8000

    private let location: String
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var requested = false
    private var stopping = false
    private var exited = false

    /// Starts the thread. `location` is the database as SQLite opens it (``TrackerStore/location``).
    init(location: String) {
        self.location = location
        let thread = Thread { [self] in
            checkpointOnOwnConnection()
            // Only now, with the connection closed: see `stop()`.
            condition.lock()
            exited = true
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "tracker checkpointer"
        thread.start()
    }

    /// The WAL's frames when a checkpoint was last asked for; the writer's thread only.
    private var framesAtLastRequest = 0

    /// Called on the writer's thread after each commit, with the frames its WAL holds then. Asks for a
    /// checkpoint each time the log has grown by ``framesBeforeCheckpoint`` since the last request (a
    /// checkpoint copies only frames it has not copied yet), not after every commit while it is long.
    /// `checkpointWriter` checkpoints on the writer's own connection (``TrackerStore/checkpointPassively()``).
    func logGrew(to frames: Int, checkpointWriter: () -> Void) {
        if frames < framesAtLastRequest { framesAtLastRequest = 0 }  // the log restarted
        if frames >= Self.framesBeforeWriterCheckpoints {
            checkpointWriter()
            framesAtLastRequest = frames
        } else if frames - framesAtLastRequest >= Self.framesBeforeCheckpoint {
            framesAtLastRequest = frames
            condition.lock()
            requested = true
            condition.signal()
            condition.unlock()
        }
    }

    /// Ends the thread and waits until its connection is closed: the session's own connection must be
    /// the last to close, because the last close checkpoints what is left and removes the WAL.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        while !exited { condition.wait() }
    }

    private func checkpointOnOwnConnection() {
        // Best effort: without this connection the writer's own checkpoints still bound the log.
        guard let connection = SessionConnection(location: location, busyTimeoutMilliseconds: 1000) else { return }
        connection.relaxSynchronous()
        while true {
            condition.lock()
            while !requested && !stopping { condition.wait() }
            let stop = stopping
            requested = false
            condition.unlock()
            if stop { return }
            connection.checkpointPassively()
        }
    }
}
