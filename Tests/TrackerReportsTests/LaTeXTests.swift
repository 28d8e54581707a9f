import Foundation
import Testing
@testable import TrackerReports

@Suite struct LaTeXTests {
    @Test func theTenSpecialCharactersPrintThemselves() {
        #expect(latexEscaped("50% & $x_1$ #2 {a}") == ##"50\% \& \$x\_1\$ \#2 \{a\}"##)
        #expect(latexEscaped("~^\\") == "\\textasciitilde{}\\textasciicircum{}\\textbackslash{}")
        // What OT1 misprints (¡ ¿ —), what `\\` would take as its optional argument, what would become a dash.
        #expect(latexEscaped("<>|") == #"\textless{}\textgreater{}\textbar{}"#)
        #expect(latexEscaped("[1, 2]") == "{[}1, 2{]}")
        #expect(latexEscaped("a--b---c") == "a-{}-b-{}-{}-c")
        #expect(latexEscaped("1.3 ± 0.1") == #"1.3 $\pm$ 0.1"#)
        #expect(latexEscaped("café J*/J") == "café J*/J")
    }

    @Test func controlCharactersAndLineBreaksShowAsVisibleEscapes() {
        // ESC, a line break, CR LF (one Character in Swift), NUL, the bidi override U+202E: none may reach LaTeX raw.
        #expect(latexEscaped("a\u{1B}[31mb") == #"a\textbackslash{}u\{1B\}{[}31mb"#)
        #expect(latexEscaped("x\ny\r\nz\t") == #"x\textbackslash{}ny\textbackslash{}r\textbackslash{}nz\textbackslash{}t"#)
        #expect(latexEscaped("\u{0}\u{202E}") == #"\textbackslash{}u\{0\}\textbackslash{}u\{202E\}"#)
        for hostile in ["\\end{tabular}", "\\\\ \\hline", "}\\input{/etc/passwd}{", "\\def\\x{1}", "%\n\\bye"] {
            let escaped = latexEscaped(hostile)
            // No command of the input survives: every backslash is the start of one of ours.
            #expect(!escaped.contains("\\end") && !escaped.contains("\\input") && !escaped.contains("\\def")
                    && !escaped.contains("\\bye") && !escaped.contains("\\\\") && !escaped.contains("\n"), "\(escaped)")
        }
    }

    @Test func aTableIsBooktabsWithNumbersRightAligned() {
        let table = Table(columns: ["name_x", "value"], rows: [[.string("a&b"), .number(1.5)], [.string("c"), .null]])
        #expect(table.render(.latex) == """
            % \\usepackage{booktabs}
            \\begin{tabular}{lr}
            \\toprule
            name\\_x & value \\\\
            \\midrule
            a\\&b & 1.5 \\\\
            c &  \\\\
            \\bottomrule
            \\end{tabular}

            """)
        let float = table.renderLaTeX(LaTeXFloat(caption: "Runs: 100% {done}", label: "tab:runs"))
        #expect(float.hasPrefix("% \\usepackage{booktabs}\n\\begin{table}[htbp]\n\\centering\n\\caption{Runs: 100\\% \\{done\\}}\n\\label{tab:runs}\n\\begin{tabular}{lr}\n"))
        #expect(float.hasSuffix("\\end{tabular}\n\\end{table}\n"))
    }

    @Test func labelKeysAreWhatRefReadsBack() {
        #expect(LaTeXFloat.isValidLabel("tab:convergence-2_a/b.c+d"))
        for bad in ["", "a b", "a{b}", "a%", "a#", "a\\b", "tab~1", "é"] {
            #expect(!LaTeXFloat.isValidLabel(bad), "\(bad)")
        }
    }
}
