/// Reduces a step series (a value that holds from one point's x until the next point's x, such as a run's
/// greedy order) to what a chart `buckets` pixels wide can show, without smoothing a step away.
///
/// A series of at most `4 * buckets` points is kept whole. A longer one is cut into `buckets` equal spans
/// of x, and each span keeps its first point, the points of its smallest and largest value, and its last
/// point (each once, in x order). Every kept point is one of the input's, with its exact x and value, so
/// each drawn step is a real change; within one pixel, where a long run's greedy order flips back and
/// forth, the lowest and highest values it took are kept, and the value held into the next span is its
/// last. The result has at most `4 * buckets` points, whatever the input's length.
public enum StepDownsampling {
    public static func reduce<Point>(_ points: [Point], buckets: Int, x: (Point) -> Double, value: (Point) -> Double) -> [Point] {
        let buckets = max(1, buckets)
        guard points.count > 4 * buckets, let first = points.first, let last = points.last else { return points }
        let low = x(first), span = x(last) - low
        guard span > 0, span.isFinite else { return [first, last] }
        var kept: [Point] = []
        kept.reserveCapacity(4 * buckets)
        var start = 0
        while start < points.count {
            // The bucket of points[start], and every following point in it.
            let bucket = min(buckets - 1, Int((x(points[start]) - low) / span * Double(buckets)))
            var end = start + 1
            var lowest = start, highest = start
            while end < points.count, min(buckets - 1, Int((x(points[end]) - low) / span * Double(buckets))) == bucket {
                let v = value(points[end])
                if v < value(points[lowest]) { lowest = end }
                if v > value(points[highest]) { highest = end }
                end += 1
            }
            for index in Set([start, lowest, highest, end - 1]).sorted() { kept.append(points[index]) }
            start = end
        }
        return kept
    }
}
