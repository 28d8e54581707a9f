import ArgumentParser
import Foundation
import Learning
import TrackerReports
import TrackerStore

extension CurveMetric: ExpressibleByArgument {}
extension CurveBand: ExpressibleByArgument {}

/// What `tracker plot` writes: the SVG itself, or a PNG or PDF rendered from it by rsvg-convert.
enum FigureFormat: String, CaseIterable, ExpressibleByArgument {
    case svg, png, pdf

    var kind: OutputFile.Kind {
        switch self {
        case .svg: return .svg
        case .png: return .png
        case .pdf: return .pdf
        }
    }

    /// The format a file name's extension names, if any.
    init?(fileName: String) {
        self.init(rawValue: (fileName as NSString).pathExtension.lowercased())
    }
}

/// `tracker plot`: the paper's Fig. 2, one mean curve per configuration with its spread band, or single
/// runs (`--run`), as an SVG, PNG or PDF.
public struct PlotCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Plot a metric of the greedy order against iteration, one line per configuration (Fig. 2) or per run (--run).",
        discussion: """
            Each line is the mean over the finished runs with --n tasks (and --label) of one configuration \
            (runs equal in every setting but the frame and the learner seed; the legend names what differs), \
            sampled at about --points iterations, always including the last, and shaded with its spread \
            (--band) where 3 or more runs contribute. --run draws the given runs instead, one line each; a \
            run still running is drawn up to its last committed iteration. With --log-x the x axis is \
            logarithmic and shows iteration + 1. --format png or pdf renders the SVG with rsvg-convert \
            (Debian: librsvg2-bin), and fails when it is not installed. See docs/plotting.md.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Runs with N tasks (needed unless --run).", valueName: "N"))
    var n: Int?

    @Option(name: .customLong("run"), parsing: .upToNextOption, help: ArgumentHelp(
        "Draw these runs (ids or unique prefixes), one line each, instead of configurations' means.", valueName: "ID"))
    var runs: [String] = []

    @Option(help: "The metric on the y axis.")
    var metric: CurveMetric = .normalizedReward

    @Option(help: ArgumentHelp(
        "Shaded spread of each mean line where 3+ runs contribute: ci (95% interval of the mean), iqr (25th-75th percentile) or none.",
        valueName: "band"))
    var band: CurveBand = .ci

    @Option(help: ArgumentHelp(
        "The figure's format: svg, or png or pdf through rsvg-convert (default: the extension of --out, else svg).",
        valueName: "format"))
    var format: FigureFormat?

    @Option(help: ArgumentHelp(
        "The file to write (default: reports/fig2-nN[-metric][-logx].svg, reports/run-ID[-and-K-more][-metric][-logx].svg with --run; .png or .pdf with --format; reports/ is created if missing).",
        valueName: "file"))
    var out: String?

    @Flag(name: .customLong("log-x"), help: "Logarithmic x axis (plots iteration + 1).")
    var logX = false

    @Option(help: ArgumentHelp("Only runs with this label (among their labels: a run adopted by a sweep belongs to its label too).", valueName: "text"))
    var label: String?

    @Option(name: .customLong("where"), help: ArgumentHelp(
        "Only runs whose setting KEY equals VALUE (as compare --where). Repeatable.", valueName: "KEY=VALUE"))
    var conditions: [String] = []

    @Option(help: ArgumentHelp(
        "One line per value of this setting (lr, beta, iterations, ...), named on every line.", valueName: "key"))
    var by: String?

    @Option(help: ArgumentHelp(
        "A `tracker tune` study: its objective against budget, one line per trial (the successive-halving picture), or with --by SETTING against that searched setting, one line per rung.",
        valueName: "name"))
    var study: String?

    @Option(help: ArgumentHelp("About how many iterations to sample per line.", valueName: "count"))
    var points: Int = 200

    public init() {}

    static let pointRange = 2...10_000

    public func validate() throws {
        if study != nil {
            guard runs.isEmpty, n == nil, label == nil, conditions.isEmpty else {
                throw ValidationError("--study draws the study's trials; it takes none of --run, --n, --label, --where.")
            }
        } else if runs.isEmpty {
            guard let n else { throw ValidationError("Give --n N (configurations' means) or --run ID... (single runs).") }
            guard n >= 2 else { throw ValidationError("--n must be at least 2, got \(n).") }
        } else if n != nil || label != nil || by != nil || !conditions.isEmpty {
            throw ValidationError("--run draws the runs given; --n, --label, --where and --by choose configurations instead. Give one or the other.")
        }
        guard Self.pointRange.contains(points) else {
            throw ValidationError("--points must be in \(Self.pointRange.lowerBound)...\(Self.pointRange.upperBound), got \(points).")
        }
        if let out, out.isEmpty { throw ValidationError("--out must name a file.") }
        if let out, let format, let named = FigureFormat(fileName: out), named != format {
            throw ValidationError("--out \(out) names a .\(named.rawValue) file but --format is \(format.rawValue).")
        }
        _ = try settingConditions(conditions)
    }

    /// --format, else what --out's extension names, else SVG.
    var figureFormat: FigureFormat {
        format ?? out.flatMap(FigureFormat.init(fileName:)) ?? .svg
    }

    /// Where plots go without --out: a folder .gitignore lists, so figures never land among the sources.
    static let defaultFolder = "reports"

    /// --out, else reports/fig2-n8.svg and the like under the working directory.
    var outputPath: String {
        if let study, out == nil {
            let safe = String(study.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(80))
            return (Self.defaultFolder as NSString).appendingPathComponent(
                "study-\(safe)\(by.map { "-by-\(RunTags.normalizedSettingKey($0))" } ?? "").\(figureFormat.rawValue)")
        }
        return out ?? (Self.defaultFolder as NSString).appendingPathComponent(
            Fig2Chart.defaultFileName(n: n, runs: runs, metric: metric, logX: logX, fileExtension: figureFormat.rawValue))
    }

    public func run() throws {
        // Every file this writes, and the converter a PNG or PDF needs, are checked before anything is read;
        // a default folder that does not exist yet is created only once there is a figure to put in it.
        let path = outputPath
        let createsFolder = out == nil && !FileManager.default.fileExists(atPath: Self.defaultFolder)
        let format = figureFormat
        var converter: String?
        if format != .svg {
            converter = executableOnPath("rsvg-convert")
            guard converter != nil else {
                throw CommandFailure("--format \(format.rawValue) needs rsvg-convert, which is not installed (Debian: apt-get install librsvg2-bin); --format svg needs nothing")
            }
        }
        if !createsFolder { try OutputFile.check(path, kind: format.kind) }
        let svg = try figureSVG()
        if createsFolder {
            do {
                try FileManager.default.createDirectory(atPath: Self.defaultFolder, withIntermediateDirectories: true)
            } catch {
                throw CommandFailure("cannot create \(Self.defaultFolder)/: \((error as NSError).localizedDescription)")
            }
        }
        try Self.write(svg, to: path, as: format, converter: converter)
    }

    /// Writes the figure at `path`: the SVG itself, or (with `converter`) rendered as `format`; then says so.
    static func write(_ svg: String, to path: String, as format: FigureFormat, converter: String?) throws {
        if let converter, format != .svg {
            try render(svg: svg, as: format, to: path, converter: converter)
        } else {
            try OutputFile.write(svg, to: path, kind: .svg)
        }
        StandardError.write("wrote \(path)\n")
    }

    /// The figure as SVG text: the configurations' mean curves, or the runs of --run.
    func figureSVG() throws -> String {
        let chart = try study.map { try studyChart($0, by: by, in: try database.openStore(.readOnly)) }
            ?? (runs.isEmpty ? meanChart() : runsChart())
        do {
            return try chart.svg()
        } catch {
            throw CommandFailure("cannot plot: \(error)")
        }
    }

    /// Fig. 2: the mean curves of the configurations --n, --label, --where and --by select.
    func meanChart() throws -> LineChart {
        guard let n else { preconditionFailure("validate() requires --n without --run") }
        let store = try database.openStore(.readOnly)
        let by = self.by.map(RunTags.normalizedSettingKey)  // tag.é typed either way is one tag
        if let by { try store.checkSettingKeys([by], option: "--by") }
        let rows = try store.compareRuns(CompareFilter(n: n, label: label, conditions: try settingConditions(conditions)),
                                         splittingBy: by)
        let curves = try store.convergenceCurves(runs: rows, n: n, metric: metric, points: points, logarithmic: logX,
                                                 showing: by.map { [$0] } ?? [], band: band)
        guard !curves.isEmpty else {
            throw CommandFailure("no finished runs with N = \(n)\(label.map { " and label '\($0)'" } ?? "")"
                + (conditions.isEmpty ? "" : " where \(conditions.joined(separator: " and "))") + " in \(database.path)")
        }
        guard let chart = Fig2Chart.chart(curves: curves, n: n, metric: metric, label: label, logX: logX, band: band) else {
            throw CommandFailure("no \(metric.rawValue) values for the runs with N = \(n) (the exact optimum is unknown at this N)")
        }
        return chart
    }

    /// The runs of --run, one line each, as far as each has committed.
    func runsChart() throws -> LineChart {
        let store = try database.openStore(.readOnly)
        var lines: [Fig2Chart.RunLine] = []
        for id in runs {
            let record = try store.run(id)
            guard !lines.contains(where: { $0.record.runID == record.runID }) else { continue }
            lines.append(.init(record: record, points: try store.runCurve(record, metric: metric, points: points)))
        }
        guard let chart = Fig2Chart.chart(runs: lines, metric: metric, logX: logX) else {
            throw CommandFailure("no \(metric.rawValue) values recorded for run\(runs.count == 1 ? "" : "s") "
                + lines.map(\.record.runID).joined(separator: ", ")
                + (metric == .optimalityRatio ? " (no iterations yet, or the exact optimum is unknown at this N)" : " (no iterations yet)"))
        }
        return chart
    }

    /// `X.png` for `X.svg`: reproduce's report has a PNG beside each SVG where rsvg-convert is installed.
    static func pngPath(forSVG path: String) -> String {
        (path.hasSuffix(".svg") ? String(path.dropLast(4)) : path) + ".png"
    }

    /// Renders `svg` as a PNG or PDF at `path` with rsvg-convert, reading the SVG on its standard input and
    /// writing a temporary file that is renamed into place only when it succeeded.
    static func render(svg: String, as format: FigureFormat, to path: String, converter: String) throws {
        try OutputFile.check(path, kind: format.kind)
        try OutputFile.replace(path) { temporary in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: converter)
            process.arguments = ["--format", format.rawValue, "--output", temporary]
            let input = Pipe()
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            let errors = Pipe()
            process.standardError = errors
            do {
                try process.run()
            } catch {
                throw CommandFailure("cannot run \(converter): \((error as NSError).localizedDescription)")
            }
            // rsvg-convert reads all of its input before it writes: feed it, then collect what it says. Should
            // it exit early, the write fails (EPIPE, SIGPIPE ignored) and its message below says why.
            signal(SIGPIPE, SIG_IGN)
            try? input.fileHandleForWriting.write(contentsOf: Data(svg.utf8))
            try? input.fileHandleForWriting.close()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                let line = message.split(separator: "\n").first.map(String.init) ?? "exit status \(process.terminationStatus)"
                throw CommandFailure("rsvg-convert failed: \(line)")
            }
        }
    }
}
