import Foundation
import SQLite

/// How the store opens a database that sits on a shared filesystem (NFS, Lustre, sshfs, ...: see
/// `Filesystem`), where SQLite's locks and WAL index do not reach other hosts and an ordinary open from a
/// second host can corrupt a live file (docs/sweeps.md#shared-filesystems):
///
/// - Writing there is refused, unless the user promised that one host at a time opens the file
///   (`--single-host`, `TRACKER_SINGLE_HOST=1`). Then the command takes the file's host lease
///   (`HostLease`) for its whole life, and a second host's command is refused while it holds it.
/// - Reading there never takes a lock or touches shared memory: the file is opened immutable, which is
///   safe exactly when no host changes it in place. That is so for a copy published by rename
///   (`sweep --publish`), and for a file no host holds a write lease on. A file held by a writer on
///   another host (or another mount) is refused; one held by a writer on this host, through this mount,
///   is read as on a local disk.
public enum SharedFilesystem {
    /// Whether this process may write to (or read normally) databases on shared filesystems, taking
    /// their host lease: `TRACKER_SINGLE_HOST=1`, which `--single-host` sets for the command and the
    /// processes it starts.
    public static var singleHost: Bool {
        ProcessInfo.processInfo.environment["TRACKER_SINGLE_HOST"] == "1"
    }

    /// What a process does when its lease is broken or taken while it writes: by default it says so on
    /// stderr and exits at once with status 1 (every run it recorded stays resumable from its last
    /// checkpoint; writing on would make two writers). Set once at startup, before any store opens.
    nonisolated(unsafe) public static var onLeaseLost: @Sendable (String) -> Void = { message in
        let line = "Error: \(message)\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
        _exit(1)
    }

    static let documentation = "docs/sweeps.md#shared-filesystems"
}

extension TrackerStore {
    /// How to open `path` for `access`: immutable (a read on a shared filesystem), or normally, with the
    /// host lease taken where the file is on a shared filesystem. Throws the refusals of `SharedFilesystem`.
    static func placement(of path: String, access: Access) throws -> (immutable: Bool, lease: HostLease?) {
        guard let filesystem = Filesystem.of(path), filesystem.isShared else { return (false, nil) }
        let onShared = "it is on a shared filesystem (\(filesystem.name))"
        if SharedFilesystem.singleHost {
            do {
                let lease = try HostLease.acquire(for: path, kind: .write, device: filesystem.device,
                                                  onLost: SharedFilesystem.onLeaseLost)
                return (false, lease)
            } catch StoreError.invalidArgument(let refusal) {
                throw StoreError.cannotOpen(path: path, reason: "\(onShared) and " + refusal)
            }
        }
        switch access {
        case .readWrite, .readWriteExisting:
            throw StoreError.cannotOpen(path: path, reason: "\(onShared), where SQLite's locks and WAL index do not reach "
                + "other hosts and one host's open can corrupt another's writes; write on a local disk and publish copies "
                + "here (tracker sweep --db LOCAL.db --publish \(path)), or pass --single-host if no other host opens "
                + "this file (\(SharedFilesystem.documentation))")
        case .readOnly, .inspect:
            if let holder = HostLease.holder(of: path), holder.isFresh(staleAfter: Liveness.staleAfterSeconds),
               holder.kind == .write {
                if holder.sharesLocksWithThisProcess(device: filesystem.device) { return (false, nil) }
                throw StoreError.cannotOpen(path: path, reason: "\(onShared) and being written by \(holder.description); "
                    + "reading it from another host could corrupt it: read it on that host, or read a copy it "
                    + "publishes (\(SharedFilesystem.documentation))")
            }
            for (suffix, what) in [("-wal", "its -wal holds commits not yet in the file"),
                                   ("-journal", "its -journal holds a transaction not rolled back")] {
                var log = stat()
                if stat(path + suffix, &log) == 0, log.st_size > 0 {
                    throw StoreError.cannotOpen(path: path, reason: "\(onShared) and \(what), left by a writer that stopped; "
                        + "fold it in on one host with `tracker check --single-host --db \(path)`, then read it "
                        + "(\(SharedFilesystem.documentation))")
                }
            }
            return (true, nil)
        }
    }

    /// Whether this store reads its file immutable (on a shared filesystem; see `SharedFilesystem`).
    public var readsImmutable: Bool { database.isImmutable }

    /// A path another connection can ATTACH for reading this store's file: the file itself, or, for a
    /// store read immutable, a consistent copy in the temporary directory (an ATTACH would take locks on
    /// the shared file). `cleanUp` removes the copy.
    func attachablePath() throws -> (path: String, cleanUp: () -> Void) {
        guard readsImmutable else { return (database.path, {}) }
        let temporary = FileManager.default.temporaryDirectory
            .appendingPathComponent("tracker-attach-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).db").path
        try copy(to: temporary)
        return (temporary, { unlink(temporary) })
    }

    /// A consistent copy of this store's file at `destination` (`VACUUM INTO`), which must not exist.
    /// Allowed on a query-only store: the copy is the only file written.
    public func copy(to destination: String) throws {
        try storeOperation("copying \(path) to \(destination)") {
            try database.execute("PRAGMA query_only = OFF")
            defer { try? database.execute("PRAGMA query_only = ON") }
            try database.prepare("VACUUM INTO ?").run([.text(destination)])
        }
    }
}
