import ArgumentParser
import Foundation
import Learning
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
            (algorithm and phi), sampled at about --points iterations, always including the last. With \
            --log-x the x axis is logarithmic and shows iteration + 1. Where rsvg-convert is on the PATH a \
            PNG is written next to the SVG. See docs/plotting.md.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Runs with N tasks.", valueName: "N"))
    var n: Int

    @Option(help: "The metric on the y axis.")
    var metric: CurveMetric = .normalizedReward

    @Option(help: ArgumentHelp("The SVG file to write (default: fig2-nN[-metric][-logx].svg).", valueName: "file.svg"))
    var out: String?

    @Flag(name: .customLong("log-x"), help: "Logarithmic x axis (plots iteration + 1).")
    var logX = false

    @Option(help: ArgumentHelp("Only runs with this label.", valueName: "text"))
    var label: String?

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
    }

    /// fig2-n8.svg, fig2-n8-objective.svg, fig2-n8-logx.svg, ...
    var outputPath: String {
        if let out { return out }
        var name = "fig2-n\(n)"
        if metric != .normalizedReward { name += "-\(metric.rawValue)" }
        if logX { name += "-logx" }
        return name + ".svg"
    }

    public func run() throws {
        let store = try database.openStore(.readOnly)
        let curves = try store.convergenceCurves(n: n, label: label, metric: metric, points: points, logarithmic: logX)
        guard !curves.isEmpty else {
            throw CommandFailure("no finished runs with N = \(n)\(label.map { " and label '\($0)'" } ?? "") in \(database.path)")
        }
        let series = curves.compactMap { curve -> LineChart.Series? in
            guard !curve.points.isEmpty else { return nil }
            return LineChart.Series(
                name: Self.legendName(curve),
                points: curve.points.map { LineChart.Point(x: Double($0.iteration + (logX ? 1 : 0)), y: $0.value) })
        }
        guard !series.isEmpty else {
            throw CommandFailure("no \(metric.rawValue) values for the runs with N = \(n) (the exact optimum is unknown at this N)")
        }
        var title = "\(Self.titles[metric]!), N = \(n)"
        if let label { title += ", label '\(label)'" }
        let chart = LineChart(
            title: title,
            xLabel: logX ? "iteration + 1 (log scale)" : "iteration",
            yLabel: Self.axisLabels[metric]! + ", mean over runs",
            xScale: logX ? .logarithmic : .linear,
            series: series)
        let svg: String
        do {
            svg = try chart.svg()
        } catch {
            throw CommandFailure("cannot plot: \(error)")
        }
        let path = outputPath
        try writeAtomically(svg, to: path)
        StandardError.write("wrote \(path)\n")
        Self.convertToPNG(svg: path)
    }

    /// `DTEQL phi=500 (5 runs)`.
    static func legendName(_ curve: ConvergenceCurve) -> String {
        let runs = curve.runs == 1 ? "1 run" : "\(curve.runs) runs"
        switch curve.algorithm {
        case .ql: return "QL (\(runs))"
        case .dteql: return "DTEQL φ=\(curve.phi) (\(runs))"
        case .dtaql: return "DTAQL φ=\(curve.phi) (\(runs))"
        }
    }

    static let titles: [CurveMetric: String] = [
        .normalizedReward: "Normalized reward of the greedy order",
        .objective: "Objective of the greedy order",
        .misses: "Missed deadlines of the greedy order",
        .meanCompletion: "Mean completion time of the greedy order",
        .epsilon: "Exploration rate",
        .distinctActions: "Distinct actions tried",
        .optimalityRatio: "Optimality ratio of the greedy order",
    ]

    static let axisLabels: [CurveMetric: String] = [
        .normalizedReward: "normalized reward J_EDF / J",
        .objective: "objective J (s)",
        .misses: "missed deadlines",
        .meanCompletion: "mean completion time (s)",
        .epsilon: "exploration rate ε",
        .distinctActions: "distinct actions tried",
        .optimalityRatio: "optimality ratio J* / J",
    ]

    /// Writes `X.png` beside `X.svg` with rsvg-convert where it is on the PATH; otherwise, or when it fails,
    /// says so in one line on stderr. Never fails the command.
    static func convertToPNG(svg path: String) {
        let png = (path.hasSuffix(".svg") ? String(path.dropLast(4)) : path) + ".png"
        guard let converter = executableOnPath("rsvg-convert") else {
            StandardError.write("no PNG: rsvg-convert is not installed (Debian: apt-get install librsvg2-bin)\n")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: converter)
        process.arguments = ["--format", "png", "--output", png, path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                let line = message.split(separator: "\n").first.map(String.init) ?? "exit status \(process.terminationStatus)"
                StandardError.write("no PNG: rsvg-convert failed: \(line)\n")
                return
            }
            StandardError.write("wrote \(png)\n")
        } catch {
            StandardError.write("no PNG: cannot run \(converter): \((error as NSError).localizedDescription)\n")
        }
    }

    static func executableOnPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
