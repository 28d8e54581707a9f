import Foundation
import Learning
import Scheduling
import SQLite
import TrackerApp
@testable import TrackerStore

/// A small run specification that trains in well under a second in a debug build.
func smallSpecification(
    algorithm: Algorithm, n: Int = 6, iterations: Int = 3000, seed: UInt64 = 3, phi: Int = 40,
    checkpointEvery: Int = 256, label: String? = nil, twin: TwinModel = .exact, aggregation: Aggregation = .mean
) -> RunSpecification {
    let frame = FrameGenerator.generate(count: n, seed: 11)
    let hyperparameters = Hyperparameters(
        algorithm: algorithm, phi: algorithm == .ql ? 0 : phi, delta: 64, iterations: iterations, seed: seed,
        twin: twin, aggregation: aggregation)
    return RunSpecification(
        frame: frame, frameSource: .generated(seed: 11), hyperparameters: hyperparameters,
        checkpointEvery: checkpointEvery, label: label, trackerVersion: "test")
}

/// Every metric row of a run, as plain tuples for comparison.
struct MetricRow: Equatable {
    let iteration: Int, action: Int, reward: Double, greedy: Int, distinct: Int
}

func metricRows(of runKey: Int64, in store: TrackerStore) throws -> [MetricRow] {
    let statement = try store.database.prepare(
        "SELECT iteration, action, reward, greedy_action, distinct_actions FROM metrics WHERE run = ? ORDER BY iteration")
    return try statement.rows([.integer(runKey)]) {
        MetricRow(iteration: $0.int(0), action: $0.int(1), reward: $0.double(2), greedy: $0.int(3), distinct: $0.int(4))
    }
}

/// A summary with the timing fields cleared, for comparisons of results.
func results(_ summary: RunSummary?) -> RunSummary? {
    guard var summary else { return nil }
    summary.wallSeconds = 0
    summary.iterationsPerSecond = 0
    return summary
}

func finish(_ session: RunSession) throws -> RunSummary {
    guard case .finished(let summary) = try session.run() else {
        throw StoreError.invalidArgument("the session did not finish")
    }
    return summary
}
