/// The convergence bookkeeping of a run, iteration by iteration: when the greedy action last changed and
/// since when it has been optimal. The learner keeps one; `tracker import` runs one over an imported run's
/// greedy actions, so an imported run's summary follows the same rules as a built-in run's.
public struct ConvergenceTracker: Sendable, Equatable {
    /// J*, nil where unknown (then nothing is ever optimal).
    public let optimumObjective: Double?
    // -1 means none.
    var lastGreedyChange = -1
    var previousGreedy = -1
    var optimalStreakStart = -1

    public init(optimumObjective: Double?) {
        self.optimumObjective = optimumObjective
    }

    /// Records iteration `iteration` (0-based, one call per iteration in order), after which the greedy
    /// action is `greedyAction` with objective J = `objective` under the real model.
    @inline(__always)
    public mutating func observe(iteration: Int, greedyAction: Int, objective: Double) {
        if greedyAction != previousGreedy {
            lastGreedyChange = iteration
            previousGreedy = greedyAction
        }
        if let optimumObjective {
            if Learner.isOptimal(objective, optimumObjective) {
                if optimalStreakStart < 0 { optimalStreakStart = iteration }
            } else {
                optimalStreakStart = -1
            }
        }
    }

    public var convergence: Convergence {
        Convergence(
            iterationsToOptimal: optimalStreakStart >= 0 ? optimalStreakStart : nil,
            stableIteration: Swift.max(lastGreedyChange, 0)
        )
    }
}
