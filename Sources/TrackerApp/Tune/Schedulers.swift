/// How a study spends its budget: which trials run at which rung (docs/tune.md).
///
/// Rungs are budgets r_0 < r_1 < ... < r_R (``StudySpec/rungs``). A bracket is a set of consecutive trials
/// that all start at one rung; at each rung the best 1/reduction of the bracket's trials there (at least one)
/// are promoted to the next. `asha` is one bracket starting at r_0 with every trial; `hyperband` splits the
/// trials over R + 1 brackets starting at r_0, r_1, ..., r_R, in the proportions of Li et al.'s Hyperband
/// (bracket s of s_max gets ceil((s_max + 1) / (s + 1) * reduction^s) shares).
///
/// Promotions are decided from complete rung information: a rung's promotions are known once every trial
/// of the bracket that reached that rung has its result there, and are the best ones, ties broken by the
/// lower trial index. So which trials reach which rung never depends on timing, worker count or shards.
public struct StudyPlan: Sendable, Equatable {
    public struct Bracket: Sendable, Equatable {
        /// Trials first..<first+count.
        public let first: Int
        public let count: Int
        /// The rung its trials start at.
        public let startRung: Int
        public var trials: Range<Int> { first..<(first + count) }
        public init(first: Int, count: Int, startRung: Int) {
            self.first = first
            self.count = count
            self.startRung = startRung
        }
    }

    public let rungs: [Int]
    public let reduction: Int
    public let brackets: [Bracket]

    public init(scheduler: StudyScheduler, trials: Int, rungs: [Int], reduction: Int) {
        self.rungs = rungs
        self.reduction = reduction
        switch scheduler {
        case .asha:
            brackets = [Bracket(first: 0, count: trials, startRung: 0)]
        case .hyperband:
            let sMax = rungs.count - 1
            // Bracket s starts at rung sMax - s; the most exploratory (s = sMax) first.
            let weights: [Int] = (0...sMax).reversed().map { s in
                var power = 1.0
                for _ in 0..<s { power *= Double(reduction) }
                return Int((Double(sMax + 1) / Double(s + 1) * power).rounded(.up))
            }
            let total = weights.reduce(0, +)
            var counts = weights.map { trials * $0 / total }
            var left = trials - counts.reduce(0, +)
            var index = 0
            while left > 0 { counts[index % counts.count] += 1; left -= 1; index += 1 }
            var first = 0
            var result: [Bracket] = []
            for (position, count) in counts.enumerated() where count > 0 {
                result.append(Bracket(first: first, count: count, startRung: position))
                first += count
            }
            brackets = result
        }
    }

    public func bracket(of trial: Int) -> Bracket { brackets.first { $0.trials.contains(trial) }! }

    /// How many of `count` trials at a rung go on to the next.
    public func promotedCount(_ count: Int) -> Int { max(1, count / reduction) }

    /// The study's objective values, `nil` where a result is beyond the budget or unknown (always worst).
    public typealias Results = [Int: [Int: RungObjective]]  // trial -> rung -> objective

    /// Whether `a` ranks before `b`: the better objective (nil is worst), then the lower trial index.
    public static func better(_ a: (trial: Int, value: Double?), _ b: (trial: Int, value: Double?), direction: StudyDirection) -> Bool {
        switch (a.value, b.value) {
        case (let x?, let y?) where x != y: return direction == .minimize ? x < y : x > y
        case (.some, nil): return true
        case (nil, .some): return false
        default: return a.trial < b.trial
        }
    }

    /// For each trial, the rungs it is to run given the results so far: every rung it has a result at, plus
    /// the next one when decided. A trial-rung is "ready" when it is in this set and has no result yet.
    /// Also says whether the study is complete (every bracket decided to its top rung). A trial whose
    /// settings are not drawn yet (`drawn` false: a model-based sampler waits for earlier results) is never ready.
    public func schedule(results: Results, direction: StudyDirection,
                         drawn: (Int) -> Bool = { _ in true }) -> (ready: [(trial: Int, rung: Int)], complete: Bool) {
        var ready: [(trial: Int, rung: Int)] = []
        var complete = true
        for bracket in brackets {
            var members = Array(bracket.trials)
            var rung = bracket.startRung
            while true {
                let missing = members.filter { results[$0]?[rung] == nil }
                if !missing.isEmpty {
                    ready += missing.filter(drawn).map { ($0, rung) }
                    complete = false
                    break
                }
                if rung == rungs.count - 1 { break }
                let ranked = members.map { (trial: $0, value: results[$0]![rung]!.value) }
                    .sorted { StudyPlan.better($0, $1, direction: direction) }
                members = ranked.prefix(promotedCount(members.count)).map(\.trial).sorted()
                rung += 1
            }
        }
        return (ready.sorted { ($0.rung, $0.trial) < ($1.rung, $1.trial) }, complete)
    }

    /// Trial-rungs the full study runs, per rung: what `--status` counts as its total work.
    public func totalTrialRungs() -> Int {
        brackets.reduce(0) { sum, bracket in
            var count = bracket.count
            var total = 0
            for _ in bracket.startRung..<rungs.count { total += count; count = promotedCount(count) }
            return sum + total
        }
    }
}

/// A trial's objective at one rung; nil when beyond the budget (a median of unconverged runs) or unknown.
public struct RungObjective: Sendable, Equatable {
    public let value: Double?
    public init(_ value: Double?) { self.value = value }
}
