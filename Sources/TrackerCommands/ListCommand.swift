import ArgumentParser
import Learning
import TrackerReports
import TrackerStore

extension RunStatus: ExpressibleByArgument {}

/// `tracker list`: the runs in the database, filtered.
public struct ListCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List runs. A 'running' run whose process died shows as resumable."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Only this algorithm.")
    var algo: Algorithm?

    @Option(help: ArgumentHelp("Only runs with N tasks.", valueName: "N"))
    var n: Int?

    @Option(help: "Only runs with this status.")
    var status: RunStatus?

    @Option(help: ArgumentHelp("Only runs with this label.", valueName: "text"))
    var label: String?

    @Option(name: .customLong("where"), help: ArgumentHelp(
        "Only runs whose setting KEY equals VALUE (lr=0.9, iterations=2000, reward=negative, ...). Repeatable.",
        valueName: "KEY=VALUE"))
    var conditions: [String] = []

    @Option(name: .customLong("tag"), help: ArgumentHelp(
        "Only runs tagged KEY=VALUE (the same as --where tag.KEY=VALUE). Repeatable.", valueName: "KEY=VALUE"))
    var tags: [String] = []

    @Option(help: "Output format.")
    var format: ListingFormat = .table

    public init() {}

    public func validate() throws {
        _ = try allConditions()
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

    public func run() throws {
        let store = try database.openStore(.readOnly)
        var records = try store.runs(matching: RunFilter(algorithm: algo, n: n, status: status, label: label))
        let conditions = try allConditions()
        if !conditions.isEmpty {
            try store.checkSettingKeys(conditions.map(\.key), option: "--where")
            let settings = try store.runSettings()
            records = records.filter { settings[$0.runID]?.matches(conditions) ?? false }
        }
        let table = Table(
            columns: ["run_id", "algorithm", "n", "phi", "seed", "status", "resumable", "iterations", "planned",
                      "objective", "iterations_to_optimal", "label", "created_at"],
            rows: try records.map { record in
                let summary = try store.summary(ofRun: record.id)
                return [
                    .string(record.runID), .string(record.algorithm.rawValue), .integer(record.n), .integer(record.phi),
                    .integer(Int(record.seed)), .string(record.displayStatus), .bool(record.isResumable),
                    .integer(record.doneIterations), .integer(record.plannedIterations),
                    .optional(summary?.objective), .optional(summary?.iterationsToOptimal), .optional(record.label),
                    .string(record.createdAt),
                ]
            })
        print(table.render(format), terminator: "")
    }
}
