import Foundation

/// `--since` of `tracker list` and `delete`, and `since=` of the dashboard's runs page: one parser, so
/// both accept the same text and mean the same time.
public struct SinceError: Error, CustomStringConvertible {
    public let description: String
}

/// `--since`: a duration back from `now` (a whole number and one of s, m, h, d, w) or a UTC date or
/// time: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `YYYY-MM-DDTHH:MM:SS` (a space may stand for the `T`, a
/// trailing `Z` is allowed). Times are UTC because the database records them in UTC.
public func parseSince(_ text: String, now: Date) throws -> Date {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
    if let unit = trimmed.last, let seconds = units[unit], let count = Int(trimmed.dropLast()), count >= 0 {
        return now.addingTimeInterval(-Double(count) * seconds)
    }
    var spelled = trimmed.replacingOccurrences(of: " ", with: "T")
    if spelled.hasSuffix("Z") || spelled.hasSuffix("z") { spelled.removeLast() }
    let parts = spelled.split(separator: "T", omittingEmptySubsequences: false)
    let date = parts[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
    let time = parts.count == 2 ? parts[1].split(separator: ":", omittingEmptySubsequences: false).map { Int($0) } : []
    guard parts.count <= 2, date.count == 3, date.allSatisfy({ $0 != nil }), parts.count == 1 || (2...3).contains(time.count),
          time.allSatisfy({ $0 != nil }) else {
        throw SinceError(description: "'\(text)' is neither a duration (30m, 2h, 3d, 1w) nor a UTC date or time (2026-12-01, 2026-12-01T09:30)")
    }
    var components = DateComponents()
    components.calendar = Calendar(identifier: .gregorian)
    components.timeZone = TimeZone(identifier: "UTC")
    (components.year, components.month, components.day) = (date[0], date[1], date[2])
    (components.hour, components.minute, components.second) = (time.first ?? 0, time.count > 1 ? time[1] : 0, time.count > 2 ? time[2] : 0)
    guard components.isValidDate, let result = components.date else {
        throw SinceError(description: "'\(text)' is not a valid date or time")
    }
    return result
}
