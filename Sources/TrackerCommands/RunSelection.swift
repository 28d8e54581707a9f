import ArgumentParser
import Foundation
import Learning
import TrackerReports
import TrackerStore

/// `--format table|json` for commands that report one result (gc, sweep, reproduce, delete, merge): the
/// same option, help and default everywhere.
public struct ReportFormatOptions: ParsableArguments {
    @Option(help: "Output format.")
    var format: ReportFormat = .table

    public init() {}
}

/// Which runs `list` and `delete` act on: every filter is bound in SQL (`RunFilter`) or matched against
/// the recorded settings (`--where`, `--tag`), never spliced into a statement.
public struct RunSelectionOptions: ParsableArguments {
    @Option(help: "Only this algorithm.")
    var algo: Algorithm?

    @Option(help: ArgumentHelp("Only runs with N tasks.", valueName: "N"))
    var n: Int?

    @Option(help: "Only runs with this status.")
    var status: RunStatus?

    @Option(help: ArgumentHelp("Only runs with this label (among their labels: a run adopted by a sweep belongs to its label too).", valueName: "text"))
    var label: String?

    @Option(help: ArgumentHelp(
        "Only runs created since a UTC date or time (2026-12-01, 2026-12-01T09:30, 2026-12-01T09:30:00Z) or within a duration back from now (90s, 30m, 2h, 3d, 1w).",
        valueName: "when"))
    var since: String?

    @Option(name: .customLong("where"), help: ArgumentHelp(
        "Only runs whose setting KEY equals VALUE (lr=0.9, iterations=2000, reward=negative, ...). Repeatable.",
        valueName: "KEY=VALUE"))
    var conditions: [String] = []

    @Option(name: .customLong("tag"), help: ArgumentHelp(
        "Only runs tagged KEY=VALUE (the same as --where tag.KEY=VALUE). Repeatable.", valueName: "KEY=VALUE"))
    var tags: [String] = []

    public init() {}

    public func validate() throws {
        _ = try allConditions()
        _ = try sinceDate()
    }

    /// Whether any filter is given (`delete` takes either run ids or filters).
    var isFiltering: Bool {
        algo != nil || n != nil || status != nil || label != nil || since != nil || !conditions.isEmpty || !tags.isEmpty
    }

    func sinceDate(now: Date = Date()) throws -> Date? {
        guard let since else { return nil }
        do { return try parseSince(since, now: now) } catch { throw ValidationError("--since: \(error)") }
    }

    var filter: RunFilter {
        get throws { RunFilter(algorithm: algo, n: n, status: status, label: label, since: try sinceDate()) }
    }

    /// `--where` and `--tag` together: `--tag K=V` is `--where tag.K=V`.
    func allConditions() throws -> [SettingCondition] {
        let tagConditions = try tags.map { text in
            do {
                let tag = try RunTags.parse(text)
                return SettingCondition(key: RunTags.settingPrefix + tag.key, value: tag.value)
            } catch {
                throw ValidationError("--tag: \(error)")
            }
        }
        return try settingConditions(conditions) + tagConditions
    }

    /// `rows` (already selected by ``filter``) kept where the run's settings match `--where` and `--tag`.
    func matchingSettings<Row>(_ rows: [Row], in store: TrackerStore, runID: (Row) -> String) throws -> [Row] {
        let conditions = try allConditions()
        guard !conditions.isEmpty else { return rows }
        try store.checkSettingKeys(conditions.map(\.key), option: "--where")
        let settings = try store.runSettings()
        return rows.filter { settings[runID($0)]?.matches(conditions) ?? false }
    }
}

struct SinceError: Error, CustomStringConvertible {
    let description: String
}

/// `--since`: a duration back from `now` (a whole number and one of s, m, h, d, w) or a UTC date or
/// time: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `YYYY-MM-DDTHH:MM:SS` (a space may stand for the `T`, a
/// trailing `Z` is allowed). Times are UTC because the database records them in UTC.
func parseSince(_ text: String, now: Date) throws -> Date {
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
