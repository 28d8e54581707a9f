import Foundation
import TrackerStore

/// The safe cluster pattern (docs/sweeps.md#shared-filesystems): a command writes its database on a
/// node-local disk and hands consistent copies of it to a shared directory, so that no host ever opens
/// a file there that another host changes in place.
///
/// A copy is made with `VACUUM INTO` from a read transaction of its own (one snapshot, while runs keep
/// writing), beside the target under a hidden name, switched to a rollback journal (a reader elsewhere
/// then needs no `-wal`), synced, and renamed over the target: a reader sees the previous copy or the
/// new one, never half of one. The target's host lease (kind `publish`) keeps a second publisher off it.
///
/// When the local file does not exist yet and a copy was published before, the local file starts from
/// that copy: a requeued Slurm task on a fresh node resumes from its last handed-over shard. Runs that
/// copy holds as `running` have no writer any more (theirs wrote elsewhere), so their heartbeat is
/// cleared: they are dead and resumable at once.
public final class ShardPublisher: @unchecked Sendable {
    public let localPath: String
    public let targetPath: String
    /// How often a copy is published while the command runs (and once more when it ends).
    public let intervalSeconds: Double
    /// Whether the local file was started from the published copy.
    public private(set) var restored = false
    private let lease: HostLease
    private let stopped = DispatchSemaphore(value: 0)
    private let publishing = NSLock()

    /// Takes the target's lease (waiting up to the staleness bound for a dead publisher's to go stale)
    /// and restores the local file from the target where the local file is missing.
    public init(localPath: String, targetPath: String, intervalSeconds: Double) throws {
        self.localPath = localPath
        self.targetPath = targetPath
        self.intervalSeconds = intervalSeconds
        guard URL(fileURLWithPath: localPath).standardized != URL(fileURLWithPath: targetPath).standardized else {
            throw StoreError.invalidArgument("--publish must name another file than --db (\(targetPath))")
        }
        let directory = (targetPath as NSString).deletingLastPathComponent
        var status = stat()
        guard stat(directory.isEmpty ? "." : directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw StoreError.invalidArgument("cannot publish to \(targetPath): its directory does not exist")
        }
        if stat(targetPath, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
            throw StoreError.invalidArgument("cannot publish to \(targetPath): not a regular file (\(fileTypeName(status.st_mode)))")
        }
        let device = Filesystem.of(targetPath)?.device ?? 0
        do {
            lease = try HostLease.acquire(for: targetPath, kind: .publish, device: device,
                                          waitSeconds: Liveness.staleAfterSeconds + 5, onLost: SharedFilesystem.onLeaseLost)
        } catch StoreError.invalidArgument(let refusal) {
            throw StoreError.invalidArgument("cannot publish to \(targetPath): " + refusal)
        }
        do {
            try restoreIfMissing()
        } catch {
            lease.release()
            throw error
        }
    }

    private func restoreIfMissing() throws {
        guard access(localPath, F_OK) != 0, access(targetPath, F_OK) == 0 else { return }
        // The published copy is read like any database on a shared filesystem (immutable where it is
        // one), and checked to be a tracker database of this version before it is copied.
        let published = try TrackerStore(path: targetPath, access: .readOnly)
        try published.copy(to: localPath)
        let local = try TrackerStore(path: localPath, access: .readWriteExisting)
        try local.markRunningRunsDead()
        restored = true
    }

    /// Publishes every `intervalSeconds` from a thread of its own until `finish()`.
    public func startPeriodicPublishing() {
        let thread = Thread { [weak self] in
            guard let self else { return }
            while self.stopped.wait(timeout: .now() + self.intervalSeconds) == .timedOut {
                // A failed copy leaves the previous one in place; the final publish, in `finish()`,
                // reports its own failure.
                try? self.publish()
            }
        }
        thread.name = "tracker publish"
        thread.start()
    }

    /// One consistent copy of the local file, renamed over the target.
    public func publish() throws {
        try publishing.withLock {
            let directory = (targetPath as NSString).deletingLastPathComponent
            let name = (targetPath as NSString).lastPathComponent
            let temporary = (directory.isEmpty ? "" : directory + "/") + ".\(name).publishing-\(getpid())-\(lease.nonce)"
            unlink(temporary)
            do {
                // Opened as a store: checked to be a tracker database, and left without a -wal or -shm of
                // its own when the sweep's connections are closed (the last copy).
                try TrackerStore(path: localPath, access: .readOnly).copy(to: temporary)
                try TrackerStore.enableRollbackJournal(at: temporary, context: "preparing the copy for \(targetPath)")
                try Self.sync(temporary)
                guard rename(temporary, targetPath) == 0 else {
                    throw StoreError.invalidArgument("cannot publish to \(targetPath): \(String(cString: strerror(errno)))")
                }
                try? Self.sync(directory.isEmpty ? "." : directory)
            } catch {
                unlink(temporary)
                unlink(temporary + "-journal")
                throw error
            }
        }
    }

    /// Stops the periodic copies, publishes the final one and gives the lease back.
    public func finish() throws {
        stopped.signal()
        defer { lease.release() }
        try publish()
    }

    private static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StoreError.invalidArgument("cannot sync \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw StoreError.invalidArgument("cannot sync \(path): \(String(cString: strerror(errno)))")
        }
    }
}
