/// The aligned table form fitted to a terminal `width` (``Table/renderAligned()`` is this at an unbounded
/// width): when the rows are wider, the widest text columns are narrowed (never below
/// `minimumColumnWidth`) and their cells word-wrapped onto continuation lines, so a table of long
/// descriptions (`query --list`) reads without the terminal breaking its lines.
extension Table {
    public static let minimumColumnWidth = 12

    public func renderWrapped(width: Int) -> String {
        let columns = columns.map { terminalEscaped($0) }
        let texts = rows.map { $0.map { terminalEscaped(Table.displayText($0)) } }
        var widths = columns.map(\.count)
        for row in texts {
            for (index, text) in row.enumerated() { widths[index] = max(widths[index], text.count) }
        }
        let numeric = columns.indices.map { index in
            rows.contains { Table.isNumber($0[index]) } && rows.allSatisfy { Table.isNumber($0[index]) || $0[index] == .null }
        }
        let separators = 2 * max(columns.count - 1, 0)
        if widths.reduce(separators, +) > width {
            // A column keeps room for its header and its longest word (up to 24 characters), so names are
            // never broken while a description can wrap instead.
            let floors = columns.indices.map { index in
                max(Self.minimumColumnWidth, columns[index].count,
                    min(24, texts.map { $0[index].split(separator: " ").map(\.count).max() ?? 0 }.max() ?? 0))
            }
            // Narrow the widest text column, one character at a time, until the table fits or nothing can give.
            while widths.reduce(separators, +) > width {
                let candidates = widths.indices.filter { !numeric[$0] && widths[$0] > floors[$0] }
                guard let widest = candidates.max(by: { widths[$0] < widths[$1] }) else { break }
                widths[widest] -= 1
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, text in
                let padding = String(repeating: " ", count: max(widths[index] - text.count, 0))
                return numeric[index] ? padding + text : text + padding
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var out = line(columns) + "\n"
        out += line(widths.map { String(repeating: "-", count: $0) }) + "\n"
        for row in texts {
            let wrapped = row.enumerated().map { index, text in wordWrap(text, width: widths[index]) }
            let height = wrapped.map(\.count).max() ?? 1
            for lineIndex in 0..<height {
                out += line(wrapped.map { lineIndex < $0.count ? $0[lineIndex] : "" }) + "\n"
            }
        }
        return out
    }
}

/// `text` in lines of at most `width` characters, broken at spaces where it can be and inside a word
/// only when the word alone is longer than a line.
func wordWrap(_ text: String, width: Int) -> [String] {
    guard text.count > width, width > 0 else { return [text] }
    var lines: [String] = []
    var current = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: false) {
        var word = Substring(word)
        if current.isEmpty {
            // fall through to placing the word
        } else if current.count + 1 + word.count <= width {
            current += " " + word
            continue
        } else {
            lines.append(current)
            current = ""
        }
        while word.count > width {
            lines.append(String(word.prefix(width)))
            word = word.dropFirst(width)
        }
        current = String(word)
    }
    lines.append(current)
    return lines
}
