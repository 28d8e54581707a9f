import TrackerStore
import Dispatch
import Foundation
import Learning
import Scheduling
import Synchronization

/// One unit of a study's work: a trial at a rung.
public struct TrialRung: Sendable, Hashable {
    public let trial: Int
    public let rung: Int
}

/// What one `tune` invocation did.
public struct StudyOutcome: Sendable {
    /// Trial-rungs this invocation recorded.
    public var recorded = 0
    /// The study has every result its scheduler asks for.
    public var complete = false
    /// With --shard: the next trial-rungs of this shard wait for other shards' results (merge, then run again).
    public var waitingOnOtherShards = false
    public var interrupted = false
    public var failures: [String] = []
}

/// Runs a study (``StudySpec``) into a database with `jobs` worker threads, through the store's public API
/// only: trial-rungs become runs through ``RunSession``, the results go to the study tables.
///
/// A trial-rung is done when each of the trial's runs (one per N, frame seed and seed) is finished at the
/// rung's budget; its objective is then recorded once. Each run is found by its configuration (the
/// store's one-run-per-configuration rule): finished, it is reused; interrupted or abandoned, it is resumed;
/// finished at a lower rung's budget, it is extended from its last checkpoint (`resume --to`), computing no
/// iteration twice; otherwise it starts. Claims are the store's: two workers or processes never run the
/// same run, and a worker that finds a run held elsewhere moves on and comes back.
public struct StudyRunner: Sendable {
    public let path: String
    public let spec: StudySpec
    public let jobs: Int
    /// I of K (1-based): this invocation runs only trials whose index is I - 1 modulo K.
    public let shard: (index: Int, count: Int)?
    public let trackerVersion: String
    public let busyTimeoutMilliseconds: Int32
    public let provenance: Provenance?
    public let plan: StudyPlan

    public init(path: String, spec: StudySpec, jobs: Int, shard: (index: Int, count: Int)? = nil, trackerVersion: String,
                busyTimeoutMilliseconds: Int32 = 10_000, provenance: Provenance? = nil) {
        self.path = path
        self.spec = spec
        self.jobs = max(1, jobs)
        self.shard = shard
        self.trackerVersion = trackerVersion
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.provenance = provenance
        self.plan = StudyPlan(scheduler: spec.scheduler, trials: spec.trials, rungs: spec.rungs, reduction: spec.reduction)
    }

    func open() throws -> TrackerStore { try TrackerStore(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds) }

    /// The study's record, created when new; refused when recorded with another spec. Its trials are
    /// recorded as their settings are drawn (``recordDrawnTrials``).
    public func prepare(in store: TrackerStore) throws -> StudyRecord {
        try store.openStudy(name: spec.name, spec: spec.canonicalJSON, specHash: spec.specHash,
                            objective: spec.objective.rawValue, direction: spec.direction.rawValue)
    }

    /// Records the trials among `settings` not in `recorded` yet (and adds them to it). A trial already in
    /// the database with other settings (a sampler that drew differently) is refused, not overwritten.
    func recordDrawnTrials(_ settings: [[String: StudyValue]?], study: Int64, recorded: inout Set<Int>, store: TrackerStore) throws {
        let new = settings.enumerated().compactMap { index, drawn -> StudyTrialRow? in
            guard let drawn, !recorded.contains(index) else { return nil }
            return StudyTrialRow(trial: index, bracket: plan.bracket(of: index).startRung, settings: StudyStatus.settingsJSON(drawn),
                                 legacySettings: StudyStatus.legacySettingsJSON(drawn))
        }
        guard !new.isEmpty else { return }
        try store.recordStudyTrials(study, trials: new)
        recorded.formUnion(new.map(\.trial))
    }

    func owns(_ trial: Int) -> Bool {
        guard let shard else { return true }
        return trial % shard.count == shard.index - 1
    }

    /// Works until the study is complete (for this shard: until its next trial-rungs wait on other shards),
    /// `shouldStop` returns true, or a run fails. `recorded` is called after each trial-rung this process records.
    public func run(shouldStop: @escaping @Sendable () -> Bool,
                    recorded: @escaping @Sendable (TrialRung, StudyRungRecord) -> Void = { _, _ in }) throws -> StudyOutcome {
        let setup = try open()
        let study = try prepare(in: setup)
        let outcome = Mutex(StudyOutcome())
        let claimed = Mutex(Set<TrialRung>())
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            do {
                let store = try open()
                try work(store: store, study: study.id, claimed: claimed, outcome: outcome, shouldStop: shouldStop, recorded: recorded)
            } catch {
                outcome.withLock { $0.failures.append("\(error)") }
            }
        }
        return outcome.withLock { $0 }
    }

    private func work(store: TrackerStore, study: Int64, claimed: borrowing Mutex<Set<TrialRung>>, outcome: borrowing Mutex<StudyOutcome>,
                      shouldStop: @escaping @Sendable () -> Bool,
                      recorded: @escaping @Sendable (TrialRung, StudyRungRecord) -> Void) throws {
        // Points this worker has drawn, and trials it knows are recorded: a model-based sampler draws each once.
        var known: [Int: [Double]] = [:]
        var recordedTrials = Set<Int>()
        while !shouldStop() {
            if outcome.withLock({ !$0.failures.isEmpty }) { return }
            let results = StudyStatus.results(try store.studyRungs(study))
            let settings = spec.trialSettings(results: results, known: &known)
            try recordDrawnTrials(settings, study: study, recorded: &recordedTrials, store: store)
            let (ready, complete) = plan.schedule(results: results, direction: spec.direction) { settings[$0] != nil }
            if complete {
                outcome.withLock { $0.complete = true }
                return
            }
            let owned = ready.filter { owns($0.trial) }
            if owned.isEmpty {
                outcome.withLock { $0.waitingOnOtherShards = true }
                return
            }
            var progressed = false
            for unit in owned.map({ TrialRung(trial: $0.trial, rung: $0.rung) }) {
                guard claimed.withLock({ $0.insert(unit).inserted }) else { continue }
                defer { _ = claimed.withLock { $0.remove(unit) } }
                switch try runUnit(unit, settings: settings[unit.trial]!, study: study, store: store, shouldStop: shouldStop) {
                case .recorded(let record, let wrote):
                    if wrote {
                        outcome.withLock { $0.recorded += 1 }
                        recorded(unit, record)
                    }
                    progressed = true
                case .busy: continue
                case .interrupted:
                    outcome.withLock { $0.interrupted = true }
                    return
                }
                break
            }
            // Everything ready is held by other workers or processes: wait for them.
            if !progressed { Thread.sleep(forTimeInterval: 0.05) }
        }
        outcome.withLock { $0.interrupted = true }
    }

    private enum UnitResult { case recorded(StudyRungRecord, wrote: Bool), busy, interrupted }
    private enum RunResult { case finished(String), busy, interrupted }

    private func runUnit(_ unit: TrialRung, settings: [String: StudyValue], study: Int64, store: TrackerStore,
                         shouldStop: @escaping @Sendable () -> Bool) throws -> UnitResult {
        let budget = plan.rungs[unit.rung]
        var runIDs: [String] = []
        var busy = false
        for position in spec.positions {
            let frame = FrameGenerator.generate(count: position.n, seed: position.frameSeed, parameters: spec.model)
            var specification = spec.runSpecification(settings, position: position, budget: budget, frame: frame)
            specification.trackerVersion = trackerVersion
            specification.provenance = provenance
            let lower = plan.rungs[..<unit.rung].reversed()
            switch try ensure(specification, lowerBudgets: Array(lower), store: store, shouldStop: shouldStop) {
            case .finished(let runID): runIDs.append(runID)
            case .busy: busy = true
            case .interrupted: return .interrupted
            }
        }
        if busy { return .busy }
        let values = try runValues(runIDs, budget: budget, store: store)
        let objective = StudyStatus.objective(spec.objective, values.map(\.value))
        let bracketStart = plan.bracket(of: unit.trial).startRung
        let previous = unit.rung > bracketStart ? plan.rungs[unit.rung - 1] : 0
        let iterations = runIDs.count * (budget - previous)
        let wrote = try store.recordStudyRung(study, trial: unit.trial, rung: unit.rung, budget: budget, objective: objective,
                                              iterations: iterations, runs: values)
        return .recorded(StudyRungRecord(trial: unit.trial, rung: unit.rung, budget: budget, objective: objective,
                                         iterations: iterations, runs: values), wrote: wrote)
    }

    /// Makes the run of `specification` finished at its budget: reused, resumed, extended from a lower
    /// rung, or started; `.busy` when another worker or process holds it now.
    private func ensure(_ specification: RunSpecification, lowerBudgets: [Int], store: TrackerStore,
                        shouldStop: @escaping @Sendable () -> Bool) throws -> RunResult {
        let budget = specification.hyperparameters.iterations
        let existing = try store.runs(configHash: specification.configHash)
        if let finished = existing.first(where: { $0.status == .finished }) { return .finished(finished.runID) }
        var session: RunSession?
        do {
            if let resumable = existing.last(where: \.isResumable) {
                guard case .session(let resumed) = try RunSession.resume(
                    resumable.runID, in: store, keepCheckpoints: specification.keepCheckpoints) else {
                    return .finished(resumable.runID)
                }
                session = resumed
            } else if !existing.isEmpty {
                return .busy
            } else {
                for lower in lowerBudgets {
                    var shorter = specification
                    shorter.hyperparameters.iterations = lower
                    guard let base = try store.runs(configHash: shorter.configHash).first(where: { $0.status == .finished }) else { continue }
                    if case .session(let extended) = try RunSession.resume(
                        base.runID, in: store, plannedIterations: budget, keepCheckpoints: specification.keepCheckpoints) {
                        session = extended
                    }
                    break
                }
                if session == nil { session = try RunSession.start(specification, in: store) }
            }
        } catch StoreError.configurationTaken, StoreError.budgetTaken, StoreError.notResumable {
            // Claimed by another worker or process between the look-up and the claim.
            return .busy
        }
        guard let session else { return .busy }
        switch try session.run(shouldStop: shouldStop) {
        case .finished: return .finished(session.record.runID)
        case .interrupted: return .interrupted
        }
    }

    /// Each run's own value of the objective's metric at `budget`, in position order.
    private func runValues(_ runIDs: [String], budget: Int, store: TrackerStore) throws -> [StudyRunValue] {
        if spec.objective == .rewardAUC {
            return try runIDs.enumerated().map { position, runID in
                StudyRunValue(position: position, runID: runID, value: try store.meanGreedyReward(ofRun: runID, upTo: budget))
            }
        }
        if spec.objective == .meanDelayScore {
            // The delay score comes from the compare rows (queries/compare_runs.sql holds its formula): read
            // per N and budget, so this costs a scan of the runs of that N and budget per trial-rung.
            var rows: [String: CompareRun] = [:]
            let wanted = Set(runIDs)
            for n in spec.taskCounts {
                for row in try store.compareRuns(CompareFilter(n: n, iterations: budget)) where wanted.contains(row.runID) {
                    rows[row.runID] = row
                }
            }
            return runIDs.enumerated().map { StudyRunValue(position: $0, runID: $1, value: rows[$1]?.delayScore) }
        }
        // Convergence and J*/J from each run's summary, one look-up per run.
        return try runIDs.enumerated().map { position, runID in
            let summary = try store.summary(ofRun: try store.run(runID).id)
            let value = spec.objective == .medianConvergence ? summary?.iterationsToOptimal.map(Double.init) : summary?.optimalityRatio
            return StudyRunValue(position: position, runID: runID, value: value)
        }
    }
}
