import ArgumentParser
import Foundation
import TrackerReports

extension ReportFormat: ExpressibleByArgument {}
extension ListingFormat: ExpressibleByArgument {}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes to standard error: progress, warnings and prompts never mix with the data on stdout. A write
/// that fails (stderr closed, a full disk, `2>/dev/full`, a closed pipe) is ignored: a message that cannot
/// be shown must never stop a run or a server (it used to trap, through `FileHandle.write`).
public enum StandardError {
    public static func write(_ text: String) {
        _ = StandardStreams.writeAll(STDERR_FILENO, text)
    }
}

/// Writes a command's result to standard output, unbuffered and checked, so a result is either written
/// whole or the command says it was not: every command prints its result through here (never `print`,
/// whose buffer is flushed at exit with the error dropped, and never `FileHandle.write`, which traps).
///
/// - A closed pipe (`EPIPE`, e.g. `tracker list | head -1`) ends the process quietly with exit 0, as Unix
///   tools do: the reader wanted no more.
/// - Any other failure (`ENOSPC` on a full disk, `EIO`, `EFBIG`, stdout closed: `EBADF`) throws
///   ``CommandFailure`` "could not write the output: ..." (exit 1): the result was not written whole.
public enum StandardOutput {
    static func write(_ text: String) throws {
        let failure = StandardStreams.writeAll(STDOUT_FILENO, text)
        guard failure != 0 else { return }
        if failure == EPIPE { exit(0) }
        throw CommandFailure("could not write the output: \(String(cString: strerror(failure)))")
    }

    /// `print`'s shape, checked.
    static func print(_ text: String, terminator: String = "\n") throws {
        try write(text + terminator)
    }

    /// A message that goes to stdout but is not a result (the `ui` command's URL line): written in one
    /// call, and a failure is ignored like ``StandardError/write(_:)``'s.
    public static func message(_ text: String) {
        _ = StandardStreams.writeAll(STDOUT_FILENO, text)
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

/// The process's three standard descriptors.
enum StandardStreams {
    /// Called once at startup, before anything opens a file. `SIGPIPE` is ignored, so a write to a closed
    /// pipe fails with `EPIPE` (handled by ``StandardOutput``) instead of killing the process mid-way.
    /// A standard descriptor the process was started without (`2>&-`, `>&-`) is filled with `/dev/null`,
    /// so no file opened later (a database, a spec, a figure) can become fd 0, 1 or 2 and receive our
    /// output; stdout is filled read-only, so a result written to a closed stdout still fails (`EBADF`)
    /// and is reported, while stderr's messages just vanish.
    static func prepare() {
        signal(SIGPIPE, SIG_IGN)
        for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            let opened = open("/dev/null", fd == STDERR_FILENO ? O_WRONLY : O_RDONLY)
            if opened >= 0 && opened != fd {
                dup2(opened, fd)
                close(opened)
            }
        }
    }

    /// Writes every byte of `text` to `fd`, retrying after a signal or a partial write and waiting out a
    /// non-blocking descriptor; returns 0, or the `errno` of the write that failed.
    static func writeAll(_ fd: Int32, _ text: String) -> Int32 {
        writeAll(fd, Array(text.utf8))
    }

    /// ``writeAll(_:_:)`` for bytes; also what `OutputFile` writes a figure or report with.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
        var offset = 0
        return bytes.withUnsafeBytes { buffer -> Int32 in
            guard let start = buffer.baseAddress else { return 0 }  // nothing to write
            while offset < buffer.count {
                let written = systemWrite(fd, start + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                    continue
                }
                let failure = written < 0 ? errno : EIO
                if failure == EINTR { continue }
                if failure == EAGAIN || failure == EWOULDBLOCK {
                    var waiting = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&waiting, 1, -1)
                    continue
                }
                return failure
            }
            return 0
        }
    }
}

/// Columns available to text on stdout: `$COLUMNS` when it is a number, else the terminal's width
/// (TIOCGWINSZ) when stdout is one, else 80 (a pipe or a file).
func terminalWidth() -> Int {
    if let text = ProcessInfo.processInfo.environment["COLUMNS"], let columns = Int(text.trimmingCharacters(in: .whitespaces)),
       columns > 0 {
        return columns
    }
    var size = winsize()
    if isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
        return Int(size.ws_col)
    }
    return 80
}

/// Prints a rendered listing on standard output. Tables and markdown are terminal-safe already and JSON
/// escapes control characters itself; CSV is data, exact in a file or a pipe, but when standard output is
/// a terminal its control characters are escaped too, so stored text cannot drive the terminal.
func printListing(_ text: String, _ format: ListingFormat) throws {
    let toTerminal = format == .csv && isatty(STDOUT_FILENO) == 1
    try StandardOutput.write(toTerminal ? terminalEscapedLines(text) : text)
}
