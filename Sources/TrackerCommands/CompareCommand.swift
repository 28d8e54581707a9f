import ArgumentParser
import Foundation
import Learning
import TrackerStore

/// How `tracker compare` shows the spread of a cell with at least three runs.
public enum CompareSpread: String, CaseIterable, ExpressibleByArgument, Sendable {
    case ci, iqr, none
}

/// `--by n`: Table II, one row per N.
public enum CompareGrouping: String, CaseIterable, ExpressibleByArgument, Sendable {
    case n
}

/// `tracker compare`: the paper's Table I (one N) or Table II (convergence time per N) from the run
/// summaries (queries/compare_runs.sql), aggregated by `CompareTable`.
public struct CompareCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare configurations: Table I for one N (--n), Table II of convergence times per N otherwise.",
        discussion: """
            Columns are configurations in the paper's order: DTEQL by phi descending, DTAQL by phi \
            descending, QL. Only finished runs are aggregated. Convergence time is the median of \
            iterations-to-optimal over the K runs, shown as >B when the median lies beyond the budget B. \
            With 3 or more runs a cell shows its spread (--spread). See docs/queries.md.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Table I for runs with N tasks.", valueName: "N"))
    var n: Int?

    @Option(help: ArgumentHelp("Table II: one row per N (the default without --n).", valueName: "n"))
    var by: CompareGrouping?

    @Option(help: ArgumentHelp("Only runs with this label.", valueName: "text"))
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

    @Option(help: "Output format.")
    var format: ListingFormat = .table

    public init() {}

    public func validate() throws {
        if n != nil, by != nil { throw ValidationError("Give --n N (Table I) or --by n (Table II), not both.") }
    }

    public func run() throws {
        print(try render(), terminator: "")
    }

    /// The table as text in the chosen format; `reproduce` writes it into its report too.
    func render() throws -> String {
        let store = try database.openStore(.readOnly)
        let filter = CompareFilter(n: n, label: label, algorithm: algo?.rawValue, since: since, iterations: iterations,
                                   includeUnfinished: includeUnfinished)
        let comparisons = CompareTable.compare(try store.compareRuns(filter))
        guard !comparisons.isEmpty else {
            throw CommandFailure("no \(includeUnfinished ? "" : "finished ")runs match" + (n.map { " with N=\($0)" } ?? "")
                + " (see `tracker list`)")
        }
        let output: String
        if format == .json {
            output = JSON.array(comparisons.map(jsonObject)).serialized(pretty: true) + "\n"
        } else if n != nil {
            output = tableI(comparisons).render(format)
        } else {
            output = tableII(comparisons).render(format)
        }
        return output
    }

    // MARK: Tables

    /// Table I: one column per configuration, one row per measure.
    func tableI(_ comparisons: [ConfigurationComparison]) -> Table {
        var table = Table(columns: ["measure"] + comparisons.map(\.configuration.name))
        table.rows = [
            [.string("normalized reward")] + comparisons.map { meanCell($0.normalizedReward) },
            [.string("deadline miss ratio")] + comparisons.map { meanCell($0.deadlineMissRatio) },
            [.string("average delay (s)")] + comparisons.map { meanCell($0.averageDelay) },
            [.string("convergence time (iterations)")] + comparisons.map { convergenceCell($0.convergence) },
            [.string("optimality ratio J*/J")] + comparisons.map { meanCell($0.optimalityRatio) },
            [.string("runs")] + comparisons.map(runsCell),
        ]
        return table
    }

    /// Table II: one row per N, one column per configuration, cells = convergence time.
    func tableII(_ comparisons: [ConfigurationComparison]) -> Table {
        let configurations = Set(comparisons.map(\.configuration)).sorted()
        let values = Dictionary(uniqueKeysWithValues: comparisons.map { ("\($0.n) \($0.configuration.name)", $0) })
        var table = Table(columns: ["n"] + configurations.map(\.name))
        for n in Set(comparisons.map(\.n)).sorted() {
            table.rows.append([.integer(n)] + configurations.map { configuration in
                values["\(n) \(configuration.name)"].map { convergenceCell($0.convergence) } ?? .null
            })
        }
        return table
    }

    func runsCell(_ comparison: ConfigurationComparison) -> JSON {
        comparison.unfinishedRuns == 0 ? .integer(comparison.runs)
            : .string("\(comparison.runs) (+\(comparison.unfinishedRuns) unfinished)")
    }

    /// A number alone, or `mean ± half-width` / `mean [p25, p75]` with enough runs.
    func meanCell(_ aggregate: MeanAggregate?) -> JSON {
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
    func convergenceCell(_ aggregate: ConvergenceAggregate?) -> JSON {
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
    func short(_ value: Double) -> String {
        if value.isFinite, abs(value) >= 1000 {
            return value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
        }
        return Table.formatNumber(value, significantDigits: 4)
    }

    // MARK: JSON

    /// One object per (N, configuration); see docs/queries.md for the keys.
    func jsonObject(_ comparison: ConfigurationComparison) -> JSON {
        var fields: [(String, JSON)] = [
            ("n", .integer(comparison.n)),
            ("configuration", .string(comparison.configuration.name)),
            ("algorithm", .string(comparison.configuration.algorithm)),
            ("phi", .integer(comparison.configuration.phi)),
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
        return .object(fields)
    }

    func interval(_ range: ClosedRange<Double>?) -> JSON {
        range.map { .array([.number($0.lowerBound), .number($0.upperBound)]) } ?? .null
    }
}
