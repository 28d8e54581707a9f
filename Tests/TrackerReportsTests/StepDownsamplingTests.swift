import Testing
import TrackerReports

/// `StepDownsampling`: a long step series is cut to what a chart's width shows, with every kept point a
/// real one and each pixel's lowest and highest values kept (docs/ui.md, "Interactive charts").
@Suite struct StepDownsamplingTests {
    struct Step: Equatable { let x: Int; let y: Double }

    @Test func aShortSeriesIsKeptWhole() {
        let points = (0..<400).map { Step(x: $0 * 7, y: Double($0 % 5)) }
        #expect(StepDownsampling.reduce(points, buckets: 100, x: { Double($0.x) }, value: { $0.y }) == points)
    }

    /// 3 million changes (the worst case: the greedy order flips at every iteration of a 3M-iteration run)
    /// come down to at most 4 points a bucket, each one of the input's, with each bucket's extremes.
    @Test func aFlippingSeriesKeepsEachBucketsExtremesAndStaysBounded() {
        let count = 3_000_000
        let points = (0..<count).map { Step(x: $0, y: $0 % 3 == 0 ? 0.5 : ($0 % 3 == 1 ? 1.0 : 0.75)) }
        let kept = StepDownsampling.reduce(points, buckets: 1000, x: { Double($0.x) }, value: { $0.y })
        #expect(kept.count <= 4000)
        #expect(kept.first == points.first && kept.last == points.last)
        #expect(zip(kept, kept.dropFirst()).allSatisfy { $0.x < $1.x }, "in x order, no repeats")
        #expect(kept.allSatisfy { points[$0.x] == $0 }, "every kept point is an input point, exact")
        // Every bucket of 3,000 iterations shows both its lowest (0.5) and its highest (1.0) value.
        for bucket in 0..<1000 {
            let inside = kept.filter { $0.x / 3000 == bucket }
            #expect(inside.contains { $0.y == 0.5 } && inside.contains { $0.y == 1.0 }, "bucket \(bucket)")
        }
    }

    /// A rare change inside a long flat stretch is never smoothed away: a step up and back down within
    /// one bucket keeps its peak, with its exact iteration.
    @Test func aNarrowStepSurvives() {
        var points = (0..<10_000).map { Step(x: $0 * 10, y: 1.0) }
        points[5_123] = Step(x: 51_230, y: 2.5)
        let kept = StepDownsampling.reduce(points, buckets: 100, x: { Double($0.x) }, value: { $0.y })
        #expect(kept.count <= 400)
        #expect(kept.contains(Step(x: 51_230, y: 2.5)))
        // The step back down shows within the same bucket (its last point), not later.
        let after = kept.first { $0.x > 51_230 }
        #expect(after?.y == 1.0 && (after?.x ?? .max) < 52_000)
    }
}
