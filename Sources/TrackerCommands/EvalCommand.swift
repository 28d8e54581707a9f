import ArgumentParser
import Scheduling
import TrackerReports

/// `tracker eval`: the completion times, objective and misses of one order.
public struct EvalCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate one order of a frame's tasks.",
        discussion: "The order lists 0-based task indices, first transmitted first, e.g. --order 2,0,1."
    )

    @OptionGroup var source: FrameSourceOptions

    @Option(help: ArgumentHelp("A permutation of 0...N-1, comma-separated.", valueName: "i,j,..."))
    var order: String

    @OptionGroup var model: ModelOptions

    @Option(help: "Output format.")
    var format: ReportFormat = .table

    public init() {}

    public func run() throws {
        let frame = try source.frame(parameters: model.parameters)
        let indices = try parseOrder(order)
        try frame.validate(order: indices)
        let evaluation = frame.evaluate(indices)
        switch format {
        case .json:
            let tasks = JSON.array(zip(indices, evaluation.completionTimes).map { task, completion in
                .object([
                    ("task", .integer(task)), ("completion_s", .number(completion)),
                    ("deadline_s", .number(frame.tasks[task].deadlineSeconds)),
                    ("missed", .bool(completion > frame.tasks[task].deadlineSeconds)),
                ])
            })
            try StandardOutput.print(JSON.object(evaluationFields(evaluation) + [("tasks", tasks)]).serialized(pretty: true))
        case .table:
            try StandardOutput.print(Record(fields: evaluationFields(evaluation)).render(.table))
            let table = Table(
                columns: ["position", "task", "completion_s", "deadline_s", "missed"],
                rows: zip(indices, evaluation.completionTimes).enumerated().map { position, pair in
                    let deadline = frame.tasks[pair.0].deadlineSeconds
                    return [.integer(position), .integer(pair.0), .number(pair.1), .number(deadline), .bool(pair.1 > deadline)]
                }
            )
            try StandardOutput.print(table.render(ListingFormat.table), terminator: "")
        }
    }
}

/// Parses "2,0,1" into indices; whether they form a permutation is the frame's check.
func parseOrder(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    return try parts.map { part in
        let trimmed = part.trimmingCharacters(in: .whitespaces)
        guard let index = Int(trimmed) else {
            throw CommandFailure("--order: '\(trimmed)' is not a task index; give 0-based indices like 2,0,1")
        }
        return index
    }
}

func evaluationFields(_ evaluation: Evaluation) -> [(String, JSON)] {
    [
        ("objective", .number(evaluation.objective)),
        ("order", .order(evaluation.order)),
        ("misses", .integer(evaluation.misses)),
        ("mean_completion_s", .number(evaluation.meanCompletionSeconds)),
    ]
}
