#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A frame's tasks as CSV: a header naming the three columns (in any order), then one task a row.
///
///     data_bits,deadline_s,cycles_per_bit
///     1500000,2.5,300
///     250000,1.2,800
///
/// Lines may end in \n or \r\n; spaces around values and names are ignored; blank lines may follow the
/// last task. Every value must be a finite decimal number > 0. A file holds at least one task and at most
/// `ExactOptimum.maximumTasks`. Errors are `SchedulingError.invalidTaskFile`, one line each, naming the
/// 1-based line and, when it is about one column, the column.
public enum TaskFile {
    public static let header = "data_bits,deadline_s,cycles_per_bit"

    /// The column names, in the order `format` writes them.
    static let columns = ["data_bits", "deadline_s", "cycles_per_bit"]

    /// Reads and parses a task file. A file that cannot be read is reported with line 0.
    public static func read(path: String) throws(SchedulingError) -> [OffloadTask] {
        let text: String
        switch readText(path: path) {
        case .success(let contents): text = contents
        case .failure(let failure): throw .invalidTaskFile(path: path, line: 0, column: nil, reason: failure.reason)
        }
        return try parse(text, path: path)
    }

    /// Parses the text of a task file; `path` only names the file in errors.
    public static func parse(_ text: String, path: String) throws(SchedulingError) -> [OffloadTask] {
        func failure(_ line: Int, _ column: String?, _ reason: String) -> SchedulingError {
            .invalidTaskFile(path: path, line: line, column: column, reason: reason)
        }

        var lines = splitLines(text)
        // A UTF-8 byte order mark, as some spreadsheets write, is not part of the first column's name.
        if let first = lines.first, first.hasPrefix("\u{FEFF}") {
            lines[0] = String(first.dropFirst())
        }
        // Blank lines after the last task are allowed; anywhere else they are an error below.
        while let last = lines.last, isBlank(last) { lines.removeLast() }
        guard let headerLine = lines.first else {
            throw failure(1, nil, "the file is empty; expected the header '\(header)'")
        }

        // Header: map each column name to its field position.
        var position = [String: Int]()
        for (field, rawName) in headerLine.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let name = trimmed(rawName)
            guard columns.contains(name) else {
                let expected = "expected the columns \(columns.joined(separator: ", "))"
                // The name as typed, but escaped: a stray \r or line separator must not break the one-line message.
                throw failure(1, name.isEmpty ? name : escaped(name), name.isEmpty ? "empty column name; \(expected)" : "unknown column; \(expected)")
            }
            guard position[name] == nil else {
                throw failure(1, name, "appears twice in the header")
            }
            position[name] = field
        }
        for name in columns where position[name] == nil {
            throw failure(1, name, "missing from the header; expected the columns \(columns.joined(separator: ", ")) in any order")
        }
        let fieldCount = columns.count
        let dataField = position["data_bits"]!
        let deadlineField = position["deadline_s"]!
        let cyclesField = position["cycles_per_bit"]!

        guard lines.count > 1 else {
            throw failure(2, nil, "no tasks after the header; a task file holds at least one task")
        }

        var tasks = [OffloadTask]()
        for (offset, line) in lines.enumerated().dropFirst() {
            let lineNumber = offset + 1
            if isBlank(line) {
                throw failure(lineNumber, nil, "blank line between tasks; blank lines may only follow the last task")
            }
            guard tasks.count < ExactOptimum.maximumTasks else {
                throw failure(
                    lineNumber, nil,
                    "more than \(ExactOptimum.maximumTasks) tasks; a frame holds at most \(ExactOptimum.maximumTasks) (the exact optimum's limit)"
                )
            }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == fieldCount else {
                throw failure(lineNumber, nil, "expected \(fieldCount) fields, found \(fields.count)")
            }
            func value(_ field: Int) throws(SchedulingError) -> Double {
                let name = columns.first { position[$0] == field }!
                let text = trimmed(fields[field])
                guard !text.isEmpty else {
                    throw failure(lineNumber, name, "empty value; expected a number > 0")
                }
                guard let number = parseDecimal(text) else {
                    throw failure(lineNumber, name, "\(quoted(text)) is not a finite number")
                }
                guard number > 0 else {
                    throw failure(lineNumber, name, "must be > 0, got \(text)")
                }
                return number
            }
            let task = OffloadTask(
                dataBits: try value(dataField),
                deadlineSeconds: try value(deadlineField),
                cyclesPerBit: try value(cyclesField)
            )
            tasks.append(task)
        }
        return tasks
    }

    /// The header, then one row per task in the header's column order, each value in Swift's shortest
    /// description that reads back as the same Double, so `parse(format(tasks))` gives `tasks` bit for bit.
    public static func format(_ tasks: [OffloadTask]) -> String {
        var text = header + "\n"
        for task in tasks {
            text += "\(task.dataBits.description),\(task.deadlineSeconds.description),\(task.cyclesPerBit.description)\n"
        }
        return text
    }

    // MARK: - Helpers

    /// Splits on \n, dropping one \r before it. (A Swift Character treats \r\n as one, so the split is done
    /// on Unicode scalars.) A final newline does not start another line.
    private static func splitLines(_ text: String) -> [String] {
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { scalars in
            var line = String.UnicodeScalarView(scalars)
            if line.last == "\r" { line.removeLast() }
            return String(line)
        }
    }

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t"
    }

    private static func trimmed(_ text: Substring) -> String {
        let scalars = text.unicodeScalars
        guard let start = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = scalars.lastIndex(where: { !isSpace($0) })!
        return String(scalars[start...end])
    }

    private static func isBlank(_ line: String) -> Bool {
        line.unicodeScalars.allSatisfy(isSpace)
    }

    /// A finite decimal number: digits, an optional sign, point and exponent. Hexadecimal, "nan", "inf" and
    /// values too large for a Double (1e999) are refused.
    private static func parseDecimal(_ text: String) -> Double? {
        let allowed = text.unicodeScalars.allSatisfy { scalar in
            ("0"..."9").contains(scalar) || scalar == "." || scalar == "e" || scalar == "E"
                || scalar == "+" || scalar == "-"
        }
        guard allowed, let number = Double(text), number.isFinite else { return nil }
        return number
    }

    /// A value quoted for a one-line message: control characters escaped, long text shortened.
    private static func quoted(_ text: String) -> String {
        "\"" + escaped(text).replacingQuotes() + "\""
    }

    /// Text safe to show inside a one-line message: control, format (bidi overrides, BOM) and line or
    /// paragraph separator characters written as Swift escapes (\r, \u{2028}), at most 40 characters kept.
    private static func escaped(_ text: String) -> String {
        var out = ""
        for (index, scalar) in text.unicodeScalars.enumerated() {
            if index == 40 { out += "..."; break }
            switch scalar {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
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
}

/// The whole file as UTF-8 text, or a one-line reason it could not be read. (Outside `TaskFile`, whose
/// `read(path:)` would hide the C function.)
private func readText(path: String) -> Result<String, ReadFailure> {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return .failure(ReadFailure("cannot open the file: \(errorText())")) }
    defer { _ = close(descriptor) }
    var bytes = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            return .failure(ReadFailure("cannot read the file: \(errorText())"))
        }
        if count == 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
        // A task file is a few hundred bytes; refuse anything absurd before holding it all in memory.
        if bytes.count > 16 << 20 {
            return .failure(ReadFailure("the file is larger than 16 MiB; a task file is a small CSV"))
        }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    // Decoding replaces invalid sequences, so the text re-encodes differently exactly when it was not UTF-8.
    guard text.utf8.elementsEqual(bytes) else {
        return .failure(ReadFailure("the file is not UTF-8 text"))
    }
    return .success(text)
}

private func errorText() -> String {
    let code = errno
    guard let message = strerror(code) else { return "error \(code)" }
    return String(cString: message)
}

private extension String {
    func replacingQuotes() -> String {
        var out = ""
        for scalar in unicodeScalars { if scalar == "\"" { out += "\\\"" } else { out.unicodeScalars.append(scalar) } }
        return out
    }
}

private struct ReadFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
