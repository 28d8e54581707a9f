import Foundation

/// `tracker arguments...` inside `sh -c "<prelude>; exec tracker ..."`, e.g. under a `ulimit`, with stdout
/// and stderr captured like `CLI.run`.
func runUnderShell(_ prelude: String, _ arguments: [String]) throws -> CLI.Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", prelude + "; exec \"$@\"", "sh", CLI.binary.path] + arguments
    var env = ProcessInfo.processInfo.environment
    env["TRACKER_DB"] = nil
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let group = DispatchGroup()
    nonisolated(unsafe) var outData = Data(), errData = Data()
    group.enter()
    DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.wait()
    process.waitUntilExit()
    return CLI.Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
}

/// A file size limit of 1 MiB (a POSIX sh counts `ulimit -f` in 512-byte blocks). No `trap '' XFSZ`:
/// tracker ignores SIGXFSZ itself, so a write past the limit fails with EFBIG, as on a full disk.
let fileSizeLimitPrelude = "ulimit -f 2048"

/// Like `CLI.start`, with extra environment variables.
func startTracker(_ arguments: [String], environment: [String: String], captureStderr: Bool) throws -> Process {
    let process = Process()
    process.executableURL = CLI.binary
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["TRACKER_DB"] = nil
    for (key, value) in environment { env[key] = value }
    process.environment = env
    process.standardOutput = FileHandle.nullDevice
    process.standardError = captureStderr ? Pipe() : FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
}
