import Foundation
import Learning
import SQLite
import Testing
import TestSupport
import TrackerApp
@testable import TrackerStore

/// Runs are aggregated only with runs of the same configuration: everything that determines results but
/// the frame's tasks and the learner seed. Checked on every aggregating path: `CompareTable`, the plot's
/// curves and the saved queries behind them.
@Suite(.serialized) struct ConfigurationTests {
    /// Three plain DTEQL phi=40 runs (learner seeds 1-3), one with lr 0.9, one with a 2,000-iteration budget,
    /// one plain DTAQL run and one DTEQL run whose checkpoint interval differs (that must not split).
    static func makeUnlikeRuns(in dir: TemporaryDirectory) throws -> TrackerStore {
        let store = try TrackerStore(path: dir.path("unlike.db"))
        func start(_ algorithm: Algorithm = .dteql, seed: UInt64, iterations: Int = 1500, lr: Double? = nil,
                   checkpointEvery: Int = 500) throws {
            var specification = smallSpecification(algorithm: algorithm, n: 5, iterations: iterations, seed: seed,
                                                   checkpointEvery: checkpointEvery)
            if let lr { specification.hyperparameters.learningRate = lr }
            _ = try finish(try RunSession.start(specification, in: store))
        }
        for seed: UInt64 in 1...3 { try start(seed: seed) }
        try start(seed: 4, checkpointEvery: 300)
        try start(seed: 5, lr: 0.9)
        try start(seed: 6, iterations: 2000)
        try start(.dtaql, seed: 7)
        return store
    }

    @Test func compareNeverPoolsUnlikeRunsAndNamesWhatDiffers() throws {
        let dir = try TemporaryDirectory()
        let store = try Self.makeUnlikeRuns(in: dir)
        let table = CompareTable.compare(try store.compareRuns(CompareFilter(n: 5)))
        #expect(table.map(\.name) == ["DTEQL phi=40", "DTEQL phi=40 lr=0.9", "DTEQL phi=40 iterations=2000", "DTAQL phi=40"])
        #expect(table.map(\.runs) == [4, 1, 1, 1])
        #expect(table.map(\.column) == [0, 1, 2, 3])
        for comparison in table {
            #expect(comparison.configuration.value(of: "lr") != nil)
            #expect(comparison.configuration.value(of: "checkpoint_every") == nil)
            // delta only means something to DTAQL.
            #expect((comparison.configuration.value(of: "delta") != nil) == (comparison.configuration.algorithm == "dtaql"))
        }
        #expect(table[1].configuration.value(of: "lr") == .real(0.9))
        #expect(table[2].convergence?.budget == 2000)
    }

    @Test func plotCurvesNeverPoolUnlikeRuns() throws {
        let dir = try TemporaryDirectory()
        let store = try Self.makeUnlikeRuns(in: dir)
        let curves = try store.convergenceCurves(n: 5, label: nil, metric: .normalizedReward, points: 50, logarithmic: false)
        #expect(curves.map(\.name) == ["DTEQL phi=40", "DTEQL phi=40 lr=0.9", "DTEQL phi=40 iterations=2000", "DTAQL phi=40"])
        #expect(curves.map(\.runs) == [4, 1, 1, 1])
        #expect(curves[2].points.last?.iteration == 1999)
        #expect(curves[0].points.last?.iteration == 1499)
    }

    @Test func theSavedQueriesGroupByTheWholeConfiguration() throws {
        let dir = try TemporaryDirectory()
        let store = try Self.makeUnlikeRuns(in: dir)
        let summary = try store.run(try SavedQueries.named("configuration_summary"), parameters: ["n": "5"])
        let runs = try #require(summary.column("runs"))
        // DTEQL: lr 0.1 (4 runs), lr 0.9, 2,000 iterations; then DTAQL.
        #expect(summary.rows.map { $0[runs] } == [.integer(4), .integer(1), .integer(1), .integer(1)])

        let curve = try store.run(try SavedQueries.named("convergence_curve"), parameters: ["n": "5", "points": "10"])
        let configuration = try #require(curve.column("configuration")), algorithm = try #require(curve.column("algorithm"))
        let groups = Set(curve.rows.map { "\($0[algorithm]) \($0[configuration])" })
        #expect(groups.count == 4)
        let runsColumn = try #require(curve.column("runs"))
        #expect(curve.rows.map { $0[runsColumn] }.contains(.integer(4)))
        #expect(!curve.rows.map { $0[runsColumn] }.contains(.integer(6)))
    }

    /// The saved queries spell the configuration out column by column (SQL cannot group by `p.*`): every
    /// results-determining run_params column must be in both. A migration adding a column to run_params
    /// fails here until the queries name it; `tracker compare` and `plot` pick it up by themselves.
    @Test func everyRunParamsColumnIsPartOfTheSavedQueriesConfiguration() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("schema.db"))
        let columns = try store.database.prepare("SELECT name FROM pragma_table_info('run_params')").rows([]) { $0.text(0) }
        #expect(columns.contains("learning_rate"))
        for name in ["convergence_curve", "configuration_summary", "compare_by"] {
            let sql = try SavedQueries.named(name).sql
            for column in columns where !["run", "checkpoint_every", "keep_checkpoints"].contains(column) {
                #expect(sql.contains("p.\(column)"), "queries/\(name).sql does not group by run_params.\(column)")
            }
        }
    }

    /// A run_params column added later (as issue 15's `aggregation` was) splits configurations without any
    /// change to the grouping code.
    @Test func aNewRunParamsColumnSplitsConfigurationsByItself() throws {
        let dir = try TemporaryDirectory()
        let store = try Self.makeUnlikeRuns(in: dir)
        try store.database.execute("ALTER TABLE run_params ADD COLUMN future_setting TEXT NOT NULL DEFAULT 'a'")
        try store.database.execute("""
            UPDATE run_params SET future_setting = 'b'
            WHERE run = (SELECT id FROM runs WHERE algorithm = 'dteql' AND seed = 2)
            """)
        let table = CompareTable.compare(try store.compareRuns(CompareFilter(n: 5)))
        #expect(table.map(\.name).contains("DTEQL phi=40 future_setting=b"))
        #expect(table.first?.runs == 3)
        #expect(table.first?.configuration.value(of: "future_setting") == .text("a"))
    }

    /// The real one: a pooled DTAQL run is its own configuration, named for its aggregation.
    @Test func poolAndMeanDTAQLRunsAreNeverPooled() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        // Two mean runs on different learner seeds: a database holds one run per configuration.
        for (aggregation, seed) in [(Aggregation.mean, UInt64(3)), (.pool, 3), (.mean, 4)] {
            _ = try finish(try RunSession.start(
                smallSpecification(algorithm: .dtaql, n: 5, iterations: 100, seed: seed, phi: 4, aggregation: aggregation), in: store))
        }
        let table = CompareTable.compare(try store.compareRuns(CompareFilter(n: 5)))
        #expect(table.map(\.name) == ["DTAQL phi=4", "DTAQL phi=4 aggregation=pool"])
        #expect(table.map(\.runs) == [2, 1])
    }

    @Test func namesAreUniqueAndOnlyNameWhatDiffers() {
        func configuration(_ algorithm: String = "dteql", phi: Int = 500, lr: Double = 0.1, iterations: Int64 = 25600) -> Configuration {
            Configuration(algorithm: algorithm, phi: phi, settings: [
                Setting(key: "iterations", value: .integer(iterations)), Setting(key: "lr", value: .real(lr)),
            ])
        }
        let plain = configuration(), fast = configuration(lr: 0.9), short = configuration(iterations: 2000)
        let both = configuration(lr: 0.9, iterations: 2000), ql = configuration("ql", phi: 0)
        let names = ConfigurationNames.names([plain, fast, short, both, ql, plain])
        #expect(names[plain] == "DTEQL phi=500")
        #expect(names[fast] == "DTEQL phi=500 lr=0.9")
        #expect(names[short] == "DTEQL phi=500 iterations=2000")
        #expect(names[both] == "DTEQL phi=500 iterations=2000 lr=0.9")
        #expect(names[ql] == "QL")
        #expect(Set(names.values).count == names.count)
        #expect(ConfigurationNames.ordered([ql, both, short, fast, plain]).map(\.name)
                == ["DTEQL phi=500", "DTEQL phi=500 lr=0.9", "DTEQL phi=500 iterations=2000", "DTEQL phi=500 iterations=2000 lr=0.9", "QL"])
        // Alike configurations keep the plain names.
        #expect(ConfigurationNames.names([plain, ql]) == [plain: "DTEQL phi=500", ql: "QL"])
        #expect(SettingValue.real(5000).description == "5000" && SettingValue.real(0.9).description == "0.9")
    }

    /// The vocabulary (docs/settings.md) names every setting `--where` and `--by` accept, and the other
    /// way round: a migration that adds a run_params column must add it to `SettingVocabulary` too.
    @Test func theVocabularyNamesEveryRecordedSettingAndNoOther() throws {
        let dir = try TemporaryDirectory()
        let store = try Self.makeUnlikeRuns(in: dir)
        let keys = try store.settingKeys()
        #expect(keys == SettingVocabulary.settings.map(\.name))
        var seen: Set<String> = []
        for setting in SettingVocabulary.settings {
            for name in [setting.name] + setting.aliases {
                #expect(seen.insert(name).inserted, "\(name) names two settings")
                #expect(SettingVocabulary.canonical(name) == setting.name)
                #expect(RunTags.normalizedSettingKey(name) == setting.name)
            }
            #expect(setting.aliases.contains(setting.column) || setting.name == setting.column, "\(setting.name)")
        }
    }

    /// `--by KEY` for every recorded key: rows are the key's values, and no cell mixes runs that differ in
    /// anything but the frame, the seed and (across rows) the key.
    @Test func compareByEveryRecordedKeyKeepsCellsHomogeneous() throws {
        let dir = try TemporaryDirectory()
        let store = try Self.makeUnlikeRuns(in: dir)
        let runs = try store.compareRuns(CompareFilter())
        let settings = try store.runSettings()
        let keys = try store.settingKeys()
        #expect(keys.starts(with: ["algorithm", "n", "phi", "iterations", "rate", "cpu_hz", "zeta", "delta", "lr"]))
        for key in keys where key != "algorithm" && key != "phi" {
            let table = CompareTable.compare(runs, by: key)
            #expect(table.reduce(0) { $0 + $1.runs } == runs.count, "\(key)")
            #expect(table.allSatisfy { $0.by.key == key })
            let rows = Set(table.map(\.by.value))
            let values = Set(runs.map { settings[$0.runID]?.value(of: key) ?? .null })
            #expect(rows == values, "\(key): rows \(rows) values \(values)")
            // Each column is one configuration but for the key: equal names mean equal configurations.
            #expect(Set(table.map(\.name)).count == Set(table.map(\.configuration)).count, "\(key)")
        }
        let byLR = CompareTable.compare(runs, by: "lr")
        #expect(byLR.map(\.by.value) == [.real(0.1), .real(0.1), .real(0.1), .real(0.9)])
        #expect(byLR.map(\.name) == ["DTEQL phi=40", "DTEQL phi=40 iterations=2000", "DTAQL phi=40", "DTEQL phi=40"])
        #expect(byLR.map(\.runs) == [4, 1, 1, 1])
        // The lr 0.9 run sits in the plain DTEQL column, on its own row.
        #expect(byLR[3].column == byLR[0].column)
    }

    /// `--where KEY=VALUE` for every recorded key, with each run's own value: the run is kept and every
    /// kept run has that value.
    @Test func whereWorksForEveryRecordedKey() throws {
        let dir = try TemporaryDirectory()
        let store = try Self.makeUnlikeRuns(in: dir)
        let settings = try store.runSettings()
        let sample = try #require(settings.values.first { $0.configuration.value(of: "lr") == .real(0.9) })
        for setting in sample.all {
            let text = setting.value == .null ? "none" : setting.value.description
            let runs = try store.compareRuns(CompareFilter(conditions: [SettingCondition(key: setting.key, value: text)]))
            #expect(runs.contains { $0.runID == sample.runID }, "\(setting.key)=\(text)")
            #expect(runs.allSatisfy { settings[$0.runID]?.value(of: setting.key) == setting.value }, "\(setting.key)")
        }
        let both = try store.compareRuns(CompareFilter(conditions: [
            try SettingCondition(parsing: "lr=0.90"), try SettingCondition(parsing: "algorithm=dteql")]))
        #expect(both.map(\.runID) == [sample.runID])
        #expect(try store.compareRuns(CompareFilter(conditions: [try SettingCondition(parsing: "reward=negative")])).isEmpty)
        #expect(throws: StoreError.self) { try store.compareRuns(CompareFilter(conditions: [SettingCondition(key: "bogus", value: "1")])) }
        for bad in ["lr", "=1", "lr="] { #expect(throws: StoreError.self) { try SettingCondition(parsing: bad) } }
        #expect(try SettingCondition(parsing: "label=a=b").value == "a=b")
    }

    /// `compare_by`, the saved query behind `compare --by`, counts the same cells as `CompareTable`.
    @Test func theCompareBySavedQueryAgreesWithCompare() throws {
        let dir = try TemporaryDirectory()
        let store = try Self.makeUnlikeRuns(in: dir)
        let runs = try store.compareRuns(CompareFilter())
        for key in ["lr", "iterations", "n"] {
            let result = try store.run(try SavedQueries.named("compare_by"), parameters: ["by": key])
            let count = try #require(result.column("runs"))
            let swift = CompareTable.compare(runs, by: key)
            #expect(result.rows.count == swift.count, "\(key)")
            #expect(result.rows.map { $0[count] }.sorted { "\($0)" < "\($1)" }
                    == swift.map { SQLiteValue.integer(Int64($0.runs)) }.sorted { "\($0)" < "\($1)" }, "\(key)")
        }
    }
}
