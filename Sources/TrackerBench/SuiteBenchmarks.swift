import CIngestBaseline
import Foundation
import Learning
import Scheduling
import SQLite
import TrackerApp
import TrackerStore

// MARK: ingest

/// Rows/s of the same metric inserts through the project's SQLite layer and through a plain C loop.
struct IngestResult {
    var rows: Int
    var swiftSeconds: Double
    var cSeconds: Double
    var swiftRate: Double { Double(rows) / swiftSeconds }
    var cRate: Double { Double(rows) / cSeconds }
    /// Swift rows/s over C rows/s (1 = as fast as C; the target is 0.8 or better).
    var ratio: Double { cSeconds / swiftSeconds }
}

/// A fresh database with the real schema (TrackerStore: migrations, WAL) and one run row, so metric rows
/// satisfy their foreign key. Returns the run's key.
func freshIngestDatabase(_ path: String) throws -> Int64 {
    let store = try TrackerStore(path: path)
    let frame = FrameGenerator.generate(count: 8, seed: 1)
    let specification = RunSpecification(
        frame: frame, frameSource: .generated(seed: 1),
        hyperparameters: Hyperparameters(algorithm: .ql, phi: 0, iterations: 1), trackerVersion: "bench")
    let session = try RunSession.start(specification, in: store)
    return session.record.id
}

/// The inserts through `Database`/`Statement`: one prepared statement, bind/step/reset, one IMMEDIATE
/// transaction; the connection opened the way the tracker opens it (busy timeout, foreign keys on,
/// synchronous = NORMAL). The values are ingest.c's.
func swiftIngest(_ path: String, run: Int64, rows: Int) throws {
    let database = try Database(path: path, mode: .readWrite)
    try database.execute("PRAGMA synchronous = NORMAL")
    let insert = try database.prepare(
        "INSERT INTO metrics (run, iteration, action, reward, greedy_action, distinct_actions) VALUES (?, ?, ?, ?, ?, ?)")
    try database.transaction(.immediate) {
        for i in 0..<Int64(rows) {
            try insert.bind(run, at: 1)
            try insert.bind(i, at: 2)
            try insert.bind((i &* 7919) % 40320, at: 3)
            try insert.bind(1.0 + Double(i % 1000) * 1e-3, at: 4)
            try insert.bind((i / 64) % 40320, at: 5)
            try insert.bind(i < 40320 ? i + 1 : 40320, at: 6)
            _ = try insert.step()
            insert.reset()
        }
    }
}

func cIngest(_ path: String, run: Int64, rows: Int) throws {
    var message = [CChar](repeating: 0, count: 512)
    let rc = ingest_baseline(path, run, Int64(rows), &message, message.count)
    guard rc == 0 else {
        throw UsageError(description: "C ingest failed: " + String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

func benchDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tracker-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

/// Best of `repeats` for each side, alternating C and Swift so both see the same machine load; a fresh file
/// for every measurement, checked to hold exactly `rows` rows afterwards.
func measureIngest(rows: Int, repeats: Int) throws -> IngestResult {
    let directory = try benchDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var result = IngestResult(rows: rows, swiftSeconds: .infinity, cSeconds: .infinity)
    for index in 0..<max(repeats, 1) {
        for side in ["c", "swift"] {
            let path = directory.appendingPathComponent("\(side)\(index).db").path
            let run = try freshIngestDatabase(path)
            let start = now()
            if side == "c" { try cIngest(path, run: run, rows: rows) } else { try swiftIngest(path, run: run, rows: rows) }
            let elapsed = now() - start
            let check = try Database(path: path, mode: .readOnly)
            guard try check.scalar("SELECT count(*) FROM metrics") == .integer(Int64(rows)) else {
                throw UsageError(description: "\(side) ingest wrote the wrong number of rows")
            }
            if side == "c" { result.cSeconds = min(result.cSeconds, elapsed) } else { result.swiftSeconds = min(result.swiftSeconds, elapsed) }
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
    }
    return result
}

func printIngest(_ r: IngestResult) {
    print("  Swift (SQLite layer: Statement bind/step/reset)  \(format(r.swiftSeconds, 4)) s  \(Int(r.swiftRate)) rows/s")
    print("  C (plain libsqlite3 loop, CIngestBaseline)      \(format(r.cSeconds, 4)) s  \(Int(r.cRate)) rows/s")
    print("  ratio Swift/C: \(format(r.ratio, 3))  (target >= 0.8)")
}

func ingestBenchmark(_ arguments: ArraySlice<String>) throws {
    let options = try Options(arguments, allowed: ["rows", "repeat"])
    let rows = try options.int("rows", default: 500_000)
    let repeats = try options.int("repeat", default: 5)
    print("ingest benchmark: \(rows) metric rows in one transaction, fresh file each, best of \(repeats) per side")
    printIngest(try measureIngest(rows: rows, repeats: repeats))
}

// MARK: fill

/// Builds (or extends) a database with about `rows` metric rows: finished QL runs of 25,600 iterations at
/// N = 6, 7, 8 in turn, through RunSession as `tracker run` records them, one checkpoint kept per run.
func fill(path: String, rows: Int, report: Bool) throws -> (runs: Int, seconds: Double) {
    let iterations = 25_600
    let runs = max(1, (rows + iterations - 1) / iterations)
    let store = try TrackerStore(path: path)
    let start = now()
    for index in 0..<runs {
        let seed = UInt64(index + 1)
        let frameSeed = UInt64(index % 20 + 1)
        let n = 6 + index % 3
        let specification = RunSpecification(
            frame: FrameGenerator.generate(count: n, seed: frameSeed), frameSource: .generated(seed: frameSeed),
            hyperparameters: Hyperparameters(algorithm: .ql, phi: 0, iterations: iterations, seed: seed),
            checkpointEvery: iterations, keepCheckpoints: 1, label: "fill", trackerVersion: "bench")
        _ = try RunSession.start(specification, in: store).run()
        if report, (index + 1) % 50 == 0 || index + 1 == runs {
            printError("  filled \(index + 1)/\(runs) runs, \(format(now() - start, 1)) s\n")
        }
    }
    return (runs, now() - start)
}

func fillBenchmark(_ arguments: ArraySlice<String>) throws {
    let options = try Options(arguments, allowed: ["rows", "db"])
    let rows = try options.int("rows", default: 10_240_000)
    guard let path = options.string("db") else { throw UsageError(description: "fill needs --db PATH") }
    let (runs, seconds) = try fill(path: path, rows: rows, report: true)
    print("fill: \(runs) QL runs x 25,600 iterations (\(runs * 25_600) metric rows) into \(path) in \(format(seconds, 1)) s"
        + " (\(Int(Double(runs * 25_600) / seconds)) rows/s)")
}

// MARK: compare

/// The release `tracker` next to this executable.
/// This executable's path, resolved through /proc where there is one.
func selfExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

func trackerBinary() -> String {
    URL(fileURLWithPath: selfExecutable()).deletingLastPathComponent().appendingPathComponent("tracker").path
}

/// Wall time of a process run to its end, stdout and stderr to /dev/null (posix_spawn and wait4 through
/// measureProcess, since Foundation's `waitUntilExit` polls in steps of about 50 ms on Linux and would hide a
/// fast command's time).
func timeProcess(_ executable: String, _ arguments: [String]) throws -> Double {
    try measureProcess(executable, arguments).wall
}

/// Runs a process to its end with stdout and stderr discarded (or stdout captured); returns the wall time.
func runProcess(_ executable: String, _ arguments: [String], capture: Bool = false) throws -> (seconds: Double, status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = capture ? pipe : FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    let start = now()
    try process.run()
    let data = capture ? pipe.fileHandleForReading.readDataToEndOfFile() : Data()
    process.waitUntilExit()
    return (now() - start, process.terminationStatus, String(decoding: data, as: UTF8.self))
}

struct LatencyResult {
    var metricRows: Int
    var samples: [Double]
    var processStart: [Double]
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}

/// Wall time of `tracker compare --n 8` (the whole process), `repeats` times, and of `tracker --version`.
func measureCompare(path: String, repeats: Int) throws -> LatencyResult {
    let tracker = trackerBinary()
    guard FileManager.default.isExecutableFile(atPath: tracker) else {
        throw UsageError(description: "no tracker binary at \(tracker); build it: swift build -c release --product tracker")
    }
    let database = try Database(path: path, mode: .readOnly)
    guard case .integer(let rows)? = try database.scalar("SELECT count(*) FROM metrics") else { throw UsageError(description: "no metrics") }
    let check = try runProcess(tracker, ["compare", "--n", "8", "--db", path], capture: true)
    guard check.status == 0 else { throw UsageError(description: "tracker compare failed with status \(check.status)") }
    var result = LatencyResult(metricRows: Int(rows), samples: [], processStart: [])
    for _ in 0..<max(repeats, 1) {
        result.samples.append(try timeProcess(tracker, ["compare", "--n", "8", "--db", path]))
        result.processStart.append(try timeProcess(tracker, ["--version"]))
    }
    return result
}

func printCompare(_ r: LatencyResult) {
    let ms = { (values: [Double]) in
        "min \(format(values.min()! * 1000, 1)) ms, median \(format(r.median(values) * 1000, 1)) ms, max \(format(values.max()! * 1000, 1)) ms"
    }
    print("  tracker compare --n 8 on \(r.metricRows) metric rows: \(ms(r.samples))  (target < 1000 ms)")
    print("  tracker --version (process start alone):          \(ms(r.processStart))")
}

func compareBenchmark(_ arguments: ArraySlice<String>) throws {
    let options = try Options(arguments, allowed: ["rows", "db", "repeat"])
    let repeats = try options.int("repeat", default: 10)
    if let path = options.string("db"), FileManager.default.fileExists(atPath: path) {
        print("compare benchmark: \(path), \(repeats) runs of the release tracker")
        printCompare(try measureCompare(path: path, repeats: repeats))
        return
    }
    let rows = try options.int("rows", default: 10_240_000)
    let directory = try benchDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = options.string("db") ?? directory.appendingPathComponent("big.db").path
    print("compare benchmark: filling \(path) with \(rows) metric rows first")
    let (runs, seconds) = try fill(path: path, rows: rows, report: true)
    print("  filled: \(runs) QL runs in \(format(seconds, 1)) s")
    printCompare(try measureCompare(path: path, repeats: repeats))
}

// MARK: memory

/// DTAQL N=8 peak resident memory, measured in a fresh child process of this executable
/// (`tracker-bench learner --algo dtaql --n 8 --repeat 1`, which prints its VmHWM at the end), so nothing
/// else this process did is counted.
func measurePeakMemory(phi: Int) throws -> (mebibytes: Double, line: String) {
    let run = try runProcess(selfExecutable(), ["learner", "--algo", "dtaql", "--n", "8", "--phi", String(phi), "--repeat", "1"], capture: true)
    guard run.status == 0, let line = run.output.split(separator: "\n").last(where: { $0.hasPrefix("peak memory") }),
          let value = line.split(separator: ":").last.flatMap({ Double($0.replacingOccurrences(of: "MiB", with: "").trimmingCharacters(in: .whitespaces)) })
    else { throw UsageError(description: "the memory child printed no VmHWM:\n\(run.output)") }
    return (value, String(line))
}

func memoryBenchmark(_ arguments: ArraySlice<String>) throws {
    let options = try Options(arguments, allowed: ["phi"])
    let phi = try options.int("phi", default: 500)
    let (mebibytes, _) = try measurePeakMemory(phi: phi)
    print("memory: DTAQL N=8 phi=\(phi), 25,600 iterations, fresh child process: VmHWM \(format(mebibytes, 1)) MiB (target <= 100 MB)")
}

// MARK: all

/// Every section in one run, then the figures side by side.
func allBenchmark(_ arguments: ArraySlice<String>) throws {
    let options = try Options(arguments, allowed: ["compare-rows", "ingest-rows", "repeat"])
    let compareRows = try options.int("compare-rows", default: 10_240_000)
    let ingestRows = try options.int("ingest-rows", default: 500_000)
    let repeats = try options.int("repeat", default: 5)
    print("tracker-bench all (nproc \(ProcessInfo.processInfo.activeProcessorCount), \(cpuModel()))\n")

    let memory = try measurePeakMemory(phi: 500)
    print("== learner (iterations/s) ==")
    try learnerBenchmark([])
    print("\n== ingest ==")
    print("\(ingestRows) metric rows into the real schema, one transaction, fresh file each, best of \(repeats) per side")
    let ingest = try measureIngest(rows: ingestRows, repeats: repeats)
    printIngest(ingest)
    print("\n== pipeline ==")
    try pipelineBenchmark([])
    print("\n== checkpoint ==")
    try checkpointBenchmark([])
    print("\n== compare ==")
    let directory = try benchDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let big = directory.appendingPathComponent("big.db").path
    let filled = try fill(path: big, rows: compareRows, report: true)
    print("  filled \(filled.runs) QL runs (\(filled.runs * 25_600) metric rows) in \(format(filled.seconds, 1)) s")
    let compare = try measureCompare(path: big, repeats: 10)
    printCompare(compare)
    print("\n== memory ==")
    print("  fresh child, DTAQL N=8 phi=500: \(memory.line)")

    print("\n== summary ==")
    print("  ingest rows/s      Swift \(Int(ingest.swiftRate))  C \(Int(ingest.cRate))  ratio \(format(ingest.ratio, 3))  (target >= 0.8)")
    print("  compare --n 8      median \(format(compare.median(compare.samples) * 1000, 1)) ms on \(compare.metricRows) rows"
        + "  (process start alone \(format(compare.median(compare.processStart) * 1000, 1)) ms; target < 1000 ms)")
    print("  peak memory        DTAQL N=8 phi=500: \(format(memory.mebibytes, 1)) MiB  (target <= 100 MB)")
}

func cpuModel() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
          let name = line.split(separator: ":", maxSplits: 1).last else { return "CPU unknown" }
    return name.trimmingCharacters(in: .whitespaces)
}
