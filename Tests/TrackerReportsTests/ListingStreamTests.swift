import Foundation
import Testing
import TrackerReports

/// `tracker sql` and `tracker query` print CSV and JSON in pieces as the rows arrive (issue 22: the CLI
/// streams rows instead of holding a 4M-row result); the pieces must add up to exactly what rendering all
/// rows at once prints.
@Suite struct ListingStreamTests {
    static let columns = ["n", "text, with comma", "multi\nline \"name\""]

    static func rows(_ count: Int) -> [[JSON]] {
        (0..<count).map { index -> [JSON] in
            let text: String = index % 3 == 0 ? "a,b\n\"c\"\r\n" : "plain \(index) \u{1B}[31m"
            let number: JSON = index % 4 == 0 ? .null : .number(Double(index) / 7)
            return [.integer(index), .string(text), number]
        }
    }

    @Test(arguments: [0, 1, 2, 999, 1000, 1001, 2500])
    func piecesAddUpToTheWholeListing(_ count: Int) {
        let rows = Self.rows(count)
        for format in [ListingFormat.csv, .json] {
            let whole = Table(columns: Self.columns, rows: rows).render(format)
            for chunk in [1, 7, 1000] {
                var stream = ListingStream(format: format)
                var printed = ""
                var start = 0
                repeat {
                    let end = min(start + chunk, rows.count)
                    printed += stream.render(Table(columns: Self.columns, rows: Array(rows[start..<end])))
                    start = end
                } while start < rows.count
                printed += stream.finish()
                #expect(printed == whole, "\(format), \(count) rows in chunks of \(chunk)")
            }
        }
        #expect(ListingStream.supports(.csv) && ListingStream.supports(.json))
        #expect(!ListingStream.supports(.table) && !ListingStream.supports(.markdown))
    }
}
