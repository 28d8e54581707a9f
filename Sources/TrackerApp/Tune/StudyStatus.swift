import TrackerStore
import Foundation

/// Where a study stands (`tune --status`), computed from its rung results alone.
public struct StudyStatus: Sendable {
    public struct Trial: Sendable {
        public let index: Int
        /// Empty, with `drawn` false, for a trial whose settings a model-based sampler has not drawn yet.
        public let settings: [String: StudyValue]
        public let drawn: Bool
        /// At the highest rung the trial has a result at; nil objective: beyond the budget (or unknown).
        public let objective: Double?
        public let budget: Int?
        public let rung: Int?
        /// pending (no result yet), waiting (its rung is not decided yet), promoted (runs at the next rung),
        /// pruned (not promoted), finished (has its result at the top rung).
        public let state: String
        public let runIDs: [String]
        public let iterations: Int
    }

    public let spec: StudySpec
    public let plan: StudyPlan
    public let trials: [Trial]
    public let complete: Bool
    public let trialRungsDone: Int
    public let trialRungsTotal: Int
    /// What the schedule charged: per trial-rung, its runs times the budget added since the trial's previous rung.
    public let iterationsSpent: Int
    /// The best trial at the highest budget any trial reached (ties: the lower index).
    public let best: Trial?

    public init(spec: StudySpec, rungs records: [StudyRungRecord]) {
        self.spec = spec
        let plan = StudyPlan(scheduler: spec.scheduler, trials: spec.trials, rungs: spec.rungs, reduction: spec.reduction)
        self.plan = plan
        let results = StudyStatus.results(records)
        let byTrial = Dictionary(grouping: records, by: \.trial)
        let samples = spec.trialSettings(results: results)
        let (ready, complete) = plan.schedule(results: results, direction: spec.direction) { samples[$0] != nil }
        let readySet = Set(ready.map { TrialRung(trial: $0.trial, rung: $0.rung) })
        // Whether every member of a bracket that reached `rung` has its result there: the rung is decided.
        func decided(_ trial: Int, at rung: Int) -> Bool {
            let bracket = plan.bracket(of: trial)
            // Trials not drawn yet will run at the bracket's first rung.
            if rung == bracket.startRung && bracket.trials.contains(where: { samples[$0] == nil }) { return false }
            return !bracket.trials.contains { other in
                readySet.contains(TrialRung(trial: other, rung: rung))
            }
        }
        var trials: [Trial] = []
        for index in 0..<spec.trials {
            let mine = (byTrial[index] ?? []).sorted { $0.rung < $1.rung }
            let top = mine.last
            let state: String
            if let top {
                if top.rung == plan.rungs.count - 1 { state = "finished" }
                else if readySet.contains(TrialRung(trial: index, rung: top.rung + 1)) { state = "promoted" }
                else if decided(index, at: top.rung) { state = "pruned" }
                else { state = "waiting" }
            } else {
                state = "pending"
            }
            trials.append(Trial(index: index, settings: samples[index] ?? [:], drawn: samples[index] != nil, objective: top?.objective, budget: top?.budget,
                                rung: top?.rung, state: state, runIDs: top?.runs.map(\.runID) ?? [],
                                iterations: mine.reduce(0) { $0 + $1.iterations }))
        }
        self.trials = trials
        self.complete = complete
        self.trialRungsDone = records.count
        self.trialRungsTotal = plan.totalTrialRungs()
        self.iterationsSpent = records.reduce(0) { $0 + $1.iterations }
        let reached = trials.compactMap(\.budget).max()
        self.best = trials.filter { $0.budget != nil && $0.budget == reached }
            .min { StudyPlan.better(($0.index, $0.objective), ($1.index, $1.objective), direction: spec.direction) }
    }

    /// trial -> rung -> objective, as the scheduler reads it.
    public static func results(_ records: [StudyRungRecord]) -> StudyPlan.Results {
        var results: StudyPlan.Results = [:]
        for record in records { results[record.trial, default: [:]][record.rung] = RungObjective(record.objective) }
        return results
    }

    /// A trial's objective from its runs' values: the median with missing values beyond the budget for
    /// convergence (nil when the median is beyond it), else the mean of the known values.
    public static func objective(_ objective: StudyObjective, _ values: [Double?]) -> Double? {
        switch objective {
        case .medianConvergence:
            let sorted = values.map { $0 ?? .infinity }.sorted()
            guard !sorted.isEmpty else { return nil }
            let middle = sorted.count / 2
            let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
            return median.isFinite ? median : nil
        case .meanOptimalityRatio, .meanDelayScore, .rewardAUC:
            let known = values.compactMap { $0 }
            return known.isEmpty ? nil : known.reduce(0, +) / Double(known.count)
        }
    }

    /// Settings as a JSON object text, keys sorted: how study_trials stores them.
    public static func settingsJSON(_ settings: [String: StudyValue]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: settings.mapValues(\.jsonObject), options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

extension StudyStatus {
    /// The study recorded as `name` in `store`, from its canonical spec and its rung results; nil when the
    /// database holds no study of that name. What `compare --study` and the dashboard's study pages read.
    public static func load(_ name: String, in store: TrackerStore) throws -> StudyStatus? {
        guard let record = try store.studyRecord(named: name) else { return nil }
        let spec = try StudySpec.parse(record.spec, source: "study \(name)")
        return StudyStatus(spec: spec, rungs: try store.studyRungs(record.id))
    }

    /// The trials with a result, best first, as `tune --status` and `compare --study` rank them: a deeper
    /// rung first (the trial survived more halvings), then the objective in the study's direction, then the index.
    public var ranked: [Trial] {
        trials.filter { $0.rung != nil }.sorted { a, b in
            a.rung != b.rung ? a.rung! > b.rung! : StudyPlan.better((a.index, a.objective), (b.index, b.objective), direction: spec.direction)
        }
    }
}
