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
    private static func output(of executable: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
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
