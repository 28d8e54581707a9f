import ArgumentParser
import Foundation
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

    public init() {}

    public func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535, got \(port).") }
        guard !host.isEmpty else { throw ValidationError("--host must not be empty.") }
    }

    public func run() throws {
        let dashboard = Dashboard(databasePath: database.path)
        // A missing, foreign or newer database is refused here, before anything listens.
        try dashboard.checkDatabase()
        if !Self.isLoopback(host) {
            StandardError.write(
                "Warning: listening on \(host): anyone who can reach this address can read the whole database (there is no authentication).\n")
        }
        let host = self.host, port = self.port, path = database.path
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
