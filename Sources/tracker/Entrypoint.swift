import ArgumentParser
import TrackerCommands

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The `tracker` executable: the composition of the two front ends. Every command but `ui` lives in the
// TrackerCommands library; `ui` (UICommand.swift, beside this file) serves TrackerWeb's dashboard. This is
// the only target that links both, so no library of the CLI links Hummingbird and SwiftNIO.

/// The root command as the executable offers it: TrackerCommands' commands and `ui`.
struct TrackerWithUI: ParsableCommand {
    static let configuration = Tracker.configuration(ui: UICommand.self)
}

@main
struct Entrypoint {
    static func main() {
        // Under a file size limit (ulimit -f) a write past it raises SIGXFSZ, which by default kills the
        // process mid-commit. Ignored, the write fails with EFBIG instead, SQLite reports an I/O error, and
        // the run ends with a one-line error and a resumable checkpoint, as on a full disk (docs/errors.md).
        signal(SIGXFSZ, SIG_IGN)
        Tracker.mainEscapingErrors(root: TrackerWithUI.self)
    }
}
