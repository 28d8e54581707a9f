import Foundation
import Learning
import Scheduling
import SQLite
import Testing
import TestSupport
@testable import TrackerApp
@testable import TrackerStore

@Suite struct RunSessionTests {
    @Test(arguments: [(Algorithm.ql, Aggregation.mean), (.dteql, .mean), (.dtaql, .mean), (.dtaql, .pool)])
    func interruptedAndResumedRunEqualsAStraightRun(algorithm: Algorithm, aggregation: Aggregation) throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        let specification = smallSpecification(algorithm: algorithm, aggregation: aggregation)
        // In a database of its own: a database holds one run per configuration.
        let straightStore = try TrackerStore(path: dir.path("straight.db"))
        let straight = try RunSession.start(specification, in: straightStore)
        let straightSummary = try finish(straight)

        // The same settings, stopped twice at odd iterations and resumed.
        let stopped = try RunSession.start(specification, in: store)
        var stops = [700, 1901]
        let end = try stopped.run(shouldStop: { stopped.learner.iteration == stops.first })
        guard case .interrupted(let at) = end else { Issue.record("expected an interruption"); return }
        #expect(at == 700)
        #expect(try store.run(stopped.record.runID).status == .interrupted)
        stops.removeFirst()
        guard case .session(let second) = try RunSession.resume(stopped.record.runID, in: store) else {
            Issue.record("expected a session"); return
        }
        #expect(second.learner.iteration == 700)
        _ = try second.run(shouldStop: { second.learner.iteration == stops.first })
        guard case .session(let third) = try RunSession.resume(stopped.record.runID, in: store) else {
            Issue.record("expected a session"); return
        }
        let resumedSummary = try finish(third)

        #expect(results(resumedSummary) == results(straightSummary))
        #expect(try results(store.summary(ofRun: stopped.record.id)) == results(straightSummary))
        let straightRows = try metricRows(of: straight.record.id, in: straightStore)
        #expect(straightRows.count == 3000)
        #expect(try metricRows(of: stopped.record.id, in: store) == straightRows)
        #expect(try store.run(stopped.record.runID).status == .finished)
        #expect(try store.run(stopped.record.runID).doneIterations == 3000)
        #expect(try store.hyperparameters(of: store.run(stopped.record.runID)).aggregation == aggregation)
    }

    /// The aggregation is part of a run's identity only when it is not the default: a mean DTAQL run keeps
    /// the hash older builds gave it (this one is from a database recorded before the option existed, by
    /// `tracker run --algo dtaql --phi 10 --n 5 --seed 4 --iterations 2000 --delta 16`).
    @Test func poolChangesTheConfigurationHashAndMeanKeepsTheOldOne() throws {
        let frame = FrameGenerator.generate(count: 5, seed: 4)
        var h = Hyperparameters(algorithm: .dtaql, phi: 10, delta: 16, iterations: 2000, seed: 4)
        let mean = RunSpecification(frame: frame, frameSource: .generated(seed: 4), hyperparameters: h, trackerVersion: "")
        #expect(mean.configHash == "7d647b30d67bf753b6cebcee82a15b19b5c119b9a7604833d92b1dfbca45a503")
        h.aggregation = .pool
        let pool = RunSpecification(frame: frame, frameSource: .generated(seed: 4), hyperparameters: h, trackerVersion: "")
        #expect(pool.configHash != mean.configHash)

        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        let session = try RunSession.start(pool, in: store)
        _ = try finish(session)
        #expect(try store.database.scalar("SELECT aggregation FROM run_params WHERE run = ?", [.integer(session.record.id)]) == .text("pool"))
        #expect(try store.run(session.record.runID).configHash == pool.configHash)
    }

    @Test func resumingAFinishedRunChangesNothing() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        let session = try RunSession.start(smallSpecification(algorithm: .ql, iterations: 500), in: store)
        _ = try finish(session)
        let before = try Data(contentsOf: dir.url("t.db"))
        guard case .alreadyFinished(let record) = try RunSession.resume(session.record.runID, in: store) else {
            Issue.record("a finished run must not resume"); return
        }
        #expect(record.status == .finished)
        #expect(try Data(contentsOf: dir.url("t.db")) == before)
    }

    @Test func extendingAFinishedRunEqualsALongerRun() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        // In a database of its own: extended, the short run becomes the same configuration, and a database
        // holds one run per configuration (see aSecondRunOfAConfigurationIsRefusedAndWritesNothing).
        let longStore = try TrackerStore(path: dir.path("long.db"))
        let long = try RunSession.start(smallSpecification(algorithm: .dteql, iterations: 1500), in: longStore)
        let longSummary = try finish(long)
        let short = try RunSession.start(smallSpecification(algorithm: .dteql, iterations: 1000), in: store)
        _ = try finish(short)
        guard case .session(let more) = try RunSession.resume(short.record.runID, in: store, additionalIterations: 500) else {
            Issue.record("expected a session"); return
        }
        let extended = try finish(more)
        #expect(extended.qTableSHA256 == longSummary.qTableSHA256)
        // Its identity is now the longer run's, so sweeps and divergent_hashes treat them as equal.
        #expect(try store.run(key: short.record.id).configHash == longStore.run(key: long.record.id).configHash)
        #expect(try store.run(key: short.record.id).plannedIterations == 1500)
        #expect(try metricRows(of: short.record.id, in: store) == metricRows(of: long.record.id, in: longStore))
    }

    /// `plannedIterations:` (`resume --to`): a finished DTAQL run keeping one checkpoint, given a budget that
    /// is no multiple of delta, restarts at its final iteration and ends as the longer run; a budget not
    /// above what it has done is refused with nothing changed.
    @Test func aNewBudgetContinuesFromTheFinalCheckpoint() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        let longStore = try TrackerStore(path: dir.path("long.db"))
        let longSummary = try finish(try RunSession.start(smallSpecification(algorithm: .dtaql, iterations: 1700), in: longStore))
        var specification = smallSpecification(algorithm: .dtaql, iterations: 1000, checkpointEvery: 300)
        specification.keepCheckpoints = 1
        let short = try RunSession.start(specification, in: store)
        _ = try finish(short)
        #expect(try store.checkpoints(ofRun: short.record.id).map(\.iteration) == [1000])
        #expect(throws: StoreError.self) {
            _ = try RunSession.resume(short.record.runID, in: store, plannedIterations: 1000)
        }
        #expect(throws: StoreError.self) {
            _ = try RunSession.resume(short.record.runID, in: store, additionalIterations: 5, plannedIterations: 2000)
        }
        #expect(try store.run(key: short.record.id).status == .finished)
        #expect(try store.run(key: short.record.id).plannedIterations == 1000)
        guard case .session(let more) = try RunSession.resume(short.record.runID, in: store, plannedIterations: 1700) else {
            Issue.record("expected a session"); return
        }
        #expect(more.learner.iteration == 1000)
        #expect(more.learner.hyperparameters.iterations == 1700)
        let extended = try finish(more)
        #expect(extended.qTableSHA256 == longSummary.qTableSHA256)
        #expect(extended.iterationsToOptimal == longSummary.iterationsToOptimal)
        #expect(extended.stableIteration == longSummary.stableIteration)
        #expect(extended.distinctActions == longSummary.distinctActions)
        #expect(try store.run(key: short.record.id).configHash == smallSpecification(algorithm: .dtaql, iterations: 1700).configHash)
        #expect(try metricRows(of: short.record.id, in: store).count == 1700)
    }

    @Test func iterationMetricsViewMatchesTheLearnersObservations() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        let specification = smallSpecification(algorithm: .dteql, iterations: 400)
        let session = try RunSession.start(specification, in: store)
        _ = try finish(session)
        // Replay the same learner in memory and compare every observation with the view.
        let learner = try Learner(frame: specification.frame, hyperparameters: specification.hyperparameters,
                                  optimumObjective: try ExactOptimum.solve(specification.frame).objective)
        let statement = try store.database.prepare("""
            SELECT iteration, epsilon, action, reward, greedy_action, normalized_reward, objective, misses,
                   mean_completion_s, distinct_actions
            FROM iteration_metrics WHERE run = ? ORDER BY iteration
            """)
        let rows = try statement.rows([.integer(session.record.id)]) { row in
            Observation(iteration: row.int(0), epsilon: row.double(1), action: row.int(2), reward: row.double(3),
                        greedyAction: row.int(4), normalizedReward: row.double(5), objective: row.double(6),
                        misses: row.int(7), meanCompletionSeconds: row.double(8), distinctActions: row.int(9))
        }
        #expect(rows.count == 400)
        for row in rows {
            let expected = learner.step()
            #expect(row == expected, "iteration \(row.iteration)")
            if row != expected { break }
        }
    }

    @Test func framesAreSharedAndReproducible() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        let a = try RunSession.start(smallSpecification(algorithm: .ql, iterations: 10), in: store)
        let b = try RunSession.start(smallSpecification(algorithm: .dtaql, iterations: 10), in: store)
        #expect(a.record.frameID == b.record.frameID)
        let stored = try store.loadFrame(id: a.record.frameID)
        #expect(stored.frame == smallSpecification(algorithm: .ql).frame)
        #expect(stored.source == .generated(seed: 11))
        #expect(stored.optimalObjective == (try ExactOptimum.solve(stored.frame).objective))
    }

    @Test func badSettingsWriteNothing() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        var specification = smallSpecification(algorithm: .dteql)
        specification.hyperparameters.phi = 10_000   // > 6! = 720
        #expect(throws: LearningError.self) { try RunSession.start(specification, in: store) }
        specification = smallSpecification(algorithm: .ql)
        specification.checkpointEvery = 0
        #expect(throws: StoreError.self) { try RunSession.start(specification, in: store) }
        #expect(try store.runs().isEmpty)
        #expect(try store.database.scalar("SELECT count(*) FROM frames") == .integer(0))
    }

    @Test func keepCheckpointsPrunesOldOnesAndGCKeepsTheLast() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        var specification = smallSpecification(algorithm: .ql, iterations: 2000, checkpointEvery: 200)
        specification.keepCheckpoints = 2
        let pruned = try RunSession.start(specification, in: store)
        _ = try finish(pruned)
        #expect(try store.checkpoints(ofRun: pruned.record.id).map(\.iteration) == [1800, 2000])

        let full = try RunSession.start(smallSpecification(algorithm: .ql, iterations: 2000, seed: 4, checkpointEvery: 200), in: store)
        _ = try finish(full)
        #expect(try store.checkpoints(ofRun: full.record.id).count == 10)
        #expect(try store.collectGarbage().checkpoints == 9 + 1)
        #expect(try store.checkpoints(ofRun: full.record.id).map(\.iteration) == [2000])
    }

    @Test func deleteRemovesEverythingOfTheRun() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        let session = try RunSession.start(smallSpecification(algorithm: .dteql, iterations: 300), in: store)
        _ = try finish(session)
        try store.deleteRuns([session.record])
        for table in ["runs", "run_params", "metrics", "checkpoints", "run_summaries"] {
            #expect(try store.database.scalar("SELECT count(*) FROM \(table)") == .integer(0), "\(table)")
        }
        #expect(throws: StoreError.self) { try store.run(session.record.runID) }
    }

    @Test func runIDsResolveByUniquePrefix() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        // Enough runs that some ids share a first hex digit: a prefix must never pick the wrong one.
        let sessions = try (0..<24).map { seed in
            try RunSession.start(smallSpecification(algorithm: .ql, iterations: 5, seed: UInt64(seed)), in: store)
        }
        for session in sessions {
            let id = session.record.runID
            #expect(id.count == 8)
            #expect(try store.run(id).id == session.record.id)
            #expect(try store.run(key: session.record.id).runID == id)
            #expect(try store.run(String(id.prefix(7))).id == session.record.id)
        }
        let firstDigits = Dictionary(grouping: sessions.map(\.record.runID), by: { $0.prefix(1) })
        if let shared = firstDigits.first(where: { $0.value.count > 1 }) {
            #expect(throws: StoreError.self) { try store.run(String(shared.key)) }
        }
        #expect(throws: StoreError.self) { try store.run("zzzz-no-such-run") }
    }

    /// One run per configuration: a second start of the same settings is refused, names the first run and
    /// writes nothing; the same settings in another database give the same rows.
    @Test func aSecondRunOfAConfigurationIsRefusedAndWritesNothing() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        let specification = smallSpecification(algorithm: .ql, iterations: 2000, checkpointEvery: 100_000)
        let first = try RunSession.start(specification, in: store)
        _ = try finish(first)
        let before = try Data(contentsOf: dir.url("t.db"))
        #expect {
            _ = try RunSession.start(specification, in: store)
        } throws: { error in
            guard case StoreError.configurationTaken(let runID, let status, let resumable) = error else { return false }
            return runID == first.record.runID && status == "finished" && !resumable
        }
        #expect(try store.database.scalar("SELECT count(*) FROM runs") == .integer(1))
        #expect(try Data(contentsOf: dir.url("t.db")) == before)

        let other = try TrackerStore(path: dir.path("other.db"))
        let second = try RunSession.start(specification, in: other)
        _ = try finish(second)
        #expect(try metricRows(of: second.record.id, in: other) == metricRows(of: first.record.id, in: store))

        // Extending a shorter run of the same settings would make it a second copy: refused too.
        let short = try RunSession.start(smallSpecification(algorithm: .ql, iterations: 1500, checkpointEvery: 100_000), in: store)
        _ = try finish(short)
        #expect(throws: StoreError.self) {
            _ = try RunSession.resume(short.record.runID, in: store, additionalIterations: 500)
        }
        #expect(try store.run(short.record.runID).plannedIterations == 1500)
        #expect(try store.run(short.record.runID).status == .finished)
    }
}
