import Foundation

/// The filesystem a database lives on, and whether other hosts may see it.
///
/// SQLite's WAL index (`-shm`) is shared memory and its locks are POSIX locks: both stop at the host (on
/// FUSE, at the mount). On a filesystem that another host can mount (NFS, SMB, Lustre, GPFS, BeeGFS,
/// CephFS, AFS, 9p, any FUSE mount such as sshfs), a second host's ordinary open of a live database can
/// rebuild or truncate the writer's index under it: the writer dies of SIGBUS and the file is corrupt.
/// The store decides how to open a file from this (docs/sweeps.md#shared-filesystems).
public struct Filesystem: Sendable, Equatable {
    /// The filesystem's name as the mount table spells it ("ext4", "nfs4", "fuse.sshfs").
    public let name: String
    /// Another host may open files here: a network, cluster or FUSE filesystem, or one this list does
    /// not know (unknown coherence counts as shared: the safe side).
    public let isShared: Bool
    /// The device the file is on, as `stat` reports it: two mounts of one share differ here, which is
    /// what the host lease compares (`HostLease`).
    public let device: UInt64

    /// The filesystem holding `path` (the file's own if it exists, else its directory's); nil where the
    /// mount table cannot be read (then nothing is assumed and the file is opened as on a local disk).
    public static func of(_ path: String) -> Filesystem? {
        var status = stat()
        var probe = path
        if stat(probe, &status) != 0 {
            let directory = (path as NSString).deletingLastPathComponent
            probe = directory.isEmpty ? "." : directory
            guard stat(probe, &status) == 0 else { return nil }
        }
        guard let name = typeName(of: probe) else { return nil }
        return Filesystem(name: name, isShared: isShared(name), device: UInt64(status.st_dev))
    }

    /// Filesystems whose files only this host sees, by the mount table's name. Anything else, FUSE and
    /// unknown names included, is treated as shared.
    private static let localNames: Set<String> = [
        "ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "ramfs", "overlay", "zfs", "f2fs", "bcachefs", "reiserfs",
        "jfs", "vfat", "msdos", "exfat", "ntfs", "ntfs3", "fuseblk", "hfs", "hfsplus", "apfs", "nilfs2", "udf",
        "iso9660", "squashfs", "erofs", "devtmpfs",
    ]

    static func isShared(_ name: String) -> Bool { !localNames.contains(name.lowercased()) }

    private static func typeName(of path: String) -> String? {
#if canImport(Darwin)
        var info = statfs()
        guard statfs(path, &info) == 0 else { return nil }
        return withUnsafeBytes(of: info.f_fstypename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
#else
        return mountTableName(of: path)
#endif
    }

    /// The filesystem type of the mount that holds `path`, from /proc/self/mountinfo (the longest mount
    /// point that is a prefix of the path's real location). Nil where the table cannot be read.
    private static func mountTableName(of path: String) -> String? {
        guard let mounts = mountTable() else { return nil }
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let real = realpath(path, &resolved).map { String(cString: $0) } ?? path
        var best: (point: String, type: String)?
        for mount in mounts {
            let covers = mount.point == "/" || real == mount.point || real.hasPrefix(mount.point + "/")
            if covers, mount.point.count >= (best?.point.count ?? -1) { best = mount }
        }
        return best?.type
    }

    /// The mount table as (mount point, filesystem type), read at most every few seconds: every store
    /// open asks, and a sweep opens many (tracker-bench sharedfs: the lookup took 0.22 ms reading and
    /// splitting the table each time).
    private static func mountTable() -> [(point: String, type: String)]? {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let cached, Date().timeIntervalSince(cached.read) < 5 { return cached.mounts }
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        var mounts: [(point: String, type: String)] = []
        for line in table.split(separator: "\n") {
            // "36 35 98:0 /root /mnt/point rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
            guard let separator = line.range(of: " - ") else { continue }
            let fields = line[..<separator.lowerBound].split(separator: " ")
            guard fields.count >= 5, let type = line[separator.upperBound...].split(separator: " ").first else { continue }
            mounts.append((unescapeMountPoint(String(fields[4])), String(type)))
        }
        cached = (Date(), mounts)
        return mounts
    }

    nonisolated(unsafe) private static var cached: (read: Date, mounts: [(point: String, type: String)])?
    private static let cacheLock = NSLock()

    /// mountinfo writes space, tab, newline and backslash in mount points as octal escapes.
    private static func unescapeMountPoint(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
               let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
