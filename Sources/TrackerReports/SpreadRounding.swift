import Foundation

/// How a table prints a mean with its spread, as papers do: the spread to `digits` significant digits
/// (default 2), the mean (and an interval's bounds) to the same decimal place, so no digit is printed that
/// the spread says is noise: `1.313 ± 0.08968` prints `1.313 ± 0.090`, `0.007812 ± 0.01108` prints
/// `0.008 ± 0.011`, `1843.2 ± 567.4` prints `1840 ± 570`.
///
/// Where that would print more than six decimals or more than three invented trailing zeros, the cell
/// shares one power of ten instead: `(3.40 ± 0.12)e11`, `(1.20 ± 0.34)e-7`. A zero spread (all runs
/// equal) cannot set a decimal place: the mean keeps four significant digits, `0.5 ± 0`. A mean or spread
/// that is not finite prints as it is (`inf ± nan`). Never `-0.00`.
public struct SpreadRounding: Sendable, Equatable {
    /// Significant digits of the spread.
    public var digits: Int

    public static let defaultDigits = 2
    /// What `--digits` accepts: below one digit nothing is left; above six the noise is printed anyway.
    public static let digitRange = 1...6

    public init(digits: Int = SpreadRounding.defaultDigits) {
        precondition(Self.digitRange.contains(digits), "digits outside \(Self.digitRange)")
        self.digits = digits
    }

    /// `mean ± halfWidth`.
    public func meanAndHalfWidth(_ mean: Double, _ halfWidth: Double) -> String {
        guard let (texts, exponent) = rounded([mean, halfWidth], spread: halfWidth) else {
            return "\(Self.plain(mean)) ± \(Self.plain(halfWidth))"
        }
        return Self.withExponent("\(texts[0]) ± \(texts[1])", exponent)
    }

    /// `center [low, high]`, at the decimal place half the interval's width sets.
    public func centerAndInterval(_ center: Double, low: Double, high: Double) -> String {
        guard let (texts, exponent) = rounded([center, low, high], spread: (high - low) / 2) else {
            return "\(Self.plain(center)) [\(Self.plain(low)), \(Self.plain(high))]"
        }
        return Self.withExponent("\(texts[0]) [\(texts[1]), \(texts[2])]", exponent)
    }

    /// `values` printed to the decimal place of `spread` at `digits` significant digits, and the power of
    /// ten they share (nil: none); nil when the spread sets no place (zero, negative) or a value is not
    /// finite.
    func rounded(_ values: [Double], spread: Double) -> (texts: [String], exponent: Int?)? {
        guard spread > 0, spread.isFinite, values.allSatisfy(\.isFinite) else { return nil }
        let place = lastPlace(of: spread)
        guard place > 3 || place < -6 else {
            return (values.map { Self.fixed($0, place: place) }, nil)
        }
        // One power of ten for the whole cell: that of the largest magnitude in it.
        let largest = values.map(abs).max() ?? spread
        let exponent = Int(floor(log10(largest)))
        let scale = pow(10, Double(exponent))
        let scaledPlace = lastPlace(of: spread / scale)
        return (values.map { Self.fixed($0 / scale, place: scaledPlace) }, exponent)
    }

    /// The power of ten of the last digit kept when `spread` (> 0, finite) is rounded to `digits`
    /// significant digits: -3 for 0.08968 (0.090), 1 for 567.4 (570). A spread that rounds up to the next
    /// power of ten (0.0996 to 0.100) keeps `digits` digits of the rounded value (0.10).
    func lastPlace(of spread: Double) -> Int {
        let leading = Int(floor(log10(spread)))
        var place = leading - (digits - 1)
        let rounded = Double(Self.fixed(spread, place: place))!
        if rounded >= pow(10, Double(leading + 1)) { place += 1 }
        return place
    }

    /// `value` rounded to a multiple of 10^place, with exactly max(0, -place) decimals; never `-0`.
    static func fixed(_ value: Double, place: Int) -> String {
        var text: String
        if place <= 0 {
            text = String(format: "%.\(-place)f", value)
        } else {
            let unit = pow(10, Double(place))
            text = String(format: "%.0f", (value / unit).rounded() * unit)
        }
        if text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { text.removeFirst() }
        return text
    }

    static func withExponent(_ text: String, _ exponent: Int?) -> String {
        exponent.map { "(\(text))e\($0)" } ?? text
    }

    /// A number without a spread to round it by, as `Table.shortNumber` prints it (`inf`, `nan` as such).
    static func plain(_ value: Double) -> String {
        Table.shortNumber(value)
    }
}
