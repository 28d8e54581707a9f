import Foundation
import Scheduling

/// Which settings each trial of a study tries: a point of the unit cube per trial, one dimension per
/// searched setting (canonical-name order), mapped through the setting's distribution.
///
/// `sobol` and `random` fix every trial's point up front. `tpe` fixes the first ``StudySpec/tpeStartupTrials``
/// of each bracket from the seeded Sobol sequence (the same points a `sobol` study starts with); every later
/// trial is drawn from a TPE model (``TPESampler``) of the results the bracket's earlier batches have at the
/// bracket's first rung. A batch (``StudySpec/tpeBatch`` trials) is drawn once every trial before it has
/// that result, each trial from a Xoshiro256 seeded with the study's seed and its index. So a trial's point
/// depends only on the spec and on results that are themselves deterministic: the study is the same
/// whatever the timing, worker count or sharding (a shard waits for the others' results at each batch).
extension StudySpec {
    /// Every trial's searched settings by canonical name, in trial order; nil for a trial whose point a
    /// model-based sampler cannot draw yet (an earlier batch's results are missing). `known` holds points
    /// already drawn, which are not drawn again.
    public func trialSettings(results: StudyPlan.Results, known: inout [Int: [Double]]) -> [[String: StudyValue]?] {
        trialPoints(results: results, known: &known).map { $0.map(settings(at:)) }
    }

    public func trialSettings(results: StudyPlan.Results) -> [[String: StudyValue]?] {
        var known: [Int: [Double]] = [:]
        return trialSettings(results: results, known: &known)
    }

    /// Settings as `study_trials` stores them (``StudyStatus/settingsJSON(_:)``), read back by each searched
    /// setting's kind; nil when the text is not such an object.
    /// (JSONDecoder, not JSONSerialization, whose numbers are not always the Double the text spells.)
    public func decodeSettings(_ json: String) -> [String: StudyValue]? {
        guard let object = try? JSONDecoder().decode([String: StoredSetting].self, from: Data(json.utf8)) else { return nil }
        var settings: [String: StudyValue] = [:]
        for entry in search {
            switch (StudySpec.kind(of: entry.name) ?? .real, object[entry.name]) {
            case (.integer, .number(let value)?) where value == value.rounded() && abs(value) < 1e15: settings[entry.name] = .integer(Int(value))
            case (.real, .number(let value)?): settings[entry.name] = .number(value)
            case (.name, .text(let value)?): settings[entry.name] = .text(value)
            default: return nil
            }
        }
        return settings
    }

    private enum StoredSetting: Decodable {
        case number(Double)
        case text(String)
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) { self = .number(number) } else { self = .text(try container.decode(String.self)) }
        }
    }

    /// The settings at a point of the unit cube.
    func settings(at point: [Double]) -> [String: StudyValue] {
        var settings: [String: StudyValue] = [:]
        for (dimension, entry) in search.enumerated() {
            settings[entry.name] = entry.distribution.value(at: point[dimension], kind: StudySpec.kind(of: entry.name) ?? .real)
        }
        return settings
    }

    /// The settings at the corner where every coordinate is `u` (0: every range's low end; 1: its high end).
    func corner(_ u: Double) -> [String: StudyValue] {
        settings(at: [Double](repeating: u, count: search.count))
    }

    func trialPoints(results: StudyPlan.Results, known: inout [Int: [Double]]) -> [[Double]?] {
        switch sampler {
        case .sobol: return Sobol.points(count: trials, dimensions: search.count, shiftSeed: seed)
        case .random:
            var generator = Xoshiro256(seed: seed)
            return (0..<trials).map { _ in search.map { _ in generator.nextUnit() } }
        case .tpe:
            let plan = StudyPlan(scheduler: scheduler, trials: trials, rungs: rungs, reduction: reduction)
            let startup = Sobol.points(count: trials, dimensions: search.count, shiftSeed: seed)
            var model = TPESampler(dimensions: tpeDimensions, direction: direction)
            model.multivariate = tpeMultivariate
            var points = [[Double]?](repeating: nil, count: trials)
            for bracket in plan.brackets {
                for trial in bracket.trials {
                    let position = trial - bracket.first
                    if position < tpeStartupTrials {
                        points[trial] = startup[trial]
                        continue
                    }
                    if let point = known[trial] {
                        points[trial] = point
                        continue
                    }
                    let batchStart = bracket.first + tpeStartupTrials + (position - tpeStartupTrials) / tpeBatch * tpeBatch
                    var observations: [TPESampler.Observation] = []
                    for earlier in bracket.first..<batchStart {
                        guard let result = results[earlier]?[bracket.startRung], let point = points[earlier] else { break }
                        observations.append(.init(trial: earlier, point: toModel(point), value: result.value))
                    }
                    // An earlier batch is not complete at the bracket's first rung: this bracket waits.
                    guard observations.count == batchStart - bracket.first else { break }
                    let slot = (position - tpeStartupTrials) % tpeBatch
                    let point: [Double]
                    if slot >= tpeBatch - tpeCoordinateMoves {
                        let move = (position - tpeStartupTrials) / tpeBatch * tpeCoordinateMoves + slot - (tpeBatch - tpeCoordinateMoves)
                        point = coordinateMove(move, from: observations)
                    } else {
                        var generator = Xoshiro256(seed: seed ^ ((UInt64(trial) &+ 1) &* 0x9E37_79B9_7F4A_7C15))
                        point = fromModel(model.next(observations: observations, generator: &generator))
                    }
                    points[trial] = point
                    known[trial] = point
                }
            }
            return points
        }
    }

    /// The `move`-th coordinate move of a bracket: the best trial so far with one setting changed, the
    /// settings taken in turn; the j-th move along a setting puts it at the j-th point of the van der Corput
    /// sequence (1/2, 1/4, 3/4, 1/8, ...), shifted by a per-setting offset drawn from the seed, so the moves
    /// along each axis fill it evenly (after 2^k - 1 of them, every interval of width 2^-k holds one).
    /// This is the one-exchange neighbourhood SMAC's local search walks, here stratified rather than random.
    func coordinateMove(_ move: Int, from observations: [TPESampler.Observation]) -> [Double] {
        let incumbent = observations.min {
            StudyPlan.better(($0.trial, $0.value), ($1.trial, $1.value), direction: direction)
        }!
        var point = fromModel(incumbent.point)
        let dimension = move % search.count
        var generator = Xoshiro256(seed: seed ^ 0xC00D_1A7E)
        var offset = 0.0
        for _ in 0...dimension { offset = generator.nextUnit() }
        var u = (Self.vanDerCorput(move / search.count + 1) + offset).truncatingRemainder(dividingBy: 1)
        if case .categorical(let count) = tpeDimensions[dimension] {
            u = (Double(min(count - 1, Int((u * Double(count)).rounded(.down)))) + 0.5) / Double(count)
        }
        point[dimension] = u
        return point
    }

    /// The radical inverse of `index` in base 2: 1 -> 1/2, 2 -> 1/4, 3 -> 3/4, 4 -> 1/8, ...
    public static func vanDerCorput(_ index: Int) -> Double {
        var result = 0.0, scale = 0.5, n = index
        while n > 0 {
            if n & 1 == 1 { result += scale }
            scale /= 2
            n >>= 1
        }
        return result
    }

    /// A `choice` is categorical for the model; every other distribution is continuous on its unit coordinate.
    var tpeDimensions: [TPESampler.Dimension] {
        search.map { entry in
            if case .choice(let values) = entry.distribution { return .categorical(count: values.count) }
            return .continuous
        }
    }

    /// A cube point as the model reads it: a `choice`'s coordinate becomes its value's index.
    func toModel(_ point: [Double]) -> [Double] {
        zip(point, tpeDimensions).map { u, dimension in
            guard case .categorical(let count) = dimension else { return u }
            return Double(min(count - 1, Int((u * Double(count)).rounded(.down))))
        }
    }

    /// A model point as a cube point: an index becomes the middle of its value's share.
    func fromModel(_ point: [Double]) -> [Double] {
        zip(point, tpeDimensions).map { x, dimension in
            guard case .categorical(let count) = dimension else { return x }
            return (x + 0.5) / Double(count)
        }
    }
}
