import Foundation
import Learning
import Scheduling
import SQLite

/// A column the run browser (`tracker ui`'s runs page) sorts by. Each case maps to a fixed SQL
/// expression in this file, so a request can only choose among them, never supply SQL.
public enum RunSortKey: String, CaseIterable, Sendable {
    case created, algorithm, n, phi, status, label, iterations, ratio, convergence, wall

    var expression: String {
        switch self {
        case .created: return "r.id"
        case .algorithm: return "r.algorithm"
        case .n: return "r.n"
        case .phi: return "r.phi"
        case .status: return "r.status"
        case .label: return "r.label"
        case .iterations: return "r.done_iterations"
        case .ratio: return "s.optimality_ratio"
        case .convergence: return "s.iterations_to_optimal"
        case .wall: return "r.elapsed_seconds"
        }
    }

    /// Whether the column can be NULL (no label, no summary yet): only then does the ORDER BY need the
    /// extra term that keeps those rows last, which also stops SQLite from walking the runs in key order
    /// and reading only one page of them.
    var isNullable: Bool { [.label, .ratio, .convergence].contains(self) }
}

/// What the run browser shows: the runs ``filter`` selects (the filter `tracker list` fills too), a sort
/// column and one page.
public struct RunBrowserQuery: Sendable, Equatable {
    public var filter: RunFilter
    public var sort: RunSortKey
    public var descending: Bool
    /// From 1.
    public var page: Int
    public var pageSize: Int

    public static let maximumPageSize = 500

    public var algorithm: Algorithm? { filter.algorithm }
    public var n: Int? { filter.n }
    public var phi: Int? { filter.phi }
    public var status: RunStatusFilter? { filter.status }
    public var search: String? { filter.search }

    public init(filter: RunFilter = RunFilter(), sort: RunSortKey = .created, descending: Bool = true,
                page: Int = 1, pageSize: Int = 50) {
        self.filter = filter
        self.sort = sort
        self.descending = descending
        self.page = page
        self.pageSize = pageSize
    }

    public init(algorithm: Algorithm? = nil, n: Int? = nil, phi: Int? = nil, status: RunStatusFilter? = nil,
                search: String? = nil, sort: RunSortKey = .created, descending: Bool = true,
                page: Int = 1, pageSize: Int = 50) {
        self.init(filter: RunFilter(algorithm: algorithm, n: n, status: status, phi: phi, search: search),
                  sort: sort, descending: descending, page: page, pageSize: pageSize)
    }
}

public struct RunBrowserPage: Sendable {
    /// Runs matching the filters, over all pages.
    public let total: Int
    public let runs: [ListedRun]
}

extension Hyperparameters {
    /// `name=value` for each setting that differs from `tracker run`'s default, in a fixed order. The
    /// names are the vocabulary's (lr, gamma, beta, ...: ``SettingVocabulary``), and a setting appears only
    /// for an algorithm that uses it (delta for DTAQL).
    public var differencesFromDefaults: [String] {
        var differences: [String] = []
        func name(_ column: String) -> String { SettingVocabulary.name(ofColumn: column) }
        func add(_ column: String, _ value: Double, _ fallback: Double) {
            if value != fallback { differences.append("\(name(column))=\(shortNumber(value))") }
        }
        if SettingVocabulary.algorithm(algorithm, uses: "delta"), delta != Self.defaultDelta {
            differences.append("\(name("delta"))=\(delta)")
        }
        if iterations != Self.defaultIterations { differences.append("\(name("iterations"))=\(iterations)") }
        add("learning_rate", learningRate, Self.defaultLearningRate)
        add("discount", discount, Self.defaultDiscount)
        add("epsilon_start", epsilonStart, Self.defaultEpsilonStart)
        add("epsilon_min", epsilonMin, Self.defaultEpsilonMin)
        add("epsilon_decay", epsilonDecay, Self.defaultEpsilonDecay)
        if reward != .ratio { differences.append("\(name("reward"))=\(reward.rawValue)") }
        if let twin = twin.parameters {
            differences.append("\(name("twin_uplink_rate"))=\(shortNumber(twin.uplinkRate))")
            differences.append("\(name("twin_cpu_hz"))=\(shortNumber(twin.cpuHz))")
            differences.append("\(name("twin_zeta"))=\(shortNumber(twin.zeta))")
        }
        if twin.noise != 0 { differences.append("\(name("twin_noise"))=\(shortNumber(twin.noise))") }
        if aggregation != .mean { differences.append("\(name("aggregation"))=\(aggregation.rawValue)") }
        return differences
    }
}

extension Hyperparameters {
    /// The settings of `record` from a row holding `run_params`' columns delta, learning_rate, discount,
    /// epsilon_start, epsilon_min, epsilon_decay, reward, twin_uplink_rate, twin_cpu_hz, twin_zeta,
    /// twin_noise, twin_noise_seed and aggregation, read by name.
    init(record: RunRecord, parameterRow row: Statement) throws {
        let twinParameters: ModelParameters? = try row.isNull("twin_uplink_rate") ? nil
            : ModelParameters(uplinkRate: try row.double("twin_uplink_rate"), cpuHz: try row.double("twin_cpu_hz"),
                              zeta: try row.double("twin_zeta"))
        self.init(
            algorithm: record.algorithm, phi: record.phi, delta: try row.int("delta"), iterations: record.plannedIterations,
            seed: record.seed, learningRate: try row.double("learning_rate"), discount: try row.double("discount"),
            epsilonStart: try row.double("epsilon_start"), epsilonMin: try row.double("epsilon_min"),
            epsilonDecay: try row.double("epsilon_decay"),
            reward: RewardForm(rawValue: try row.text("reward")) ?? .ratio,
            twin: TwinModel(parameters: twinParameters, noise: try row.double("twin_noise"),
                            noiseSeed: UInt64(bitPattern: try row.int64("twin_noise_seed"))),
            aggregation: Aggregation(rawValue: try row.text("aggregation")) ?? .mean)
    }
}

/// The tags column of the run browser's query: `HEXKEY=HEXVALUE` pairs (each text's UTF-8 bytes in
/// hex, so neither holds a separator), joined by commas, in key order; NULL for none. Decoding hex is
/// a loop over bytes, where the JSON array this column was before went through JSONSerialization on
/// every row of every page.
private func parseTagPairs(_ column: String?) -> [(key: String, value: String)] {
    guard let column, !column.isEmpty else { return [] }
    func decodeHex(_ hex: Substring) -> String {
        func nibble(_ byte: UInt8) -> UInt8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: return byte &- UInt8(ascii: "a") &+ 10
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for byte in hex.utf8 {
            if let first = high {
                bytes.append(first << 4 | nibble(byte))
                high = nil
            } else {
                high = nibble(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
    return column.split(separator: ",").compactMap { pair in
        let parts = pair.split(separator: "=", omittingEmptySubsequences: false)
        return parts.count == 2 ? (decodeHex(parts[0]), decodeHex(parts[1])) : nil
    }
}

/// 0.9, 5000, 6000000, 1e+20: whole numbers in full below 10^15 (a rate in bit/s, a frequency in Hz),
/// otherwise Swift's shortest round-trip form.
private func shortNumber(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return String(value)
}

extension TrackerStore {
    /// One page of runs for the run browser. Every filter is a bound parameter (NULL switches it off);
    /// the sort column comes from `RunSortKey`'s fixed expressions. Runs without a value in the sort
    /// column (no summary yet) sort last either way. The rows are `tracker list`'s (``listing(_:sort:descending:limit:offset:)``).
    public func browseRuns(_ query: RunBrowserQuery) throws -> RunBrowserPage {
        let pageSize = min(max(query.pageSize, 1), RunBrowserQuery.maximumPageSize)
        let offset = Int64(max(query.page - 1, 0)) * Int64(pageSize)
        return try storeOperation("listing runs") {
            let bindings = try filterBindings(query.filter)
            // The count is most of a page's work on a big database, so it reads as little as its filters
            // need (the statements are prepared once, so SQLite cannot drop the `?k IS NULL OR` terms of
            // an absent filter itself): no filter at all, SQLite's count of the table's smallest b-tree;
            // column filters only, a scan of the covering index runs_by_configuration (n, algorithm,
            // phi, status) instead of the table; a label, a time, a search or a setting, the table (and
            // labels, tags, settings).
            let total: Int
            if query.filter.isEmpty {
                total = try database.cachedStatement("SELECT count(*) FROM runs").rows { $0.int(0) }.first ?? 0
            } else if query.filter.usesColumnsOnly {
                total = try database.cachedStatement("SELECT count(*) FROM runs AS r \(RunFilter.columnConditions)")
                    .rows(Array(bindings.prefix(4))) { $0.int(0) }.first ?? 0
            } else {
                total = try database.cachedStatement("SELECT count(*) FROM runs AS r \(RunFilter.whereClause)")
                    .rows(bindings) { $0.int(0) }.first ?? 0
            }
            let runs = try listing(bindings, sort: query.sort, descending: query.descending,
                                   limit: Int64(pageSize), offset: offset)
            return RunBrowserPage(total: total, runs: runs)
        }
    }

    /// The one listing SELECT behind `tracker list` and the runs page: the runs the bound filter selects
    /// (``RunFilter/whereClause``), in the order of a ``RunSortKey`` (ties and `created`: by creation), one
    /// window of them (`limit` -1: all). Every column is read by name.
    func listing(_ bindings: [SQLiteValue], sort: RunSortKey, descending: Bool, limit: Int64, offset: Int64) throws -> [ListedRun] {
        let direction = descending ? "DESC" : "ASC"
        let expression = sort.expression
        let order = (sort.isNullable ? "\(expression) IS NULL, " : "")
            + (sort == .created ? "r.id \(direction)" : "\(expression) \(direction), r.id \(direction)")
        // The ORDER BY text is one of RunSortKey's constant expressions and ASC/DESC; nothing from
        // the request is spliced in. frames is a LEFT JOIN (every run has its frame) so that the plan
        // stays a walk of the runs in the sort's order that stops after one page.
        let statement = try database.cachedStatement("""
            SELECT \(RunRecord.prefixedColumns),
                   p.delta, p.learning_rate, p.discount, p.epsilon_start, p.epsilon_min, p.epsilon_decay, p.reward,
                   p.twin_uplink_rate, p.twin_cpu_hz, p.twin_zeta, p.twin_noise, p.twin_noise_seed, p.aggregation,
                   f.seed AS frame_seed, f.uplink_rate, f.cpu_hz, f.zeta,
                   s.objective, s.optimality_ratio, s.iterations_to_optimal, s.normalized_reward,
                   (SELECT group_concat(hex(t.key) || '=' || hex(t.value), ',')
                    FROM (SELECT key, value FROM run_tags WHERE run = r.id ORDER BY key) AS t) AS tags
            FROM runs AS r
            LEFT JOIN run_params AS p ON p.run = r.id
            LEFT JOIN frames AS f ON f.frame_id = r.frame_id
            LEFT JOIN run_summaries AS s ON s.run = r.id
            \(RunFilter.whereClause)
            ORDER BY \(order)
            LIMIT ?12 OFFSET ?13
            """)
        var runs = try statement.rows(bindings + [.integer(limit), .integer(offset)]) { row -> ListedRun in
            let record = try RunRecord(row: row)
            return ListedRun(
                record: record, hyperparameters: try Hyperparameters(record: record, parameterRow: row),
                frameSeed: try row.isNull("frame_seed") ? nil : UInt64(bitPattern: try row.int64("frame_seed")),
                model: ModelParameters(uplinkRate: try row.double("uplink_rate"), cpuHz: try row.double("cpu_hz"),
                                       zeta: try row.double("zeta")),
                objective: try row.optionalDouble("objective"),
                optimalityRatio: try row.optionalDouble("optimality_ratio"),
                iterationsToOptimal: try row.optionalInt("iterations_to_optimal"),
                normalizedReward: try row.optionalDouble("normalized_reward"),
                tags: parseTagPairs(try row.optionalText("tags")))
        }
        // An imported run's own settings, read only when the window holds one.
        if runs.contains(where: \.record.isImported) {
            let imported = try importedSettingsByRun()
            for index in runs.indices where runs[index].record.isImported {
                runs[index].importedSettings = imported[runs[index].record.id] ?? []
            }
        }
        return runs
    }
}

extension TrackerStore {
    /// The optimal order stored with a frame, nil where N is beyond the exact solver.
    public func optimalOrder(ofFrame frameID: Int64) throws -> [Int]? {
        try storeOperation("reading the optimal order of frame \(frameID)") {
            let statement = try database.cachedStatement("SELECT optimal_order FROM frames WHERE frame_id = ?")
            return try statement.rows([.integer(frameID)]) { $0.isNull(0) ? nil : parseOrderJSON($0.text(0)) }.first ?? nil
        }
    }

    /// The greedy action after the newest recorded iteration of a run, nil before the first batch.
    public func latestGreedyAction(ofRun id: Int64) throws -> Int? {
        try runOperation("reading the newest metrics of run", key: id) {
            let statement = try database.cachedStatement(
                "SELECT greedy_action FROM metrics WHERE run = ? ORDER BY iteration DESC LIMIT 1")
            return try statement.rows([.integer(id)]) { $0.int(0) }.first
        }
    }
}

/// One row of the run listing, `tracker list`'s and the runs page's (and `/api/runs`'): the run, its
/// settings, its frame's seed and model constants, its tags, and the figures of its summary once it
/// finished (all nil before).
public struct ListedRun: Sendable {
    public let record: RunRecord
    public let hyperparameters: Hyperparameters
    /// The seed the frame was generated from; nil for a frame read from a task file.
    public let frameSeed: UInt64?
    public let model: ModelParameters
    public let objective: Double?
    public let optimalityRatio: Double?
    public let iterationsToOptimal: Int?
    public let normalizedReward: Double?
    /// The run's tags (`tracker tag`), by key.
    public let tags: [(key: String, value: String)]
    /// An imported run's own settings (run_import_settings), which stand in for `hyperparameters` (an
    /// imported run has no run_params row: those are all zero); empty for every other run.
    public var importedSettings: [Setting] = []

    /// The settings that differ from `tracker run`'s defaults, model constants included, as `name=value`
    /// (phi, N and the seeds are columns of their own); an imported run's settings, every one of them.
    public var nonDefaultSettings: [String] {
        if record.isImported { return ["imported"] + importedSettings.map { "\($0.key)=\($0.value)" } }
        return Self.nonDefaultSettings(hyperparameters, model: model)
    }

    /// ``nonDefaultSettings`` of any run (also ``RunView``'s).
    public static func nonDefaultSettings(_ hyperparameters: Hyperparameters, model: ModelParameters) -> [String] {
        var differences = hyperparameters.differencesFromDefaults
        func add(_ name: String, _ value: Double, _ fallback: Double) {
            if value != fallback { differences.append("\(name)=\(shortNumber(value))") }
        }
        add("rate", model.uplinkRate, ModelParameters.defaultUplinkRate)
        add("cpu_hz", model.cpuHz, ModelParameters.defaultCPUHz)
        add("zeta", model.zeta, ModelParameters.defaultZeta)
        return differences
    }
}

extension TrackerStore {
    /// The runs `filter` selects, with what `tracker list` shows of each: the runs page's rows and
    /// query (``listing(_:sort:descending:limit:offset:)``), newest first (the default of both) or oldest
    /// first, at most `limit` of them (nil: all). One statement whatever the number of runs.
    public func listRuns(matching filter: RunFilter = RunFilter(), newestFirst: Bool = true, limit: Int? = nil) throws -> [ListedRun] {
        try storeOperation("listing runs") {
            try listing(try filterBindings(filter), sort: .created, descending: newestFirst,
                        limit: limit.map { Int64(max($0, 0)) } ?? -1, offset: 0)
        }
    }
}
