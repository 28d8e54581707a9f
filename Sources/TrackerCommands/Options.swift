import ArgumentParser
import Foundation
import Scheduling
import TrackerReports
import TrackerStore

/// `--db`: the SQLite file every database command reads or writes.
public struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The SQLite database file, a plain path (default: $TRACKER_DB, else ./tracker.db).", valueName: "path"))
    var db: String?

    @Flag(name: .customLong("single-host"), help: ArgumentHelp(
        "On a shared filesystem (NFS, Lustre, sshfs, ...): promise that no other host opens this database while the command runs, so it may write there (it holds the file's host lease meanwhile; docs/sweeps.md#shared-filesystems). Also $TRACKER_SINGLE_HOST=1."))
    var singleHost = false

    public init() {}

    public func validate() throws {
        // The store reads the promise from the environment, so that every store this command opens and
        // every process it starts (a sweep's workers, a Slurm step) keeps it.
        if singleHost { setenv("TRACKER_SINGLE_HOST", "1", 1) }
    }

    public var path: String {
        if let db { return db }
        if let fromEnvironment = ProcessInfo.processInfo.environment["TRACKER_DB"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return "tracker.db"
    }

    /// How long a command waits for another process's write lock before failing with "database is
    /// locked": 10 s, or `$TRACKER_BUSY_TIMEOUT_MS` milliseconds (0 to 600000) when set, so tests and
    /// scripts need not wait the full 10 s. Anything else in the variable is ignored.
    static var busyTimeoutMilliseconds: Int32 {
        guard let text = ProcessInfo.processInfo.environment["TRACKER_BUSY_TIMEOUT_MS"],
              let value = Int32(text.trimmingCharacters(in: .whitespaces)), (0...600_000).contains(value) else {
            return 10_000
        }
        return value
    }

    /// The store at `path`, with the busy timeout above.
    func openStore(_ access: TrackerStore.Access = .readWrite) throws -> TrackerStore {
        try TrackerStore(path: path, access: access, busyTimeoutMilliseconds: Self.busyTimeoutMilliseconds)
    }
}

/// `--caption` and `--latex-label` of the listing commands (`list`, `sql`, `query`, `compare`): the
/// caption and `\label` key of `--format latex`'s table float. Only with `--format latex`.
public struct LaTeXOptions: ParsableArguments {
    @Option(help: ArgumentHelp("With --format latex: the table's caption (escaped for LaTeX).", valueName: "text"))
    var caption: String?

    @Option(name: .customLong("latex-label"), help: ArgumentHelp(
        "With --format latex: the table's \\label key, e.g. tab:convergence (letters, digits and : . _ - / +).",
        valueName: "key"))
    var latexLabel: String?

    public init() {}

    var float: LaTeXFloat { LaTeXFloat(caption: caption, label: latexLabel) }

    /// Refuses a caption or label without `--format latex` (it would be silently ignored) and a label key
    /// LaTeX would not read back as typed.
    func validate(for format: ListingFormat) throws {
        if format != .latex, caption != nil || latexLabel != nil {
            throw ValidationError("--caption and --latex-label go with --format latex.")
        }
        if let latexLabel, !LaTeXFloat.isValidLabel(latexLabel) {
            throw ValidationError("--latex-label '\(latexLabel)': use letters, digits and : . _ - / + only (e.g. tab:convergence).")
        }
    }
}

/// `--rate`, `--cpu-hz`, `--zeta`: the model's constants, defaulting to docs/model.md's values.
public struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Uplink rate R in bit/s.", valueName: "bit/s"))
    var rate: Double = ModelParameters.defaultUplinkRate

    @Option(name: .customLong("cpu-hz"), help: ArgumentHelp("Server CPU frequency f in Hz.", valueName: "Hz"))
    var cpuHz: Double = ModelParameters.defaultCPUHz

    @Option(help: ArgumentHelp("Penalty per missed deadline, in seconds.", valueName: "s"))
    var zeta: Double = ModelParameters.defaultZeta

    public init() {}

    var parameters: ModelParameters {
        ModelParameters(uplinkRate: rate, cpuHz: cpuHz, zeta: zeta)
    }

    public func validate() throws {
        do {
            try parameters.validate()
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// Where a frame comes from: a task file, or N tasks drawn from a seed.
public struct FrameSourceOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A task file (CSV with header data_bits,deadline_s,cycles_per_bit).", valueName: "file.csv"))
    var tasks: String?

    @Option(help: ArgumentHelp("Generate a frame of N tasks (instead of --tasks).", valueName: "N"))
    var n: Int?

    @Option(help: ArgumentHelp("Seed of the generated frame.", valueName: "S"))
    var seed: UInt64 = 1

    public init() {}

    public func validate() throws {
        switch (tasks, n) {
        case (nil, nil): throw ValidationError("Give --tasks FILE or --n N.")
        case (.some, .some): throw ValidationError("Give either --tasks or --n, not both.")
        case (nil, .some(let count)):
            guard count >= 1 else { throw ValidationError("--n must be at least 1, got \(count).") }
            guard count <= FrameCommand.maximumGeneratedTasks else {
                throw ValidationError("--n must be at most \(FrameCommand.maximumGeneratedTasks), got \(count).")
            }
        case (.some, nil): break
        }
    }

    func frame(parameters: ModelParameters) throws -> Frame {
        if let tasks {
            return try checkedFrame(Frame(tasks: try TaskFile.read(path: tasks), parameters: parameters), taskFile: tasks)
        }
        return try checkedFrame(FrameGenerator.generate(count: n ?? 0, seed: seed, parameters: parameters), taskFile: nil)
    }
}

/// `frame` if `Frame.validate` accepts it (every time, J and reward the model derives is finite), else
/// one line naming the task file, if any, and the quantity out of range (exit 1: the options were each
/// valid, their combination with the tasks is not).
func checkedFrame(_ frame: Frame, taskFile: String?) throws -> Frame {
    do {
        try frame.validate()
    } catch {
        throw CommandFailure((taskFile.map { "\($0): " } ?? "") + error.description)
    }
    return frame
}

/// `--where KEY=VALUE` options as conditions; a malformed one is a usage error.
func settingConditions(_ texts: [String]) throws -> [SettingCondition] {
    try texts.map { text in
        do { return try SettingCondition(parsing: text) } catch { throw ValidationError("--where: \(error)") }
    }
}
