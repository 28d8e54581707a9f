import TrackerCommands

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The executable is only this: every command lives in the TrackerCommands library.
@main
struct Entrypoint {
    static func main() {
        // Under a file size limit (ulimit -f) a write past it raises SIGXFSZ, which by default kills the
        // process mid-commit. Ignored, the write fails with EFBIG instead, SQLite reports an I/O error, and
        // the run ends with a one-line error and a resumable checkpoint, as on a full disk (docs/errors.md).
        signal(SIGXFSZ, SIG_IGN)
        Tracker.mainEscapingErrors()
    }
}
