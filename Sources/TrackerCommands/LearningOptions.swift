import ArgumentParser
import Learning
import Scheduling

extension Algorithm: ExpressibleByArgument {}
extension RewardForm: ExpressibleByArgument {}
extension Aggregation: ExpressibleByArgument {}

/// The learner's hyperparameters, with the paper's defaults.
public struct LearningOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seed of the learner's generator.", valueName: "S"))
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Iterations to train, at most \(Hyperparameters.maximumIterations).", valueName: "K"))
    var iterations: Int = 25_600

    @Option(name: [.customLong("lr"), .customLong("learning-rate")], help: ArgumentHelp("Learning rate, in (0, 1].", valueName: "lr"))
    var lr: Double = 0.1

    @Option(name: [.customLong("gamma"), .customLong("discount")], help: ArgumentHelp("Discount, in [0, 1] (no effect while episodes are one step).", valueName: "gamma"))
    var gamma: Double = 0.9

    @Option(name: .customLong("eps-start"), help: ArgumentHelp("Exploration rate at iteration 0.", valueName: "eps"))
    var epsStart: Double = 1.0

    @Option(name: .customLong("eps-min"), help: ArgumentHelp("Exploration rate the schedule decays to.", valueName: "eps"))
    var epsMin: Double = 0.1

    @Option(help: ArgumentHelp("Exploration decay: eps = eps-min + (eps-start - eps-min) exp(-i / beta).", valueName: "beta"))
    var beta: Double = 5000

    @Option(help: "Reward form: ratio (J_EDF / J) or negative (-J).")
    var reward: RewardForm = .ratio

    @Option(name: .customLong("twin-rate"), help: ArgumentHelp("Imperfect twin: its own uplink rate.", valueName: "bit/s"))
    var twinRate: Double?

    @Option(name: .customLong("twin-cpu-hz"), help: ArgumentHelp("Imperfect twin: its own CPU frequency.", valueName: "Hz"))
    var twinCPUHz: Double?

    @Option(name: .customLong("twin-zeta"), help: ArgumentHelp("Imperfect twin: its own miss penalty.", valueName: "s"))
    var twinZeta: Double?

    @Option(name: .customLong("twin-noise"), help: ArgumentHelp("Imperfect twin: relative error of its rewards, fixed per action.", valueName: "x"))
    var twinNoise: Double = 0

    @Option(name: .customLong("twin-noise-seed"), help: ArgumentHelp("Seed of the twin's reward errors.", valueName: "S"))
    var twinNoiseSeed: UInt64 = 0

    @Option(name: .customLong("memory-limit"), help: ArgumentHelp("Refuse runs estimated to need more (e.g. 4GiB, 512MiB).", valueName: "size"))
    var memoryLimit: String = "4GiB"

    public init() {}

    var memoryLimitBytes: Int { (try? parseByteSize(memoryLimit)) ?? (4 << 30) }

    public func validate() throws {
        _ = try parseByteSize(memoryLimit)
    }

    func hyperparameters(
        algorithm: Algorithm, phi: Int, delta: Int, aggregation: Aggregation, model: ModelParameters
    ) throws -> Hyperparameters {
        var twinParameters: ModelParameters?
        if twinRate != nil || twinCPUHz != nil || twinZeta != nil {
            let twin = ModelParameters(
                uplinkRate: twinRate ?? model.uplinkRate, cpuHz: twinCPUHz ?? model.cpuHz, zeta: twinZeta ?? model.zeta)
            do { try twin.validate() } catch { throw ValidationError("twin: \(error.description)") }
            twinParameters = twin
        }
        return Hyperparameters(
            algorithm: algorithm, phi: algorithm == .ql ? 0 : phi, delta: delta, iterations: iterations, seed: seed,
            learningRate: lr, discount: gamma, epsilonStart: epsStart, epsilonMin: epsMin, epsilonDecay: beta,
            reward: reward, twin: TwinModel(parameters: twinParameters, noise: twinNoise, noiseSeed: twinNoiseSeed),
            aggregation: aggregation)
    }
}

/// "4GiB", "512MiB", "100MB", "1000000": a byte count.
func parseByteSize(_ text: String) throws -> Int {
    let units: [(String, Double)] = [
        ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("B", 1),
    ]
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
        if let value = Double(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), value > 0, value.isFinite {
            // Checked: Int(_:) of a product past Int.max (17179869184GiB) traps.
            guard let bytes = Int(exactly: (value * scale).rounded(.down)) else {
                throw ValidationError("--memory-limit: '\(text)' is more than \(Int.max) bytes.")
            }
            return bytes
        }
    }
    if let value = Int(trimmed), value > 0 { return value }
    throw ValidationError("--memory-limit: '\(text)' is not a size like 4GiB, 512MiB or 1000000.")
}
