import Foundation
import Synchronization
import TrackerReports

/// SIGINT and SIGTERM ask a run to stop after its current iteration; the handler only records which
/// signal came, and the run loop polls it.
enum StopSignal {
    private static let received = Atomic<Int32>(0)

    static func install() {
        signal(SIGINT) { number in StopSignal.received.store(number, ordering: .relaxed) }
        signal(SIGTERM) { number in StopSignal.received.store(number, ordering: .relaxed) }
        // A parent may start us with these signals blocked (Foundation's Process passes on the mask of the
        // thread that spawned it); blocked, they would stay pending and never stop the run.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    static var pending: Int32 { received.load(ordering: .relaxed) }

    /// The shell convention: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
    static var exitCode: Int32 { 128 + pending }
}

/// Progress on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise, nothing
/// when quiet. Decided here at the edge, never in the store.
final class ProgressDisplay {
    enum Mode { case bar, lines, silent }

    let mode: Mode
    private var lastDraw: Double = -.infinity
    private let label: String

    init(quiet: Bool, label: String) {
        self.label = terminalEscaped(label, keepingBackslashes: true)  // a run id read from the database
        if quiet {
            mode = .silent
        } else {
            mode = isatty(STDERR_FILENO) == 1 ? .bar : .lines
        }
    }

    /// Throttled: cheap to call every iteration.
    func update(done: Int, total: Int, sessionDone: Int, seconds: Double, force: Bool = false, prefix: String? = nil,
                stopped: Bool = false) {
        let interval = mode == .bar ? 0.1 : 5.0
        guard mode != .silent, force || seconds - lastDraw >= interval else { return }
        lastDraw = seconds
        let rate = seconds > 0 ? Double(sessionDone) / seconds : 0
        let remaining = rate > 0 ? Double(total - done) / rate : .nan
        // Nothing computed yet (or nothing to do): no speed and no ETA to claim.
        // Stopped: nothing is left to estimate, and "ETA 0:00" would read as done.
        let stats = (prefix ?? "\(done)/\(total)")
            + (sessionDone > 0 ? "  \(Self.formatRate(rate)) it/s" + (stopped ? "  stopped" : "  ETA \(Self.formatDuration(remaining))") : "")
        switch mode {
        case .bar:
            let width = 30
            let filled = total > 0 ? min(width, width * done / total) : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            StandardError.write("\r\(label) [\(bar)] \(stats)\u{1B}[K")
        case .lines:
            StandardError.write("\(label) \(stats)\n")
        case .silent:
            break
        }
    }

    func finish() {
        if mode == .bar { StandardError.write("\n") }
    }

    static func formatRate(_ rate: Double) -> String {
        rate >= 1e6 ? String(format: "%.2fM", rate / 1e6) : rate >= 1e3 ? String(format: "%.1fk", rate / 1e3) : String(format: "%.0f", rate)
    }

    static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e12 else { return "--:--" }  // Int(...) of more could trap
        let total = Int(seconds.rounded())
        return total >= 3600
            ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
            : String(format: "%d:%02d", total / 60, total % 60)
    }
}
