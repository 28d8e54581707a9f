import Foundation
import TrackerReports

/// Escapes text for HTML element content and quoted attribute values: the five XML special characters,
/// as the SVG charts escape them (HTML5 knows `&apos;` too). Every piece of stored text (labels, errors,
/// hosts, query results) goes through this before it reaches a page.
func escapeHTML(_ text: String) -> String {
    xmlEscaped(text)
}

/// Percent-encodes a query parameter value: every UTF-8 byte but the unreserved ASCII characters
/// (letters, digits, `-._~`). Byte by byte rather than through Foundation's `CharacterSet`, which built
/// its bitmap anew on every call and showed in the runs page's profile (two links per row).
func escapeQueryValue(_ text: String) -> String {
    func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
    if text.utf8.allSatisfy(isUnreserved) { return text }
    let hex = Array("0123456789ABCDEF".utf8)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count * 3)
    for byte in text.utf8 {
        if isUnreserved(byte) {
            bytes.append(byte)
        } else {
            bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// A query string built from ordered pairs, values percent-encoded: `?n=8&sort=ratio`.
func queryString(_ pairs: [(String, String)]) -> String {
    pairs.isEmpty ? "" : "?" + pairs.map { "\($0.0)=\(escapeQueryValue($0.1))" }.joined(separator: "&")
}

/// One HTML page of the dashboard: the shared layout (navigation, the embedded style sheet and script)
/// around a body that the page builds from already-escaped fragments.
struct HTMLPage {
    var title: String
    var body: String
    /// Which navigation entry to highlight.
    var section: Section

    enum Section: String { case runs, sweeps, studies, compare, queries, none }

    func render() -> String {
        func link(_ href: String, _ text: String, _ entry: Section) -> String {
            "<a href=\"\(href)\"\(entry == section ? " class=\"current\"" : "")>\(text)</a>"
        }
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escapeHTML(title)) · tracker</title>
            <link rel="stylesheet" href="/static/style.css">
            <link rel="icon" href="data:,">
            <script src="/static/app.js" defer></script>
            <script src="/static/charts.js" defer></script>
            </head>
            <body>
            <header><nav><span class="brand">tracker</span>\(link("/", "Runs", .runs))\(link("/sweeps", "Sweeps", .sweeps))\(link("/studies", "Studies", .studies))\(link("/compare", "Compare", .compare))\(link("/queries", "Queries", .queries))</nav></header>
            <main>
            <h1>\(escapeHTML(title))</h1>
            \(body)
            </main>
            </body>
            </html>

            """
    }
}

/// An HTML table from escaped header cells and rows of escaped cells. `numeric` columns align right.
/// Appends into one string sized up front, with each column's opening tag made once: the runs page
/// builds 650 cells per request.
func htmlTable(_ header: [String], _ rows: [[String]], numeric: Set<Int> = [], id: String? = nil) -> String {
    let columns = max(header.count, rows.map(\.count).max() ?? 0)
    let headOpen = (0..<columns).map { numeric.contains($0) ? "<th class=\"num\">" : "<th>" }
    let cellOpen = (0..<columns).map { numeric.contains($0) ? "<td class=\"num\">" : "<td>" }
    var out = ""
    out.reserveCapacity(256 + header.reduce(0) { $0 + $1.utf8.count + 20 }
        + rows.reduce(0) { total, row in row.reduce(total + 12) { $0 + $1.utf8.count + 20 } })
    out += "<table"
    if let id { out += " id=\"" + id + "\"" }
    out += "><thead><tr>"
    for (index, cell) in header.enumerated() {
        out += headOpen[index]
        out += cell
        out += "</th>"
    }
    out += "</tr></thead><tbody>\n"
    for row in rows {
        out += "<tr>"
        for (index, cell) in row.enumerated() {
            out += cellOpen[index]
            out += cell
            out += "</td>"
        }
        out += "</tr>\n"
    }
    out += "</tbody></table>\n"
    return out
}

/// A two-column table of (escaped) names and values.
func htmlFields(_ fields: [(String, String)]) -> String {
    "<table class=\"fields\"><tbody>"
        + fields.map { "<tr><th>\(escapeHTML($0.0))</th><td>\($0.1)</td></tr>" }.joined()
        + "</tbody></table>\n"
}

/// A number as the compare tables print it (four significant digits, iteration counts in full); blank
/// for none.
func formatNumber(_ value: Double?) -> String {
    value.map(CompareReport(spread: .none).short) ?? ""
}

/// 95 s, 12 min 3 s, 2 h 5 min.
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0, seconds < 1e15 else { return "" }  // a stored value; Int(...) of more could trap
    if seconds < 60 { return printfFormatted("%.1f s", seconds) }
    let whole = Int(seconds.rounded())
    if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
    return "\(whole / 3600) h \(whole % 3600 / 60) min"
}
