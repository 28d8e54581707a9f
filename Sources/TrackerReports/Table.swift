// Module TrackerReports: what every front end shows, from plain values: tables (text, markdown, CSV,
// JSON, LaTeX), compare reports and SVG charts. Must not parse arguments, serve HTTP or touch SQL.

import Foundation

/// Output of commands that print one record (a frame, an evaluation, a run).
public enum ReportFormat: String, CaseIterable, Sendable {
    case table, json
}

/// Output of commands that print rows.
public enum ListingFormat: String, CaseIterable, Sendable {
    case table, markdown, csv, json, latex
}

/// Rows of cells under named columns. Cells are JSON values so one table renders to every format and
/// numbers stay numbers in JSON and CSV.
public struct Table: Sendable {
    public var columns: [String]
    public var rows: [[JSON]]

    public init(columns: [String], rows: [[JSON]] = []) {
        self.columns = columns
        self.rows = rows
    }

    public func render(_ format: ListingFormat) -> String {
        switch format {
        case .table: return renderAligned()
        case .markdown: return renderMarkdown()
        case .csv: return renderCSV()
        case .json: return renderJSON()
        case .latex: return renderLaTeX()
        }
    }

    public func render(_ format: ReportFormat) -> String {
        format == .json ? renderJSON() : renderAligned()
    }

    /// One JSON array of objects whose keys are the column names.
    public func renderJSON() -> String {
        JSON.array(rows.map { row in .object(zip(columns, row).map { ($0, $1) }) }).serialized(pretty: true) + "\n"
    }

    /// Every cell and column name goes through ``terminalEscaped(_:)``: stored text (labels, tags, notes,
    /// SQL results) cannot move the cursor, recolour the terminal or break the alignment. The wrapped form
    /// at a width nothing exceeds, so both forms share one layout.
    public func renderAligned() -> String {
        renderWrapped(width: .max)
    }

    /// Markdown is read on a terminal or pasted into a document: escaped like the aligned table, plus `|`.
    public func renderMarkdown() -> String {
        func escape(_ text: String) -> String { terminalEscaped(text).replacingOccurrences(of: "|", with: "\\|") }
        var out = "| " + columns.map(escape).joined(separator: " | ") + " |\n"
        out += "|" + columns.indices.map { index in
            rows.allSatisfy { Table.isNumber($0[index]) || $0[index] == .null } && !rows.isEmpty ? " ---: |" : " --- |"
        }.joined() + "\n"
        for row in rows {
            out += "| " + row.map { escape(Table.displayText($0)) }.joined(separator: " | ") + " |\n"
        }
        return out
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. Numbers are written
    /// in full precision so CSV round-trips. CSV is data: text is written exactly as stored, control
    /// characters included; the CLI escapes it only when standard output is a terminal
    /// (``terminalEscapedLines(_:)``).
    public func renderCSV() -> String {
        func field(_ cell: JSON) -> String {
            let text: String
            switch cell {
            case .null: text = ""
            case .number(let value): text = "\(value)"
            case .string(let value): text = value
            default: text = cell.serialized()
            }
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        var out = columns.map { field(.string($0)) }.joined(separator: ",") + "\n"
        for row in rows { out += row.map(field).joined(separator: ",") + "\n" }
        return out
    }

    public static func isNumber(_ cell: JSON) -> Bool {
        switch cell {
        case .integer, .number: return true
        default: return false
        }
    }

    /// Human text for a cell: doubles to 6 significant digits, arrays as comma lists.
    public static func displayText(_ cell: JSON) -> String {
        switch cell {
        case .null: return ""
        case .bool(let value): return value ? "yes" : "no"
        case .integer(let value): return String(value)
        case .number(let value): return formatNumber(value)
        case .string(let value): return value
        case .array(let values): return values.map(displayText).joined(separator: ",")
        case .object: return cell.serialized()
        }
    }

    /// Four significant digits, but iteration counts in full: 10350, not 1.035e+04.
    public static func shortNumber(_ value: Double) -> String {
        if value.isFinite, abs(value) >= 1000, abs(value) < 1e15 {
            return value == value.rounded() ? String(Int(value)) : printfFormatted("%.1f", value)
        }
        return formatNumber(value, significantDigits: 4)
    }

    public static func formatNumber(_ value: Double, significantDigits: Int = 6) -> String {
        guard value.isFinite else { return "\(value)" }
        return printfFormatted("%.\(significantDigits)g", value)
    }
}

/// `value` through C's printf `format` (one double conversion, as `String(format:)` with no locale
/// writes it: the C library does the conversion either way), without Foundation's format parser, which
/// cost a tenth of the dashboard's runs page (a number and a duration per row).
public func printfFormatted(_ format: String, _ value: Double) -> String {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
        let length = withVaList([value]) { vsnprintf(buffer.baseAddress!, buffer.count, format, $0) }
        guard length >= 0, Int(length) < buffer.count else { return String(format: format, value) }
        return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress!, count: Int(length)), as: UTF8.self)
    }
}

/// Key-value pairs printed as an aligned two-column block or as one JSON object.
public struct Record: Sendable {
    public var fields: [(String, JSON)]

    public init(fields: [(String, JSON)]) { self.fields = fields }

    public func render(_ format: ReportFormat) -> String {
        switch format {
        case .json:
            return JSON.object(fields).serialized(pretty: true) + "\n"
        case .table:
            let keys = fields.map { terminalEscaped($0.0) }
            let width = keys.map(\.count).max() ?? 0
            return zip(keys, fields).map { key, field in
                key + String(repeating: " ", count: width - key.count) + "  " + terminalEscaped(Table.displayText(field.1))
            }.joined(separator: "\n") + "\n"
        }
    }
}

extension String {
    public func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}

/// Stored or user-given text, safe to print on a terminal in one table cell or message line: control
/// characters (C0 including ESC, CR, NUL, BEL; DEL; C1 U+0080-U+009F), format characters (bidi overrides
/// such as U+202E), line and paragraph separators, private-use and unassigned scalars are written as Swift
/// escapes (\n, \t, \r, \u{1B}), so hostile text cannot move the cursor, recolour the terminal, reorder
/// what follows or break a row. Backslash is doubled so the escapes stay unambiguous; `keepingBackslashes`
/// leaves it alone where nobody reads the text back (error messages, which name paths).
/// Every table, record and markdown renderer and the CLI's error output (``terminalEscapedLines(_:)``)
/// go through this one function.
public func terminalEscaped(_ text: String, keepingBackslashes: Bool = false) -> String {
    guard text.unicodeScalars.contains(where: needsTerminalEscape) || (!keepingBackslashes && text.contains("\\")) else {
        return text
    }
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": out += keepingBackslashes ? "\\" : "\\\\"
        case "\t": out += "\\t"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case _ where needsTerminalEscape(scalar):
            out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default:
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Text of several lines for a terminal: each line escaped as in ``terminalEscaped(_:keepingBackslashes:)``
/// with backslashes kept, the line breaks themselves kept. Serves CSV on a terminal (rows stay rows, hostile
/// text shows instead of being obeyed; in a file or a pipe CSV stays exact) and error messages (which
/// quote stored and file text, and name paths with backslashes).
public func terminalEscapedLines(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { terminalEscaped(String($0), keepingBackslashes: true) }
        .joined(separator: "\n")
}

/// Whether a scalar must not reach a terminal raw (tab, line feed and carriage return are escaped by name).
func needsTerminalEscape(_ scalar: Unicode.Scalar) -> Bool {
    if (0x20..<0x7F).contains(scalar.value) { return false }
    switch scalar.properties.generalCategory {
    case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
        return true
    default:
        return false
    }
}
