import Foundation
import Learning
import TrackerApp
import TrackerStore

/// How the compare tables show the spread of a cell with at least three runs.
public enum CompareSpread: String, CaseIterable, Sendable {
    case ci, iqr, none
}

/// The paper's Tables I and II and the compare JSON, built from `CompareTable`'s comparisons. Shared by
/// `tracker compare` and the web dashboard so both show the same cells.
public struct CompareReport: Sendable {
    public var spread: CompareSpread
    /// How a cell rounds a mean to its spread in text and markdown; CSV and JSON keep full precision.
    public var rounding: SpreadRounding

    public init(spread: CompareSpread = .ci, rounding: SpreadRounding = SpreadRounding()) {
        self.spread = spread
        self.rounding = rounding
    }

    /// The comparisons in `format`: a JSON array of `jsonObject`s, else Table I (`singleN`) or Table II.
    /// CSV has numbers only: each configuration's value, then (with a spread) its bounds in the columns
    /// `NAME_lo` and `NAME_hi`.
    /// LaTeX is the text layout's cells (rounded, with their spread) in a booktabs table, captioned by `latex`.
    public func render(_ comparisons: [ConfigurationComparison], singleN: Bool, format: ListingFormat,
                       latex: LaTeXFloat = LaTeXFloat()) -> String {
        switch format {
        case .latex: return (singleN ? tableI(comparisons) : tableII(comparisons)).renderLaTeX(latex)
        case .json: return JSON.array(comparisons.map(jsonObject)).serialized(pretty: true) + "\n"
        case .csv: return (singleN ? tableI(comparisons, layout: .numeric) : tableII(comparisons, layout: .numeric)).render(format)
        case .table, .markdown: return (singleN ? tableI(comparisons) : tableII(comparisons)).render(format)
        }
    }

    // MARK: Tables

    /// How a table holds a cell with its spread: one rounded text (`1.313 ± 0.090`), or numbers in full
    /// precision with the bounds in two more columns per configuration (CSV).
    public enum Layout: Sendable {
        case text, numeric
    }

    /// `NAME`, then `NAME_lo` and `NAME_hi` in the numeric layout with a spread.
    func columnNames(_ name: String, layout: Layout) -> [String] {
        layout == .numeric && spread != .none ? [name, name + "_lo", name + "_hi"] : [name]
    }

    /// Table I: one column per configuration (the comparisons of one N), one row per measure.
    public func tableI(_ comparisons: [ConfigurationComparison], layout: Layout = .text) -> Table {
        var table = Table(columns: ["measure"] + comparisons.flatMap { columnNames($0.name, layout: layout) })
        func row(_ measure: String, _ cells: (ConfigurationComparison) -> [JSON]) -> [JSON] {
            [.string(measure)] + comparisons.flatMap(cells)
        }
        let blanks: [JSON] = columnNames("", layout: layout).dropFirst().map { _ in .null }
        table.rows = [
            row("normalized reward") { meanCells($0.normalizedReward, layout: layout) },
            row("deadline miss ratio") { meanCells($0.deadlineMissRatio, layout: layout) },
            row("average delay (s)") { meanCells($0.averageDelay, layout: layout) },
            row("convergence time (iterations)") { convergenceCells($0.convergence, layout: layout) },
            row("optimality ratio J*/J") { meanCells($0.optimalityRatio, layout: layout) },
            row("delay score") { meanCells($0.delayScore, layout: layout) },
        ]
        if layout == .numeric {
            table.rows.append(row("runs") { [.integer($0.runs)] + blanks })
            if comparisons.contains(where: { $0.unfinishedRuns > 0 }) {
                table.rows.append(row("unfinished runs") { [.integer($0.unfinishedRuns)] + blanks })
            }
        } else {
            table.rows.append(row("runs") { [runsCell($0)] })
        }
        return table
    }

    /// Table II: one row per N (or per value of the `--by` key), one column per configuration, cells =
    /// convergence time.
    public func tableII(_ comparisons: [ConfigurationComparison], layout: Layout = .text) -> Table {
        let columns = Dictionary(comparisons.map { ($0.column, $0.name) }, uniquingKeysWith: { first, _ in first })
            .sorted { $0.key < $1.key }
        let values = Dictionary(uniqueKeysWithValues: comparisons.map { (RowAndColumn(row: $0.by.value, column: $0.column), $0) })
        let blanks: [JSON] = columnNames("", layout: layout).map { _ in .null }
        var table = Table(columns: [comparisons.first?.by.key ?? "n"] + columns.flatMap { columnNames($0.value, layout: layout) })
        for row in Set(comparisons.map(\.by.value)).sorted() {
            table.rows.append([Self.rowLabel(row)] + columns.flatMap { column in
                values[RowAndColumn(row: row, column: column.key)].map { convergenceCells($0.convergence, layout: layout) } ?? blanks
            })
        }
        return table
    }

    private struct RowAndColumn: Hashable {
        let row: SettingValue
        let column: Int
    }

    /// A row's value as its first cell: numbers stay numbers, a missing setting reads `none`.
    static func rowLabel(_ value: SettingValue) -> JSON {
        value == .null ? .string(value.description) : JSON(value)
    }

    public func runsCell(_ comparison: ConfigurationComparison) -> JSON {
        comparison.unfinishedRuns == 0 ? .integer(comparison.runs)
            : .string("\(comparison.runs) (+\(comparison.unfinishedRuns) unfinished)")
    }

    /// A number alone, or `mean ± half-width` / `mean [p25, p75]` with enough runs, rounded by `rounding`.
    public func meanCell(_ aggregate: MeanAggregate?) -> JSON {
        guard let aggregate else { return .null }
        switch spread {
        case .ci:
            if let interval = aggregate.confidenceInterval {
                let halfWidth = (interval.upperBound - interval.lowerBound) / 2
                return .string(rounding.meanAndHalfWidth(aggregate.mean, halfWidth))
            }
        case .iqr:
            if let range = aggregate.interquartileRange {
                return .string(rounding.centerAndInterval(aggregate.mean, low: range.lowerBound, high: range.upperBound))
            }
        case .none:
            break
        }
        return .number(aggregate.mean)
    }

    /// The mean cell in `layout`: numeric is [mean, low, high] in full precision (bounds empty without
    /// enough runs), or [mean] without a spread.
    func meanCells(_ aggregate: MeanAggregate?, layout: Layout) -> [JSON] {
        guard layout == .numeric else { return [meanCell(aggregate)] }
        let bounds: ClosedRange<Double>?
        switch spread {
        case .ci: bounds = aggregate?.confidenceInterval
        case .iqr: bounds = aggregate?.interquartileRange
        case .none: return [.optional(aggregate?.mean)]
        }
        return [.optional(aggregate?.mean), .optional(bounds?.lowerBound), .optional(bounds?.upperBound)]
    }

    /// The median or `>B`, with its interval `[low, high]` (bounds may read `>B`) when asked and available.
    /// Iteration counts are printed in full, not rounded to the spread.
    public func convergenceCell(_ aggregate: ConvergenceAggregate?) -> JSON {
        guard let aggregate else { return .null }
        func text(_ value: Double) -> String { value.isInfinite ? ">\(aggregate.budget)" : short(value) }
        if let (low, high) = convergenceBounds(aggregate) {
            return .string("\(text(aggregate.median)) [\(text(low)), \(text(high))]")
        }
        return aggregate.exceedsBudget ? .string(text(aggregate.median)) : .number(aggregate.median)
    }

    func convergenceBounds(_ aggregate: ConvergenceAggregate) -> (Double, Double)? {
        switch spread {
        case .ci: return aggregate.confidenceInterval.map { ($0.lower, $0.upper) }
        case .iqr: return aggregate.interquartileRange.map { ($0.lower, $0.upper) }
        case .none: return nil
        }
    }

    /// The convergence cell in `layout`: numeric is [median, low, high] where a value beyond the budget
    /// (`>B` in text) is `inf`, which CSV readers take as a number.
    func convergenceCells(_ aggregate: ConvergenceAggregate?, layout: Layout) -> [JSON] {
        guard layout == .numeric else { return [convergenceCell(aggregate)] }
        let median: JSON = .optional(aggregate?.median)
        guard spread != .none else { return [median] }
        let bounds = aggregate.flatMap(convergenceBounds)
        return [median, .optional(bounds?.0), .optional(bounds?.1)]
    }

    /// Four significant digits, but iteration counts in full (`Table.shortNumber`).
    public func short(_ value: Double) -> String {
        Table.shortNumber(value)
    }

    // MARK: JSON

    /// One object per (N, configuration); see docs/queries.md for the keys.
    public func jsonObject(_ comparison: ConfigurationComparison) -> JSON {
        var fields: [(String, JSON)] = [
            ("n", .integer(comparison.n)),
            ("configuration", .string(comparison.name)),
            ("algorithm", .string(comparison.configuration.algorithm)),
            ("phi", .integer(comparison.configuration.phi)),
            ("settings", .object(comparison.configuration.settings.map { ($0.key, JSON($0.value)) })),
        ]
        if comparison.by.key != "n" {
            fields.append(("by", .object([("key", .string(comparison.by.key)), ("value", JSON(comparison.by.value))])))
        }
        fields += [
            ("runs", .integer(comparison.runs)),
            ("unfinished_runs", .integer(comparison.unfinishedRuns)),
        ]
        func add(_ key: String, _ aggregate: MeanAggregate?) {
            fields.append((key, .optional(aggregate?.mean)))
            switch spread {
            case .ci: fields.append((key + "_ci", interval(aggregate?.confidenceInterval)))
            case .iqr: fields.append((key + "_iqr", interval(aggregate?.interquartileRange)))
            case .none: break
            }
        }
        add("normalized_reward", comparison.normalizedReward)
        add("deadline_miss_ratio", comparison.deadlineMissRatio)
        add("average_delay_s", comparison.averageDelay)
        let convergence = comparison.convergence
        func finite(_ value: Double?) -> JSON { value.flatMap { $0.isFinite ? JSON.number($0) : nil } ?? .null }
        fields.append(("convergence_iterations", finite(convergence?.median)))
        fields.append(("convergence_exceeds_budget", convergence.map { .bool($0.exceedsBudget) } ?? .null))
        fields.append(("converged_runs", .optional(convergence?.converged)))
        fields.append(("budget", .optional(convergence?.budget)))
        switch spread {
        case .ci:
            let ci = convergence?.confidenceInterval
            fields.append(("convergence_iterations_ci", ci.map { .array([finite($0.lower), finite($0.upper)]) } ?? .null))
            fields.append(("convergence_iterations_ci_coverage", .optional(ci?.coverage)))
        case .iqr:
            let range = convergence?.interquartileRange
            fields.append(("convergence_iterations_iqr", range.map { .array([finite($0.lower), finite($0.upper)]) } ?? .null))
        case .none:
            break
        }
        add("optimality_ratio", comparison.optimalityRatio)
        add("delay_score", comparison.delayScore)
        return .object(fields)
    }

    public func interval(_ range: ClosedRange<Double>?) -> JSON {
        range.map { .array([.number($0.lowerBound), .number($0.upperBound)]) } ?? .null
    }
}
