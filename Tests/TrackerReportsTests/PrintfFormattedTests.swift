import Foundation
import Testing
import TrackerReports

/// `printfFormatted` replaced `String(format:)` for the tables' and the dashboard's numbers; it must
/// write exactly what `String(format:)` wrote.
struct PrintfFormattedTests {
    @Test func writesWhatStringFormatWrites() {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 1, -1, 0.5, 0.25, 0.35, 2.5, 59.95, 59.96, 999.95, 1e-300, 1e300, 123456789.123,
                                .leastNonzeroMagnitude, .greatestFiniteMagnitude, .pi, 1.0 / 3]
        for _ in 0..<2000 {
            values.append(Double(bitPattern: generator.next()))
            values.append(Double.random(in: -1e6...1e6, using: &generator))
        }
        for value in values where value.isFinite {
            for format in ["%.4g", "%.6g", "%.1f", "%.1f s"] {
                #expect(printfFormatted(format, value) == String(format: format, value), "\(format) of \(value)")
            }
        }
        #expect(Table.formatNumber(0.98765432) == "0.987654")
        #expect(Table.shortNumber(12345.67) == "12345.7")
    }
}
