// tracker-bench: timing benchmarks, one section per subcommand. Arguments are parsed by hand so the bench
// needs nothing beyond the project's own targets.
//
//   tracker-bench learner [--algo ql|dteql|dtaql] [--n N] [--phi P] [--iterations I] [--repeat R] [--seed S]
//                         [--reward ratio|negative]
//       Without --algo/--n: DTAQL N=8 first (for an honest peak-memory figure), then the full table for
//       N in 6, 7, 8 and every algorithm.
//   tracker-bench [all]   every section, then ingest ratio, compare latency and peak memory side by side.
//   tracker-bench ingest | fill | compare | ui | memory | pipeline | checkpoint | sharedfs   (see docs/benchmarks.md)
import Learning
import Scheduling

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct UsageError: Error, CustomStringConvertible {
    var description: String
}

/// `--name value` options after the subcommand.
struct Options {
    private var values: [String: String] = [:]

    init(_ arguments: ArraySlice<String>, allowed: Set<String>) throws {
        var rest = arguments[...]
        while let name = rest.popFirst() {
            guard name.hasPrefix("--"), allowed.contains(String(name.dropFirst(2))) else {
                throw UsageError(description: "unknown option '\(name)'")
            }
            guard let value = rest.popFirst() else {
                throw UsageError(description: "option '\(name)' needs a value")
            }
            values[String(name.dropFirst(2))] = value
        }
    }

    func string(_ name: String) -> String? { values[name] }

    func int(_ name: String, default fallback: Int) throws -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text) else { throw UsageError(description: "--\(name) must be an integer, got '\(text)'") }
        return value
    }
}

func clockSeconds(_ clock: clockid_t) -> Double {
    var spec = timespec()
    clock_gettime(clock, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
}

/// Wall-clock seconds.
func now() -> Double { clockSeconds(CLOCK_MONOTONIC) }

/// CPU seconds of the calling thread: less disturbed than wall time when the machine is shared.
func threadCPU() -> Double { clockSeconds(CLOCK_THREAD_CPUTIME_ID) }

/// Peak resident set size (VmHWM) in bytes, from /proc/self/status; nil where unavailable.
func peakResidentBytes() -> Int? {
    guard let file = fopen("/proc/self/status", "r") else { return nil }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 512)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix("VmHWM:") {
            let digits = text.filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }
        }
    }
    return nil
}

func format(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return "\(rounded)"
}

// MARK: learner

struct LearnerCase {
    var algorithm: Algorithm
    var n: Int
    var phi: Int
    var iterations: Int
    var seed: UInt64
    var reward: RewardForm = .ratio
}

struct Timing {
    var seconds: Double
    var cpuSeconds: Double
    var greedy: Int
    var sha: String
}

/// Best wall and CPU times of `repeats` full runs (a fresh learner each, the frame generated with seed 1).
func timeLearner(_ c: LearnerCase, repeats: Int) throws -> Timing {
    let frame = FrameGenerator.generate(count: c.n, seed: 1)
    let hyperparameters = Hyperparameters(
        algorithm: c.algorithm, phi: c.phi, iterations: c.iterations, seed: c.seed, reward: c.reward)
    var timing = Timing(seconds: .infinity, cpuSeconds: .infinity, greedy: 0, sha: "")
    for _ in 0..<max(repeats, 1) {
        let learner = try Learner(frame: frame, hyperparameters: hyperparameters)
        let start = now()
        let startCPU = threadCPU()
        learner.runToEnd()
        let cpu = threadCPU() - startCPU
        let elapsed = now() - start
        timing.seconds = min(timing.seconds, elapsed)
        timing.cpuSeconds = min(timing.cpuSeconds, cpu)
        timing.greedy = learner.greedyAction
        timing.sha = learner.qTableSHA256()
    }
    return timing
}

func printCase(_ c: LearnerCase, _ result: Timing) {
    let rate = Double(c.iterations) / result.seconds
    let name = c.algorithm.rawValue.padding(5)
    print("\(name)  N=\(c.n)  phi=\(c.algorithm == .ql ? "-" : String(c.phi))".padding(26)
        + "  \(format(result.seconds, 4)) s".padding(14)
        + "  cpu \(format(result.cpuSeconds, 4)) s".padding(18)
        + "  \(Int(rate)) it/s".padding(16)
        + "  greedy=\(result.greedy)  q-sha=\(result.sha.prefix(12))")
}

func learnerBenchmark(_ arguments: ArraySlice<String>) throws {
    let options = try Options(arguments, allowed: ["algo", "n", "phi", "iterations", "repeat", "seed", "reward"])
    let phi = try options.int("phi", default: 500)
    let iterations = try options.int("iterations", default: 25_600)
    let repeats = try options.int("repeat", default: 3)
    let seed = UInt64(try options.int("seed", default: 1))
    let rewardName = options.string("reward") ?? "ratio"
    guard let reward = RewardForm(rawValue: rewardName) else {
        throw UsageError(description: "--reward must be ratio or negative, got '\(rewardName)'")
    }
    var algorithms = Algorithm.allCases
    if let name = options.string("algo") {
        guard let algorithm = Algorithm(rawValue: name) else {
            throw UsageError(description: "--algo must be one of ql, dteql, dtaql, got '\(name)'")
        }
        algorithms = [algorithm]
    }
    let sizes = options.string("n") == nil ? [6, 7, 8] : [try options.int("n", default: 8)]
    let single = options.string("algo") != nil || options.string("n") != nil

    print("learner benchmark: \(iterations) iterations, best of \(repeats), frame = FrameGenerator(seed 1), "
        + "seed \(seed), \(reward.rawValue) reward")
    if !single {
        // DTAQL N=8 first, so VmHWM reflects it and nothing larger.
        let c = LearnerCase(algorithm: .dtaql, n: 8, phi: phi, iterations: iterations, seed: seed, reward: reward)
        let result = try timeLearner(c, repeats: 1)
        printCase(c, result)
        if let peak = peakResidentBytes() {
            print("peak memory (VmHWM) after DTAQL N=8 phi=\(phi): \(format(Double(peak) / 1_048_576, 1)) MiB")
        }
        print("")
    }
    for n in sizes {
        for algorithm in algorithms {
            let c = LearnerCase(
                algorithm: algorithm, n: n, phi: phi, iterations: iterations, seed: seed, reward: reward)
            printCase(c, try timeLearner(c, repeats: repeats))
        }
    }
    if single, let peak = peakResidentBytes() {
        print("peak memory (VmHWM): \(format(Double(peak) / 1_048_576, 1)) MiB")
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

// MARK: main

let sections: [(name: String, summary: String, run: (ArraySlice<String>) throws -> Void)] = [
    ("learner", "QL, DTEQL and DTAQL without a database", learnerBenchmark),
    ("pipeline", "the whole tracker-run pipeline into a fresh database", pipelineBenchmark),
    ("checkpoint", "snapshot, hash, write, read and restore of one checkpoint", checkpointBenchmark),
    ("ingest", "metric rows/s through the SQLite layer vs a plain C loop (--rows, --repeat)", ingestBenchmark),
    ("fill", "build a database of --rows metric rows (QL runs) at --db PATH", fillBenchmark),
    ("compare", "tracker compare --n 8 latency on a 10M-row database (--rows, --db, --repeat)", compareBenchmark),
    ("recording", "the recording-cost table: run vs learner, QL vs the C loop, reproduce CPU, checkpoint (--baseline TRACKER)", recordingBenchmark),
    ("keys", "metrics key layout: WITHOUT ROWID against a rowid table with a key index (--rows, --repeat)", keyLayoutBenchmark),
    ("ui", "tracker ui: server time per page (p95) and a wrk load on the runs page (--db, --runs, --repeat, --seconds)", uiBenchmark),
    ("memory", "DTAQL N=8 peak memory (VmHWM) in a fresh child process", memoryBenchmark),
    ("sharedfs", "the filesystem lookup every open makes, and one published copy of --db (sweep --publish)", sharedFilesystemBenchmark),
    ("all", "every section, then the figures side by side (also: no section at all)", allBenchmark),
]

func usage(_ sections: [(name: String, summary: String, run: (ArraySlice<String>) throws -> Void)]) -> String {
    var text = "usage: tracker-bench <section> [options]\nsections:\n"
    for section in sections { text += "  \(section.name.padding(10)) \(section.summary)\n" }
    return text
}

let arguments = CommandLine.arguments.dropFirst()
// No section: everything (`all`).
let name = arguments.first ?? "all"
guard let section = sections.first(where: { $0.name == name }) else {
    printError(usage(sections))
    exit(name == "help" || name == "--help" ? 0 : 2)
}
do {
    try section.run(arguments.isEmpty ? [] : arguments.dropFirst())
} catch {
    printError("tracker-bench: \(error)\n")
    exit(2)
}

func printError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
