import Foundation
import Learning
import SQLite

public enum RunStatus: String, CaseIterable, Sendable {
    case running, finished, failed, interrupted
}

/// A row of `runs`, with what `list` and `show` derive from it.
public struct RunRecord: Sendable {
    public let id: Int64
    public let runID: String
    public let algorithm: Algorithm
    public let n: Int
    public let phi: Int
    public let seed: UInt64
    public let frameID: Int64
    public let status: RunStatus
    public let createdAt: String
    public let startedAt: String?
    public let finishedAt: String?
    public let heartbeatAt: String?
    public let plannedIterations: Int
    public let doneIterations: Int
    public let elapsedSeconds: Double
    public let trackerVersion: String
    public let host: String
    public let pid: Int?
    public let label: String?
    public let error: String?
    public let configHash: String
    /// The algorithm as recorded: `ql`, `dteql`, `dtaql`, or an imported run's own name (`algorithm` reads
    /// such a name as `.ql`: show and compare this one).
    public let algorithmName: String
    /// Recorded by `tracker import` (runs.origin = 'imported'): no Q-table, no checkpoints, never resumed.
    public let isImported: Bool

    /// A 'running' run whose heartbeat is older than the staleness bound (``Liveness``), wherever it ran,
    /// or whose process is gone (same host, no such pid), was killed: it can be resumed like an
    /// interrupted one. A live session beats on a timer, so a recorded pid that now belongs to another
    /// process (reused) does not keep a dead run alive past the bound.
    public var isAbandoned: Bool { isAbandoned(staleAfterSeconds: Liveness.staleAfterSeconds) }

    public func isAbandoned(staleAfterSeconds: Double, now: Date = Date()) -> Bool {
        guard status == .running else { return false }
        if host == ProcessIdentity.host, let pid, !ProcessIdentity.isAlive(pid: pid) {
            return true
        }
        guard let age = heartbeatAge(now: now) else { return true }
        // A heartbeat from the future (a host whose clock runs ahead) would otherwise keep the run alive
        // until that future came: further ahead than the bound, it is as implausible as one older than the
        // bound is stale, and the run is dead the same way (`clockSkew` names it).
        return age > staleAfterSeconds || -age > staleAfterSeconds
    }

    /// For a 'running' run whose heartbeat lies further in the future than the staleness bound: how far,
    /// and where the clock that wrote it runs, e.g. "heartbeat 3 h in the future: clock skew on node1?".
    /// Nil for any other run.
    public func clockSkew(staleAfterSeconds: Double = Liveness.staleAfterSeconds, now: Date = Date()) -> String? {
        guard status == .running, let age = heartbeatAge(now: now), -age > staleAfterSeconds else { return nil }
        return "heartbeat \(Self.duration(-age)) in the future: clock skew on \(host)?"
    }

    /// A duration for people: "42 s", "17 min", "3 h", "2 d".
    static func duration(_ seconds: Double) -> String {
        switch seconds {
        case ..<120: return "\(Int(seconds.rounded())) s"
        case ..<7200: return "\(Int((seconds / 60).rounded())) min"
        case ..<172_800: return "\(Int((seconds / 3600).rounded())) h"
        default: return "\(Int((seconds / 86400).rounded())) d"
        }
    }

    /// Seconds since the last heartbeat, nil where none was recorded or it cannot be read.
    public func heartbeatAge(now: Date = Date()) -> Double? {
        guard let heartbeatAt, let beat = Timestamp.parse(heartbeatAt) else { return nil }
        return now.timeIntervalSince(beat)
    }

    /// Who holds a running run, for refusals: "pid 123 on node1, heartbeat 4 s ago".
    public var ownerDescription: String {
        if let skew = clockSkew() { return "pid \(pid.map(String.init) ?? "?") on \(host), \(skew)" }
        let age = heartbeatAge().map { age in
            age < -0.5 ? "heartbeat \(Int((-age).rounded())) s in the future" : "heartbeat \(Int(max(age, 0).rounded())) s ago"
        } ?? "no heartbeat"
        return "pid \(pid.map(String.init) ?? "?") on \(host), \(age)"
    }

    /// A 'running' run whose process is still alive as far as the liveness rule can tell: `delete`
    /// refuses it.
    public var isLive: Bool { status == .running && !isAbandoned }

    /// The refusal for deleting a live run: names the run, its host and pid and its heartbeat's age.
    public var liveRefusal: StoreError { .runIsLive(runID: runID, owner: ownerDescription) }

    public var isResumable: Bool {
        switch status {
        case .interrupted, .failed: return true
        case .running: return isAbandoned
        case .finished: return false
        }
    }

    /// The status as `list` shows it: a dead 'running' run reads "running (dead, resumable)".
    public var displayStatus: String {
        guard status == .running && isAbandoned else { return status.rawValue }
        return clockSkew().map { "running (dead, resumable; \($0))" } ?? "running (dead, resumable)"
    }

    static let columns = """
        id, run_id, algorithm, n, phi, seed, frame_id, status, created_at, started_at, finished_at, heartbeat_at,
        planned_iterations, done_iterations, elapsed_seconds, tracker_version, host, pid, label, error, config_hash,
        origin
        """

    /// How many ``columns`` there are: the index of the first column a statement selects after them.
    static let columnCount = Int32(columns.split(separator: ",").count)

    /// ``columns`` of `runs AS r`, for statements that join other tables.
    static let prefixedColumns = columns.split(separator: ",")
        .map { "r." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")

    init(
        id: Int64, runID: String, algorithm: Algorithm, n: Int, phi: Int, seed: UInt64, frameID: Int64, status: RunStatus,
        createdAt: String, startedAt: String?, finishedAt: String?, heartbeatAt: String?, plannedIterations: Int,
        doneIterations: Int, elapsedSeconds: Double, trackerVersion: String, host: String, pid: Int?, label: String?,
        error: String?, configHash: String, algorithmName: String? = nil, isImported: Bool = false
    ) {
        self.id = id
        self.runID = runID
        self.algorithm = algorithm
        self.n = n
        self.phi = phi
        self.seed = seed
        self.frameID = frameID
        self.status = status
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.heartbeatAt = heartbeatAt
        self.plannedIterations = plannedIterations
        self.doneIterations = doneIterations
        self.elapsedSeconds = elapsedSeconds
        self.trackerVersion = trackerVersion
        self.host = host
        self.pid = pid
        self.label = label
        self.error = error
        self.configHash = configHash
        self.algorithmName = algorithmName ?? algorithm.rawValue
        self.isImported = isImported
    }

    /// The run from a row holding ``columns`` (by name, in any order, among other columns).
    init(row: Statement) throws {
        id = try row.int64("id")
        runID = try row.text("run_id")
        algorithm = Algorithm(rawValue: try row.text("algorithm")) ?? .ql
        n = try row.int("n")
        phi = try row.int("phi")
        seed = UInt64(bitPattern: try row.int64("seed"))
        frameID = try row.int64("frame_id")
        status = RunStatus(rawValue: try row.text("status")) ?? .failed
        createdAt = try row.text("created_at")
        startedAt = try row.optionalText("started_at")
        finishedAt = try row.optionalText("finished_at")
        heartbeatAt = try row.optionalText("heartbeat_at")
        plannedIterations = try row.int("planned_iterations")
        doneIterations = try row.int("done_iterations")
        elapsedSeconds = try row.double("elapsed_seconds")
        trackerVersion = try row.text("tracker_version")
        host = try row.text("host")
        pid = try row.optionalInt("pid")
        label = try row.optionalText("label")
        error = try row.optionalText("error")
        configHash = try row.text("config_hash")
        algorithmName = try row.text("algorithm")
        isImported = try row.text("origin") == "imported"
    }
}

/// What `run_summaries` holds for a finished run.
public struct RunSummary: Sendable, Equatable {
    public var iterations: Int
    public var greedyAction: Int
    public var greedyOrder: [Int]
    public var objective: Double
    public var normalizedReward: Double
    public var misses: Int
    public var meanCompletionSeconds: Double
    public var optimalityRatio: Double?
    public var iterationsToOptimal: Int?
    public var stableIteration: Int
    public var distinctActions: Int
    public var wallSeconds: Double
    public var iterationsPerSecond: Double
    public var qTableSHA256: String

    public init(
        iterations: Int, greedyAction: Int, greedyOrder: [Int], objective: Double, normalizedReward: Double,
        misses: Int, meanCompletionSeconds: Double, optimalityRatio: Double?, iterationsToOptimal: Int?,
        stableIteration: Int, distinctActions: Int, wallSeconds: Double, iterationsPerSecond: Double,
        qTableSHA256: String
    ) {
        self.iterations = iterations
        self.greedyAction = greedyAction
        self.greedyOrder = greedyOrder
        self.objective = objective
        self.normalizedReward = normalizedReward
        self.misses = misses
        self.meanCompletionSeconds = meanCompletionSeconds
        self.optimalityRatio = optimalityRatio
        self.iterationsToOptimal = iterationsToOptimal
        self.stableIteration = stableIteration
        self.distinctActions = distinctActions
        self.wallSeconds = wallSeconds
        self.iterationsPerSecond = iterationsPerSecond
        self.qTableSHA256 = qTableSHA256
    }
}

/// A checkpoint's metadata (the snapshot itself is read only to resume).
public struct CheckpointInfo: Sendable {
    public let iteration: Int
    public let layoutVersion: Int
    public let bytes: Int
    public let sha256: String
    public let createdAt: String
}

/// The statuses a listing filters by: the four a run is recorded with, and `dead`, the 'running' runs
/// that are dead as ``RunRecord/isAbandoned`` tells (`list` shows them "running (dead, resumable)"): a
/// heartbeat older than the staleness bound (or further in the future, or none), or a process on this host
/// that is gone. `running` selects every 'running' run, live or dead, as `list` shows both as running.
public enum RunStatusFilter: String, CaseIterable, Sendable {
    case running, finished, failed, interrupted, dead

    /// The recorded status this filter selects among.
    var recorded: RunStatus {
        switch self {
        case .running, .dead: return .running
        case .finished: return .finished
        case .failed: return .failed
        case .interrupted: return .interrupted
        }
    }
}

/// Which runs a listing selects: `tracker list` and `tracker delete` (``TrackerStore/listRuns(matching:newestFirst:limit:)``)
/// and the dashboard's runs page and `/api/runs` (``TrackerStore/browseRuns(_:)``) fill this one type,
/// and both listings put the same ``whereClause`` in their SELECT: every filter, the settings and tags
/// of `--where`/`--tag` included, is a condition in SQL, so a page is exact and nothing is filtered after.
public struct RunFilter: Sendable, Equatable {
    public var algorithm: Algorithm?
    public var n: Int?
    public var status: RunStatusFilter?
    public var label: String?
    /// Only runs created at or after this time.
    public var since: Date?
    public var phi: Int?
    /// Runs whose label, or one of whose tags written `key=value`, contains this text (case-insensitive
    /// for ASCII); '%' and '_' match themselves.
    public var search: String?
    /// `--where KEY=VALUE` and `--tag K=V` (as `tag.K=V`): every one must hold (``SettingCondition``'s
    /// rules: numbers by value, `none` for a NULL setting, text as text). Keys are checked by the listing
    /// (``TrackerStore/checkSettingKeys(_:option:)``), so a wrong one is refused with the valid names.
    public var conditions: [SettingCondition]

    public init(algorithm: Algorithm? = nil, n: Int? = nil, status: RunStatusFilter? = nil, label: String? = nil,
                since: Date? = nil, phi: Int? = nil, search: String? = nil, conditions: [SettingCondition] = []) {
        self.algorithm = algorithm
        self.n = n
        self.status = status
        self.label = label
        self.since = since
        self.phi = phi
        self.search = search
        self.conditions = conditions
    }

    /// The conditions on the columns of the covering index runs_by_configuration (n, algorithm, phi,
    /// status) alone, bound to the first four of ``bindings(now:deadLocalRuns:)``: a count with only these
    /// reads the index, not the table.
    static let columnConditions = """
        WHERE (?1 IS NULL OR r.algorithm = ?1) AND (?2 IS NULL OR r.n = ?2) AND (?3 IS NULL OR r.phi = ?3)
          AND (?4 IS NULL OR r.status = ?4)
        """

    /// The conditions on `runs AS r`; each filter is bound (see ``bindings(now:deadLocalRuns:)``), a NULL
    /// switches it off. Column names cannot be bound, so `--where` goes through one fixed list: ?8 is a
    /// JSON array of the conditions (`{"k": key, "t": the value as text, "x": as a number or null}`), read
    /// once into `c`, and each condition must find its setting among the run's: one branch per setting of
    /// `queries/run_settings.sql` by its canonical name (delta only for DTAQL), an imported run's own
    /// settings (run_import_settings), its tags as `tag.KEY`. Each branch is guarded by its key, so a
    /// condition reads only its own row (a primary-key lookup). `+s.value` drops the text affinity the
    /// compound's first column (runs.algorithm) would give `s.value`, which would turn the number 5000
    /// into the text '5000' before comparing it with beta's 5000.0. ?9 and ?10 bound the fresh
    /// heartbeats for `dead`, ?11 lists this host's running runs whose process is gone (a JSON array of
    /// `runs.id`).
    static let whereClause = columnConditions + """

          AND (?5 IS NULL OR EXISTS (SELECT 1 FROM run_labels AS l WHERE l.run = r.id AND l.label = ?5))
          AND (?6 IS NULL OR r.created_at >= ?6)
          AND (?7 IS NULL OR r.label LIKE '%' || ?7 || '%' ESCAPE '\\'
               OR EXISTS (SELECT 1 FROM run_tags AS t
                          WHERE t.run = r.id AND t.key || '=' || t.value LIKE '%' || ?7 || '%' ESCAPE '\\'))
          AND (?8 IS NULL OR NOT EXISTS (
            WITH c(k, t, x, v) AS MATERIALIZED (SELECT value ->> 'k', value ->> 't', value ->> 'x', value -> 'v' FROM json_each(?8))
            SELECT 1 FROM c
            WHERE NOT EXISTS (
                SELECT 1 FROM (
                    SELECT r.algorithm AS value WHERE c.k = 'algorithm'
                    UNION ALL SELECT r.n WHERE c.k = 'n'
                    UNION ALL SELECT r.phi WHERE c.k = 'phi'
                    UNION ALL SELECT r.planned_iterations WHERE c.k = 'iterations'
                    UNION ALL SELECT f.uplink_rate FROM frames AS f WHERE c.k = 'rate' AND f.frame_id = r.frame_id
                    UNION ALL SELECT f.cpu_hz FROM frames AS f WHERE c.k = 'cpu_hz' AND f.frame_id = r.frame_id
                    UNION ALL SELECT f.zeta FROM frames AS f WHERE c.k = 'zeta' AND f.frame_id = r.frame_id
                    UNION ALL SELECT q.delta FROM run_params AS q WHERE c.k = 'delta' AND r.algorithm = 'dtaql' AND q.run = r.id
                    UNION ALL SELECT q.learning_rate FROM run_params AS q WHERE c.k = 'lr' AND q.run = r.id
                    UNION ALL SELECT q.discount FROM run_params AS q WHERE c.k = 'gamma' AND q.run = r.id
                    UNION ALL SELECT q.epsilon_start FROM run_params AS q WHERE c.k = 'eps_start' AND q.run = r.id
                    UNION ALL SELECT q.epsilon_min FROM run_params AS q WHERE c.k = 'eps_min' AND q.run = r.id
                    UNION ALL SELECT q.epsilon_decay FROM run_params AS q WHERE c.k = 'beta' AND q.run = r.id
                    UNION ALL SELECT q.reward FROM run_params AS q WHERE c.k = 'reward' AND q.run = r.id
                    UNION ALL SELECT q.twin_uplink_rate FROM run_params AS q WHERE c.k = 'twin_rate' AND q.run = r.id
                    UNION ALL SELECT q.twin_cpu_hz FROM run_params AS q WHERE c.k = 'twin_cpu_hz' AND q.run = r.id
                    UNION ALL SELECT q.twin_zeta FROM run_params AS q WHERE c.k = 'twin_zeta' AND q.run = r.id
                    UNION ALL SELECT q.twin_noise FROM run_params AS q WHERE c.k = 'twin_noise' AND q.run = r.id
                    UNION ALL SELECT q.twin_noise_seed FROM run_params AS q WHERE c.k = 'twin_noise_seed' AND q.run = r.id
                    UNION ALL SELECT q.aggregation FROM run_params AS q WHERE c.k = 'aggregation' AND q.run = r.id
                    UNION ALL SELECT i.value FROM run_import_settings AS i WHERE r.origin = 'imported' AND i.run = r.id AND i.key = c.k
                    UNION ALL SELECT t.value FROM run_tags AS t WHERE substr(c.k, 1, 4) = 'tag.' AND t.run = r.id
                        AND t.key IN (SELECT value FROM json_each(c.v))
                        AND NOT EXISTS (SELECT 1 FROM run_tags AS later WHERE later.run = r.id
                                        AND later.key IN (SELECT value FROM json_each(c.v)) AND later.rowid > t.rowid)
                ) AS s
                WHERE CASE typeof(s.value)
                      WHEN 'null' THEN c.t IN ('none', 'null')
                      WHEN 'text' THEN +s.value = c.t
                      ELSE +s.value = c.x END)))
          AND (?9 IS NULL OR (r.status = 'running'
               AND (r.heartbeat_at IS NULL OR r.heartbeat_at < ?9 OR r.heartbeat_at > ?10
                    OR r.id IN (SELECT value FROM json_each(?11)))))
        """

    /// The keys ``whereClause`` lists, besides an imported run's own and `tag.KEY`: the canonical names of
    /// `queries/run_settings.sql`'s settings (OneListingTests checks that they are all of them).
    public static let keysInSQL: Set<String> = [
        "algorithm", "n", "phi", "iterations", "rate", "cpu_hz", "zeta", "delta", "lr", "gamma", "eps_start", "eps_min",
        "beta", "reward", "twin_rate", "twin_cpu_hz", "twin_zeta", "twin_noise", "twin_noise_seed", "aggregation",
    ]

    /// Whether only the filters of ``columnConditions`` are set.
    var usesColumnsOnly: Bool {
        label == nil && since == nil && search == nil && conditions.isEmpty && status != .dead
    }

    var isEmpty: Bool { self == RunFilter() }

    /// ?1 to ?11 of ``whereClause``. `deadLocalRuns`: this host's running runs whose process is gone (read
    /// only for the `dead` filter).
    /// `tagKeyForms`: for a tag condition's key (NFC), the stored keys that normalize to it, as a file an
    /// older tracker wrote may hold two (the newest row wins, as ``TrackerStore/tags(ofRun:)`` reads).
    func bindings(now: Date = Date(), deadLocalRuns: [Int64] = [], tagKeyForms: [String: [String]] = [:]) -> [SQLiteValue] {
        let escapedSearch = search.map { text in
            text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
        }
        let dead = status == .dead
        // Read only for `dead`: the bound comes from the environment, which is not free to read per page.
        let stale = dead ? Liveness.staleAfterSeconds : 0
        return [
            algorithm.map { .text($0.rawValue) } ?? .null,
            n.map { .integer(Int64($0)) } ?? .null,
            phi.map { .integer(Int64($0)) } ?? .null,
            status.map { .text($0.recorded.rawValue) } ?? .null,
            label.map { .text($0) } ?? .null,
            // created_at is ISO 8601 UTC text with milliseconds, which sorts as time does.
            since.map { .text(Timestamp.format($0)) } ?? .null,
            escapedSearch.map { .text($0) } ?? .null,
            conditions.isEmpty ? .null : .text(Self.conditionsJSON(conditions, tagKeyForms: tagKeyForms)),
            dead ? .text(Timestamp.format(now.addingTimeInterval(-stale))) : .null,
            dead ? .text(Timestamp.format(now.addingTimeInterval(stale))) : .null,
            .text("[" + deadLocalRuns.map(String.init).joined(separator: ",") + "]"),
        ]
    }

    /// ?8: the conditions as a JSON array, `t` the value as given, `x` the number it reads as (what
    /// ``SettingCondition/matches(_:)`` compares a number setting with; a seed from 2^63 up as the signed
    /// bit pattern its column holds), null when it is none.
    static func conditionsJSON(_ conditions: [SettingCondition], tagKeyForms: [String: [String]] = [:]) -> String {
        func number(_ condition: SettingCondition) -> String {
            if condition.key.hasSuffix("seed"), let seed = UInt64(condition.value) { return String(Int64(bitPattern: seed)) }
            guard let value = Double(condition.value), value.isFinite else { return "null" }
            if value == value.rounded(), abs(value) < 9e15 { return String(Int64(value)) }
            return "\(value)"
        }
        return "[" + conditions.map { condition in
            // v: the stored forms of a tag's key (the key itself when none is stored).
            let forms = condition.key.hasPrefix("tag.")
                ? tagKeyForms[String(condition.key.dropFirst(4))] ?? [String(condition.key.dropFirst(4))] : []
            return "{\"k\":\(jsonString(condition.key)),\"t\":\(jsonString(condition.value)),\"x\":\(number(condition)),"
                + "\"v\":[" + forms.map(jsonString).joined(separator: ",") + "]}"
        }.joined(separator: ",") + "]"
    }

    /// `text` as a JSON string: quotes, backslashes and control characters escaped, everything else as is.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension TrackerStore {
    /// Finds a run by its text id or a unique prefix of it.
    public func run(_ idOrPrefix: String) throws -> RunRecord {
        try storeOperation("looking up run \(idOrPrefix)") {
            let exact = try database.cachedStatement("SELECT \(RunRecord.columns) FROM runs WHERE run_id = ?")
            if let record = try exact.rows([.text(idOrPrefix)], RunRecord.init).first { return record }
            // A prefix match through a range, not LIKE, so '%' and '_' in the argument mean nothing.
            let prefix = try database.cachedStatement(
                "SELECT \(RunRecord.columns) FROM runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT 6")
            let matches = try prefix.rows([.text(idOrPrefix), .text(idOrPrefix + "\u{10FFFF}")], RunRecord.init)
            if matches.count == 1, !idOrPrefix.isEmpty { return matches[0] }
            if matches.count > 1 { throw StoreError.ambiguousRunID(idOrPrefix, matches: matches.map(\.runID)) }
            throw StoreError.runNotFound(idOrPrefix)
        }
    }

    /// `--param` values of a saved query with each `run_id` resolved like a run id argument anywhere
    /// else (``run(_:)``): a unique prefix becomes the full id; an ambiguous or unknown one is an error
    /// rather than an empty result.
    public func resolvingRunIDs(in parameters: [String: String]) throws -> [String: String] {
        var resolved = parameters
        for (name, value) in parameters where Self.bareName(name) == "run_id" {
            resolved[name] = try run(value).runID
        }
        return resolved
    }

    /// The run with this integer key (`runs.id`).
    public func run(key: Int64) throws -> RunRecord {
        try runOperation("looking up run", key: key) {
            guard let record = try runIfPresent(key: key) else {
                // The row key means nothing to a user, and the run id went with the row.
                throw StoreError.invalidArgument("the run was deleted (by another process) while this command used it")
            }
            return record
        }
    }

    /// The run's row as it is now, or nil when it is gone; callers give the error context.
    private func runIfPresent(key: Int64) throws -> RunRecord? {
        let statement = try database.cachedStatement("SELECT \(RunRecord.columns) FROM runs WHERE id = ?")
        return try statement.rows([.integer(key)], RunRecord.init).first
    }

    /// The bindings of ``RunFilter/whereClause`` for `filter`, after refusing a `--where`/`--tag` key that
    /// is no setting (the one message `list`, `delete` and the dashboard give). For `dead`, this host's
    /// running runs are read and their processes asked, the one part of the rule SQL cannot see.
    func filterBindings(_ filter: RunFilter) throws -> [SQLiteValue] {
        if !filter.conditions.isEmpty { try checkSettingKeys(filter.conditions.map(\.key), option: "--where") }
        var deadLocalRuns: [Int64] = []
        if filter.status == .dead {
            let statement = try database.cachedStatement(
                "SELECT id, pid FROM runs WHERE status = 'running' AND host = ? AND pid IS NOT NULL")
            let local = try statement.rows([.text(ProcessIdentity.host)]) { ($0.int64(0), $0.int64(1)) }
            deadLocalRuns = local.filter { !ProcessIdentity.isAlive(pid: Int($1)) }.map(\.0)
        }
        var tagKeyForms: [String: [String]] = [:]
        if filter.conditions.contains(where: { $0.key.hasPrefix("tag.") }) {
            for key in try database.cachedStatement("SELECT DISTINCT key FROM run_tags").rows([]) { $0.text(0) } {
                tagKeyForms[RunTags.normalizedKey(key), default: []].append(key)
            }
        }
        return filter.bindings(deadLocalRuns: deadLocalRuns, tagKeyForms: tagKeyForms)
    }

    public func runs(matching filter: RunFilter = RunFilter()) throws -> [RunRecord] {
        try storeOperation("listing runs") {
            let statement = try database.cachedStatement(
                "SELECT \(RunRecord.prefixedColumns) FROM runs AS r \(RunFilter.whereClause) ORDER BY r.id")
            return try statement.rows(try filterBindings(filter), RunRecord.init)
        }
    }

    public func summary(ofRun id: Int64) throws -> RunSummary? {
        try runOperation("reading the summary of run", key: id) {
            let statement = try database.cachedStatement("""
                SELECT iterations, greedy_action, greedy_order, objective, normalized_reward, misses,
                       mean_completion_s, optimality_ratio, iterations_to_optimal, stable_iteration,
                       distinct_actions, wall_seconds, iterations_per_second, qtable_sha256
                FROM run_summaries WHERE run = ?
                """)
            return try statement.rows([.integer(id)]) { row in
                RunSummary(
                    iterations: try row.int("iterations"), greedyAction: try row.int("greedy_action"),
                    greedyOrder: parseOrderJSON(try row.text("greedy_order")),
                    objective: try row.double("objective"), normalizedReward: try row.double("normalized_reward"),
                    misses: try row.int("misses"), meanCompletionSeconds: try row.double("mean_completion_s"),
                    optimalityRatio: try row.optionalDouble("optimality_ratio"),
                    iterationsToOptimal: try row.optionalInt("iterations_to_optimal"),
                    stableIteration: try row.int("stable_iteration"), distinctActions: try row.int("distinct_actions"),
                    wallSeconds: try row.double("wall_seconds"), iterationsPerSecond: try row.double("iterations_per_second"),
                    qTableSHA256: try row.text("qtable_sha256"))
            }.first
        }
    }

    public func checkpoints(ofRun id: Int64) throws -> [CheckpointInfo] {
        try runOperation("listing the checkpoints of run", key: id) {
            let statement = try database.cachedStatement("""
                SELECT iteration, layout_version, bytes, sha256, created_at FROM checkpoints
                WHERE run = ? ORDER BY iteration
                """)
            return try statement.rows([.integer(id)]) { row in
                CheckpointInfo(iteration: row.int(0), layoutVersion: row.int(1), bytes: row.int(2),
                               sha256: row.text(3), createdAt: row.text(4))
            }
        }
    }

    /// Deletes runs with their metrics, checkpoints and summaries, all or none; their frames stay for
    /// other runs. A run still running in a live process (its heartbeat within the staleness bound,
    /// ``Liveness``) is refused, since its owner would otherwise die on its next commit. The check reads
    /// the rows again inside the deleting transaction, so no run can be claimed between check and delete.
    /// A dead 'running' run may go.
    public func deleteRuns(_ records: [RunRecord]) throws {
        let names = records.map(\.runID)
        let context = names.count == 1 ? "deleting run \(names[0])" : "deleting runs \(StoreError.abbreviated(names))"
        try storeOperation(context) {
            try database.transaction(.immediate) {
                for record in records {
                    guard let current = try runIfPresent(key: record.id) else { continue }
                    if current.isLive { throw current.liveRefusal }
                }
                let statement = try database.cachedStatement("DELETE FROM runs WHERE id = ?")
                for record in records { try statement.run([.integer(record.id)]) }
            }
        }
    }

    /// Drops all but the last checkpoint of every finished run, then vacuums. Returns the checkpoints dropped.
    @discardableResult
    /// Drops all but the newest checkpoint of every finished run, then vacuums; returns what it dropped.
    public func collectGarbage() throws -> GarbageCollection {
        try storeOperation("collecting garbage") {
            let collected = try database.transaction(.immediate) { () throws -> GarbageCollection in
                let finishedRunsOlderCheckpoints = """
                    FROM checkpoints
                    WHERE run IN (SELECT id FROM runs WHERE status = 'finished')
                      AND iteration < (SELECT max(c.iteration) FROM checkpoints AS c WHERE c.run = checkpoints.run)
                    """
                let measure = try database.cachedStatement("SELECT coalesce(sum(bytes), 0) " + finishedRunsOlderCheckpoints)
                let bytes = try measure.rows { $0.int(0) }.first ?? 0
                let statement = try database.cachedStatement("DELETE " + finishedRunsOlderCheckpoints)
                try statement.run()
                return GarbageCollection(checkpoints: database.changes, snapshotBytes: bytes)
            }
            try database.execute("VACUUM")
            return collected
        }
    }
}

/// What `collectGarbage` dropped: how many checkpoints, and the bytes of their snapshots.
public struct GarbageCollection: Equatable, Sendable {
    public let checkpoints: Int
    public let snapshotBytes: Int
}

func parseOrderJSON(_ text: String) -> [Int] {
    text.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).split(separator: ",").compactMap {
        Int($0.trimmingCharacters(in: .whitespaces))
    }
}
