import ArgumentParser
import Foundation
import Learning
import TrackerReports
import TrackerStore

extension CurveMetric: ExpressibleByArgument {}

/// `tracker plot`: the paper's Fig. 2, one mean curve per configuration, as a standalone SVG (and a PNG
/// where `rsvg-convert` is installed).
public struct PlotCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Plot a metric of the greedy order against iteration, one line per configuration (Fig. 2), as SVG.",
        discussion: """
            Each line is the mean over the finished runs with --n tasks (and --label) of one configuration \
            (runs equal in every setting but the frame and the learner seed; the legend names what differs), \
            sampled at about --points iterations, always including the last. With \
            --log-x the x axis is logarithmic and shows iteration + 1. Where rsvg-convert is on the PATH a \
            PNG is written next to the SVG. See docs/plotting.md.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Runs with N tasks.", valueName: "N"))
    var n: Int

    @Option(help: "The metric on the y axis.")
    var metric: CurveMetric = .normalizedReward

    @Option(help: ArgumentHelp("The SVG file to write (default: reports/fig2-nN[-metric][-logx].svg; reports/ is created if missing).", valueName: "file.svg"))
    var out: String?

    @Flag(name: .customLong("log-x"), help: "Logarithmic x axis (plots iteration + 1).")
    var logX = false

    @Option(help: ArgumentHelp("Only runs with this label.", valueName: "text"))
    var label: String?

    @Option(name: .customLong("where"), help: ArgumentHelp(
        "Only runs whose setting KEY equals VALUE (as compare --where). Repeatable.", valueName: "KEY=VALUE"))
    var conditions: [String] = []

    @Option(help: ArgumentHelp(
        "One line per value of this setting (lr, beta, iterations, ...), named on every line.", valueName: "key"))
    var by: String?

    @Option(help: ArgumentHelp("About how many iterations to sample per line.", valueName: "count"))
    var points: Int = 200

    public init() {}

    static let pointRange = 2...10_000

    public func validate() throws {
        guard n >= 2 else { throw ValidationError("--n must be at least 2, got \(n).") }
        guard Self.pointRange.contains(points) else {
            throw ValidationError("--points must be in \(Self.pointRange.lowerBound)...\(Self.pointRange.upperBound), got \(points).")
        }
        if let out, out.isEmpty { throw ValidationError("--out must name a file.") }
        _ = try settingConditions(conditions)
    }

    /// Where plots go without --out: a folder .gitignore lists, so figures never land among the sources.
    static let defaultFolder = "reports"

    /// --out, else reports/fig2-n8.svg and the like under the working directory.
    var outputPath: String {
        out ?? (Self.defaultFolder as NSString).appendingPathComponent(Fig2Chart.defaultFileName(n: n, metric: metric, logX: logX))
    }

    public func run() throws {
        // Every file this writes is checked before anything is read or written; a default folder that
        // does not exist yet is created only once there is a figure to put in it.
        let path = outputPath
        let createsFolder = out == nil && !FileManager.default.fileExists(atPath: Self.defaultFolder)
        let converter = executableOnPath("rsvg-convert")
        if !createsFolder {
            try OutputFile.check(path, kind: .svg)
            if converter != nil { try OutputFile.check(Self.pngPath(forSVG: path), kind: .png) }
        }
        let store = try database.openStore(.readOnly)
        if let by { try store.checkSettingKeys([by], option: "--by") }
        let runs = try store.compareRuns(CompareFilter(n: n, label: label, conditions: try settingConditions(conditions)),
                                         splittingBy: by)
        let curves = try store.convergenceCurves(runs: runs, n: n, metric: metric, points: points, logarithmic: logX,
                                                 showing: by.map { [$0] } ?? [])
        guard !curves.isEmpty else {
            throw CommandFailure("no finished runs with N = \(n)\(label.map { " and label '\($0)'" } ?? "")"
                + (conditions.isEmpty ? "" : " where \(conditions.joined(separator: " and "))") + " in \(database.path)")
        }
        guard let chart = Fig2Chart.chart(curves: curves, n: n, metric: metric, label: label, logX: logX) else {
            throw CommandFailure("no \(metric.rawValue) values for the runs with N = \(n) (the exact optimum is unknown at this N)")
        }
        let svg: String
        do {
            svg = try chart.svg()
        } catch {
            throw CommandFailure("cannot plot: \(error)")
        }
        if createsFolder {
            do {
                try FileManager.default.createDirectory(atPath: Self.defaultFolder, withIntermediateDirectories: true)
            } catch {
                throw CommandFailure("cannot create \(Self.defaultFolder)/: \((error as NSError).localizedDescription)")
            }
        }
        try OutputFile.write(svg, to: path, kind: .svg)
        StandardError.write("wrote \(path)\n")
        Self.convertToPNG(svg: path, converter: converter)
    }

    /// `X.png` for `X.svg`.
    static func pngPath(forSVG path: String) -> String {
        (path.hasSuffix(".svg") ? String(path.dropLast(4)) : path) + ".png"
    }

    /// Writes `X.png` beside `X.svg` with rsvg-convert (nil: not installed), through a temporary file and
    /// a rename like every output; otherwise, or when it fails, says so in one line on stderr. Never fails
    /// the command.
    static func convertToPNG(svg path: String, converter: String?) {
        let png = pngPath(forSVG: path)
        guard let converter else {
            StandardError.write("no PNG: rsvg-convert is not installed (Debian: apt-get install librsvg2-bin)\n")
            return
        }
        do {
            try OutputFile.check(png, kind: .png)
            try OutputFile.replace(png) { temporary in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: converter)
                process.arguments = ["--format", "png", "--output", temporary, path]
                process.standardInput = FileHandle.nullDevice
                process.standardOutput = FileHandle.nullDevice
                let errors = Pipe()
                process.standardError = errors
                do {
                    try process.run()
                } catch {
                    throw CommandFailure("cannot run \(converter): \((error as NSError).localizedDescription)")
                }
                let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                guard process.terminationStatus == 0 else {
                    let line = message.split(separator: "\n").first.map(String.init) ?? "exit status \(process.terminationStatus)"
                    throw CommandFailure("rsvg-convert failed: \(line)")
                }
            }
            StandardError.write("wrote \(png)\n")
        } catch {
            StandardError.write("no PNG: \(error)\n")
        }
    }
}
