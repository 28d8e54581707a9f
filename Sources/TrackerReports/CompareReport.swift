import Foundation
import Learning
import TrackerStore

/// How the compare tables show the spread of a cell with at least three runs.
public enum CompareSpread: String, CaseIterable, Sendable {
    case ci, iqr, none
}

/// The paper's Tables I and II and the compare JSON, built from `CompareTable`'s comparisons. Shared by
/// `tracker compare` and the web dashboard so both show the same cells.
public struct CompareReport: Sendable {
    public var spread: CompareSpread

    public init(spread: CompareSpread = .ci) {
        self.spread = spread
    }

    /// The comparisons in `format`: a JSON array of `jsonObject`s, else Table I (`singleN`) or Table II.
    public func render(_ comparisons: [ConfigurationComparison], singleN: Bool, format: ListingFormat) -> String {
        if format == .json {
            return JSON.array(comparisons.map(jsonObject)).serialized(pretty: true) + "\n"
        } else if singleN {
            return tableI(comparisons).render(format)
        } else {
            return tableII(comparisons).render(format)
        }
    }

    // MARK: Tables

    /// Table I: one column per configuration (the comparisons of one N), one row per measure.
    public func tableI(_ comparisons: [ConfigurationComparison]) -> Table {
        var table = Table(columns: ["measure"] + comparisons.map(\.name))
        table.rows = [
            [.string("normalized reward")] + comparisons.map { meanCell($0.normalizedReward) },
            [.string("deadline miss ratio")] + comparisons.map { meanCell($0.deadlineMissRatio) },
            [.string("average delay (s)")] + comparisons.map { meanCell($0.averageDelay) },
            [.string("convergence time (iterations)")] + comparisons.map { convergenceCell($0.convergence) },
            [.string("optimality ratio J*/J")] + comparisons.map { meanCell($0.optimalityRatio) },
            [.string("delay score")] + comparisons.map { meanCell($0.delayScore) },
            [.string("runs")] + comparisons.map(runsCell),
        ]
        return table
    }

    /// Table II: one row per N (or per value of the `--by` key), one column per configuration, cells =
    /// convergence time.
    public func tableII(_ comparisons: [ConfigurationComparison]) -> Table {
        let columns = Dictionary(comparisons.map { ($0.column, $0.name) }, uniquingKeysWith: { first, _ in first })
            .sorted { $0.key < $1.key }
        let values = Dictionary(uniqueKeysWithValues: comparisons.map { (RowAndColumn(row: $0.by.value, column: $0.column), $0) })
        var table = Table(columns: [comparisons.first?.by.key ?? "n"] + columns.map(\.value))
        for row in Set(comparisons.map(\.by.value)).sorted() {
            table.rows.append([Self.rowLabel(row)] + columns.map { column in
                values[RowAndColumn(row: row, column: column.key)].map { convergenceCell($0.convergence) } ?? .null
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

    /// A number alone, or `mean ± half-width` / `mean [p25, p75]` with enough runs.
    public func meanCell(_ aggregate: MeanAggregate?) -> JSON {
        guard let aggregate else { return .null }
        switch spread {
        case .ci:
            if let interval = aggregate.confidenceInterval {
                let halfWidth = (interval.upperBound - interval.lowerBound) / 2
                return .string("\(short(aggregate.mean)) ± \(short(halfWidth))")
            }
        case .iqr:
            if let range = aggregate.interquartileRange {
                return .string("\(short(aggregate.mean)) [\(short(range.lowerBound)), \(short(range.upperBound))]")
            }
        case .none:
            break
        }
        return .number(aggregate.mean)
    }

    /// The median or `>B`, with its interval `[low, high]` (bounds may read `>B`) when asked and available.
    public func convergenceCell(_ aggregate: ConvergenceAggregate?) -> JSON {
        guard let aggregate else { return .null }
        func text(_ value: Double) -> String { value.isInfinite ? ">\(aggregate.budget)" : short(value) }
        var bounds: (Double, Double)?
        switch spread {
        case .ci: bounds = aggregate.confidenceInterval.map { ($0.lower, $0.upper) }
        case .iqr: bounds = aggregate.interquartileRange.map { ($0.lower, $0.upper) }
        case .none: bounds = nil
        }
        if let (low, high) = bounds {
            return .string("\(text(aggregate.median)) [\(text(low)), \(text(high))]")
        }
        return aggregate.exceedsBudget ? .string(text(aggregate.median)) : .number(aggregate.median)
    }

    /// Four significant digits, but iteration counts in full: 10350, not 1.035e+04.
    public func short(_ value: Double) -> String {
        if value.isFinite, abs(value) >= 1000 {
            return value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
        }
        return Table.formatNumber(value, significantDigits: 4)
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
