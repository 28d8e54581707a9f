import Foundation
import TrackerStore

/// A JSON value with ordered object keys, so output is stable and reads in the order we chose.
/// Numbers stay numbers: integers print without a fraction, doubles in Swift's shortest round-trip form.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        lhs.serialized() == rhs.serialized()
    }

    /// One line, no insignificant white space, or indented for humans with `pretty`.
    public func serialized(pretty: Bool = false) -> String {
        var out = ""
        write(into: &out, pretty: pretty, indent: 0)
        return out
    }

    private func write(into out: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .integer(let value): out += String(value)
        case .number(let value):
            // JSON has no NaN or infinity: null is the honest stand-in.
            if value.isFinite {
                out += "\(value)"
            } else {
                out += "null"
            }
        case .string(let value): JSON.writeString(value, into: &out)
        case .array(let values):
            if values.isEmpty { out += "[]"; return }
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                value.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                JSON.writeString(key, into: &out)
                out += pretty ? ": " : ":"
                value.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "}"
        }
    }

    private static func writeString(_ value: String, into out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                out += String(format: "\\u%04x", c.value)
            case let c where c.value >= 0x7F && needsTerminalEscape(c):
                // Valid JSON may carry DEL, C1 controls and bidi overrides raw; written as \u escapes the
                // data is the same for every parser and a terminal showing it obeys none of them.
                if c.value > 0xFFFF {
                    let offset = c.value - 0x10000
                    out += String(format: "\\u%04x\\u%04x", 0xD800 + (offset >> 10), 0xDC00 + (offset & 0x3FF))
                } else {
                    out += String(format: "\\u%04x", c.value)
                }
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension JSON {
    public static func optional(_ value: Int?) -> JSON { value.map(JSON.integer) ?? .null }
    public static func optional(_ value: Double?) -> JSON { value.map(JSON.number) ?? .null }
    public static func optional(_ value: String?) -> JSON { value.map(JSON.string) ?? .null }
    public static func order(_ order: [Int]) -> JSON { .array(order.map(JSON.integer)) }
}

extension JSON {
    /// A recorded setting: numbers stay numbers, NULL is null.
    public init(_ value: SettingValue) {
        switch value {
        case .null: self = .null
        case .integer(let v): self = .integer(Int(v))
        case .real(let v): self = .number(v)
        case .text(let v): self = .string(v)
        }
    }
}

/// A seed as a table cell or JSON value: a number where it fits an Int, else its exact decimal text, so
/// every UInt64 seed shows as itself (18446744073709551615, never -1) and none traps. The one conversion
/// for every command and page that prints a seed.
public func seedCell(_ seed: UInt64?) -> JSON {
    guard let seed else { return .null }
    return seed <= UInt64(Int.max) ? .integer(Int(seed)) : .string(String(seed))
}
