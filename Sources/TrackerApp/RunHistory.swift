import Foundation
import TrackerStore

/// One sampled iteration of a run's history: the greedy action's metrics at that iteration, nil where the
/// saved query returns none.
public struct RunHistoryPoint: Sendable, Equatable {
    public let iteration: Int
    public let normalizedReward: Double?
    public let objective: Double?
    public let misses: Double?
    public let meanCompletionSeconds: Double?
    public let epsilon: Double?
    public let distinctActions: Double?

    /// The metric's value at this iteration; the optimality ratio is not a column (see ``RunHistory/curve(of:metric:points:in:)``).
    public func value(of metric: CurveMetric) -> Double? {
        switch metric {
        case .normalizedReward: return normalizedReward
        case .objective, .optimalityRatio: return objective
        case .misses: return misses
        case .meanCompletion: return meanCompletionSeconds
        case .epsilon: return epsilon
        case .distinctActions: return distinctActions
        }
    }
}

/// A run's history, the one view of it that `tracker plot --run` and the dashboard's run page both draw:
/// the saved query `run_history` over about `points` of its iterations (every step-th and the newest), what
/// is committed so far, so a running run draws up to its last committed iteration.
public enum RunHistory {
    public static func points(of record: RunRecord, points: Int, in store: TrackerStore) throws -> [RunHistoryPoint] {
        let step = max(1, record.doneIterations / max(points, 1))
        let result = try store.run(try SavedQueries.named("run_history"), parameters: ["run_id": record.runID, "step": String(step)])
        func column(_ name: String) throws -> Int {
            guard let index = result.column(name) else {
                throw StoreError.invalidArgument("queries/run_history.sql returns no column \(name): \(result.columns)")
            }
            return index
        }
        let iteration = try column("iteration"), reward = try column("normalized_reward"), objective = try column("objective")
        let misses = try column("misses"), completion = try column("mean_completion_s"), epsilon = try column("epsilon")
        let distinct = try column("distinct_actions")
        return result.rows.compactMap { row in
            guard let x = row[iteration].doubleValue else { return nil }
            return RunHistoryPoint(
                iteration: Int(x), normalizedReward: row[reward].doubleValue, objective: row[objective].doubleValue,
                misses: row[misses].doubleValue, meanCompletionSeconds: row[completion].doubleValue,
                epsilon: row[epsilon].doubleValue, distinctActions: row[distinct].doubleValue)
        }
    }

    /// One metric of the run against iteration. The optimality ratio is J*/J of the greedy order, empty
    /// where the frame's optimum is unknown.
    public static func curve(of record: RunRecord, metric: CurveMetric, points: Int, in store: TrackerStore) throws
        -> [(iteration: Int, value: Double)]
    {
        let optimum = metric == .optimalityRatio ? try store.loadFrame(id: record.frameID).optimalObjective : nil
        if metric == .optimalityRatio, optimum == nil { return [] }
        return try Self.points(of: record, points: points, in: store).compactMap { point in
            guard let value = point.value(of: metric) else { return nil }
            if let optimum { return value > 0 ? (point.iteration, optimum / value) : nil }
            return (point.iteration, value)
        }
    }
}
