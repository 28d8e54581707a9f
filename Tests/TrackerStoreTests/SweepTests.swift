import Foundation
import Learning
import SQLite
import Testing
import TestSupport
@testable import TrackerApp
@testable import TrackerStore

@Suite struct SweepTests {
    static let smallSpec = """
        { "label": "t", "n": [5, 6], "frames": 2, "iterations": 1500,
          "configurations": [ {"algorithm": "dteql", "phi": [60, 20]}, {"algorithm": "dtaql", "phi": [10], "delta": [128]},
                              {"algorithm": "ql"} ],
          "hyperparameters": { "learning_rate": [0.1, 0.2] },
          "checkpoint_every": 500 }
        """

    @Test func theGridExpandsInAFixedOrder() throws {
        let spec = try SweepSpec.parse(Self.smallSpec, source: "s.json")
        let items = try spec.items()
        // 2 N x 2 frames x 1 seed x (2 + 1 + 1) configurations x 2 learning rates
        #expect(items.count == 2 * 2 * 4 * 2)
        #expect(items.map(\.index) == Array(0..<items.count))
        #expect(items[0].summary == "dteql phi=60 N=5 frame-seed=1 seed=1")
        #expect(items[0].specification.hyperparameters.learningRate == 0.1)
        #expect(items[1].specification.hyperparameters.learningRate == 0.2)
        #expect(Set(items.map(\.specification.configHash)).count == items.count)
        // Every configuration runs on the same frames.
        let frames = Set(items.filter { $0.specification.frame.count == 5 }.map { $0.specification.frame.fingerprint })
        #expect(frames.count == 2)
        // Shards partition the grid, each built on its own: every count-th item from index - 1.
        let shards = try (1...3).map { try spec.items(shard: ($0, 3)) }
        #expect(shards.flatMap { $0.map(\.index) }.sorted() == Array(0..<items.count))
        for (offset, shard) in shards.enumerated() {
            #expect(shard.map(\.specification.configHash) == items.filter { $0.index % 3 == offset }.map(\.specification.configHash))
        }
    }

    @Test func theShippedPaperSpecParses() throws {
        let text = try #require(EmbeddedSQL.sweeps.first { $0.name == "paper" }?.sql)
        let spec = try SweepSpec.parse(text, source: "paper.json")
        #expect(spec.taskCounts == [6, 7, 8])
        #expect(spec.frameSeeds.count == 32)
        #expect(try spec.items().count == 3 * 32 * 6)
    }

    /// The literal reading is the paper grid with epsilon fixed at eps_min and DTAQL pooling, nothing else.
    @Test func theShippedLiteralSpecDiffersFromThePaperSpecOnlyInTheReading() throws {
        let paper = try SweepSpec.parse(try #require(EmbeddedSQL.sweeps.first { $0.name == "paper" }?.sql), source: "paper.json")
        let literal = try SweepSpec.parse(
            try #require(EmbeddedSQL.sweeps.first { $0.name == "paper-literal" }?.sql), source: "paper-literal.json")
        #expect(literal.label == "paper-literal")
        let paperItems = try paper.items(), literalItems = try literal.items()
        #expect(literalItems.count == paperItems.count)
        for (p, l) in zip(paperItems, literalItems) {
            var expected = p.specification.hyperparameters
            expected.epsilonStart = expected.epsilonMin
            if expected.algorithm == .dtaql { expected.aggregation = .pool }
            #expect(l.specification.hyperparameters == expected)
            #expect(l.specification.frame.fingerprint == p.specification.frame.fingerprint)
            #expect(l.specification.configHash != p.specification.configHash)
        }
        #expect(literalItems.contains { $0.specification.hyperparameters.aggregation == .pool })
    }

    static let malformed: [(String, String)] = [
        ("", "not valid JSON"),
        ("[1]", "must be a JSON object"),
        (#"{"n": [6]}"#, "'configurations' is missing"),
        (#"{"n": [6], "configurations": []}"#, "non-empty"),
        (#"{"n": [6], "configurations": [{"algorithm": "sarsa"}]}"#, "sarsa"),
        (#"{"n": [1], "configurations": [{"algorithm": "ql"}]}"#, "'n' must be between"),
        (#"{"n": [6], "colour": 1, "configurations": [{"algorithm": "ql"}]}"#, "unknown key 'colour'"),
        (#"{"n": [6], "iterations": 0, "configurations": [{"algorithm": "ql"}]}"#, "'iterations'"),
        (#"{"n": [6], "iterations": 2.5, "configurations": [{"algorithm": "ql"}]}"#, "whole number"),
        (#"{"n": [6], "iterations": true, "configurations": [{"algorithm": "ql"}]}"#, "whole number"),
        (#"{"n": [5], "configurations": [{"algorithm": "dteql", "phi": [500]}]}"#, "phi"),
        (#"{"n": [6], "configurations": [{"algorithm": "ql"}], "hyperparameters": {"learning_rate": [2]}}"#, "learning-rate"),
        (#"{"n": [6], "configurations": [{"algorithm": "ql"}], "hyperparameters": {"speed": [2]}}"#, "unknown key 'speed'"),
        (#"{"n": [6], "configurations": [{"algorithm": "ql"}], "hyperparameters": {"lr": [0.5], "learning_rate": [0.5]}}"#,
         "'learning_rate' and 'lr' name one setting (lr); give it once"),
        (#"{"n": [6], "configurations": [{"algorithm": "ql"}], "hyperparameters": {"gamma": []}}"#, "'hyperparameters.gamma' must not be empty"),
        (#"{"n": [6], "configurations": [{"algorithm": "ql"}], "hyperparameters": {"reward": ["big"]}}"#, "reward"),
        (#"{"n": [6], "frames": 2, "frame_seeds": [1], "configurations": [{"algorithm": "ql"}]}"#, "not both"),
        (#"{"n": [6], "configurations": [{"algorithm": "ql"}], "model": {"rate": -1}}"#, "rate"),
        (#"{"n": [6], "configurations": [{"algorithm": "dtaql", "aggregation": ["max"]}]}"#, "'max' is not mean or pool"),
        (#"{"n": [6], "configurations": [{"algorithm": "ql", "aggregation": ["pool"]}]}"#, "applies to dtaql only"),
    ]

    @Test(arguments: malformed.indices)
    func malformedSpecsAreOneLineErrors(index: Int) {
        let (text, fragment) = Self.malformed[index]
        #expect {
            try SweepSpec.parse(text, source: "bad.json")
        } throws: { error in
            let message = String(describing: error)
            return message.hasPrefix("bad.json: ") && message.contains(fragment) && !message.contains("\n")
        }
    }

    @Test func runningASweepAgainSkipsFinishedAndResumesInterruptedRuns() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("sweep.db")
        let items = try SweepSpec.parse(Self.smallSpec, source: "s.json").items()
        let runner = SweepRunner(path: path, items: items, jobs: 2, trackerVersion: "test")

        // Stop the first pass once a few thousand iterations are done: some runs finish, some are cut.
        let progress = runner.makeProgress()
        let first = try runner.run(progress: progress, shouldStop: { progress.iterationsDone > 9000 })
        #expect(first.interrupted > 0)
        // A run stopped mid-way was started all the same: every run in the database came from this pass.
        #expect(try TrackerStore(path: path).runs().count == first.started)
        #expect(first.resumed == 0 && first.skipped == 0)
        let afterStop = try runner.plan()
        #expect(afterStop.contains { if case .resume = $0 { return true } else { return false } })
        #expect(afterStop.contains { if case .skip = $0 { return true } else { return false } })

        let second = try runner.run(shouldStop: { false })
        #expect(second.failures.isEmpty)
        #expect(second.resumed == first.interrupted)
        #expect(second.skipped == first.started + first.resumed - first.interrupted)
        #expect(second.started + second.resumed + second.skipped == items.count)
        #expect(progress.iterationsComputed == progress.iterationsDone)
        // Nothing left to do: no iteration is computed, so no speed can be claimed.
        let idle = runner.makeProgress()
        let third = try runner.run(progress: idle, shouldStop: { false })
        #expect(idle.iterationsComputed == 0 && idle.iterationsDone == idle.totalIterations)
        #expect(third.skipped == items.count)
        #expect(third.started == 0)

        let store = try TrackerStore(path: path)
        #expect(try store.runs().count == items.count)
        #expect(try store.runs().allSatisfy { $0.status == .finished })
        #expect(try store.database.scalar("SELECT count(*) FROM metrics") == .integer(Int64(items.count * 1500)))
    }

    @Test func fourShardsMergedEqualOneSweep() throws {
        let dir = try TemporaryDirectory()
        let spec = try SweepSpec.parse(Self.smallSpec, source: "s.json")
        let items = try spec.items()
        let whole = dir.path("whole.db")
        _ = try SweepRunner(path: whole, items: items, jobs: 2, trackerVersion: "test").run(shouldStop: { false })
        let merged = try TrackerStore(path: dir.path("merged.db"))
        for shard in 1...4 {
            let path = dir.path("shard\(shard).db")
            _ = try SweepRunner(path: path, items: spec.items(shard: (shard, 4)), jobs: 1,
                                trackerVersion: "test").run(shouldStop: { false })
            let report = try merged.merge(from: path)
            #expect(report.runsAdded == items.count / 4)
        }
        // Merging a shard again adds nothing.
        #expect(try merged.merge(from: dir.path("shard2.db")).runsAdded == 0)

        func results(_ store: TrackerStore) throws -> [String] {
            try store.database.prepare("""
                SELECT r.config_hash, s.qtable_sha256, s.objective, s.iterations_to_optimal, s.stable_iteration,
                       (SELECT count(*) FROM metrics AS m WHERE m.run = r.id),
                       (SELECT count(*) FROM checkpoints AS c WHERE c.run = r.id)
                FROM runs AS r JOIN run_summaries AS s ON s.run = r.id ORDER BY r.config_hash
                """).rows { row in (0..<7).map { String(describing: row.value(Int32($0))) }.joined(separator: "|") }
        }
        let wholeStore = try TrackerStore(path: whole)
        #expect(try results(merged) == results(wholeStore))
        #expect(try merged.database.scalar("PRAGMA integrity_check") == .text("ok"))
        #expect(try merged.database.scalar("PRAGMA foreign_key_check") == nil)
    }

    @Test func mergeRefusesANewerOrForeignFile() throws {
        let dir = try TemporaryDirectory()
        let out = try TrackerStore(path: dir.path("out.db"))
        let future = dir.path("future.db")
        do {
            let store = try TrackerStore(path: future)
            try store.database.setUserVersion(Schema.latestVersion + 1)
        }
        #expect(throws: StoreError.self) { try out.merge(from: future) }
        let foreign = dir.path("foreign.db")
        do { try Database(path: foreign).execute("CREATE TABLE t (x INTEGER)") }
        #expect(throws: StoreError.self) { try out.merge(from: foreign) }
        #expect(try out.runs().isEmpty)
    }
}
