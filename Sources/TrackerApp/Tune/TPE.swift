import Foundation
import Scheduling

/// The Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio and Kégl, "Algorithms for
/// Hyper-Parameter Optimization", NeurIPS 2011) over a study's unit cube: by default one model per
/// dimension, as the paper and Optuna's `TPESampler()` do, or one joint model (``multivariate``; Falkner,
/// Klein and Hutter, BOHB, ICML 2018; Optuna's `multivariate=True`).
///
/// The observations so far are split into the best ⌈γ·n⌉ ("below", at most 25) and the rest ("above").
/// Each set becomes a Parzen estimator: an equal-weight mixture of one kernel per observation plus a prior
/// kernel (weight 1) spanning the whole cube. A trial draws ``candidates`` points from the below mixture and
/// keeps the one with the largest l(x) / g(x), the ratio of the below density to the above one, which is
/// the point of largest expected improvement under the TPE model.
///
/// Continuous dimensions (uniform, log-uniform, whole-number ranges: their unit coordinate) get Gaussian
/// kernels truncated to [0, 1] with Scott's-rule bandwidth 0.2 · n^(-1/(d+4)), clipped below by
/// 1 / min(100, n + 1) (Optuna's "magic clip"); a `choice` gets a categorical kernel that puts 1 on the
/// observed value plus 1/n spread over the k values, normalized (Optuna's). Everything is drawn from the
/// project's Xoshiro256, so the same observations and seed give the same point.
public struct TPESampler: Sendable {
    /// A dimension of the cube: continuous on [0, 1), or a choice among `count` values.
    public enum Dimension: Sendable, Equatable {
        case continuous
        case categorical(count: Int)
    }

    /// A trial the model learns from: its coordinates (a categorical one as its value's index) and its
    /// objective, nil when beyond the budget (ranked last).
    public struct Observation: Sendable {
        public let trial: Int
        public let point: [Double]
        public let value: Double?
        public init(trial: Int, point: [Double], value: Double?) {
            self.trial = trial
            self.point = point
            self.value = value
        }
    }

    public let dimensions: [Dimension]
    public let direction: StudyDirection
    /// Candidates drawn from the below mixture per trial (Optuna's `n_ei_candidates`).
    public var candidates = 24
    /// The share of observations that are "below" (good), at most ``maximumBelow``.
    public var gamma = 0.1
    public static let maximumBelow = 25
    /// One model over all dimensions (true), or one per dimension, each drawn on its own (false, Optuna's
    /// default): the independent form ignores how settings interact, and so also draws combinations the
    /// joint one would not. On the documented DTEQL problem it found the corner optimum more often
    /// (docs/tune.md); on the synthetic problems of TPETests the joint form does better.
    public var multivariate = false

    public init(dimensions: [Dimension], direction: StudyDirection) {
        self.dimensions = dimensions
        self.direction = direction
    }

    /// The next point given `observations`, drawn with `generator`. Without observations, a draw from the prior.
    public func next(observations: [Observation], generator: inout Xoshiro256) -> [Double] {
        let ranked = observations.sorted {
            StudyPlan.better(($0.trial, $0.value), ($1.trial, $1.value), direction: direction)
        }
        let belowCount = min(Int((gamma * Double(ranked.count)).rounded(.up)), TPESampler.maximumBelow)
        if !multivariate {
            return dimensions.indices.map { d in
                best(below: ranked.prefix(belowCount).map { [$0.point[d]] }, above: ranked.dropFirst(belowCount).map { [$0.point[d]] },
                     dimensions: [dimensions[d]], generator: &generator)[0]
            }
        }
        return best(below: ranked.prefix(belowCount).map(\.point), above: ranked.dropFirst(belowCount).map(\.point),
                    dimensions: dimensions, generator: &generator)
    }

    /// Of ``candidates`` draws from the below mixture over `dimensions`, the one with the largest l(x) / g(x).
    private func best(below belowPoints: [[Double]], above abovePoints: [[Double]], dimensions: [Dimension],
                      generator: inout Xoshiro256) -> [Double] {
        let below = ParzenEstimator(points: belowPoints, dimensions: dimensions)
        let above = ParzenEstimator(points: abovePoints, dimensions: dimensions)
        var best: [Double] = []
        var bestScore = -Double.infinity
        for _ in 0..<max(1, candidates) {
            let candidate = below.sample(&generator)
            let score = below.logDensity(candidate) - above.logDensity(candidate)
            // The first of equal scores wins, so the choice does not depend on floating-point ties' order.
            if best.isEmpty || score > bestScore {
                best = candidate
                bestScore = score
            }
        }
        return best
    }
}

/// An equal-weight mixture of one kernel per point plus a prior kernel over the whole cube (see ``TPESampler``).
struct ParzenEstimator: Sendable {
    let dimensions: [TPESampler.Dimension]
    /// Component c's centre in each dimension; the last component is the prior.
    let centres: [[Double]]
    /// Per continuous dimension, the kernels' bandwidth (the prior's is 1).
    let bandwidth: Double
    /// The categorical kernels' weight on values other than the observed one, before normalizing.
    let spread: Double
    let componentCount: Int
    /// Each component's kernel mass inside [0, 1] per dimension (1 for categorical ones), which the
    /// truncated densities divide by.
    let masses: [[Double]]

    init(points: [[Double]], dimensions: [TPESampler.Dimension]) {
        self.dimensions = dimensions
        let n = points.count
        centres = points
        componentCount = n + 1
        let scott = 0.2 * pow(Double(max(n, 1)), -1.0 / Double(dimensions.count + 4))
        bandwidth = max(scott, 1.0 / Double(min(100, n + 1)))
        spread = n == 0 ? 1 : 1.0 / Double(n)
        let width = bandwidth
        masses = (0...n).map { component in
            dimensions.enumerated().map { d, dimension in
                guard dimension == .continuous else { return 1 }
                let (mu, sigma) = component == n ? (0.5, 1.0) : (points[component][d], width)
                return ParzenEstimator.normalCDF((1 - mu) / sigma) - ParzenEstimator.normalCDF((0 - mu) / sigma)
            }
        }
    }

    private func isPrior(_ component: Int) -> Bool { component == componentCount - 1 }

    func sample(_ generator: inout Xoshiro256) -> [Double] {
        let component = generator.nextInt(below: componentCount)
        return dimensions.enumerated().map { d, dimension in
            switch dimension {
            case .continuous:
                let (mu, sigma) = isPrior(component) ? (0.5, 1.0) : (centres[component][d], bandwidth)
                return ParzenEstimator.truncatedNormal(mu: mu, sigma: sigma, &generator)
            case .categorical(let count):
                let weights = categoricalWeights(component, d, count)
                var u = generator.nextUnit() * weights.reduce(0, +)
                for (index, weight) in weights.enumerated() {
                    if u < weight { return Double(index) }
                    u -= weight
                }
                return Double(count - 1)
            }
        }
    }

    func logDensity(_ x: [Double]) -> Double {
        var total = 0.0
        for component in 0..<componentCount {
            var density = 1.0
            for (d, dimension) in dimensions.enumerated() {
                switch dimension {
                case .continuous:
                    let (mu, sigma) = isPrior(component) ? (0.5, 1.0) : (centres[component][d], bandwidth)
                    let z = (x[d] - mu) / sigma
                    density *= exp(-0.5 * z * z) / (sigma * (2 * Double.pi).squareRoot() * max(masses[component][d], .leastNormalMagnitude))
                case .categorical(let count):
                    let weights = categoricalWeights(component, d, count)
                    density *= weights[Int(x[d])] / weights.reduce(0, +)
                }
            }
            total += density
        }
        return log(total / Double(componentCount))
    }

    private func categoricalWeights(_ component: Int, _ d: Int, _ count: Int) -> [Double] {
        if isPrior(component) { return [Double](repeating: 1, count: count) }
        var weights = [Double](repeating: spread, count: count)
        weights[Int(centres[component][d])] += 1
        return weights
    }

    static func normalCDF(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// A draw from N(mu, sigma) restricted to [0, 1): rejection, which accepts at least a third of the draws
    /// for a centre inside the cube and a width of at most 1; after 1,000 rejections, the nearer edge.
    static func truncatedNormal(mu: Double, sigma: Double, _ generator: inout Xoshiro256) -> Double {
        for _ in 0..<1_000 {
            // Box-Muller, one of the pair.
            let u1 = generator.nextUnitExcludingZero(), u2 = generator.nextUnit()
            let x = mu + sigma * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
            if x >= 0 && x < 1 { return x }
        }
        return min(max(mu, 0), 0x1.fffffffffffffp-1)
    }
}
