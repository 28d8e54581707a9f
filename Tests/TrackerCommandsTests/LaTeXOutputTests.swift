import Foundation
import Testing
import TestSupport

/// `--format latex` of `compare`, `list`, `sql` and `query` through the built binary, each compiled by
/// pdflatex (scripts/test installs texlive-latex-base and texlive-latex-recommended, for booktabs). The
/// test fails, never skips, without pdflatex.
@Suite(.serialized) struct LaTeXOutputTests {
    /// Three QL and three DTEQL phi=5 runs at N = 5 with a label full of LaTeX's special characters.
    static func makeDatabase(in dir: TemporaryDirectory) throws -> String {
        let db = dir.path("latex.db")
        for seed in 1...3 {
            for algo in [["--algo", "ql"], ["--algo", "dteql", "--phi", "5"]] {
                let result = try CLI.run(["run", "--db", db, "--n", "5", "--seed", "\(seed)", "--iterations", "300",
                                          "--checkpoint-every", "300", "--quiet", "--label", "a&b_50%~$x^2$#{}\\"] + algo)
                #expect(result.status == 0, "\(result.stderr)")
            }
        }
        return db
    }

    /// pdflatex of a document holding `table`; returns its log on failure.
    static func compile(_ table: String, in dir: TemporaryDirectory, name: String) throws -> CLI.Result {
        let document = "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n" + table + "\\end{document}\n"
        try document.write(to: dir.url("\(name).tex"), atomically: true, encoding: .utf8)
        return try CLI.tool("/usr/bin/env", ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "\(name).tex"], in: dir.url)
    }

    @Test func eachListingCommandPrintsATableThatCompiles() throws {
        let dir = try TemporaryDirectory()
        let db = try Self.makeDatabase(in: dir)
        let hostile = "SELECT 'x&y_%$#{}~^\\' || char(27) || '[31m' || char(10) || '\\end{tabular}' AS \"a_b\", 1.5 AS r, '<>|--' AS t"
        let commands: [(String, [String])] = [
            ("compare", ["compare", "--db", db, "--n", "5", "--format", "latex", "--caption", "Table I: N = 5 & 50% {x}", "--latex-label", "tab:one"]),
            ("compare2", ["compare", "--db", db, "--format", "latex"]),
            ("list", ["list", "--db", db, "--format", "latex", "--columns", "run_id,algorithm,label,objective,iterations_to_optimal"]),
            ("sql", ["sql", hostile, "--db", db, "--format", "latex", "--caption", "Hostile ~ text"]),
            ("query", ["query", "runs_by_label", "--db", db, "--format", "latex", "--latex-label", "tab:labels"]),
        ]
        for (name, arguments) in commands {
            let result = try CLI.run(arguments)
            #expect(result.status == 0, "\(name): \(result.stderr)")
            #expect(result.stdout.contains("\\toprule") && result.stdout.contains("\\bottomrule"), "\(name)")
            #expect(!result.stdout.contains("\u{1B}"), "\(name)")
            let compiled = try Self.compile(result.stdout, in: dir, name: name)
            #expect(compiled.status == 0, "\(name) does not compile: \(compiled.stdout.suffix(2000))")
        }
        // The spread notation of the table output, in LaTeX.
        let tableI = try CLI.run(["compare", "--db", db, "--n", "5", "--format", "latex"]).stdout
        #expect(tableI.contains(" $\\pm$ "))
        #expect(tableI.contains("convergence time (iterations) & "))
        #expect(try CLI.run(["list", "--db", db, "--format", "latex"]).stdout.contains("a\\&b\\_50\\%\\textasciitilde{}\\$x\\textasciicircum{}2\\$\\#\\{\\}\\textbackslash{}"))
    }

    @Test func captionAndLabelGoWithLaTeXOnlyAndLabelsMustBeKeys() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("empty.db")
        _ = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "10", "--quiet"])
        let plain = try CLI.run(["list", "--db", db, "--caption", "x"])
        #expect(plain.status == 64 && plain.stderr.contains("--caption and --latex-label go with --format latex"))
        let badLabel = try CLI.run(["sql", "SELECT 1", "--db", db, "--format", "latex", "--latex-label", "a b}"])
        #expect(badLabel.status == 64 && badLabel.stderr.contains("--latex-label 'a b}'"))
        let query = try CLI.run(["query", "--list", "--format", "latex"])
        #expect(query.status == 0 && query.stdout.contains("runs\\_tidy"))
    }
}
