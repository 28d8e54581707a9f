import Foundation

/// The caption and `\label` key of a LaTeX table (`--caption`, `--latex-label`). With neither the listing
/// is a bare `tabular` to put inside a document's own float; with either it is a `table` float.
public struct LaTeXFloat: Sendable, Equatable {
    public var caption: String?
    public var label: String?

    public init(caption: String? = nil, label: String? = nil) {
        self.caption = caption
        self.label = label
    }

    /// Whether `key` is safe inside `\label{...}` and `\ref{...}` as written: ASCII letters, digits and
    /// `: . _ - / +`. Anything else (spaces, braces, `#`, `%`, `\`, `~`) would break or change the
    /// command, so the CLI refuses it instead of escaping it (an escaped key is not the key one types
    /// into `\ref`).
    public static func isValidLabel(_ key: String) -> Bool {
        !key.isEmpty && key.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || ":._-/+".unicodeScalars.contains(scalar))
        }
    }
}

extension Table {
    /// A booktabs table (`\toprule`, `\midrule`, `\bottomrule`; the document needs
    /// `\usepackage{booktabs}`): columns whose cells are all numbers (or empty) right-aligned, the others
    /// left-aligned, every cell and column name through ``latexEscaped(_:)``. Numbers are written as the
    /// aligned table writes them, and a compare cell keeps its spread notation (`1.313 $\pm$ 0.090`,
    /// `1840 [1200, 2600]`, `>25600`).
    public func renderLaTeX(_ float: LaTeXFloat = LaTeXFloat()) -> String {
        let numeric = columns.indices.map { index in
            !rows.isEmpty && rows.allSatisfy { Table.isNumber($0[index]) || $0[index] == .null }
        }
        let spec = numeric.map { $0 ? "r" : "l" }.joined()
        var body = "\\begin{tabular}{\(spec.isEmpty ? "l" : spec)}\n\\toprule\n"
        body += columns.map(latexEscaped).joined(separator: " & ") + " \\\\\n\\midrule\n"
        for row in rows {
            body += row.map { latexEscaped(Table.displayText($0)) }.joined(separator: " & ") + " \\\\\n"
        }
        body += "\\bottomrule\n\\end{tabular}\n"
        let header = "% \\usepackage{booktabs}\n"
        guard float.caption != nil || float.label != nil else { return header + body }
        var out = header + "\\begin{table}[htbp]\n\\centering\n"
        if let caption = float.caption { out += "\\caption{\(latexEscaped(caption))}\n" }
        if let label = float.label { out += "\\label{\(label)}\n" }
        return out + body + "\\end{table}\n"
    }
}

/// Text as LaTeX prints it, in text mode and in any tabular cell: the ten special characters `& % $ # _ { }
/// ~ ^ \` become commands that print them; `< > |`, which the default OT1 font encoding prints as other
/// glyphs, are written as `\textless{}`, `\textgreater{}`, `\textbar{}`; `[` and `]` are braced so a cell
/// starting a row is never read as the optional argument of the `\\` before it; `--` is split so it stays
/// two hyphens; `±` is `$\pm$`. Characters a terminal must not receive raw (controls, line breaks, bidi
/// overrides: ``terminalEscaped(_:keepingBackslashes:)``) appear as their visible Swift escape (`\n`,
/// `\u{1B}`), escaped in turn, so stored text can neither run LaTeX commands nor end a row or the table.
public func latexEscaped(_ text: String) -> String {
    var out = ""
    var previous: Character?
    for character in text {
        defer { previous = character }
        switch character {
        case "&", "%", "$", "#", "_", "{", "}": out += "\\" + String(character)
        case "~": out += "\\textasciitilde{}"
        case "^": out += "\\textasciicircum{}"
        case "\\": out += "\\textbackslash{}"
        case "<": out += "\\textless{}"
        case ">": out += "\\textgreater{}"
        case "|": out += "\\textbar{}"
        case "[", "]": out += "{" + String(character) + "}"
        case "±": out += "$\\pm$"
        case "-": out += previous == "-" ? "{}-" : "-"
        default:
            if character.unicodeScalars.contains(where: { needsTerminalEscape($0) || $0 == "\n" || $0 == "\r" || $0 == "\t" }) {
                out += String(character).unicodeScalars.map { scalar -> String in
                    let visible = terminalEscaped(String(scalar), keepingBackslashes: true)
                    return visible == String(scalar) ? visible : visible.map { latexEscaped(String($0)) }.joined()
                }.joined()
            } else {
                out.append(character)
            }
        }
    }
    return out
}
