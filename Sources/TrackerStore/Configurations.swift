import Foundation
import SQLite

/// A recorded setting's value, as its column holds it.
public enum SettingValue: Hashable, Comparable, Sendable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public init(_ value: SQLiteValue) {
        switch value {
        case .null, .blob: self = .null
        case .integer(let v): self = .integer(v)
        case .real(let v): self = .real(v)
        case .text(let v): self = .text(v)
        }
    }

    /// A setting as its column holds it, seeds back as the UInt64 they are: a seed column holds the seed's
    /// bit pattern (SQLite integers are signed), so a negative value is a seed from 2^63 up, kept exactly
    /// as its decimal text (`twin_noise_seed=18446744073709551615`, never -1).
    public init(storedSetting value: SQLiteValue, key: String) {
        if key.hasSuffix("seed"), case .integer(let bits) = value, bits < 0 {
            self = .text(String(UInt64(bitPattern: bits)))
        } else {
            self.init(value)
        }
    }

    /// As a header shows it: `0.9`, `5000` (not 5000.0), `ratio`, `none` for NULL.
    public var description: String {
        switch self {
        case .null: return "none"
        case .integer(let v): return String(v)
        case .real(let v):
            if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
            return "\(v)"
        case .text(let v): return v
        }
    }

    /// NULL first, then numbers by value (integers and reals together), then text.
    public static func < (lhs: SettingValue, rhs: SettingValue) -> Bool {
        func rank(_ value: SettingValue) -> Int {
            switch value {
            case .null: return 0
            case .integer, .real: return 1
            case .text: return 2
            }
        }
        if rank(lhs) != rank(rhs) { return rank(lhs) < rank(rhs) }
        switch (lhs, rhs) {
        case (.text(let a), .text(let b)): return a < b
        default: return (lhs.number ?? 0) < (rhs.number ?? 0)
        }
    }

    public var number: Double? {
        switch self {
        case .integer(let v): return Double(v)
        case .real(let v): return v
        default: return nil
        }
    }
}

/// One named setting of a configuration: `lr` = 0.1.
public struct Setting: Hashable, Sendable {
    public let key: String
    public let value: SettingValue

    public init(key: String, value: SettingValue) {
        self.key = key
        self.value = value
    }
}

/// What a column of `compare` and a line of `plot` holds: runs equal in everything that determines their
/// results except the frame's tasks and the learner seed (N is the row of Table II, so it is kept apart).
/// Two runs of one algorithm and phi with another learning rate, budget or model constant are different
/// configurations and are never pooled.
public struct Configuration: Hashable, Comparable, Sendable {
    public let algorithm: String
    public let phi: Int
    /// Every other results-determining setting, in the order `queries/run_settings.sql` returns them
    /// (delta only for DTAQL, the one algorithm it changes).
    public let settings: [Setting]

    public init(algorithm: String, phi: Int, settings: [Setting] = []) {
        self.algorithm = algorithm
        self.phi = algorithm == "ql" ? 0 : phi
        self.settings = settings
    }

    /// `DTEQL phi=500`, `DTAQL phi=8`, `QL`: the algorithm and phi only; `ConfigurationNames` adds what
    /// tells configurations of one algorithm and phi apart.
    public var name: String {
        switch algorithm {
        case "ql": return "QL"
        case "dteql", "dtaql": return "\(algorithm.uppercased()) phi=\(phi)"
        // An imported run's algorithm, as its file names it (docs/import.md); phi only where it has one.
        default: return phi == 0 ? algorithm : "\(algorithm) phi=\(phi)"
        }
    }

    public func value(of key: String) -> SettingValue? {
        settings.first { $0.key == key }?.value
    }

    /// The paper's order: DTEQL by phi descending, then DTAQL by phi descending, then QL; configurations of
    /// one algorithm and phi by their settings.
    public static func < (lhs: Configuration, rhs: Configuration) -> Bool {
        func rank(_ algorithm: String) -> Int {
            switch algorithm {
            case "dteql": return 0
            case "dtaql": return 1
            case "ql": return 2
            default: return 3
            }
        }
        if rank(lhs.algorithm) != rank(rhs.algorithm) { return rank(lhs.algorithm) < rank(rhs.algorithm) }
        if lhs.algorithm != rhs.algorithm { return lhs.algorithm < rhs.algorithm }
        if lhs.phi != rhs.phi { return lhs.phi > rhs.phi }
        return lhs.settings.lexicographicallyPrecedes(rhs.settings) {
            $0.key != $1.key ? $0.key < $1.key : $0.value < $1.value
        }
    }
}

/// Names and orders the configurations shown side by side, so each name says what sets it apart.
public enum ConfigurationNames {
    /// A name per configuration: the algorithm and phi, then `key=value` for each setting that varies
    /// among `configurations` and where this one differs from the most common value (ties: the smallest).
    /// Two different configurations always get different names: where they differ, at most one of
    /// them holds the most common value (a key only some have, delta, belongs to one algorithm, which
    /// the name already tells apart).
    /// Keys in `showing` are named wherever they vary, even at their most common value (`plot --by lr`
    /// names lr on every line).
    public static func names(_ configurations: [Configuration], showing: Set<String> = []) -> [Configuration: String] {
        let distinct = Array(Set(configurations))
        var keys: [String] = []
        for configuration in distinct.sorted() {
            for setting in configuration.settings where !keys.contains(setting.key) { keys.append(setting.key) }
        }
        var usual: [String: SettingValue] = [:]
        for key in keys {
            // A key some configurations lack (delta outside DTAQL) is compared among those that have it.
            let values = distinct.compactMap { $0.value(of: key) }
            let counts = Dictionary(values.map { ($0, 1) }, uniquingKeysWith: +)
            guard counts.count > 1 else { continue }
            usual[key] = counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }!.key
        }
        var names: [Configuration: String] = [:]
        for configuration in distinct {
            var name = configuration.name
            for key in keys {
                guard let common = usual[key], let value = configuration.value(of: key) else { continue }
                if value != common || showing.contains(key) { name += " \(key)=\(value)" }
            }
            names[configuration] = name
        }
        return names
    }

    /// `configurations` without repeats in column order: the paper's order of algorithm and phi, within one
    /// algorithm and phi the configuration with the fewest differences (the plain name) first.
    public static func ordered(_ configurations: [Configuration],
                               showing: Set<String> = []) -> [(configuration: Configuration, name: String)] {
        let names = names(configurations, showing: showing)
        return names.sorted { a, b in
            if a.key.algorithm != b.key.algorithm || a.key.phi != b.key.phi { return a.key < b.key }
            if a.value.count != b.value.count { return a.value.count < b.value.count }
            return a.value < b.value
        }.map { ($0.key, $0.value) }
    }
}

/// The settings of one run that its configuration is made of, as `queries/run_settings.sql` reads them.
public struct RunSettings: Sendable {
    public let runID: String
    public let n: Int
    public let configuration: Configuration
    /// The run's tags by key (`run_tags`): matched by `--where tag.KEY=VALUE`, never part of the configuration.
    public let tags: [String: String]

    /// Every setting by its key, `algorithm`, `n` and `phi` included: what `--where` and `--by` look at.
    public var all: [Setting] {
        [Setting(key: "algorithm", value: .text(configuration.algorithm)), Setting(key: "n", value: .integer(Int64(n))),
         Setting(key: "phi", value: .integer(Int64(configuration.phi)))] + configuration.settings
    }
}

extension TrackerStore {
    /// Columns of `run_settings` that are no setting, or a setting that never changes results (how
    /// often checkpoints are taken and how many are kept).
    static let settingsColumnsNotDeterminingResults: Set<String> = ["run_id", "run", "checkpoint_every", "keep_checkpoints"]

    /// The key of a `queries/run_settings.sql` column: its name in ``SettingVocabulary`` (`learning_rate`
    /// is `lr`). A column the vocabulary does not list (one a later migration adds) is its own key, so it
    /// splits configurations without any change to this file.
    public static func settingKey(ofColumn column: String) -> String {
        SettingVocabulary.name(ofColumn: column)
    }

    /// The settings of every run, by run id, from `queries/run_settings.sql`. Its `p.*` makes every
    /// run_params column part of the configuration, including ones added after this was written.
    ///
    /// With `n`, only the runs of that N are read; with `only`, just those runs' settings are built:
    /// `compare --n 8` on a database of 10,000 runs needs the few hundred of one N, and reading and
    /// building all of them cost the dashboard's compare page 100 ms of its time.
    public func runSettings(runID: String? = nil, n: Int? = nil, only wanted: Set<String>? = nil) throws -> [String: RunSettings] {
        var parameters: [String: String] = [:]
        if let runID { parameters["run_id"] = runID }
        if let n { parameters["n"] = String(n) }
        let result = try run(try SavedQueries.named("run_settings"), parameters: parameters)
        guard let runIDColumn = result.column("run_id"), let algorithmColumn = result.column("algorithm"),
              let nColumn = result.column("n"), let phiColumn = result.column("phi")
        else {
            throw StoreError.invalidArgument("queries/run_settings.sql lacks run_id, algorithm, n or phi: \(result.columns)")
        }
        let settingColumns = result.columns.indices.filter { index in
            ![runIDColumn, algorithmColumn, nColumn, phiColumn].contains(index)
                && !Self.settingsColumnsNotDeterminingResults.contains(result.columns[index])
        }
        let tags = try tagsByRunID()
        // An imported run has no run_params row: the columns from `run` on (p.*) are NULL for it, and its
        // own settings (run_import_settings) take their place.
        let parameterStart = result.column("run") ?? result.columns.count
        let imported = try importedSettingsByRunID()
        var settings: [String: RunSettings] = [:]
        for row in result.rows {
            let runID = row[runIDColumn].textValue ?? ""
            if let wanted, !wanted.contains(runID) { continue }
            let algorithm = row[algorithmColumn].textValue ?? ""
            let importedSettings = imported[runID]
            let configuration = Configuration(
                algorithm: algorithm, phi: row[phiColumn].intValue ?? 0,
                settings: settingColumns.compactMap { index -> Setting? in
                    let column = result.columns[index]
                    if importedSettings != nil && index >= parameterStart { return nil }
                    // Only DTAQL averages every delta iterations; like config_hash, the others have no delta.
                    if column == "delta" && algorithm != "dtaql" { return nil }
                    let key = Self.settingKey(ofColumn: column)
                    return Setting(key: key, value: SettingValue(storedSetting: row[index], key: key))
                } + (importedSettings ?? []))
            settings[runID] = RunSettings(runID: runID, n: row[nColumn].intValue ?? 0, configuration: configuration,
                                           tags: tags[runID] ?? [:])
        }
        return settings
    }
}

/// `--where KEY=VALUE`: a run's setting equals a value. Numbers compare as numbers (`lr=0.90` matches
/// 0.9), text as text, `none` matches a NULL setting (the exact twin's twin_rate).
public struct SettingCondition: Sendable, Equatable {
    public let key: String
    public let value: String

    public init(key: String, value: String) {
        self.key = RunTags.normalizedSettingKey(key)
        self.value = value
    }

    /// `KEY=VALUE`, split at the first `=`; both sides non-empty.
    public init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex, text.index(after: equals) != text.endIndex else {
            throw StoreError.invalidArgument("'\(text)' is not KEY=VALUE (e.g. lr=0.9)")
        }
        self.init(key: String(text[..<equals]), value: String(text[text.index(after: equals)...]))
    }

    /// `K=V` of `--tag` (``RunTags/parse(_:)``'s rules) as the condition `tag.K=V`.
    public init(parsingTag text: String) throws {
        let tag = try RunTags.parse(text)
        self.init(key: RunTags.settingPrefix + tag.key, value: tag.value)
    }

    public func matches(_ setting: SettingValue?) -> Bool {
        switch setting {
        case nil: return false
        case .null?: return value == "none" || value == "null"
        case .text(let text)?: return text == value
        case .integer, .real:
            guard let wanted = Double(value), let number = setting?.number else { return false }
            return wanted == number
        }
    }
}

extension RunSettings {
    /// The value of `key` for this run, nil when the run has no such setting (delta outside DTAQL) or
    /// no such tag (`tag.KEY`).
    public func value(of key: String) -> SettingValue? {
        if key.hasPrefix(RunTags.settingPrefix) {
            return tags[String(key.dropFirst(RunTags.settingPrefix.count))].map { .text($0) }
        }
        return all.first { $0.key == key }?.value
    }

    public func matches(_ conditions: [SettingCondition]) -> Bool {
        conditions.allSatisfy { $0.matches(value(of: $0.key)) }
    }
}

extension TrackerStore {
    /// Every key `--where` and `--by` accept, by its canonical name (``SettingVocabulary``): algorithm, n,
    /// phi and the settings of `run_settings` (with any run_params column a later migration adds).
    public func settingKeys() throws -> [String] {
        let columns = try run(try SavedQueries.named("run_settings"), parameters: ["run_id": ""]).columns
        let keys = columns.filter { !Self.settingsColumnsNotDeterminingResults.contains($0) }.map(Self.settingKey(ofColumn:))
        // And the settings imported runs have that no built-in run has (`tracker import`).
        return keys + (try importedSettingKeys()).filter { !keys.contains($0) }
    }

    /// Refuses a key that is no setting, naming the ones there are. `option` names the option in the message.
    /// `tag.KEY` is accepted for any valid tag key, whether or not a run has that tag yet.
    public func checkSettingKeys(_ keys: [String], option: String) throws {
        let known = try settingKeys()
        for key in keys where key.hasPrefix(RunTags.settingPrefix) {
            do { try RunTags.checkKey(String(key.dropFirst(RunTags.settingPrefix.count))) } catch {
                throw StoreError.invalidSettingName(option: option, message: "\(error)")
            }
        }
        // Keys arrive canonical (``RunTags/normalizedSettingKey(_:)``); an alias is resolved here as well.
        for key in keys where !known.contains(SettingVocabulary.canonical(key)) && !key.hasPrefix(RunTags.settingPrefix) {
            let aliases = known.compactMap(SettingVocabulary.definition).flatMap { setting in
                setting.aliases.map { "\($0) = \(setting.name)" }
            }
            throw StoreError.unknownSetting(option: option, key: key, known: known + ["tag.KEY"], aliases: aliases)
        }
    }
}
