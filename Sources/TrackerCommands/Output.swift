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
