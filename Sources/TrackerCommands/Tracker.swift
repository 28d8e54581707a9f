import ArgumentParser
import Foundation
import TrackerReports
import TrackerStore

/// The root command. Each subcommand lives in its own file as a type of this library, so the tests link
/// the same commands the executable runs.
public struct Tracker: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "tracker",
        abstract: "Digital-twin-assisted Q-learning for edge task scheduling, tracked in SQLite.",
        discussion: """
            Frames of N offloaded tasks are scheduled by QL, DTEQL and DTAQL; every run, its settings, \
            metrics and checkpoints go into one SQLite file (--db, default ./tracker.db).
            """,
        version: version,
        subcommands: [
            FrameCommand.self,
            EvalCommand.self,
            OptimumCommand.self,
            RunCommand.self,
            ResumeCommand.self,
            ShowCommand.self,
            ListCommand.self,
            TagCommand.self,
            NoteCommand.self,
            DeleteCommand.self,
            GCCommand.self,
            CheckCommand.self,
            PlotCommand.self,
            QueryCommand.self,
            SQLCommand.self,
            CompareCommand.self,
            SweepCommand.self,
            TuneCommand.self,
            MergeCommand.self,
            ReproduceCommand.self,
            UICommand.self,
            SettingsReferenceCommand.self,
        ]
    )

    public init() {}

    /// A wrong setting name is a usage error, exit 64, from every command, whether argument parsing or
    /// the store (which knows the recorded settings) found it (docs/settings.md).
    static func isUsageError(_ error: any Error) -> Bool {
        switch error {
        case StoreError.unknownSetting, StoreError.invalidSettingName: return true
        default: return false
        }
    }

    /// `main()` with one difference: an error's message goes through `terminalEscaped` line by line
    /// before it reaches stderr, because messages quote stored and file text (labels, task files, sweep
    /// specs, SQL results) that could otherwise drive the terminal. Help and `--version` print as usual.
    /// The standard streams are prepared first (``StandardStreams/prepare()``): a closed or full stdout
    /// or stderr never traps, and a result that could not be written whole exits 1.
    public static func mainEscapingErrors() -> Never {
        StandardStreams.prepare()
        do {
            var command = try parseAsRoot()
            try command.run()
            Foundation.exit(0)
        } catch {
            let code = Self.isUsageError(error) ? ExitCode.validationFailure : exitCode(for: error)
            guard code != .success else {
                // --help, `help CMD`, --version: the text is the result, written and checked like any other.
                let text = fullMessage(for: error)
                do {
                    if !text.isEmpty { try StandardOutput.write(text + "\n") }
                } catch {
                    StandardError.write("Error: \(error)\n")
                    Foundation.exit(1)
                }
                Foundation.exit(0)
            }
            StandardError.write(terminalEscapedLines(fullMessage(for: error)) + "\n")
            Foundation.exit(code.rawValue)
        }
    }
}
