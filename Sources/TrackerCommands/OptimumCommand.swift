import ArgumentParser
import Scheduling
import TrackerReports

/// `tracker optimum`: the exact optimum J* and how far each reference order is from it.
public struct OptimumCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "optimum",
        abstract: "Compute the exact optimum of a frame and compare the reference orders.",
        discussion: "Exact for up to \(ExactOptimum.maximumTasks) tasks. Gap = J / J* - 1."
    )

    @OptionGroup var source: FrameSourceOptions
    @OptionGroup var model: ModelOptions

    @Option(help: "Output format.")
    var format: ReportFormat = .table

    public init() {}

    public func run() throws {
        let frame = try source.frame(parameters: model.parameters)
        let optimum = try ExactOptimum.solve(frame)
        let references = ReferenceOrder.allCases.map { ($0, frame.evaluate($0.order(for: frame))) }
        func gap(_ evaluation: Evaluation) -> Double {
            optimum.objective > 0 ? evaluation.objective / optimum.objective - 1 : 0
        }
        switch format {
        case .json:
            let heuristics = JSON.object(references.map { reference, evaluation in
                (reference.rawValue, .object([
                    ("objective", .number(evaluation.objective)), ("order", .order(evaluation.order)),
                    ("misses", .integer(evaluation.misses)),
                    ("mean_completion_s", .number(evaluation.meanCompletionSeconds)),
                    ("gap", .number(gap(evaluation))),
                ]))
            })
            let fields = [("n", JSON.integer(frame.count))] + evaluationFields(optimum) + [("heuristics", heuristics)]
            try StandardOutput.print(JSON.object(fields).serialized(pretty: true))
        case .table:
            let rows: [[JSON]] = [[.string("optimum"), .number(optimum.objective), .number(0), .integer(optimum.misses),
                                   .number(optimum.meanCompletionSeconds), .order(optimum.order)]]
                + references.map { reference, evaluation in
                    [.string(reference.rawValue), .number(evaluation.objective), .number(gap(evaluation)),
                     .integer(evaluation.misses), .number(evaluation.meanCompletionSeconds), .order(evaluation.order)]
                }
            let table = Table(columns: ["order", "objective", "gap", "misses", "mean_completion_s", "tasks"], rows: rows)
            try StandardOutput.print(table.render(ListingFormat.table), terminator: "")
        }
    }
}
