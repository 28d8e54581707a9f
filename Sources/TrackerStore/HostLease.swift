import Foundation

/// Who may open a database on a shared filesystem: a lease file beside it (`tracker.db.lease`), made
/// with `O_CREAT | O_EXCL` (atomic on NFS v3+, SMB and SFTP servers alike, unlike the POSIX locks SQLite
/// relies on) and kept fresh by touching it every two seconds.
///
/// A lease belongs to a host and a mount (the device `stat` reports): processes on that host through
/// that mount share it, since SQLite's own locks and WAL index work among them; anyone else, another
/// host or another mount of the same share, is refused while the lease is fresh. A lease not touched
/// for the staleness bound (`Liveness.staleAfterSeconds`) is the lease of a host that died and may be
/// broken. A holder that finds its lease broken or taken calls its `onLost` handler: the tracker's
/// commands stop at once (a killed writer leaves a resumable run; two writers would corrupt the file).
public final class HostLease: @unchecked Sendable {
    public enum Kind: String, Sendable {
        /// The holder opens the database itself and writes to it in place.
        case write
        /// The holder only renames finished copies onto the path (`sweep --publish`): readers elsewhere
        /// may read the file, which is never changed in place.
        case publish
    }

    /// What a lease file says, and how long ago it was last touched.
    public struct Holder: Sendable, Equatable {
        public let host: String
        public let device: UInt64
        public let pid: Int
        public let nonce: String
        public let kind: Kind
        /// Seconds since the holder last touched the lease (negative: its clock is ahead of ours).
        public let age: Double

        /// "host node1 (pid 4242, publishing, lease renewed 3 s ago)".
        public var description: String {
            // The age comes from a file's mtime, which another host sets: bounded before it becomes an Int.
            let seconds = Int(min(abs(age), 1e15))
            let renewed = age < 0 ? "lease renewed \(seconds) s in the future: clock skew?" : "lease renewed \(seconds) s ago"
            return "host \(host) (pid \(pid), \(kind == .write ? "writing" : "publishing"), \(renewed))"
        }

        /// Whether the lease still excludes others: touched within the staleness bound (and not so far in
        /// the future that only a wrong clock explains it), and, where it names this host, held by a
        /// process that still exists.
        public func isFresh(staleAfter: Double) -> Bool {
            if host == ProcessIdentity.host && !ProcessIdentity.isAlive(pid: pid) { return false }
            return age <= staleAfter && age >= -staleAfter
        }

        /// The same host through the same mount: SQLite's locks and shared memory reach between us.
        public func sharesLocksWithThisProcess(device: UInt64) -> Bool {
            host == ProcessIdentity.host && self.device == device
        }
    }

    public static func leasePath(for databasePath: String) -> String { databasePath + ".lease" }

    /// The lease beside `databasePath`, nil when there is none (or it cannot be read as one).
    public static func holder(of databasePath: String) -> Holder? {
        let path = leasePath(for: databasePath)
        var status = stat()
        guard stat(path, &status) == 0, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let host = fields["host"], let device = fields["device"].flatMap({ UInt64($0) }),
              let pid = fields["pid"].flatMap({ Int($0) }), let nonce = fields["nonce"],
              let kind = fields["kind"].flatMap(Kind.init(rawValue:)) else { return nil }
        let touched = Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9
        return Holder(host: host, device: device, pid: pid, nonce: nonce, kind: kind,
                      age: Date().timeIntervalSince1970 - touched)
    }

    // MARK: Holding

    public let databasePath: String
    public let kind: Kind
    let device: UInt64
    public let nonce: String
    private let leasePath: String
    private let staleAfter: Double
    private let renewEvery: Double
    private let onLost: @Sendable (String) -> Void
    private let stopped = DispatchSemaphore(value: 0)
    private var thread: Thread?
    private let lock = NSLock()
    private var holders = 0

    /// Takes the lease beside `databasePath`, or joins it where this host and mount already hold it.
    /// Where another host holds it fresh, waits up to `waitSeconds` for it to be released or go stale,
    /// then throws. `onLost` runs on the lease's thread if the lease is later broken or taken.
    public static func acquire(
        for databasePath: String, kind: Kind, device: UInt64, waitSeconds: Double = 0,
        staleAfter: Double = Liveness.staleAfterSeconds, onLost: @escaping @Sendable (String) -> Void
    ) throws -> HostLease {
        registryLock.lock()
        defer { registryLock.unlock() }
        if let held = registry[databasePath] {
            held.holders += 1
            return held
        }
        let lease = HostLease(databasePath: databasePath, kind: kind, device: device, staleAfter: staleAfter, onLost: onLost)
        let deadline = Date().addingTimeInterval(waitSeconds)
        while true {
            if let refusal = lease.tryTake() {
                guard Date() < deadline else {
                    throw StoreError.invalidArgument(refusal)
                }
                Thread.sleep(forTimeInterval: 1)
                continue
            }
            break
        }
        lease.holders = 1
        lease.startRenewing()
        registry[databasePath] = lease
        if !exitHandlerInstalled {
            exitHandlerInstalled = true
            atexit { HostLease.releaseAllAtExit() }
        }
        return lease
    }

    nonisolated(unsafe) private static var exitHandlerInstalled = false

    /// Commands end with `exit`, which runs no deinitializer: every lease this process still holds is
    /// given back here, so the next host need not wait for it to go stale. (A process killed outright
    /// leaves its lease to go stale, or, on this host, to be seen dead by its pid.)
    private static func releaseAllAtExit() {
        registryLock.lock()
        let held = Array(registry.values)
        registry.removeAll()
        registryLock.unlock()
        for lease in held {
            lease.stopped.signal()
            if let holder = holder(of: lease.databasePath), holder.nonce == lease.nonce { unlink(lease.leasePath) }
        }
    }

    nonisolated(unsafe) private static var registry: [String: HostLease] = [:]
    private static let registryLock = NSLock()

    private init(databasePath: String, kind: Kind, device: UInt64, staleAfter: Double,
                 onLost: @escaping @Sendable (String) -> Void) {
        self.databasePath = databasePath
        self.kind = kind
        self.device = device
        self.leasePath = Self.leasePath(for: databasePath)
        self.staleAfter = staleAfter
        self.renewEvery = min(2, staleAfter / 6)
        self.onLost = onLost
        var bytes = [UInt8](repeating: 0, count: 8)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        self.nonce = bytes.map { String(format: "%02x", $0) }.joined()
    }

    private var content: String {
        "host=\(ProcessIdentity.host)\ndevice=\(device)\npid=\(ProcessIdentity.pid)\nnonce=\(nonce)\nkind=\(kind.rawValue)\n"
    }

    /// One attempt: nil when the lease is ours (made, or shared with this host and mount), else why not.
    private func tryTake() -> String? {
        for _ in 0..<3 {
            if create() { return nil }
            guard let holder = Self.holder(of: databasePath) else {
                // Half-written by its maker a moment ago, or just removed: look again.
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            if holder.sharesLocksWithThisProcess(device: device) && holder.kind == kind { return nil }
            if holder.isFresh(staleAfter: staleAfter) {
                return "\(databasePath) is held by \(holder.description), through \(Self.leasePath(for: databasePath)); "
                    + "two hosts opening one database on a shared filesystem corrupt it. Wait for it to end, "
                    + "or if that host is gone, for the lease to go stale (\(Int(staleAfter)) s, TRACKER_STALE_AFTER_S)"
            }
            breakStale(holder)
        }
        return "could not take the lease \(leasePath): it keeps changing; is another host taking it?"
    }

    private func create() -> Bool {
        let descriptor = open(leasePath, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return false }
        let bytes = Array(content.utf8)
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        fsync(descriptor)
        close(descriptor)
        return true
    }

    /// Moves a stale lease aside and removes it, unless what was moved is not the lease that was seen
    /// stale (another breaker made a fresh one in between): that one is put back.
    private func breakStale(_ stale: Holder) {
        let aside = leasePath + ".stale-" + nonce
        guard rename(leasePath, aside) == 0 else { return }
        let moved = try? String(contentsOfFile: aside, encoding: .utf8)
        if moved?.contains("nonce=\(stale.nonce)\n") == true {
            unlink(aside)
        } else {
            _ = link(aside, leasePath)
            unlink(aside)
        }
    }

    private func startRenewing() {
        let thread = Thread { [weak self] in self?.renewUntilReleased() }
        thread.name = "tracker lease"
        thread.start()
        self.thread = thread
    }

    private func renewUntilReleased() {
        while stopped.wait(timeout: .now() + renewEvery) == .timedOut {
            guard let holder = Self.holder(of: databasePath) else {
                // Given back by another process of this host and mount that shared it: made ours again
                // (should another host make it first, the next round sees theirs and stops).
                _ = create()
                continue
            }
            if holder.sharesLocksWithThisProcess(device: device) {
                utimensat(AT_FDCWD, leasePath, nil, 0)
            } else {
                onLost("lost the lease on \(databasePath) to \(holder.description); stopped writing")
                return
            }
        }
    }

    /// Says this holder is done. The lease itself stays with the process until it exits (see
    /// `releaseAllAtExit`): connections of a finished command may still be closing, removing their
    /// `-wal` and `-shm`, and another host must not open the file before they are gone.
    public func release() {
        Self.registryLock.lock()
        defer { Self.registryLock.unlock() }
        holders -= 1
    }
}
