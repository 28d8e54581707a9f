import ArgumentParser
import Learning
import Foundation
import TrackerReports
import TrackerApp
import TrackerStore

/// How the experiment reads the paper where its text and its algorithms differ (docs/model.md).
public enum Reading: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// The project's default reading: epsilon decays as exp(-i / beta), DTAQL averages its tables.
    case spec
    /// Algorithm 1/2 line 3 as printed (epsilon = eps_min from the first iteration) and DTAQL pooling.
    case literal

    /// The built-in sweep file (sweeps/NAME.json); its label keeps the reading's runs apart in one database.
    var sweepName: String {
        switch self {
        case .spec: return "paper"
        case .literal: return "paper-literal"
        }
    }

    var explanation: String {
        switch self {
        case .spec:
            return "spec (docs/model.md sections 3-4: epsilon = 0.1 + 0.9 exp(-i / 5000), DTAQL averages its tables)"
        case .literal:
            return "literal (docs/model.md section 7: epsilon = 0.1 at every iteration, DTAQL pools every agent's samples)"
        }
    }
}

/// `tracker reproduce`: the paper's whole experiment in one command.
public struct ReproduceCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Run the paper's grid (sweeps/paper.json), then print Tables I and II and write Fig. 2 and a report.",
        discussion: """
            N in {6, 7, 8}; DTEQL with phi 500, 200, 100, 50, DTAQL phi 500, QL; K frames per N, every \
            configuration on the same frames; 25,600 iterations. --quick (4 frames, N in {6, 7}) takes about \
            a minute. Running it again skips finished runs and resumes interrupted ones. --reading literal runs \
            sweeps/paper-literal.json instead (label paper-literal): epsilon fixed at 0.1 and DTAQL with \
            --aggregation pool; both readings can share one database, their tables never mix.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "How to read the paper: spec (sweeps/paper.json) or literal (sweeps/paper-literal.json; docs/model.md).")
    var reading: Reading = .spec

    @Flag(help: "A small version: 4 frames, N in {6, 7}.")
    var quick = false

    @Option(help: ArgumentHelp("Frames per N (default 32, or 4 with --quick).", valueName: "K"))
    var frames: Int?

    @Option(help: ArgumentHelp("Iterations per run (default 25600, at most \(Hyperparameters.maximumIterations)).", valueName: "B"))
    var iterations: Int?

    @Option(help: ArgumentHelp("Where to write the report and Fig. 2 (default: ./reports/paper, with -literal for --reading literal and -quick for --quick).", valueName: "dir"))
    var report: String?

    @OptionGroup var sweep: SweepOptions

    @OptionGroup var output: ReportFormatOptions

    public init() {}

    public func validate() throws {
        if let frames, frames < 1 { throw ValidationError("--frames must be at least 1, got \(frames).") }
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1, got \(iterations).") }
        if let iterations, iterations > Hyperparameters.maximumIterations {
            throw ValidationError("--iterations must be at most \(Hyperparameters.maximumIterations), got \(iterations).")
        }
    }

    public func run() throws {
        let name = reading.sweepName
        guard let text = EmbeddedSQL.sweeps.first(where: { $0.name == name })?.sql else {
            throw CommandFailure("this build has no built-in sweeps/\(name).json")
        }
        var spec = try SweepSpec.parse(text, source: "sweeps/\(name).json")
        if quick {
            spec.taskCounts = [6, 7]
            spec.frameSeeds = Array(spec.frameSeeds.prefix(4))
        }
        if let frames {
            let first = spec.frameSeeds.first ?? 1
            spec.frameSeeds = (0..<UInt64(frames)).map { first + $0 }
        }
        if let iterations { spec.iterations = iterations }

        let tableN = Self.tableN(spec)
        if !sweep.dryRun && sweep.shard == nil {
            // The report's files are checked before the sweep, so a bad --report costs no run.
            try checkReportOutputs(tableN: tableN)
        }
        let started = Date()
        let (items, outcome) = try runSweep(spec, database: database.path, options: sweep,
                                            provenance: .current(sweep: ("sweeps/paper.json", text)), format: output.format,
                                            jsonKey: "sweep")
        guard let outcome else { return }
        let sweepJSON = outcome.json(database: database.path, runs: items.count)
        if sweep.shard != nil {
            if output.format == .json { try StandardOutput.print(JSON.object([("sweep", sweepJSON)]).serialized(pretty: true)) }
            StandardError.write("This shard is done. Merge the shards (tracker merge OUT.db shard*.db), then run "
                + "`tracker reproduce --db OUT.db\(reading == .spec ? "" : " --reading \(reading.rawValue)")` to print the tables "
                + "and write the report.\n")
            return
        }
        let wall = Date().timeIntervalSince(started)
        try writeReport(spec: spec, runs: items.count, wallSeconds: wall, sweepJSON: sweepJSON)
    }

    static let reportTitle = "# Reproduction of the paper's Tables I and II and Fig. 2"

    /// Table I and Fig. 2 are at N = 8, or the largest N of a smaller grid.
    static func tableN(_ spec: SweepSpec) -> Int {
        spec.taskCounts.contains(8) ? 8 : (spec.taskCounts.max() ?? 8)
    }

    var reportDirectory: String { report ?? (quick ? "reports/\(reading.sweepName)-quick" : "reports/\(reading.sweepName)") }

    /// The report folder and the files the report writes in it, as `writeReport` names them.
    func reportFiles(tableN: Int) -> [(path: String, kind: OutputFile.Kind)] {
        let directory = reportDirectory as NSString
        var files: [(String, OutputFile.Kind)] = [(directory.appendingPathComponent("report.md"), .report)]
        for name in ["fig2-n\(tableN).svg", "fig2-n\(tableN)-logx.svg"] {
            let svg = directory.appendingPathComponent(name)
            files.append((svg, .svg))
            if executableOnPath("rsvg-convert") != nil { files.append((PlotCommand.pngPath(forSVG: svg), .png)) }
        }
        return files
    }

    /// Refuses a report folder that is something else than a folder, and any report file that may not be
    /// written (see `OutputFile`). A folder that does not exist yet is created later, with its parents.
    func checkReportOutputs(tableN: Int) throws {
        var status = stat()
        guard stat(reportDirectory, &status) == 0 else { return }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw CommandFailure("cannot write the report into \(reportDirectory): it is not a folder (\(fileTypeName(status.st_mode)))")
        }
        for file in reportFiles(tableN: tableN) { try OutputFile.check(file.path, kind: file.kind) }
    }

    /// Prints Tables I and II (or, with --format json, one object: the sweep's outcome, both tables as
    /// `compare --format json` gives them, and the files written) and writes the report with Fig. 2.
    private func writeReport(spec: SweepSpec, runs: Int, wallSeconds: Double, sweepJSON: JSON) throws {
        let name = reading.sweepName
        let label = spec.label
        let budget = spec.iterations
        let tableN = Self.tableN(spec)
        var common = ["--db", database.path, "--iterations", String(budget)]
        if let label { common += ["--label", label] }
        let tableI = try CompareCommand.parse(common + ["--n", String(tableN)])
        let tableII = try CompareCommand.parse(common)
        let readingNote = reading == .spec ? "" : ", \(reading.rawValue) reading"
        if output.format == .table {
            try StandardOutput.print("Table I (N = \(tableN), \(spec.frameSeeds.count) frames, budget \(budget)\(readingNote))")
            try StandardOutput.print(try tableI.render(), terminator: "")
            try StandardOutput.print("\nTable II (convergence time, iterations)")
            try StandardOutput.print(try tableII.render(), terminator: "")
        }

        let directory = reportDirectory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure("cannot create report directory \(directory): \((error as NSError).localizedDescription)")
        }
        // Again now that the folder exists: the sweep took a while.
        try checkReportOutputs(tableN: tableN)
        let figure = (directory as NSString).appendingPathComponent("fig2-n\(tableN).svg")
        // The same runs as the tables: this reading's label.
        var plotArguments = ["--db", database.path, "--n", String(tableN)]
        if let label { plotArguments += ["--label", label] }
        // Most of the learning happens in the first thousand iterations: a log-x twin of the figure shows it.
        let logFigure = (directory as NSString).appendingPathComponent("fig2-n\(tableN)-logx.svg")
        let figures = [(figure, [String]()), (logFigure, ["--log-x"])]
        let converter = executableOnPath("rsvg-convert")
        for (path, options) in figures {
            // Each figure's curves are read once: its PNG is rendered from the same SVG (reading them again
            // for the PNG was half of the report's time on the paper's grid).
            let svg = try PlotCommand.parse(plotArguments + options).figureSVG()
            try PlotCommand.write(svg, to: path, as: .svg, converter: nil)
            // And a PNG of each where rsvg-convert is installed (plot --format png refuses without it).
            if let converter {
                try PlotCommand.write(svg, to: PlotCommand.pngPath(forSVG: path), as: .png, converter: converter)
            }
        }

        let markdownI = try CompareCommand.parse(common + ["--n", String(tableN), "--format", "markdown"]).render()
        let markdownII = try CompareCommand.parse(common + ["--format", "markdown"]).render()
        let command = (["tracker"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let text = """
            \(Self.reportTitle)

            Command: `\(command)`, finished \(ISO8601DateFormatter().string(from: Date())); \(runs) runs in the grid; this invocation took \
            \(String(format: "%.1f", wallSeconds)) s of wall time (runs already finished are not run again).

            Reading: \(reading.explanation); sweep sweeps/\(name).json, label `\(label ?? "")`.

            N in \(spec.taskCounts.map(String.init).joined(separator: ", ")); \(spec.frameSeeds.count) frames per N \
            (seeds \(spec.frameSeeds.first ?? 0)...\(spec.frameSeeds.last ?? 0)); learner seed(s) \
            \(spec.seeds.map(String.init).joined(separator: ", ")); \(budget) iterations per run; database `\(database.path)`.

            ## Table I (N = \(tableN))

            \(markdownI)
            The paper's Table I (N = 8): normalized reward 1.0024 / 1.0024 / 0.9979 / 0.9406 / 0.7758 / 0.4235, deadline \
            miss ratio 0.0195 / 0.0195 / 0.0195 / 0.0273 / 0.0429 / 0.039, average delay 0.6435 / 0.6435 / 0.6453 / \
            0.6677 / 0.7321 / 0.8697, convergence 5597 / 12752 / 25549 / >25600 / >25600 / >>25600 (DTEQL phi = 500, \
            200, 100, 50, DTAQL phi = 500, QL).

            ## Table II (convergence time, iterations)

            \(markdownII)
            The paper's Table II: N = 6: 102 / 295 / 510 / 1047 / 1284 / >25600; N = 7: 755 / 2497 / 3873 / 8795 / \
            10239 / >>25600; N = 8: 5597 / 12752 / 25549 / >25600 / >25600 / >>25600.

            ## Fig. 2

            ![Mean greedy normalized reward against iteration, N = \(tableN)](\((figure as NSString).lastPathComponent))

            The same on a logarithmic iteration axis:

            ![The same, log x](\((logFigure as NSString).lastPathComponent))

            How the cells are computed: docs/queries.md. How this project reads the paper: docs/model.md and docs/learning.md.

            """
        let reportPath = (directory as NSString).appendingPathComponent("report.md")
        try OutputFile.write(text, to: reportPath, kind: .report)
        StandardError.write("wrote \(reportPath)\n")
        if output.format == .json {
            // The tables are already JSON text from compare; they are spliced in as values, not re-encoded.
            let jsonI = try CompareCommand.parse(common + ["--n", String(tableN), "--format", "json"]).render()
            let jsonII = try CompareCommand.parse(common + ["--format", "json"]).render()
            let files = JSON.array([reportPath, figure, logFigure].map(JSON.string)).serialized()
            try StandardOutput.print("{\n\"sweep\": \(sweepJSON.serialized()),\n\"table_i\": \(jsonI.trimmingCharacters(in: .whitespacesAndNewlines)),\n"
                + "\"table_ii\": \(jsonII.trimmingCharacters(in: .whitespacesAndNewlines)),\n\"files\": \(files)\n}")
        }
    }
}
