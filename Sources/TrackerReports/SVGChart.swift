import Foundation

/// A small, dependency-free SVG line chart: named series of (x, y) points on a linear or logarithmic x
/// axis, with nice ticks, axis labels, a title and a legend to the right of the plot area (never over the
/// data). A series may carry a shaded band (its spread) and may be drawn against a second y axis on the
/// right (`secondaryYLabel`), for a quantity of another unit or range. The output is a standalone SVG
/// document (white background, `viewBox`, `width`, `height`).
public struct LineChart: Sendable {
    public struct Point: Sendable, Equatable {
        public var x: Double
        public var y: Double
        public init(x: Double, y: Double) { self.x = x; self.y = y }
    }

    /// A band's bounds at one x.
    public struct BandPoint: Sendable, Equatable {
        public var x: Double
        public var low: Double
        public var high: Double
        public init(x: Double, low: Double, high: Double) { self.x = x; self.low = low; self.high = high }
    }

    /// Which y axis a series is drawn against.
    public enum YAxis: Sendable { case primary, secondary }

    public struct Series: Sendable {
        public var name: String
        public var points: [Point]
        /// Shaded under the line in the series' colour; empty for none.
        public var band: [BandPoint]
        public var axis: YAxis
        public init(name: String, points: [Point], band: [BandPoint] = [], axis: YAxis = .primary) {
            self.name = name
            self.points = points
            self.band = band
            self.axis = axis
        }
    }

    public enum Scale: Sendable { case linear, logarithmic }

    public enum ChartError: Error, CustomStringConvertible, Equatable {
        case noSeries
        case emptySeries(String)
        case notFinite(String)
        case nonPositiveOnLogAxis(String)
        case secondaryWithoutLabel(String)

        public var description: String {
            switch self {
            case .noSeries: return "nothing to plot: no series"
            case .emptySeries(let name): return "nothing to plot: series '\(name)' has no points"
            case .notFinite(let name): return "series '\(name)' has a value that is not a finite number"
            case .nonPositiveOnLogAxis(let name): return "series '\(name)' has x <= 0, which a logarithmic x axis cannot show"
            case .secondaryWithoutLabel(let name): return "series '\(name)' is on the secondary y axis, which has no label"
            }
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xScale: Scale
    public var series: [Series]
    /// The right-hand y axis' label; needed when a series is drawn against it.
    public var secondaryYLabel: String?
    /// A last line in the legend, under the series (what the shaded bands are).
    public var legendNote: String?
    public var width: Double = 860
    public var height: Double = 500

    public init(title: String, xLabel: String, yLabel: String, xScale: Scale = .linear, series: [Series],
                secondaryYLabel: String? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xScale = xScale
        self.series = series
        self.secondaryYLabel = secondaryYLabel
    }

    /// The legend's text for a series: its name, and where its axis is the right-hand one, so.
    func legendName(_ s: Series) -> String {
        s.axis == .secondary ? s.name + " (right axis)" : s.name
    }

    /// The y values (points and band bounds) of the series on `axis`.
    private func yValues(_ axis: YAxis) -> [Double] {
        series.filter { $0.axis == axis }.flatMap { $0.points.map(\.y) + $0.band.flatMap { [$0.low, $0.high] } }
    }

    /// Okabe and Ito's colour-blind-safe palette, darkest first; yellow (hard to see on white) last.
    static let colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
    /// Dash patterns; 5 of them against 8 colours, so colour and style together stay distinct for 40 series.
    static let dashes = ["", "8 4", "2 3", "10 3 2 3", "14 5"]

    static let fontSize = 13.0
    static let font = "DejaVu Sans, Helvetica, Arial, sans-serif"

    /// The SVG document.
    public func svg() throws(ChartError) -> String {
        guard !series.isEmpty else { throw .noSeries }
        for s in series {
            guard !s.points.isEmpty else { throw .emptySeries(s.name) }
            guard s.points.allSatisfy({ $0.x.isFinite && $0.y.isFinite }),
                  s.band.allSatisfy({ $0.x.isFinite && $0.low.isFinite && $0.high.isFinite }) else { throw .notFinite(s.name) }
            if xScale == .logarithmic, s.points.contains(where: { $0.x <= 0 }) || s.band.contains(where: { $0.x <= 0 }) {
                throw .nonPositiveOnLogAxis(s.name)
            }
            if s.axis == .secondary, secondaryYLabel == nil { throw .secondaryWithoutLabel(s.name) }
        }
        let xs = series.flatMap { $0.points.map(\.x) }
        let xAxis = Axis.x(min: xs.min()!, max: xs.max()!, scale: xScale)
        // The primary axis fits its series; with every series on the secondary one, it takes theirs.
        let primaryYs = yValues(.primary), secondaryYs = yValues(.secondary)
        let yAxis = primaryYs.isEmpty ? Axis.y(values: secondaryYs) : Axis.y(values: primaryYs)
        let secondaryAxis = secondaryYs.isEmpty ? nil : Axis.y(values: secondaryYs)

        // Layout: the y tick labels' width sets the left margin; the secondary axis' labels and the
        // legend's width the right one.
        let characterWidth = 0.62 * Self.fontSize
        let yTickWidth = Double(yAxis.ticks.map { $0.label.count }.max() ?? 1) * characterWidth
        let secondaryWidth = secondaryAxis.map { axis in
            10 + Double(axis.ticks.map { $0.label.count }.max() ?? 1) * characterWidth + 12 + 18
        } ?? 0
        let legendLineLength = 34.0
        let legendTexts = series.map(legendName) + (legendNote.map { [$0] } ?? [])
        let legendWidth = legendLineLength + 10 + Double(legendTexts.map(\.count).max() ?? 0) * characterWidth + 16
        let left = 30 + yTickWidth + 12
        let right = secondaryWidth + legendWidth + 24
        let top = 48.0
        let bottom = 58.0
        let legendRowHeight = 22.0
        let legendHeight = Double(legendTexts.count) * legendRowHeight + 12
        let totalHeight = max(height, top + legendHeight + bottom)
        let plotWidth = max(width - left - right, 200)
        let totalWidth = left + plotWidth + right
        let plotHeight = totalHeight - top - bottom

        func px(_ x: Double) -> Double { left + xAxis.fraction(x) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - yAxis.fraction(y)) * plotHeight }
        func py(_ y: Double, on axis: YAxis) -> Double {
            guard axis == .secondary, let secondaryAxis else { return py(y) }
            return top + (1 - secondaryAxis.fraction(y)) * plotHeight
        }

        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(n(totalWidth))" height="\(n(totalHeight))" \
            viewBox="0 0 \(n(totalWidth)) \(n(totalHeight))" font-family="\(Self.font)" font-size="\(n(Self.fontSize))">
            <title>\(xmlEscaped(title))</title>
            <rect x="0" y="0" width="\(n(totalWidth))" height="\(n(totalHeight))" fill="#ffffff"/>

            """
        // Title, centred over the plot area.
        out += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(top - 20))\" text-anchor=\"middle\" font-size=\"16\" "
            + "font-weight=\"bold\">\(xmlEscaped(title))</text>\n"

        // Grid and ticks.
        out += "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n"
        for tick in xAxis.ticks { out += "<line x1=\"\(n(px(tick.value)))\" y1=\"\(n(top))\" x2=\"\(n(px(tick.value)))\" y2=\"\(n(top + plotHeight))\"/>\n" }
        for tick in yAxis.ticks { out += "<line x1=\"\(n(left))\" y1=\"\(n(py(tick.value)))\" x2=\"\(n(left + plotWidth))\" y2=\"\(n(py(tick.value)))\"/>\n" }
        out += "</g>\n<g stroke=\"#444444\" stroke-width=\"1\">\n"
        for tick in xAxis.ticks { out += "<line x1=\"\(n(px(tick.value)))\" y1=\"\(n(top + plotHeight))\" x2=\"\(n(px(tick.value)))\" y2=\"\(n(top + plotHeight + 6))\"/>\n" }
        for value in xAxis.minorTicks { out += "<line x1=\"\(n(px(value)))\" y1=\"\(n(top + plotHeight))\" x2=\"\(n(px(value)))\" y2=\"\(n(top + plotHeight + 3))\"/>\n" }
        for tick in yAxis.ticks { out += "<line x1=\"\(n(left - 6))\" y1=\"\(n(py(tick.value)))\" x2=\"\(n(left))\" y2=\"\(n(py(tick.value)))\"/>\n" }
        out += "</g>\n<g fill=\"#222222\">\n"
        for tick in xAxis.ticks {
            out += "<text x=\"\(n(px(tick.value)))\" y=\"\(n(top + plotHeight + 21))\" text-anchor=\"middle\">\(xmlEscaped(tick.label))</text>\n"
        }
        for tick in yAxis.ticks {
            out += "<text x=\"\(n(left - 10))\" y=\"\(n(py(tick.value) + 4.5))\" text-anchor=\"end\">\(xmlEscaped(tick.label))</text>\n"
        }
        out += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(totalHeight - 14))\" text-anchor=\"middle\">\(xmlEscaped(xLabel))</text>\n"
        let yLabelX = 20.0, yLabelY = top + plotHeight / 2
        out += "<text x=\"\(n(yLabelX))\" y=\"\(n(yLabelY))\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 \(n(yLabelX)) \(n(yLabelY)))\">\(xmlEscaped(yLabel))</text>\n"
        out += "</g>\n"
        if let secondaryAxis, let secondaryYLabel {
            let edge = left + plotWidth
            out += "<g class=\"secondary-axis\">\n"
            for tick in secondaryAxis.ticks {
                let y = top + (1 - secondaryAxis.fraction(tick.value)) * plotHeight
                out += "<line x1=\"\(n(edge))\" y1=\"\(n(y))\" x2=\"\(n(edge + 6))\" y2=\"\(n(y))\" stroke=\"#444444\"/>"
                out += "<text x=\"\(n(edge + 10))\" y=\"\(n(y + 4.5))\" fill=\"#222222\">\(xmlEscaped(tick.label))</text>\n"
            }
            let labelX = edge + secondaryWidth - 10
            out += "<text x=\"\(n(labelX))\" y=\"\(n(yLabelY))\" text-anchor=\"middle\" fill=\"#222222\" "
                + "transform=\"rotate(90 \(n(labelX)) \(n(yLabelY)))\">\(xmlEscaped(secondaryYLabel))</text>\n</g>\n"
        }

        // The data, clipped to the plot area, then its frame on top: bands under every line.
        out += "<clipPath id=\"plot-area\"><rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotWidth))\" height=\"\(n(plotHeight))\"/></clipPath>\n"
        out += "<g clip-path=\"url(#plot-area)\" stroke=\"none\">\n"
        for (index, s) in series.enumerated() where !s.band.isEmpty {
            // Along the upper bounds, back along the lower ones.
            let outline = s.band.map { "\(n(px($0.x))),\(n(py($0.high, on: s.axis)))" }
                + s.band.reversed().map { "\(n(px($0.x))),\(n(py($0.low, on: s.axis)))" }
            out += "<polygon class=\"band\" points=\"\(outline.joined(separator: " "))\" fill=\"\(Self.style(index).colour)\" "
                + "fill-opacity=\"0.15\"><title>\(xmlEscaped(s.name)): spread</title></polygon>\n"
        }
        out += "</g>\n"
        out += "<g clip-path=\"url(#plot-area)\" fill=\"none\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\">\n"
        for (index, s) in series.enumerated() {
            let d = s.points.enumerated().map { i, p in (i == 0 ? "M" : "L") + "\(n(px(p.x))) \(n(py(p.y, on: s.axis)))" }.joined(separator: " ")
            let style = Self.style(index)
            // A single point draws as a dot: a zero-length segment with a round cap.
            let path = s.points.count == 1 ? d + " l0 0" : d
            out += "<path d=\"\(path)\" stroke=\"\(style.colour)\"\(style.dash.isEmpty ? "" : " stroke-dasharray=\"\(style.dash)\"")"
                + "\(s.points.count == 1 ? " stroke-width=\"6\"" : "")><title>\(xmlEscaped(s.name))</title></path>\n"
        }
        out += "</g>\n"
        out += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotWidth))\" height=\"\(n(plotHeight))\" fill=\"none\" stroke=\"#444444\" stroke-width=\"1\"/>\n"

        // Legend, right of the plot area.
        let legendX = left + plotWidth + secondaryWidth + 18
        out += "<g>\n<rect x=\"\(n(legendX))\" y=\"\(n(top))\" width=\"\(n(legendWidth))\" height=\"\(n(legendHeight))\" "
            + "fill=\"#ffffff\" stroke=\"#bbbbbb\" stroke-width=\"1\"/>\n"
        for (index, s) in series.enumerated() {
            let style = Self.style(index)
            let y = top + 6 + legendRowHeight * (Double(index) + 0.5)
            if !s.band.isEmpty {
                out += "<rect x=\"\(n(legendX + 8))\" y=\"\(n(y - 7))\" width=\"\(n(legendLineLength))\" height=\"14\" "
                    + "fill=\"\(style.colour)\" fill-opacity=\"0.18\"/>\n"
            }
            out += "<line x1=\"\(n(legendX + 8))\" y1=\"\(n(y))\" x2=\"\(n(legendX + 8 + legendLineLength))\" y2=\"\(n(y))\" "
                + "stroke=\"\(style.colour)\" stroke-width=\"2\"\(style.dash.isEmpty ? "" : " stroke-dasharray=\"\(style.dash)\"")/>\n"
            out += "<text x=\"\(n(legendX + 16 + legendLineLength))\" y=\"\(n(y + 4.5))\" fill=\"#222222\">\(xmlEscaped(legendName(s)))</text>\n"
        }
        if let legendNote {
            let y = top + 6 + legendRowHeight * (Double(series.count) + 0.5)
            out += "<text x=\"\(n(legendX + 8))\" y=\"\(n(y + 4.5))\" fill=\"#555555\" font-style=\"italic\">\(xmlEscaped(legendNote))</text>\n"
        }
        out += "</g>\n</svg>\n"
        return out
    }

    static func style(_ index: Int) -> (colour: String, dash: String) {
        (colours[index % colours.count], dashes[(index / colours.count + index) % dashes.count])
    }

    /// A coordinate with at most two decimals and no trailing zeros.
    func n(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        if abs(rounded) < 1e15, rounded == rounded.rounded() { return String(Int(rounded)) }
        var text = String(format: "%.2f", rounded)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}

/// Escapes the five XML special characters, for text content and attribute values alike.
/// Byte by byte over the UTF-8 (the five are ASCII, so no multi-byte character can hold one), and text
/// without any of them is returned as it is: most labels, ids and numbers on a page.
public func xmlEscaped(_ text: String) -> String {
    func isSpecial(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
            || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }
    guard text.utf8.contains(where: isSpecial) else { return text }
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count + 16)
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "&"): out += "&amp;".utf8
        case UInt8(ascii: "<"): out += "&lt;".utf8
        case UInt8(ascii: ">"): out += "&gt;".utf8
        case UInt8(ascii: "\""): out += "&quot;".utf8
        case UInt8(ascii: "'"): out += "&apos;".utf8
        default: out.append(byte)
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// A tick: its value and the label printed for it.
public struct Tick: Sendable, Equatable {
    public var value: Double
    public var label: String
}

/// Nice tick values: steps of 1, 2 or 5 times a power of ten on a linear axis, decades on a log axis.
public enum NiceTicks {
    /// The 1-2-5 step nearest (geometrically) to `span / target`, as (mantissa, exponent): between about
    /// 0.7 and 1.5 times `target` intervals.
    static func step(span: Double, target: Int) -> (mantissa: Int, exponent: Int) {
        let rough = span / Double(max(target, 1))
        var exponent = Int(floor(log10(rough)))
        let residual = rough / pow(10, Double(exponent))
        let mantissa: Int
        if residual < 1.5 { mantissa = 1 } else if residual < 3.5 { mantissa = 2 } else if residual < 7.5 { mantissa = 5 } else {
            mantissa = 1
            exponent += 1
        }
        return (mantissa, exponent)
    }

    /// Ticks at multiples of a 1-2-5 step inside [min, max] (about `target` intervals), labelled with exactly
    /// the decimals the step needs (0.1 + 0.2 prints as 0.3). `min < max`.
    public static func linear(min: Double, max: Double, target: Int = 6) -> [Tick] {
        precondition(min < max, "linear ticks need min < max")
        let (mantissa, exponent) = step(span: max - min, target: target)
        let stepValue = Double(mantissa) * pow(10, Double(exponent))
        let decimals = Swift.max(0, -exponent)
        // One notation per axis: every label in powers of ten once the axis reaches a million.
        let scientific = decimals == 0 && Swift.max(abs(min), abs(max)) >= 1e6
        let first = Int((min / stepValue - 1e-9).rounded(.up)), last = Int((max / stepValue + 1e-9).rounded(.down))
        guard first <= last else { return [] }
        return (first...last).map { k in
            // k * mantissa is exact; scale by the power of ten with one rounding.
            let value = exponent >= 0 ? Double(k * mantissa) * pow(10, Double(exponent))
                                      : Double(k * mantissa) / pow(10, Double(-exponent))
            return Tick(value: value, label: label(value, decimals: decimals, scientific: scientific))
        }
    }

    /// Powers of ten inside [min, max]; where that gives fewer than three ticks, also 2 and 5 times them.
    /// `0 < min < max`.
    public static func logarithmic(min: Double, max: Double) -> [Tick] {
        precondition(min > 0 && min < max, "log ticks need 0 < min < max")
        let low = Int(floor(log10(min))), high = Int(ceil(log10(max)))
        let lowest = min * (1 - 1e-12), highest = max * (1 + 1e-12)
        func candidates(_ mantissas: [Int]) -> [Double] {
            var values: [Double] = []
            for e in low...high {
                let scale: Double = pow(10, Double(e))
                for mantissa in mantissas {
                    let value = Double(mantissa) * scale
                    if value >= lowest && value <= highest { values.append(value) }
                }
            }
            return values
        }
        var values = candidates([1])
        if values.count < 3 { values = candidates([1, 2, 5]) }
        if values.count < 2 { values = candidates([1, 2, 3, 4, 5, 6, 7, 8, 9]) }
        // One notation per axis, as on a linear one.
        let scientific = (values.last ?? max) >= 1e6
        return values.map { value in
            let e = Int(floor(log10(value) + 1e-9))
            return Tick(value: value, label: label(value, decimals: Swift.max(0, -e), scientific: scientific))
        }
    }

    /// 2..9 times each power of ten inside [min, max] that is not already a tick: unlabelled minor ticks.
    static func logarithmicMinor(min: Double, max: Double, excluding ticks: [Tick]) -> [Double] {
        let low = Int(floor(log10(min))), high = Int(ceil(log10(max)))
        var values: [Double] = []
        for e in low...high {
            let scale: Double = pow(10, Double(e))
            for mantissa in 2...9 {
                let value = Double(mantissa) * scale
                let isMajor = ticks.contains { abs($0.value - value) <= value * 1e-9 }
                if value >= min && value <= max && !isMajor { values.append(value) }
            }
        }
        return values
    }

    /// A fixed-point label with `decimals` places, or with `scientific` a mantissa and a power of ten
    /// (5e5, 1e6, 1.5e6: an axis reaching a million is labelled so throughout); never "-0".
    static func label(_ value: Double, decimals: Int, scientific: Bool = false) -> String {
        if value == 0 { return "0" }
        if scientific {
            let e = Int(floor(log10(abs(value)) + 1e-9))
            let mantissa = value / pow(10, Double(e))
            let m = String(format: "%.1f", mantissa)
            return (m.hasSuffix(".0") ? String(m.dropLast(2)) : m) + "e\(e)"
        }
        let text = String(format: "%.\(decimals)f", value)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }
}

/// One axis: the data range mapped to [0, 1], with its ticks.
struct Axis {
    let min: Double
    let max: Double
    let scale: LineChart.Scale
    let ticks: [Tick]
    let minorTicks: [Double]

    /// Position of `value` along the axis, 0 at `min`, 1 at `max`.
    func fraction(_ value: Double) -> Double {
        switch scale {
        case .linear: return (value - min) / (max - min)
        case .logarithmic: return (log10(value) - log10(min)) / (log10(max) - log10(min))
        }
    }

    /// The x axis spans the data exactly (lines start and end at the frame); a single x gets room around it.
    static func x(min: Double, max: Double, scale: LineChart.Scale) -> Axis {
        switch scale {
        case .linear:
            let (low, high) = min < max ? (min, max) : widened(min)
            return Axis(min: low, max: high, scale: .linear, ticks: NiceTicks.linear(min: low, max: high), minorTicks: [])
        case .logarithmic:
            let (low, high) = min < max ? (min, max) : (min / 10, min * 10)
            let ticks = NiceTicks.logarithmic(min: low, max: high)
            return Axis(min: low, max: high, scale: .logarithmic, ticks: ticks,
                        minorTicks: NiceTicks.logarithmicMinor(min: low, max: high, excluding: ticks))
        }
    }

    /// The y axis of these values (not empty): see ``y(min:max:)``.
    static func y(values: [Double]) -> Axis {
        y(min: values.min()!, max: values.max()!)
    }

    /// The y axis pads the data by 5% of its span on each side, so no line runs along the frame, but never
    /// below zero for data that is not negative (a count, a rate): the axis fits what the data can be.
    static func y(min: Double, max: Double) -> Axis {
        let (low, high): (Double, Double)
        if min < max {
            let pad = (max - min) * 0.05
            (low, high) = (min >= 0 ? Swift.max(0, min - pad) : min - pad, max + pad)
        } else {
            (low, high) = widened(min)
        }
        return Axis(min: low, max: high, scale: .linear, ticks: NiceTicks.linear(min: low, max: high), minorTicks: [])
    }

    /// A range around a single value: +-10% of it, or +-1 around zero.
    static func widened(_ value: Double) -> (Double, Double) {
        let half = value == 0 ? 1 : abs(value) * 0.1
        return (value - half, value + half)
    }
}
