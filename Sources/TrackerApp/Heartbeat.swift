import Dispatch
import Foundation
import TrackerStore

/// Who owns a running run: the host and process that claimed it. The heartbeat and every commit of a
/// session check it, so a process that lost its run to `resume --force` stops writing to it.
struct RunOwner: Sendable, Equatable {
    let host: String
    let pid: Int
}

/// Refreshes a running run's `heartbeat_at` on a timer from its own thread and its own connection, so
/// the heartbeat keeps coming while a long batch computes between commits. The beat only touches the
/// row while this process still owns the run; a failed beat (the file busy past the timeout) is
/// skipped, the next one tries again.
final class Heartbeat: Sendable {
    private let path: String
    private let runKey: Int64
    private let owner: RunOwner
    private let intervalSeconds: Double
    private let stopRequest = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    /// Starts beating at once. An in-memory database has no second connection to beat through (and no
    /// other process to see it), so there the session's commits are the only heartbeat.
    init(path: String, runKey: Int64, owner: RunOwner, intervalSeconds: Double = Liveness.heartbeatIntervalSeconds) {
        self.path = path
        self.runKey = runKey
        self.owner = owner
        self.intervalSeconds = intervalSeconds
        guard path != ":memory:" else {
            stopped.signal()
            return
        }
        let thread = Thread { [self] in beatUntilStopped() }
        thread.name = "tracker heartbeat"
        thread.start()
    }

    /// Stops the thread and waits for it, so no beat lands after the session's last commit.
    func stop() {
        stopRequest.signal()
        stopped.wait()
    }

    private func beatUntilStopped() {
        beatOnOwnConnection()
        // Only now, with the connection closed: `stop()` returning lets the session close the last
        // connection, and the last close is what checkpoints the WAL into the file and removes it. A
        // `defer` here could signal before the connection's release, leaving -wal and -shm behind.
        stopped.signal()
    }

    private func beatOnOwnConnection() {
        // A beat waits for the write lock at most one interval: a late beat is worth less than the next.
        let timeout = Int32(min(max(intervalSeconds * 1000, 100), 60_000))
        guard let connection = SessionConnection(location: path, busyTimeoutMilliseconds: timeout) else { return }
        while stopRequest.wait(timeout: .now() + intervalSeconds) == .timedOut {
            connection.beat(runKey: runKey, host: owner.host, pid: owner.pid)
        }
    }
}
