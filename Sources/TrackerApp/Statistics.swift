import Foundation
import TrackerStore

/// The small statistics `tracker compare` needs, as pure functions. `+infinity` is a legal value in the
/// order statistics (median, percentiles, order-statistic intervals): it stands for "did not converge
/// within the budget", which ranks above every converged time.
public enum Statistics {
    /// The arithmetic mean; nil for no values.
    public static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// The sample standard deviation (divisor n - 1); nil for fewer than two values.
    public static func standardDeviation(_ values: [Double]) -> Double? {
        guard values.count >= 2, let mean = mean(values) else { return nil }
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (squares / Double(values.count - 1)).squareRoot()
    }

    /// The median: the middle value, or the mean of the two middle ones (infinite if either is).
    public static func median(_ values: [Double]) -> Double? {
        percentile(values, 0.5)
    }

    /// The p-th quantile (p in [0, 1]) by linear interpolation between order statistics: the value at
    /// 0-based rank p * (n - 1) (Hyndman-Fan type 7, the default of R, NumPy and spreadsheets).
    public static func percentile(_ values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = min(max(p, 0), 1) * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = rank - Double(lower)
        if fraction == 0 || sorted[lower] == sorted[upper] { return sorted[lower] }
        if sorted[upper].isInfinite { return sorted[upper] }
        return sorted[lower] + fraction * (sorted[upper] - sorted[lower])
    }

    /// The two-sided `level` confidence interval of the mean from Student's t: mean ± t(1 - (1-level)/2,
    /// n-1) · s / √n. Nil for fewer than two values.
    public static func meanConfidenceInterval(_ values: [Double], level: Double = 0.95) -> ClosedRange<Double>? {
        guard values.count >= 2, let mean = mean(values), let deviation = standardDeviation(values) else { return nil }
        let t = studentTQuantile(1 - (1 - level) / 2, degreesOfFreedom: Double(values.count - 1))
        let halfWidth = t * deviation / Double(values.count).squareRoot()
        return (mean - halfWidth)...(mean + halfWidth)
    }

    /// A distribution-free confidence interval of the median from order statistics: [x(j), x(n+1-j)]
    /// (1-based ranks of the sorted values) with the largest j whose coverage 1 - 2·P(Bin(n, 1/2) < j)
    /// is still at least `level`. Below n = 6 no j reaches 95%; then the interval is the sample range
    /// [x(1), x(n)] with its smaller coverage 1 - 2^(1-n). Returns the bounds and the exact coverage;
    /// nil for no values.
    public static func medianConfidenceInterval(_ values: [Double], level: Double = 0.95)
        -> (lower: Double, upper: Double, coverage: Double)?
    {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let n = sorted.count
        var best = 1
        var j = 2
        while j <= (n + 1) / 2, 1 - 2 * binomialHalfCDF(j - 1, trials: n) >= level {
            best = j
            j += 1
        }
        return (sorted[best - 1], sorted[n - best], 1 - 2 * binomialHalfCDF(best - 1, trials: n))
    }

    /// P(Bin(trials, 1/2) <= k).
    static func binomialHalfCDF(_ k: Int, trials: Int) -> Double {
        guard k >= 0 else { return 0 }
        guard k < trials else { return 1 }
        var total = 0.0
        for i in 0...k {
            // C(trials, i) / 2^trials through logarithms, exact enough for any realistic number of runs.
            let logChoose: Double = lgamma(Double(trials + 1)) - lgamma(Double(i + 1)) - lgamma(Double(trials - i + 1))
            total += exp(logChoose - Double(trials) * log(2.0))
        }
        return min(total, 1)
    }

    /// The p-quantile of Student's t distribution with `degreesOfFreedom` > 0, by bisection on the CDF
    /// (to about 1e-12). `studentTQuantile(0.975, degreesOfFreedom: 4)` = 2.7764...
    public static func studentTQuantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0 && p < 1 && nu > 0, "studentTQuantile needs 0 < p < 1 and nu > 0")
        if p == 0.5 { return 0 }
        if p < 0.5 { return -studentTQuantile(1 - p, degreesOfFreedom: nu) }
        var low = 0.0, high = 1.0
        while studentTCDF(high, degreesOfFreedom: nu) < p { high *= 2 }
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if studentTCDF(middle, degreesOfFreedom: nu) < p { low = middle } else { high = middle }
            if high - low <= 1e-13 * max(1, high) { break }
        }
        return (low + high) / 2
    }

    /// P(T <= t) for Student's t with `nu` degrees of freedom: 1 - I_x(nu/2, 1/2) / 2 for t >= 0 with
    /// x = nu / (nu + t²), I the regularized incomplete beta function.
    public static func studentTCDF(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        let tail = 0.5 * regularizedIncompleteBeta(nu / (nu + t * t), a: nu / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// I_x(a, b), by the continued fraction (modified Lentz), using I_x(a, b) = 1 - I_{1-x}(b, a) where
    /// that converges faster.
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logPowers: Double = a * log(x) + b * log(1 - x)
        let logFront = logBeta + logPowers
        if x > (a + 1) / (a + b + 2) {
            return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a)
        }
        return exp(logFront) * betaContinuedFraction(x, a: a, b: b) / a
    }

    private static func betaContinuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        for m in 1...500 {
            let m = Double(m)
            // Even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
            var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            // Odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            result *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return result
    }
}
