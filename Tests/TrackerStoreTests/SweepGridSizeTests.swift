import Foundation
import Testing
import TrackerApp
import TrackerStore

/// Issue 10 section 5: a small spec can describe an astronomically large grid. It is counted from the axis
/// lengths before anything is expanded, refused above `SweepSpec.maximumRuns` with the count in the
/// message, and a shard builds only its own slice.
@Suite struct SweepGridSizeTests {
    /// A spec of `n` task counts x `frames` frames x the given explicit lists, as JSON text.
    static func spec(n: [Int] = [4], frames: Int = 1, seeds: Int = 1, listLength: Int = 1, lists: [String] = []) -> String {
        let values = (1...listLength).map { "\(Double($0) / Double(listLength + 1))" }.joined(separator: ",")
        let hyper = lists.map { "\"\($0)\": [\(values)]" }.joined(separator: ", ")
        return """
            {"n": [\(n.map(String.init).joined(separator: ","))], "frames": \(frames),
             "seeds": [\((0..<seeds).map(String.init).joined(separator: ","))],
             "configurations": [{"algorithm": "ql"}], "hyperparameters": {\(hyper)}}
            """
    }

    static func refusal(_ text: String) -> String? {
        do {
            _ = try SweepSpec.parse(text, source: "grid.json")
            return nil
        } catch {
            return String(describing: error)
        }
    }

    /// About 1e11 runs from a spec of a few kilobytes: on main this expanded until memory ran out.
    @Test func aGridOfAHundredBillionRunsIsRefusedAtOnceWithItsCount() throws {
        let text = Self.spec(n: Array(2...11), frames: 100_000, seeds: 1_000, listLength: 100, lists: ["learning_rate"])
        let started = Date()
        let message = try #require(Self.refusal(text))
        #expect(message == "grid.json: the grid has 100000000000 runs, more than the limit of 1000000 runs per sweep; split it into several specs")
        #expect(Date().timeIntervalSince(started) < 10)
    }

    /// Axis lengths whose product does not fit in 64 bits: the count saturates into a message, never a trap.
    @Test func aGridWhoseCountOverflowsIsRefused() throws {
        let text = Self.spec(n: Array(2...12), frames: 100_000, seeds: 10_000, listLength: 10_000,
                             lists: ["learning_rate", "discount", "epsilon_start"])
        let message = try #require(Self.refusal(text))
        #expect(message.contains("the grid has more than 9223372036854775807 runs, more than the limit of 1000000"))
    }

    /// One past the limit is refused; the count is exact.
    @Test func oneRunPastTheLimitIsRefused() throws {
        // 11 N x 100,000 frames = 1,100,000; 7 N x 100,000 frames x 2 seeds = 1,400,000.
        #expect(Self.refusal(Self.spec(n: Array(2...12), frames: 100_000))?.contains("the grid has 1100000 runs") == true)
        #expect(Self.refusal(Self.spec(n: Array(2...8), frames: 100_000, seeds: 2))?.contains("the grid has 1400000 runs") == true)
    }

    /// The count is the number of items the grid expands to, configurations of different sizes included.
    @Test func theCountMatchesTheExpansion() throws {
        let text = """
            {"n": [4, 5], "frames": 3, "seeds": [1, 2],
             "configurations": [{"algorithm": "dteql", "phi": [2, 3, 4]}, {"algorithm": "dtaql", "phi": [2], "delta": [4, 8], "aggregation": ["mean", "pool"]}, {"algorithm": "ql"}],
             "hyperparameters": {"learning_rate": [0.1, 0.2], "reward": ["ratio", "negative"]}}
            """
        let spec = try SweepSpec.parse(text, source: "grid.json")
        // 2 N x 3 frames x 2 seeds x (3 + 4 + 1) configurations x 2 x 2
        #expect(spec.runCount == 2 * 3 * 2 * 8 * 4)
        #expect(try spec.items().count == spec.runCount)
    }

    @Test func checkedProductSaysWhenItOverflows() {
        #expect(SweepSpec.checkedProduct([]) == 1)
        #expect(SweepSpec.checkedProduct([3, 0, Int.max]) == 0)
        #expect(SweepSpec.checkedProduct([Int.max, 1]) == Int.max)
        #expect(SweepSpec.checkedProduct([Int.max, 2]) == nil)
        #expect(SweepSpec.checkedProduct([1 << 32, 1 << 31]) == nil)
        #expect(SweepSpec.checkedProduct([-1]) == nil)
    }

    /// A shard of a large grid builds only its slice, in grid order.
    @Test func aShardBuildsOnlyItsSlice() throws {
        let spec = try SweepSpec.parse(Self.spec(n: [4, 5], frames: 1_000, seeds: 5), source: "grid.json")
        #expect(spec.runCount == 10_000)
        let shard = try spec.items(shard: (3, 1_000))
        #expect(shard.map(\.index) == Array(Swift.stride(from: 2, to: 10_000, by: 1_000)))
        var visited = 0
        try spec.forEachItem(shard: (1, 10_000)) { item in
            #expect(item.index == 0)
            visited += 1
        }
        #expect(visited == 1)
    }
}
