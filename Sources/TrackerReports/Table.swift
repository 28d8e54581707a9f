import Foundation

/// Output of commands that print one record (a frame, an evaluation, a run).
public enum ReportFormat: String, CaseIterable, Sendable {
    case table, json
}

/// Output of commands that print rows.
public enum ListingFormat: String, CaseIterable, Sendable {
    case table, markdown, csv, json
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
        }
    }

    public func render(_ format: ReportFormat) -> String {
        format == .json ? renderJSON() : renderAligned()
    }

    /// One JSON array of objects whose keys are the column names.
    public func renderJSON() -> String {
        JSON.array(rows.map { row in .object(zip(columns, row).map { ($0, $1) }) }).serialized(pretty: true) + "\n"
    }

    public func renderAligned() -> String {
        let texts = rows.map { $0.map(Table.displayText) }
        var widths = columns.map(\.count)
        for row in texts {
            for (index, text) in row.enumerated() { widths[index] = max(widths[index], text.count) }
        }
        func line(_ cells: [String], numeric: [Bool]) -> String {
            cells.enumerated().map { index, text in
                let padding = String(repeating: " ", count: widths[index] - text.count)
                return numeric[index] ? padding + text : text + padding
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        let numeric = columns.indices.map { index in
            rows.contains { Table.isNumber($0[index]) } && rows.allSatisfy { Table.isNumber($0[index]) || $0[index] == .null }
        }
        var out = line(columns, numeric: numeric) + "\n"
        out += line(widths.map { String(repeating: "-", count: $0) }, numeric: numeric) + "\n"
        for row in texts { out += line(row, numeric: numeric) + "\n" }
        return out
    }

    public func renderMarkdown() -> String {
        func escape(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
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
    /// in full precision so CSV round-trips.
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
            return value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
        }
        return formatNumber(value, significantDigits: 4)
    }

    public static func formatNumber(_ value: Double, significantDigits: Int = 6) -> String {
        guard value.isFinite else { return "\(value)" }
        return String(format: "%.\(significantDigits)g", value)
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
            let width = fields.map(\.0.count).max() ?? 0
            return fields.map { key, value in
                key + String(repeating: " ", count: width - key.count) + "  " + Table.displayText(value)
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

/// Text a person tagged or noted, safe to print in one table cell: backslash, control, format (bidi
/// overrides) and line or paragraph separator characters written as Swift escapes (\n, \u{1B}), so hostile
/// text cannot move the cursor, recolour the terminal or break a row.
public func terminalEscaped(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\t": out += "\\t"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        default:
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}
