import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Learning
import TrackerStore

extension Provenance {
    /// This process's provenance, with the sweep spec (its name and text) that started the run, if any.
    static func current(sweep: (name: String, text: String)? = nil) -> Provenance {
        var provenance = processProvenance
        if let sweep {
            provenance.sweepName = sweep.name
            provenance.sweepSHA256 = SHA256.hexDigest(Array(sweep.text.utf8))
        }
        return provenance
    }

    /// Starts working out ``current(sweep:)``'s process-wide part (git's two answers, a few ms) on another
    /// thread, so it overlaps the caller's own start-up; `current` waits for it if it is not done.
    static func prefetch() {
        Thread.detachNewThread { _ = processProvenance }
    }

    /// What does not change during a process, git included: asked once, however many runs a sweep starts.
    private static let processProvenance: Provenance = {
        let directory = FileManager.default.currentDirectoryPath
        let git = gitState(of: directory)
        return Provenance(
            commandLine: CommandLine.arguments.map(shellQuoted).joined(separator: " "),
            workingDirectory: directory, gitCommit: git?.commit, gitDirty: git?.dirty, host: ProcessIdentity.host,
            user: userName, operatingSystem: operatingSystem, trackerVersion: Tracker.version)
    }()

    /// An argument as a POSIX shell reads it back: bare when it is made of safe characters only, else in
    /// single quotes (a quote inside becomes '\'').
    static func shellQuoted(_ argument: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=,@%+")
        if !argument.isEmpty, argument.unicodeScalars.allSatisfy(safe.contains) { return argument }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// HEAD and whether anything is uncommitted, when `directory` is inside a git work tree and git is
    /// installed; nil otherwise (no repository, no git, or git refuses it).
    static func gitState(of directory: String) -> (commit: String, dirty: Bool)? {
        guard let git = executableOnPath("git"),
              let commit = output(of: git, ["-C", directory, "rev-parse", "--verify", "HEAD"]),
              commit.count >= 40,
              let status = output(of: git, ["-C", directory, "status", "--porcelain"])
        else { return nil }
        return (commit, !status.isEmpty)
    }

    /// The trimmed standard output of a process that exits 0; nil when it cannot start or fails.
    ///
    /// Through posix_spawn rather than Foundation's `Process`: the two git calls cost a run about 50 ms
    /// through `Process` (its run-loop thread and termination monitoring), a third of a DTEQL run at N = 8,
    /// and about 3 ms this way.
    private static func output(of executable: String, _ arguments: [String]) -> String? {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        // Neither end may leak into a process another thread starts (Glibc does not export pipe2).
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // dup2 clears close-on-exec on the copy, so only the pipe's write end reaches the child.
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable, &actions, nil, argv, environ)
        close(ends[1])
        defer { close(ends[0]) }
        guard spawned == 0 else { return nil }

        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
            if count > 0 { data += buffer[..<count]; continue }
            if count < 0 && errno == EINTR { continue }
            break
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 {
            guard errno == EINTR else { return nil }
        }
        // WIFEXITED and WEXITSTATUS, which Swift does not import: exited normally, with status 0.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The login name of the process's user, from the password database, else $USER.
    private static var userName: String {
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "unknown"
    }

    /// `Linux 6.1.0-18-amd64 x86_64`: uname's system name, release and machine.
    private static var operatingSystem: String {
        var names = utsname()
        guard uname(&names) == 0 else { return ProcessInfo.processInfo.operatingSystemVersionString }
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return "\(field(names.sysname)) \(field(names.release)) \(field(names.machine))"
    }
}

/// The first executable called `name` on $PATH.
func executableOnPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":") where !directory.isEmpty {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}
