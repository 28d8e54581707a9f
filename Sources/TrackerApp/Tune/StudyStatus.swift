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

    /// `recordedTrials`: the settings `study_trials` holds (JSON by trial). A `tpe` study's later trials are
    /// read from there rather than drawn again, which would cost the whole study's model draws on every
    /// status; its startup trials are known from the spec alone.
    public init(spec: StudySpec, rungs records: [StudyRungRecord], recordedTrials: [Int: String] = [:]) {
        self.spec = spec
        let plan = StudyPlan(scheduler: spec.scheduler, trials: spec.trials, rungs: spec.rungs, reduction: spec.reduction)
        self.plan = plan
        let results = StudyStatus.results(records)
        let byTrial = Dictionary(grouping: records, by: \.trial)
        var samples: [[String: StudyValue]?]
        if spec.sampler == .tpe {
            samples = spec.trialSettings(results: [:])
            for (trial, json) in recordedTrials where trial < samples.count && samples[trial] == nil {
                samples[trial] = spec.decodeSettings(json)
            }
        } else {
            samples = spec.trialSettings(results: results)
        }
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

    /// Settings as a JSON object text, keys sorted: how study_trials stores them. A number is written as
    /// Swift's shortest form that reads back to the same Double, so a setting read from the database is
    /// the one the trial ran with (Foundation's JSONSerialization keeps 15 to 16 digits, which does not).
    public static func settingsJSON(_ settings: [String: StudyValue]) -> String {
        let members = settings.sorted { $0.key < $1.key }.map { name, value -> String in
            let text: String
            switch value {
            case .number(let number): text = "\(number)"
            case .integer(let integer): text = "\(integer)"
            case .text(let string): text = jsonString(string)
            }
            return jsonString(name) + ":" + text
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// How tracker before the `tpe` sampler wrote settings (JSONSerialization): rows it recorded are the
    /// same trials, and are accepted as such.
    public static func legacySettingsJSON(_ settings: [String: StudyValue]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: settings.mapValues(\.jsonObject), options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    private static func jsonString(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}

extension StudyStatus {
    /// The study recorded as `name` in `store`, from its canonical spec and its rung results; nil when the
    /// database holds no study of that name. What `compare --study` and the dashboard's study pages read.
    public static func load(_ name: String, in store: TrackerStore) throws -> StudyStatus? {
        guard let record = try store.studyRecord(named: name) else { return nil }
        let spec = try StudySpec.parse(record.spec, source: "study \(name)")
        return try read(spec, study: record.id, in: store)
    }

    /// The status of `spec`'s study recorded as `study` in `store`: its rung results and recorded trials.
    public static func read(_ spec: StudySpec, study: Int64, in store: TrackerStore) throws -> StudyStatus {
        StudyStatus(spec: spec, rungs: try store.studyRungs(study), recordedTrials: try store.studyTrialSettings(study))
    }

    /// The trials with a result, best first, as `tune --status` and `compare --study` rank them: a deeper
    /// rung first (the trial survived more halvings), then the objective in the study's direction, then the index.
    public var ranked: [Trial] {
        trials.filter { $0.rung != nil }.sorted { a, b in
            a.rung != b.rung ? a.rung! > b.rung! : StudyPlan.better((a.index, a.objective), (b.index, b.objective), direction: spec.direction)
        }
    }
}
