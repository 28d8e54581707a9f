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

    @Option(help: "Output format.")
    var format: ListingFormat = .table

    public init() {}

    public func validate() throws {
        _ = try settingConditions(conditions)
    }

    public func run() throws {
        let store = try database.openStore(.readOnly)
        var records = try store.runs(matching: RunFilter(algorithm: algo, n: n, status: status, label: label))
        let conditions = try settingConditions(self.conditions)
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
