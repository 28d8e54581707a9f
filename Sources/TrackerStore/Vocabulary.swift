import Learning

/// One setting of a run: the one name tables and messages use, the other names every command accepts
/// for it, the column `queries/run_settings.sql` returns it in, and which algorithms use it.
public struct SettingDefinition: Sendable, Equatable {
    /// The canonical name: what `compare`, `plot` and the dashboard print (`lr=0.5`), the `--where`/`--by` key.
    public let name: String
    /// Every other name accepted wherever a setting is named: `--where`, `--by` (CLI and dashboard) and
    /// sweep specs. The column name is always one of them (or the name itself).
    public let aliases: [String]
    /// The column of `queries/run_settings.sql`'s result (a run's JSON keys its settings by ``name``).
    public let column: String
    /// Where the value is stored (`table.column`).
    public let stored: String
    /// The algorithms whose results it changes; the others neither show it nor are split by it.
    public let algorithms: [Algorithm]
    /// Where a sweep spec gives its values (`hyperparameters`, `configurations[].phi`, ...); nil: a spec cannot vary it.
    public let spec: String?
    /// Whether a sweep spec's `hyperparameters` object lists its values (by any of its names).
    public var sweepable: Bool { spec == "hyperparameters" }
    public let description: String

    public func uses(_ algorithm: Algorithm) -> Bool { algorithms.contains(algorithm) }

    /// `lr (learning_rate, learning-rate)`: the name and its aliases, as error messages list them.
    public var spelled: String {
        aliases.isEmpty ? name : "\(name) (\(aliases.joined(separator: ", ")))"
    }
}

/// The tracker's one vocabulary of settings (docs/settings.md is generated from it by
/// `tracker settings-reference`). A column a later migration adds to run_params and that is not listed
/// here is its own name, used by every algorithm.
public enum SettingVocabulary {
    static let all: [Algorithm] = [.ql, .dteql, .dtaql]

    public static let settings: [SettingDefinition] = [
        SettingDefinition(name: "algorithm", aliases: ["algo"], column: "algorithm", stored: "runs.algorithm",
                          algorithms: all, spec: "configurations[].algorithm", description: "The learner: ql, dteql or dtaql."),
        SettingDefinition(name: "n", aliases: [], column: "n", stored: "runs.n", algorithms: all, spec: "n",
                          description: "Tasks in the frame (N)."),
        SettingDefinition(name: "phi", aliases: [], column: "phi", stored: "runs.phi", algorithms: [.dteql, .dtaql],
                          spec: "configurations[].phi", description: "Twin actions (DTEQL) or twin agents (DTAQL) per iteration; QL has none."),
        SettingDefinition(name: "iterations", aliases: ["planned_iterations"], column: "iterations",
                          stored: "runs.planned_iterations", algorithms: all, spec: "iterations",
                          description: "Iterations to train (the budget)."),
        SettingDefinition(name: "rate", aliases: ["uplink_rate"], column: "rate", stored: "frames.uplink_rate",
                          algorithms: all, spec: "model.rate", description: "Uplink rate R in bit/s (model)."),
        SettingDefinition(name: "cpu_hz", aliases: ["cpu-hz"], column: "cpu_hz", stored: "frames.cpu_hz",
                          algorithms: all, spec: "model.cpu_hz", description: "Server CPU frequency f in Hz (model)."),
        SettingDefinition(name: "zeta", aliases: [], column: "zeta", stored: "frames.zeta", algorithms: all,
                          spec: "model.zeta", description: "Penalty per missed deadline in s (model)."),
        SettingDefinition(name: "delta", aliases: [], column: "delta", stored: "run_params.delta", algorithms: [.dtaql],
                          spec: "configurations[].delta", description: "Iterations between DTAQL's averagings of its agents' Q-tables."),
        SettingDefinition(name: "lr", aliases: ["learning_rate", "learning-rate"], column: "learning_rate",
                          stored: "run_params.learning_rate", algorithms: all, spec: "hyperparameters",
                          description: "Learning rate, in (0, 1]."),
        SettingDefinition(name: "gamma", aliases: ["discount"], column: "discount", stored: "run_params.discount",
                          algorithms: all, spec: "hyperparameters",
                          description: "Discount, in [0, 1] (no effect while episodes are one step)."),
        SettingDefinition(name: "eps_start", aliases: ["epsilon_start", "eps-start"], column: "epsilon_start",
                          stored: "run_params.epsilon_start", algorithms: all, spec: "hyperparameters",
                          description: "Exploration rate at iteration 0."),
        SettingDefinition(name: "eps_min", aliases: ["epsilon_min", "eps-min"], column: "epsilon_min",
                          stored: "run_params.epsilon_min", algorithms: all, spec: "hyperparameters",
                          description: "Exploration rate the schedule decays to."),
        SettingDefinition(name: "beta", aliases: ["epsilon_decay"], column: "epsilon_decay",
                          stored: "run_params.epsilon_decay", algorithms: all, spec: "hyperparameters",
                          description: "Exploration decay: eps = eps-min + (eps-start - eps-min) exp(-i / beta)."),
        SettingDefinition(name: "reward", aliases: [], column: "reward", stored: "run_params.reward", algorithms: all,
                          spec: "hyperparameters", description: "Reward form: ratio (J_EDF / J) or negative (-J)."),
        SettingDefinition(name: "twin_rate", aliases: ["twin_uplink_rate", "twin-rate"], column: "twin_uplink_rate",
                          stored: "run_params.twin_uplink_rate", algorithms: all, spec: nil,
                          description: "Imperfect twin: its own uplink rate."),
        SettingDefinition(name: "twin_cpu_hz", aliases: ["twin-cpu-hz"], column: "twin_cpu_hz",
                          stored: "run_params.twin_cpu_hz", algorithms: all, spec: nil,
                          description: "Imperfect twin: its own CPU frequency."),
        SettingDefinition(name: "twin_zeta", aliases: ["twin-zeta"], column: "twin_zeta", stored: "run_params.twin_zeta",
                          algorithms: all, spec: nil,
                          description: "Imperfect twin: its own miss penalty."),
        SettingDefinition(name: "twin_noise", aliases: ["twin-noise"], column: "twin_noise", stored: "run_params.twin_noise",
                          algorithms: all, spec: "hyperparameters",
                          description: "Imperfect twin: relative error of its rewards, fixed per action."),
        SettingDefinition(name: "twin_noise_seed", aliases: ["twin-noise-seed"], column: "twin_noise_seed",
                          stored: "run_params.twin_noise_seed", algorithms: all, spec: nil,
                          description: "Seed of the twin's reward errors."),
        SettingDefinition(name: "aggregation", aliases: [], column: "aggregation", stored: "run_params.aggregation",
                          algorithms: [.dtaql], spec: "configurations[].aggregation",
                          description: "How DTAQL combines its agents' Q-tables: mean or pool."),
    ]

    /// The definition that `name` (canonical, alias or column) names; nil for an unknown name.
    public static func definition(_ name: String) -> SettingDefinition? {
        settings.first { $0.name == name || $0.aliases.contains(name) || $0.column == name }
    }

    /// The canonical name of `name`, or `name` itself when it is none of the vocabulary's (a tag key,
    /// a column a later migration adds, or a wrong name that the caller refuses with the list).
    public static func canonical(_ name: String) -> String {
        definition(name)?.name ?? name
    }

    /// Whether `algorithm` uses the setting stored in (or named) `name`: false for delta outside DTAQL,
    /// phi for QL, aggregation outside DTAQL. A name outside the vocabulary is used by every algorithm.
    public static func algorithm(_ algorithm: Algorithm, uses name: String) -> Bool {
        definition(name)?.uses(algorithm) ?? true
    }

    /// The name the vocabulary gives a column of `queries/run_settings.sql` (the column itself when unlisted).
    public static func name(ofColumn column: String) -> String {
        settings.first { $0.column == column }?.name ?? column
    }

    /// The table of docs/settings.md, in Markdown.
    public static var markdownTable: String {
        var lines = ["| name | aliases | column | stored in | algorithms | sweep spec | meaning |",
                     "|---|---|---|---|---|---|---|"]
        for setting in settings {
            let aliases = setting.aliases.map { "`\($0)`" }.joined(separator: ", ")
            let algorithms = setting.algorithms.count == all.count ? "all"
                : setting.algorithms.map(\.rawValue).joined(separator: ", ")
            lines.append("| `\(setting.name)` | \(aliases) | `\(setting.column)` | `\(setting.stored)` | \(algorithms) | "
                + "\(setting.spec.map { "`\($0)`" } ?? "") | \(setting.description.replacingOccurrences(of: "|", with: "\\|")) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
