import ArgumentParser
import Foundation
import TrackerReports

extension ReportFormat: ExpressibleByArgument {}
extension ListingFormat: ExpressibleByArgument {}

/// Writes to standard error: progress, warnings and prompts never mix with the data on stdout.
enum StandardError {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
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
func printListing(_ text: String, _ format: ListingFormat) {
    let toTerminal = format == .csv && isatty(STDOUT_FILENO) == 1
    print(toTerminal ? terminalEscapedLines(text) : text, terminator: "")
}
