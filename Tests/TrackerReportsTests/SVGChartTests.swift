import Foundation
import TestSupport
import Testing
@testable import TrackerReports

@Suite struct NiceTickTests {
    @Test func linearTicksUseOneTwoFiveStepsWithoutFloatNoise() {
        #expect(NiceTicks.linear(min: 0, max: 25_600).map(\.label) == ["0", "5000", "10000", "15000", "20000", "25000"])
        #expect(NiceTicks.linear(min: 0, max: 1).map(\.label) == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let fine = NiceTicks.linear(min: 0.985, max: 1.315)
        #expect(fine.map(\.label) == ["1.00", "1.05", "1.10", "1.15", "1.20", "1.25", "1.30"])
        // 0.1 * 3 is 0.30000000000000004 in binary; the label must not show it.
        let tenths = NiceTicks.linear(min: 0.05, max: 0.62)
        #expect(tenths.map(\.label) == ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6"])
        for tick in fine + tenths { #expect(!tick.label.contains("0000"), "\(tick.label)") }
    }

    @Test func linearTicksAcrossZeroNeverPrintMinusZero() {
        let ticks = NiceTicks.linear(min: -1.3, max: 0.4)
        #expect(ticks.map(\.label).contains("0"))
        #expect(!ticks.map(\.label).contains("-0"))
        #expect(!ticks.map(\.label).contains("-0.0"))
        #expect(ticks.first?.value == -1.2)
    }

    @Test func linearTicksStayInsideTheRangeAndAreEvenlySpaced() {
        for (low, high) in [(3.0, 7.0), (0.001, 0.0042), (-50.0, 950.0), (123_456.0, 123_789.0), (1e6, 9e7)] {
            let ticks = NiceTicks.linear(min: low, max: high)
            #expect(ticks.count >= 3 && ticks.count <= 11, "\(low)...\(high): \(ticks.map(\.label))")
            #expect(ticks.allSatisfy { $0.value >= low - 1e-12 && $0.value <= high + 1e-12 })
            let gaps = zip(ticks.dropFirst(), ticks).map { $0.value - $1.value }
            #expect(gaps.allSatisfy { abs($0 - gaps[0]) <= abs(gaps[0]) * 1e-9 })
        }
        #expect(NiceTicks.linear(min: 1e6, max: 9e7).map(\.label).first == "1e7")
    }

    @Test func logarithmicTicksAreDecadesOrOneTwoFiveInsideOne() {
        #expect(NiceTicks.logarithmic(min: 1, max: 25_600).map(\.label) == ["1", "10", "100", "1000", "10000"])
        #expect(NiceTicks.logarithmic(min: 0.01, max: 1).map(\.label) == ["0.01", "0.1", "1"])
        #expect(NiceTicks.logarithmic(min: 1, max: 60).map(\.label) == ["1", "2", "5", "10", "20", "50"])
        #expect(NiceTicks.logarithmic(min: 3, max: 8).map(\.label) == ["3", "4", "5", "6", "7", "8"])
        // One notation per axis: once an axis reaches a million, every label is a power-of-ten form.
        #expect(NiceTicks.logarithmic(min: 1, max: 3e6).map(\.label) == ["1e0", "1e1", "1e2", "1e3", "1e4", "1e5", "1e6"])
        #expect(NiceTicks.linear(min: 0, max: 2.2e6).map(\.label) == ["0", "5e5", "1e6", "1.5e6", "2e6"])
        #expect(NiceTicks.linear(min: 0, max: 900_000).map(\.label).last == "800000")
        let minor = NiceTicks.logarithmicMinor(min: 1, max: 100, excluding: NiceTicks.logarithmic(min: 1, max: 100))
        #expect(minor.count == 16)
        #expect(!minor.contains(10))
    }
}

@Suite struct SVGChartTests {
    static func chart(_ series: [LineChart.Series], scale: LineChart.Scale = .linear) -> LineChart {
        LineChart(title: "Normalized reward, N = 8", xLabel: "iteration", yLabel: "normalized reward", xScale: scale,
                  series: series)
    }

    static let twoSeries = [
        LineChart.Series(name: "DTEQL φ=500 (3 runs)", points: (0..<50).map { .init(x: Double($0 * 100), y: 1 - exp(-Double($0) / 5)) }),
        LineChart.Series(name: "QL (3 runs)", points: (0..<50).map { .init(x: Double($0 * 100), y: 0.8 - exp(-Double($0) / 20)) }),
    ]

    @Test func xmlEscapingCoversTheFiveSpecialCharacters() {
        #expect(xmlEscaped(#"a<b & "c" 'd'>"#) == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
        #expect(xmlEscaped("φ=500 plain") == "φ=500 plain")
    }

    @Test func theSVGIsWellFormedWithOnePathPerSeriesAndTheLegendNames() throws {
        let svg = try Self.chart(Self.twoSeries).svg()
        let parsed = try parseSVG(svg).get()
        #expect(parsed.elements.first == "svg")
        let root = try #require(parsed.attributes.first)
        #expect(root["viewBox"] != nil && root["width"] != nil && root["height"] != nil)
        #expect(parsed.count("path") == 2)
        #expect(parsed.texts.contains("DTEQL φ=500 (3 runs)"))
        #expect(parsed.texts.contains("QL (3 runs)"))
        #expect(parsed.texts.contains("Normalized reward, N = 8"))
        #expect(parsed.texts.contains("iteration"))
        #expect(parsed.texts.contains("normalized reward"))
        // A white background: the first rectangle covers everything.
        let background = try #require(zip(parsed.elements, parsed.attributes).first { $0.0 == "rect" }?.1)
        #expect(background["fill"] == "#ffffff" && background["width"] == root["width"])
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }

    @Test func theLegendSitsRightOfThePlotArea() throws {
        let parsed = try parseSVG(try Self.chart(Self.twoSeries).svg()).get()
        let clip = try #require(zip(parsed.elements, parsed.attributes).filter { $0.0 == "rect" }.dropFirst().first?.1)
        let plotRight = try #require(Double(clip["x"] ?? "")) + (try #require(Double(clip["width"] ?? "")))
        let legendLines = zip(parsed.elements, parsed.attributes).filter { $0.0 == "line" && $0.1["stroke-width"] == "2" }
        #expect(legendLines.count == 2)
        for line in legendLines { #expect(Double(line.1["x1"] ?? "") ?? 0 > plotRight) }
    }

    @Test func specialCharactersInNamesAndTitlesAreEscaped() throws {
        var chart = Self.chart([LineChart.Series(name: #"<b>&"x"</b>"#, points: [.init(x: 0, y: 1), .init(x: 1, y: 2)])])
        chart.title = "A & B < C"
        let parsed = try parseSVG(try chart.svg()).get()
        #expect(parsed.texts.contains(#"<b>&"x"</b>"#))
        #expect(parsed.texts.contains("A & B < C"))
        #expect(!parsed.elements.contains("b"))
    }

    @Test func aSinglePointAndAConstantSeriesStillDraw() throws {
        for series in [[LineChart.Series(name: "one", points: [.init(x: 5, y: 1.25)])],
                       [LineChart.Series(name: "flat", points: (0..<10).map { .init(x: Double($0), y: 0) })]] {
            for scale in [LineChart.Scale.linear, .logarithmic] {
                let shifted = series.map { LineChart.Series(name: $0.name, points: $0.points.map { .init(x: $0.x + 1, y: $0.y) }) }
                let svg = try Self.chart(shifted, scale: scale).svg()
                let parsed = try parseSVG(svg).get()
                #expect(parsed.count("path") == 1)
                #expect(!svg.contains("nan") && !svg.contains("inf"), "\(series[0].name) \(scale)")
                #expect(parsed.texts.filter { Double($0) != nil }.count >= 4, "ticks on both axes")
            }
        }
    }

    @Test func emptyOrUnplottableInputIsAClearError() {
        #expect(throws: LineChart.ChartError.noSeries) { try Self.chart([]).svg() }
        #expect(throws: LineChart.ChartError.emptySeries("QL")) { try Self.chart([.init(name: "QL", points: [])]).svg() }
        #expect(throws: LineChart.ChartError.notFinite("x")) {
            try Self.chart([.init(name: "x", points: [.init(x: 0, y: .nan)])]).svg()
        }
        #expect(throws: LineChart.ChartError.nonPositiveOnLogAxis("x")) {
            try Self.chart([.init(name: "x", points: [.init(x: 0, y: 1), .init(x: 10, y: 2)])], scale: .logarithmic).svg()
        }
        #expect(LineChart.ChartError.noSeries.description == "nothing to plot: no series")
    }

    @Test func aSecondaryAxisHasItsOwnTicksOnTheRightAndItsSeriesSaySo() throws {
        let reward = LineChart.Series(name: "normalized reward", points: (0..<20).map { .init(x: Double($0), y: 1.2 + Double($0) / 100) })
        let epsilon = LineChart.Series(name: "exploration rate ε", points: (0..<20).map { .init(x: Double($0), y: 1 - Double($0) / 25) },
                                       axis: .secondary)
        var chart = Self.chart([reward, epsilon])
        #expect(throws: LineChart.ChartError.secondaryWithoutLabel("exploration rate ε")) { try chart.svg() }
        chart.secondaryYLabel = "exploration rate ε"
        let svg = try chart.svg()
        let parsed = try parseSVG(svg).get()
        #expect(parsed.count("path") == 2)
        #expect(parsed.texts.contains("exploration rate ε (right axis)"))
        #expect(parsed.texts.contains("normalized reward"))
        #expect(parsed.texts.filter { $0 == "exploration rate ε" }.count == 1, "the right axis' label")
        let plot = try #require(zip(parsed.elements, parsed.attributes).filter { $0.0 == "rect" }.dropFirst().first?.1)
        let plotLeft = try #require(Double(plot["x"] ?? "")), plotRight = plotLeft + (try #require(Double(plot["width"] ?? "")))
        let plotTop = try #require(Double(plot["y"] ?? "")), plotBottom = plotTop + (try #require(Double(plot["height"] ?? "")))
        // The right axis' tick labels: left-anchored just right of the plot, spanning epsilon's 0.24...1 with
        // its own steps (the left axis spans the reward's 1.2...1.39).
        let rightLabels = zip(parsed.elements, parsed.attributes).enumerated().compactMap { index, element -> (Double, Double)? in
            guard element.0 == "text", element.1["text-anchor"] == nil, let x = Double(element.1["x"] ?? ""), x > plotRight,
                  x < plotRight + 20, let y = Double(element.1["y"] ?? "") else { return nil }
            return (x, y)
        }
        #expect(rightLabels.count >= 3)
        #expect(rightLabels.allSatisfy { $0.1 >= plotTop && $0.1 <= plotBottom + 5 })
        #expect(parsed.texts.contains("0.4") && parsed.texts.contains("1.0") && parsed.texts.contains("1.30"))
        // Each line spans the plot's height on its own axis: epsilon falls from the top to the bottom.
        let paths = zip(parsed.elements, parsed.attributes).filter { $0.0 == "path" }.map { $0.1["d"] ?? "" }
        func ys(_ d: String) -> [Double] {
            d.split(separator: " ").enumerated().compactMap { $0.offset % 2 == 1 ? Double($0.element) : nil }
        }
        let epsilonYs = ys(paths[1])
        #expect((epsilonYs.max()! - epsilonYs.min()!) > 0.8 * (plotBottom - plotTop))
        // The legend starts right of the secondary axis' label.
        let legendLines = zip(parsed.elements, parsed.attributes).filter { $0.0 == "line" && $0.1["stroke-width"] == "2" }
        let axisLabel = try #require(zip(parsed.elements, parsed.attributes).first { $0.0 == "text" && ($0.1["transform"] ?? "").hasPrefix("rotate(90") }?.1)
        #expect(legendLines.allSatisfy { Double($0.1["x1"] ?? "") ?? 0 > Double(axisLabel["x"] ?? "") ?? .infinity })
    }

    @Test func bandsAreShadedUnderTheirLinesAndFitTheYAxis() throws {
        let points = (0..<10).map { LineChart.Point(x: Double($0), y: 1) }
        let band = (0..<10).map { LineChart.BandPoint(x: Double($0), low: 0.5, high: 2) }
        var chart = Self.chart([LineChart.Series(name: "mean", points: points, band: band)])
        chart.legendNote = "shaded: 95% interval of the mean"
        let svg = try chart.svg()
        let parsed = try parseSVG(svg).get()
        #expect(parsed.count("polygon") == 1)
        #expect(parsed.elements.firstIndex(of: "polygon")! < parsed.elements.firstIndex(of: "path")!, "the band is under the line")
        #expect(parsed.texts.contains("shaded: 95% interval of the mean"))
        // The y axis reaches the band, not only the line.
        #expect(parsed.texts.contains("0.6") && parsed.texts.contains("2.0"))
        // A count's axis does not reach below zero.
        let counts = Self.chart([LineChart.Series(name: "misses", points: (0..<10).map { .init(x: Double($0), y: Double($0 % 3)) })])
        #expect(!(try parseSVG(try counts.svg()).get()).texts.contains { $0.hasPrefix("-") })
        #expect(throws: LineChart.ChartError.notFinite("x")) {
            try Self.chart([.init(name: "x", points: points, band: [.init(x: 0, low: .nan, high: 1)])]).svg()
        }
    }

    @Test func manySeriesGetDistinctStyles() {
        let styles = (0..<20).map { LineChart.style($0) }
        #expect(Set(styles.map { "\($0.colour) \($0.dash)" }).count == 20)
    }
}
