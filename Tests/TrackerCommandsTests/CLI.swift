import Foundation
import Testing

/// Runs the built `tracker` binary as a user would, capturing stdout, stderr and the exit code.
/// The binary sits next to the test bundle in SwiftPM's products directory.
struct CLI {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        /// True when a signal ended the process (a trap's SIGILL, SIGKILL): `status` is then the signal's
        /// number, not an exit code.
        var signaled = false
    }

    static let binary: URL = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // Linux runs the .xctest executable itself; macOS runs a helper with the bundle inside.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("tracker")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tracker")
    }()

    /// Runs `tracker arguments...` in `directory` with `TRACKER_DB` and `COLUMNS` cleared. With a
    /// `prelude`, runs `sh -c "<prelude>; exec tracker arguments..."` instead (e.g. under a `ulimit`).
    /// With a `host`, runs it in a UTS namespace of its own whose hostname is `host` (`unshare --uts`, as
    /// root): another machine, as far as the run records can tell.
    @discardableResult
    static func run(_ arguments: [String], in directory: URL? = nil, stdin: String? = nil,
                    environment: [String: String] = [:], prelude: String? = nil, host: String? = nil) throws -> Result {
        let process = makeProcess(arguments, environment: environment, prelude: prelude, host: host)
        if let directory { process.currentDirectoryURL = directory }
        return try capture(process, stdin: stdin)
    }

    /// Runs any program (a shell, `sbatch`, `parallel`) with this environment plus `environment`, in
    /// `directory`, capturing its output like ``run(_:in:stdin:environment:prelude:host:)``.
    @discardableResult
    static func tool(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                     environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = directory }
        return try capture(process, stdin: nil)
    }

    /// Starts `process`, feeds it `stdin`, waits for it and returns what it wrote.
    private static func capture(_ process: Process, stdin: String?) throws -> Result {
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes to the end before waiting, so a large output cannot block the child.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self),
                      signaled: process.terminationReason == .uncaughtSignal)
    }

    /// Starts `tracker arguments...` without waiting; stdout is discarded, stderr kept when asked.
    static func start(_ arguments: [String], environment: [String: String] = [:], captureStderr: Bool = false,
                      host: String? = nil) throws -> Process {
        let process = makeProcess(arguments, environment: environment, prelude: nil, host: host)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = captureStderr ? Pipe() : FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    private static func makeProcess(_ arguments: [String], environment: [String: String], prelude: String?,
                                    host: String? = nil) -> Process {
        let process = Process()
        if let host {
            // unshare and sh exec in turn, so the process's pid is tracker's own (a kill reaches it).
            process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            process.arguments = ["--uts", "/bin/sh", "-c", "hostname \"$0\" && \(prelude.map { $0 + "; " } ?? "")exec \"$@\"",
                                 host, binary.path] + arguments
        } else if let prelude {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", prelude + "; exec \"$@\"", "sh", binary.path] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        env["TRACKER_DB"] = nil
        env["COLUMNS"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        return process
    }

    /// What a process from `start(_:captureStderr: true)` wrote to stderr; call after it exited.
    static func capturedStderr(_ process: Process) -> String {
        guard let pipe = process.standardError as? Pipe else { return "" }
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    /// Parses stdout as JSON (an object or array).
    static func json(_ result: Result) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }
}

extension CLI.Result {
    /// stderr's non-empty lines.
    var errorLines: [Substring] { stderr.split(separator: "\n") }
}
