import ArgumentParser
import Foundation
import TrackerCommands
import TrackerStore
import TrackerWeb

/// `tracker ui`: serves the read-only web dashboard over the database until SIGINT or SIGTERM.
public struct UICommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Serve a read-only web dashboard of the database (runs, one run, compare, queries, a JSON API).",
        discussion: """
            Prints the URL and serves until Ctrl-C (SIGINT) or SIGTERM. Every request reads the database \
            through its own read-only connection, so runs and sweeps can keep writing to it. There is no \
            authentication: it binds 127.0.0.1 unless --host says otherwise. See docs/ui.md.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp(
        "Address to listen on. Anything but a loopback address makes the data visible to the network.",
        valueName: "address"))
    var host: String = "127.0.0.1"

    @Option(help: ArgumentHelp("TCP port; 0 picks a free one (the URL printed says which).", valueName: "port"))
    var port: Int = 8765

    @Flag(help: ArgumentHelp(
        "Let the run page set and remove tags and replace the note (POST forms with a per-process token, same origin only); read-only without it."))
    var allowEdits = false

    public init() {}

    public func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535, got \(port).") }
        guard !host.isEmpty else { throw ValidationError("--host must not be empty.") }
    }

    public func run() throws {
        let dashboard = Dashboard(databasePath: database.path, requestTimeLimit: Self.requestTimeLimit, allowEdits: allowEdits)
        // A missing, foreign or newer database is refused here, before anything listens.
        try dashboard.checkDatabase()
        if !Self.isLoopback(host) {
            StandardError.write(
                "Warning: listening on \(host): anyone who can reach this address can read the whole database (there is no authentication).\n")
        }
        let host = self.host, port = self.port, path = database.path
        // Hummingbird stops gracefully on SIGINT/SIGTERM, waiting for open requests; this makes sure the
        // signal stops the process even when a request never ends.
        let watchdog = StopWatchdog(grace: Self.stopGraceSeconds)
        defer { withExtendedLifetime(watchdog) {} }
        let outcome = ServeOutcome()
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                try await dashboard.serve(host: host, port: port) { boundPort in
                    let shown = host.contains(":") ? "[\(host)]" : host
                    // Written in one call and unbuffered, so a script reading the URL sees it at once; a
                    // stdout that cannot take it (closed, full) does not stop the server.
                    StandardOutput.message(
                        "tracker ui: serving \(path) at http://\(shown):\(boundPort)/ (Ctrl-C stops)\n")
                }
            } catch {
                outcome.set(error)
            }
            finished.signal()
        }
        finished.wait()
        if let error = outcome.error {
            throw CommandFailure("cannot serve on \(host):\(port): \(error)")
        }
    }

    /// How long after SIGINT or SIGTERM open requests may still finish: 15 s (a request's database work is
    /// stopped after 10 s), then the process exits 1 without them; a second signal exits at once.
    static let stopGraceSeconds = 15

    /// The time limit per request: 10 s, or `$TRACKER_UI_TIME_LIMIT_MS` milliseconds (1 to 600000) when
    /// set (for tests and slow machines); anything else in the variable is ignored.
    static var requestTimeLimit: Duration {
        guard let text = ProcessInfo.processInfo.environment["TRACKER_UI_TIME_LIMIT_MS"],
              let value = Int(text.trimmingCharacters(in: .whitespaces)), (1...600_000).contains(value) else {
            return .seconds(10)
        }
        return .milliseconds(value)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// The server task's error, handed to the waiting main thread.
private final class ServeOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    var error: (any Error)? { lock.withLock { stored } }
    func set(_ error: any Error) { lock.withLock { stored = error } }
}

/// SIGINT and SIGTERM start Hummingbird's graceful stop (its own handlers); this watches them too. A second
/// signal, or requests still running `grace` seconds after the first, end the process at once with one
/// line on stderr and exit 1: a request stuck in a system call must not keep the server alive for good.
private final class StopWatchdog: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "tracker-ui.stop-watchdog")
    private let lock = NSLock()
    private var received = 0

    init(grace: Int) {
        for number in [SIGINT, SIGTERM] {
            // Dispatch delivers the signal only while its default action (ending the process) is off.
            signal(number, SIG_IGN)
            // A queue of its own (it gets a thread even when every shared one is busy).
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in self?.signalled(number, grace: grace) }
            source.resume()
            sources.append(source)
        }
    }

    private func signalled(_ number: Int32, grace: Int) {
        let name = number == SIGINT ? "SIGINT" : "SIGTERM"
        let count = lock.withLock { received += 1; return received }
        if count > 1 { Self.stop("a second \(name) while requests were still running") }
        queue.asyncAfter(deadline: .now() + .seconds(grace)) {
            Self.stop("requests still running \(grace) s after \(name)")
        }
    }

    private static func stop(_ reason: String) -> Never {
        FileHandle.standardError.write(Data("Error: tracker ui stopped without waiting for its requests: \(reason)\n".utf8))
        _exit(1)
    }
}
