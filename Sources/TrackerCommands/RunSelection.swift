import ArgumentParser
import Foundation
import Learning
import TrackerApp
import TrackerReports
import TrackerStore

/// `--format table|json` for commands that report one result (gc, sweep, reproduce, delete, merge): the
/// same option, help and default everywhere.
public struct ReportFormatOptions: ParsableArguments {
    @Option(help: "Output format.")
    var format: ReportFormat = .table

    public init() {}
}

/// Which runs `list` and `delete` act on: every filter, `--where` and `--tag` included, is a condition of
/// the one listing query (`RunFilter`, the runs page's too), its value bound, never spliced into a statement.
public struct RunSelectionOptions: ParsableArguments {
    @Option(help: "Only this algorithm.")
    var algo: Algorithm?

    @Option(help: ArgumentHelp("Only runs with N tasks.", valueName: "N"))
    var n: Int?

    @Option(help: ArgumentHelp("Only runs with this phi (the twin's update interval of DTEQL and DTAQL).", valueName: "phi"))
    var phi: Int?

    @Option(help: "Only runs with this status (dead: the 'running' runs that are dead and resumable; running: live and dead ones).")
    var status: RunStatusFilter?

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
        algo != nil || n != nil || phi != nil || status != nil || label != nil || since != nil || !conditions.isEmpty || !tags.isEmpty
    }

    func sinceDate(now: Date = Date()) throws -> Date? {
        guard let since else { return nil }
        do { return try parseSince(since, now: now) } catch { throw ValidationError("--since: \(error)") }
    }

    var filter: RunFilter {
        get throws {
            RunFilter(algorithm: algo, n: n, status: status, label: label, since: try sinceDate(), phi: phi,
                      conditions: try allConditions())
        }
    }

    /// `--where` and `--tag` together: `--tag K=V` is `--where tag.K=V`.
    func allConditions() throws -> [SettingCondition] {
        let tagConditions = try tags.map { text in
            do { return try SettingCondition(parsingTag: text) } catch { throw ValidationError("--tag: \(error)") }
        }
        return try settingConditions(conditions) + tagConditions
    }
}
