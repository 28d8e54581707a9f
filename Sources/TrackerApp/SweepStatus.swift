import Foundation
import TrackerStore

/// Where one of a sweep's runs stands in the databases `sweep --status` reads.
public enum SweepRunState: String, CaseIterable, Sendable {
    case finished
    /// 'running' with a fresh heartbeat: a live process owns it.
    case running
    /// 'running' with a heartbeat older than the staleness bound (or a gone process on this host):
    /// killed or preempted, resumable.
    case dead
    /// Stopped by Ctrl-C or a signal, resumable.
    case interrupted
    case failed
    /// In no database read.
    case notStarted = "not_started"

    /// Furthest along first, the order in which copies of one run in several files are preferred (as
    /// `merge` keeps a finished copy over an unfinished one).
    fileprivate var rank: Int { Self.allCases.firstIndex(of: self)! }

    public init(_ record: RunRecord, staleAfterSeconds: Double, now: Date) {
        switch record.status {
        case .finished: self = .finished
        case .running: self = record.isAbandoned(staleAfterSeconds: staleAfterSeconds, now: now) ? .dead : .running
        case .interrupted: self = .interrupted
        case .failed: self = .failed
        }
    }
}

/// What `sweep --status` reports: per database, how many of the grid's runs it holds in each state, and
/// over all of them, each run counted once at its furthest-along copy.
public struct SweepStatusReport: Sendable {
    public struct Database: Sendable {
        public let path: String
        /// Grid runs found in this file, by state (never `.notStarted`: a shard file does not record
        /// which slice of the grid it was given, so what it lacks is only known over all files).
        public let counts: [SweepRunState: Int]
        /// Runs in the file that are not part of this grid (another spec's, or a merged file's extras).
        public let otherRuns: Int
    }

    /// A grid run that a process holds or held: running or dead, with its owner and heartbeat.
    public struct OwnedRun: Sendable {
        public let database: String
        public let record: RunRecord
        public let item: SweepItem
        public let state: SweepRunState
        /// Seconds since the last heartbeat; nil when none was recorded.
        public let heartbeatAge: Double?
    }

    public let gridRuns: Int
    public let staleAfterSeconds: Double
    public let databases: [Database]
    /// Every state including `.notStarted`; the counts add up to `gridRuns`.
    public let total: [SweepRunState: Int]
    public let ownedRuns: [OwnedRun]
}

extension SweepStatusReport {
    /// Reads each database (read-only, leaving no file behind: ``TrackerStore/Access/inspect``) and
    /// matches its runs to `items` by configuration hash, as a sweep does.
    public static func read(
        items: [SweepItem], databases paths: [String], busyTimeoutMilliseconds: Int32,
        staleAfterSeconds: Double = Liveness.staleAfterSeconds, now: Date = Date()
    ) throws -> SweepStatusReport {
        var itemByHash: [String: SweepItem] = [:]
        for item in items where itemByHash[item.specification.configHash] == nil {
            itemByHash[item.specification.configHash] = item
        }
        var best: [String: SweepRunState] = [:]
        var databases: [Database] = []
        var owned: [OwnedRun] = []
        for path in paths {
            let store = try TrackerStore(path: path, access: .inspect, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            // One copy per configuration in a file (older files may hold several: the furthest along counts).
            var inFile: [String: (state: SweepRunState, record: RunRecord)] = [:]
            var otherRuns = 0
            for record in try store.runs() {
                guard itemByHash[record.configHash] != nil else {
                    otherRuns += 1
                    continue
                }
                let state = SweepRunState(record, staleAfterSeconds: staleAfterSeconds, now: now)
                if let kept = inFile[record.configHash], kept.state.rank <= state.rank { continue }
                inFile[record.configHash] = (state, record)
            }
            var counts: [SweepRunState: Int] = [:]
            for (hash, entry) in inFile.sorted(by: { $0.value.record.id < $1.value.record.id }) {
                counts[entry.state, default: 0] += 1
                if best[hash].map({ $0.rank > entry.state.rank }) ?? true { best[hash] = entry.state }
                if entry.state == .running || entry.state == .dead {
                    owned.append(OwnedRun(database: path, record: entry.record, item: itemByHash[hash]!, state: entry.state,
                                          heartbeatAge: entry.record.heartbeatAge(now: now)))
                }
            }
            databases.append(Database(path: path, counts: counts, otherRuns: otherRuns))
        }
        var total: [SweepRunState: Int] = [:]
        for state in best.values { total[state, default: 0] += 1 }
        total[.notStarted] = itemByHash.count - best.count
        return SweepStatusReport(gridRuns: itemByHash.count, staleAfterSeconds: staleAfterSeconds, databases: databases,
                                 total: total, ownedRuns: owned)
    }
}
