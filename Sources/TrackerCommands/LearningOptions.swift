import ArgumentParser
import Learning
import Scheduling
import TrackerStore

extension Algorithm: ExpressibleByArgument {}
extension RewardForm: ExpressibleByArgument {}
extension Aggregation: ExpressibleByArgument {}

/// A setting's one-line description from the vocabulary (docs/settings.md), so `run`'s and `resume`'s
/// help and the settings table say the same.
func settingHelp(_ name: String) -> String {
    SettingVocabulary.definition(name)?.description ?? ""
}

/// The learner's hyperparameters, with the paper's defaults.
public struct LearningOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seed of the learner's generator.", valueName: "S"))
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Iterations to train, at most \(Hyperparameters.maximumIterations).", valueName: "K"))
    var iterations: Int = 25_600

    @Option(name: [.customLong("lr"), .customLong("learning-rate")], help: ArgumentHelp(settingHelp("lr"), valueName: "lr"))
    var lr: Double = 0.1

    @Option(name: [.customLong("gamma"), .customLong("discount")], help: ArgumentHelp(settingHelp("gamma"), valueName: "gamma"))
    var gamma: Double = 0.9

    @Option(name: .customLong("eps-start"), help: ArgumentHelp(settingHelp("eps_start"), valueName: "eps"))
    var epsStart: Double = 1.0

    @Option(name: .customLong("eps-min"), help: ArgumentHelp(settingHelp("eps_min"), valueName: "eps"))
    var epsMin: Double = 0.1

    @Option(help: ArgumentHelp(settingHelp("beta"), valueName: "beta"))
    var beta: Double = 5000

    @Option(help: ArgumentHelp(settingHelp("reward")))
    var reward: RewardForm = .ratio

    @Option(name: .customLong("twin-rate"), help: ArgumentHelp(settingHelp("twin_rate"), valueName: "bit/s"))
    var twinRate: Double?

    @Option(name: .customLong("twin-cpu-hz"), help: ArgumentHelp(settingHelp("twin_cpu_hz"), valueName: "Hz"))
    var twinCPUHz: Double?

    @Option(name: .customLong("twin-zeta"), help: ArgumentHelp(settingHelp("twin_zeta"), valueName: "s"))
    var twinZeta: Double?

    @Option(name: .customLong("twin-noise"), help: ArgumentHelp(settingHelp("twin_noise"), valueName: "x"))
    var twinNoise: Double = 0

    @Option(name: .customLong("twin-noise-seed"), help: ArgumentHelp(settingHelp("twin_noise_seed"), valueName: "S"))
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
