import ArgumentParser
import Foundation
import Learning
import TrackerReports
import TrackerStore

extension CompareSpread: ExpressibleByArgument {}

/// `tracker compare`: the paper's Table I (one N) or Table II (convergence time per N) from the run
/// summaries (queries/compare_runs.sql), aggregated by `CompareTable`.
public struct CompareCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare configurations: Table I for one N (--n), Table II of convergence times per N (or per --by KEY) otherwise.",
        discussion: """
            Columns are configurations in the paper's order: DTEQL by phi descending, DTAQL by phi \
            descending, QL. A column holds only runs equal in every setting but the frame and the learner \
            seed; where runs of one algorithm and phi differ (say in --lr), each configuration gets its own \
            column, named by what differs (DTEQL phi=500 lr=0.9). Only finished runs are aggregated. Convergence time is the median of \
            iterations-to-optimal over the K runs, shown as >B when the median lies beyond the budget B. \
            With 3 or more runs a cell shows its spread (--spread); table and markdown round the spread to \
            --digits significant digits and the mean to the same decimal place (1.313 ± 0.090 at 2). CSV and \
            JSON keep every number in full precision; CSV gives the bounds their own columns (NAME_lo, \
            NAME_hi). See docs/queries.md.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Table I for runs with N tasks.", valueName: "N"))
    var n: Int?

    @Option(help: ArgumentHelp(
        "Table II: one row per value of this setting (n, the default without --n; or lr, beta, eps_min, delta, iterations, reward, twin_noise, rate, zeta, ..., or a tag as tag.KEY), one column per remaining configuration.",
        valueName: "key"))
    var by: String?

    @Option(name: .customLong("where"), help: ArgumentHelp(
        "Only runs whose setting KEY equals VALUE (numbers compare as numbers; none matches an unset one), or whose tag is VALUE (tag.KEY=VALUE). Repeatable.",
        valueName: "KEY=VALUE"))
    var conditions: [String] = []

    @Option(help: ArgumentHelp("Only runs with this label (among their labels: a run adopted by a sweep belongs to its label too).", valueName: "text"))
    var label: String?

    @Option(help: "Only this algorithm.")
    var algo: Algorithm?

    @Option(help: ArgumentHelp("Only runs created at or after this UTC time (e.g. 2026-11-29).", valueName: "time"))
    var since: String?

    @Option(help: ArgumentHelp("Only runs with this planned number of iterations.", valueName: "K"))
    var iterations: Int?

    @Flag(name: .customLong("include-unfinished"), help: "Also count runs that did not finish (never aggregated).")
    var includeUnfinished = false

    @Option(help: "Spread of cells with 3+ runs: ci (95% interval), iqr (25th-75th percentile) or none.")
    var spread: CompareSpread = .ci

    @Option(help: ArgumentHelp(
        "Significant digits of a cell's spread in table and markdown output (\(SpreadRounding.digitRange.lowerBound)-\(SpreadRounding.digitRange.upperBound)); the mean is rounded to the same decimal place.",
        valueName: "N"))
    var digits: Int = SpreadRounding.defaultDigits

    @Option(help: "Output format.")
    var format: ListingFormat = .table

    @OptionGroup var latex: LaTeXOptions

    @Option(help: ArgumentHelp(
        "The best trials of this `tracker tune` study (at the highest rung each reached) side by side with the paper's defaults at the study's top budget, where those runs are recorded.",
        valueName: "name"))
    var study: String?

    @Option(help: ArgumentHelp("With --study: how many of its best trials (1-50).", valueName: "K"))
    var top: Int = 3

    public init() {}

    public func validate() throws {
        if study != nil, n != nil || by != nil || label != nil || algo != nil || since != nil || iterations != nil || !conditions.isEmpty {
            throw ValidationError("--study chooses the runs (its best trials and the paper's defaults); it takes none of --n, --by, --label, --algo, --since, --iterations, --where.")
        }
        guard (1...50).contains(top) else { throw ValidationError("--top must be in 1...50, got \(top).") }
        if n != nil, by.map(RunTags.normalizedSettingKey) == "n" { throw ValidationError("Give --n N (Table I) or --by n (Table II), not both.") }
        if let by = by.map(RunTags.normalizedSettingKey), ["algorithm", "phi"].contains(by) {
            throw ValidationError("--by \(by): the columns are algorithm and phi already; give another setting.")
        }
        _ = try settingConditions(conditions)
        try latex.validate(for: format)
        guard SpreadRounding.digitRange.contains(digits) else {
            throw ValidationError("--digits must be in \(SpreadRounding.digitRange.lowerBound)...\(SpreadRounding.digitRange.upperBound), got \(digits).")
        }
    }

    public func run() throws {
        try printListing(try render(), format)
    }

    /// The table as text in the chosen format; `reproduce` writes it into its report too.
    func render() throws -> String {
        let store = try database.openStore(.readOnly)
        if let study {
            let (rows, singleN) = try studyComparison(study, top: top, in: store)
            let comparisons = CompareTable.compare(rows, by: "n")
            return CompareReport(spread: spread, rounding: SpreadRounding(digits: digits))
                .render(comparisons, singleN: singleN, format: format, latex: latex.float)
        }
        let filter = CompareFilter(n: n, label: label, algorithm: algo?.rawValue, since: since, iterations: iterations,
                                   includeUnfinished: includeUnfinished, conditions: try settingConditions(conditions))
        let grouping = RunTags.normalizedSettingKey(by ?? "n")  // tag.é typed either way is one tag
        try store.checkSettingKeys([grouping], option: "--by")
        let comparisons = CompareTable.compare(try store.compareRuns(filter, splittingBy: grouping), by: grouping)
        guard !comparisons.isEmpty else {
            throw CommandFailure("no \(includeUnfinished ? "" : "finished ")runs match" + (n.map { " with N=\($0)" } ?? "")
                + (conditions.isEmpty ? "" : " where \(conditions.joined(separator: " and "))") + " (see `tracker list`)")
        }
        return CompareReport(spread: spread, rounding: SpreadRounding(digits: digits))
            .render(comparisons, singleN: n != nil && by == nil, format: format, latex: latex.float)
    }
}
