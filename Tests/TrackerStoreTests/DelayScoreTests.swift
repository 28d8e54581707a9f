import Foundation
import Learning
import Scheduling
import SQLite
import Testing
import TestSupport
@testable import TrackerStore

@Suite struct DelayScoreTests {
    /// A new frame is stored with D_rand, and compare's delay score is (D_rand - D) / (D_rand - D*) per run.
    @Test func aRunsDelayScoreIsItsDelayOnTheFramesScale() throws {
        let dir = try TemporaryDirectory()
        let store = try TrackerStore(path: dir.path("t.db"))
        let specification = smallSpecification(algorithm: .ql, iterations: 200)
        let summary = try finish(try RunSession.start(specification, in: store))
        let frame = specification.frame
        let stored = try store.database.scalar("SELECT random_mean_completion_s FROM frames")
        #expect(stored == .real(frame.meanCompletionOverAllOrders()))
        let optimum = try ExactOptimum.solve(frame).meanCompletionSeconds
        let random = frame.meanCompletionOverAllOrders()
        let runs = try store.compareRuns(CompareFilter())
        #expect(runs.count == 1)
        let score = try #require(runs.first?.delayScore)
        #expect(abs(score - (random - summary.meanCompletionSeconds) / (random - optimum)) <= 1e-12)
        let comparison = try #require(CompareTable.compare(runs).first)
        #expect(comparison.delayScore?.mean == score)
    }

    /// A database written before migration 0005 gets D_rand for its frames on the next open for writing;
    /// a read-only open of the upgraded file then sees it.
    @Test func framesOfAnOlderDatabaseGetItOnTheNextWriteOpen() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("old.db")
        do {
            let store = try TrackerStore(path: path)
            _ = try finish(try RunSession.start(smallSpecification(algorithm: .ql, iterations: 50), in: store))
            // As a tracker before migration 0005 left it: no such column, schema version 4.
            try store.database.execute("ALTER TABLE frames DROP COLUMN random_mean_completion_s")
            // Nor the tables of the migrations after it (0006: tags and notes; 0008: run labels; 0009: studies).
            try store.database.execute("DROP TABLE run_tags; DROP TABLE run_notes")
            try store.database.execute("""
                DROP TRIGGER run_labels_from_insert; DROP TRIGGER run_labels_from_update; DROP TABLE run_labels
                """)
            try store.database.execute("DROP TABLE study_rung_runs; DROP TABLE study_rungs; DROP TABLE study_trials; DROP TABLE studies")
            try store.database.setUserVersion(4)
        }
        let store = try TrackerStore(path: path)
        let expected = smallSpecification(algorithm: .ql).frame.meanCompletionOverAllOrders()
        #expect(try store.database.scalar("SELECT random_mean_completion_s FROM frames") == .real(expected))
        let reader = try TrackerStore(path: path, access: .readOnly)
        #expect(try reader.compareRuns(CompareFilter()).first?.delayScore != nil)
    }
}
