import Dispatch
import Foundation
import TrackerStore
import Learning
import Synchronization

/// What a sweep does with one of its runs, decided from what the database already holds.
public enum SweepAction: Sendable, Equatable {
    /// A finished run with the same identity exists.
    case skip(runID: String)
    /// An interrupted, failed or abandoned run with the same identity exists.
    case resume(runID: String)
    /// Another live process is running it.
    case busy(runID: String)
    case start
}

/// Counters a sweep's workers update and its display reads.
public final class SweepProgress: Sendable {
    public let total: Int
    public let totalIterations: Int
    private let finishedRuns = Atomic<Int>(0)
    private let doneIterations = Atomic<Int>(0)
    private let computedIterations = Atomic<Int>(0)
    private let failedRuns = Atomic<Int>(0)
    private let interruptedRuns = Atomic<Int>(0)

    init(total: Int, totalIterations: Int) {
        self.total = total
        self.totalIterations = totalIterations
    }

    public var runsDone: Int { finishedRuns.load(ordering: .relaxed) }
    public var iterationsDone: Int { doneIterations.load(ordering: .relaxed) }
    /// The iterations this sweep computed itself: without those of finished or skipped runs and those a
    /// resumed run had done before, so a rate from it is the sweep's own speed (none when nothing ran).
    public var iterationsComputed: Int { computedIterations.load(ordering: .relaxed) }
    public var runsFailed: Int { failedRuns.load(ordering: .relaxed) }
    /// Runs stopped mid-way (Ctrl-C, SIGTERM): not among `runsDone`, they are resumable.
    public var runsInterrupted: Int { interruptedRuns.load(ordering: .relaxed) }

    /// Iterations done already (a skipped run, a resumed run's earlier part): they count towards the
    /// total but were not computed now.
    func addIterations(_ count: Int) { doneIterations.add(count, ordering: .relaxed) }
    func addComputedIterations(_ count: Int) {
        doneIterations.add(count, ordering: .relaxed)
        computedIterations.add(count, ordering: .relaxed)
    }
    func finishRun() { finishedRuns.add(1, ordering: .relaxed) }
    func failRun() { failedRuns.add(1, ordering: .relaxed) }
    func interruptRun() { interruptedRuns.add(1, ordering: .relaxed) }
}

/// The result of a sweep.
public struct SweepOutcome: Sendable {
    public var started = 0
    public var resumed = 0
    public var skipped = 0
    public var busy = 0
    /// Of the runs started or resumed, those stopped before their budget (counted in `started` or
    /// `resumed` too): resumable.
    public var interrupted = 0
    /// The run ids of those interrupted runs, in the order they stopped.
    public var interruptedRunIDs: [String] = []
    public var failures: [String] = []
    /// Runs of the grid's configurations that were already recorded without the sweep's label (by hand, by
    /// another study, a merged shard) and now belong to it too: one run per configuration, every study
    /// that asked for it counts it. Their run ids, in grid order.
    public var adopted: [String] = []
}

/// Runs a sweep's items with `jobs` worker threads, each with its own connection; every write is a short
/// IMMEDIATE transaction, so workers (and other processes) share the file through WAL and the busy timeout.
/// Running the same sweep again skips finished runs, resumes interrupted ones and starts the missing ones:
/// a run's identity is its configuration hash (a database holds one run per configuration; the label is
/// the one of the run that claimed it). Items with the same configuration are run once.
public struct SweepRunner: Sendable {
    public let path: String
    public let items: [SweepItem]
    public let jobs: Int
    public let trackerVersion: String
    public let busyTimeoutMilliseconds: Int32
    /// Resume runs that look alive elsewhere too (`sweep --takeover`).
    public let takeover: Bool

    public init(
        path: String, items: [SweepItem], jobs: Int, trackerVersion: String, busyTimeoutMilliseconds: Int32 = 10_000,
        takeover: Bool = false
    ) {
        self.path = path
        var seen = Set<String>()
        self.items = items.filter { seen.insert($0.specification.configHash).inserted }
        self.jobs = max(1, jobs)
        self.trackerVersion = trackerVersion
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.takeover = takeover
    }

    private func open() throws -> TrackerStore {
        try TrackerStore(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
    }

    /// What would happen to each item now. Where no database exists yet every run would start: nothing is
    /// opened or created.
    public func plan() throws -> [SweepAction] {
        guard FileManager.default.fileExists(atPath: path) else { return items.map { _ in .start } }
        // A dry run only reads: it neither creates the database nor upgrades it.
        let store = try TrackerStore(path: path, access: .readOnly, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        return try items.map { try action(for: $0, in: store) }
    }

    func action(for item: SweepItem, in store: TrackerStore) throws -> SweepAction {
        let existing = try store.runs(configHash: item.specification.configHash)
        if let finished = existing.first(where: { $0.status == .finished }) { return .skip(runID: finished.runID) }
        if let resumable = existing.last(where: \.isResumable) { return .resume(runID: resumable.runID) }
        if let running = existing.last(where: { $0.status == .running }) { return .busy(runID: running.runID) }
        return .start
    }

    /// Runs every item not finished yet. `shouldStop` is polled by every session; once it returns true the
    /// running sessions checkpoint and stop, and no new item starts.
    public func run(progress: SweepProgress? = nil, shouldStop: @escaping @Sendable () -> Bool) throws -> SweepOutcome {
        // Migrate once up front, so the workers never race to create the schema.
        let setup = try open()
        // Runs already recorded for the grid's configurations join the sweep's label before anything runs,
        // so a finished one counts as done for this study too (a run started later by this sweep gets the
        // label with its row).
        var adopted: [String] = []
        for (label, hashes) in Dictionary(grouping: items.compactMap({ item in
            item.specification.label.map { (label: $0, hash: item.specification.configHash) }
        }), by: \.label) {
            adopted += try setup.adopt(configHashes: hashes.map(\.hash), label: label)
        }
        let progress = progress ?? makeProgress()
        let next = Atomic<Int>(0)
        let outcome = Mutex(SweepOutcome())
        let items = self.items
        let path = self.path
        let version = trackerVersion
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            let store: TrackerStore
            do {
                store = try open()
            } catch {
                outcome.withLock { $0.failures.append("cannot open \(path): \(error)") }
                return
            }
            while !shouldStop() {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < items.count else { return }
                let item = items[index]
                do {
                    let result = try runItem(item, in: store, version: version, progress: progress, shouldStop: shouldStop)
                    outcome.withLock { tally(&$0, result) }
                    // An interrupted run is not done: the progress line must not count it as such.
                    if result.interrupted { progress.interruptRun() } else { progress.finishRun() }
                    if result.raced, let label = item.specification.label {
                        // Claimed by another process between the adoption above and this worker's claim.
                        let late = try store.adopt(configHashes: [item.specification.configHash], label: label)
                        outcome.withLock { $0.adopted += late }
                    }
                } catch {
                    progress.failRun()
                    progress.finishRun()
                    outcome.withLock { $0.failures.append("\(item.summary): \(error)") }
                }
            }
        }
        return outcome.withLock { result in
            result.adopted = adopted + result.adopted
            return result
        }
    }

    public func makeProgress() -> SweepProgress {
        SweepProgress(total: items.count, totalIterations: items.reduce(0) { $0 + $1.specification.hyperparameters.iterations })
    }

    private enum ItemResult { case started, resumed, skipped, busy }

    /// A run stopped mid-way still counts as started or resumed (it was), and as interrupted too.
    private func tally(_ outcome: inout SweepOutcome, _ result: (kind: ItemResult, interrupted: Bool, raced: Bool, runID: String?)) {
        switch result.kind {
        case .started: outcome.started += 1
        case .resumed: outcome.resumed += 1
        case .skipped: outcome.skipped += 1
        case .busy: outcome.busy += 1
        }
        if result.interrupted {
            outcome.interrupted += 1
            if let runID = result.runID { outcome.interruptedRunIDs.append(runID) }
        }
    }

    private func runItem(
        _ item: SweepItem, in store: TrackerStore, version: String, progress: SweepProgress,
        shouldStop: @escaping @Sendable () -> Bool
    ) throws -> (kind: ItemResult, interrupted: Bool, raced: Bool, runID: String?) {
        let planned = item.specification.hyperparameters.iterations
        let session: RunSession
        let kind: ItemResult
        switch try action(for: item, in: store) {
        case .skip:
            progress.addIterations(planned)
            return (.skipped, false, false, nil)
        case .busy where !takeover:
            progress.addIterations(planned)
            return (.busy, false, false, nil)
        case .resume(let runID), .busy(let runID):
            guard case .session(let resumed) = try RunSession.resume(
                runID, in: store, force: takeover, keepCheckpoints: item.specification.keepCheckpoints) else {
                progress.addIterations(planned)
                return (.skipped, false, false, nil)
            }
            session = resumed
            kind = .resumed
        case .start:
            var specification = item.specification
            specification.trackerVersion = version
            do {
                session = try RunSession.start(specification, in: store)
            } catch StoreError.configurationTaken {
                // Another worker or process claimed it between the plan and the claim: it runs there.
                progress.addIterations(planned)
                if case .skip = try action(for: item, in: store) { return (.skipped, false, true, nil) }
                return (.busy, false, true, nil)
            }
            kind = .started
        }
        progress.addIterations(session.learner.iteration)
        var reported = session.learner.iteration
        let end = try session.run(
            progress: { step in
                // Batched, so the shared counter is touched every 256 iterations, not every one.
                if step.iteration - reported >= 256 || step.iteration == step.plannedIterations {
                    progress.addComputedIterations(step.iteration - reported)
                    reported = step.iteration
                }
            },
            shouldStop: shouldStop)
        if case .interrupted = end { return (kind, true, false, session.record.runID) }
        return (kind, false, false, session.record.runID)
    }
}
