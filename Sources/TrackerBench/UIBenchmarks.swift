import Foundation
import Learning
import Scheduling
import SQLite
import TrackerApp
import TrackerStore

// MARK: ui

/// `tracker-bench ui`: the dashboard's speed on the benchmark database, measured against a real
/// `tracker ui --port 0` (the release binary beside this one) over loopback, so the figures include
/// everything a request costs the server: Hummingbird, borrowing and re-checking a kept read-only store
/// (or opening one), the queries and the rendering. Per page: the server's time, taken from curl as time
/// to first byte minus the time to have sent the request (the dashboard builds a whole response before it
/// sends a byte, so this is the page's server time plus a loopback round trip). Then wrk's bounded load
/// on the runs page and the server's resident memory before and after.
func uiBenchmark(_ arguments: ArraySlice<String>) throws {
    let options = try Options(arguments, allowed: ["db", "rows", "runs", "repeat", "seconds", "connections", "rounds", "long"])
    let longIterations = try options.int("long", default: 3_000_000)
    let rows = try options.int("rows", default: 10_240_000)
    let targetRuns = try options.int("runs", default: 10_000)
    let repeats = max(try options.int("repeat", default: 50), 1)
    let seconds = max(try options.int("seconds", default: 10), 1)
    let connections = max(try options.int("connections", default: 8), 1)
    let rounds = max(try options.int("rounds", default: 2), 1)
    let tracker = trackerBinary()
    guard FileManager.default.isExecutableFile(atPath: tracker) else {
        throw UsageError(description: "no tracker binary at \(tracker); build it: swift build -c release --product tracker")
    }
    for tool in ["curl", "wrk"] where findExecutable(tool) == nil {
        throw UsageError(description: "\(tool) is not installed (Debian: apt-get install \(tool))")
    }

    let directory = try benchDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = options.string("db") ?? directory.appendingPathComponent("big.db").path
    if !FileManager.default.fileExists(atPath: path) {
        print("ui benchmark: filling \(path) with \(rows) metric rows first")
        let (runs, fillSeconds) = try fill(path: path, rows: rows, report: true)
        print("  filled: \(runs) QL runs in \(format(fillSeconds, 1)) s")
    }
    let longRun = try recordLongRun(path: path, iterations: longIterations)
    let added = try topUpRuns(path: path, to: targetRuns)
    let (runCount, metricRows, runID) = try describeBenchDatabase(path)
    let (first, second) = try twoFillRuns(path)
    let study = try recordBenchStudy(tracker: tracker, path: path, in: directory)
    print("ui benchmark: \(path): \(runCount) runs (\(added) small ones added now), \(metricRows) metric rows; "
        + "load average \(loadAverage()); nproc \(ProcessInfo.processInfo.activeProcessorCount), \(cpuModel())")

    let server = try DashboardServer(tracker: tracker, database: path)
    defer { server.stop() }
    let base = server.baseURL
    print("server: \(tracker) ui --port 0, pid \(server.pid), at \(base)")
    let compareHTML = try fetch(base + "compare?n=8")
    let fig2 = compareHTML.firstMatch(of: /src="(\/compare\/fig2\.svg[^"]*)"/).map {
        String($0.1).replacingOccurrences(of: "&amp;", with: "&")
    } ?? "/compare/fig2.svg?n=8"
    let pages: [(name: String, path: String, goal: Bool)] = [
        ("runs page (/, 50 of \(runCount) runs)", "", true),
        ("run page (/runs/\(runID), 25,600 iterations)", "runs/\(runID)", true),
        ("  its convergence chart", "runs/\(runID)/convergence.svg", false),
        ("  its schedule chart", "runs/\(runID)/schedule.svg", false),
        ("compare page (/compare?n=8)", "compare?n=8", true),
        ("  its Fig. 2 chart", String(fig2.dropFirst()), false),
        ("  its Fig. 2 data with 95% bands (/api/compare/fig2)", "api/compare/fig2?n=8", false),
        ("  run chart data (/api/runs/ID/chart)", "api/runs/\(runID)/chart", false),
        ("  \(longIterations)-iteration run's chart data", "api/runs/\(longRun)/chart", false),
        ("side-by-side page (2 runs)", "side-by-side?run=\(first)&run=\(second)", true),
        ("  its overlay data (/api/overlay)", "api/overlay?run=\(first)&run=\(second)", false),
        ("sweeps page (/sweeps)", "sweeps", true),
        ("sweep page (/sweep?label=fill)", "sweep?label=fill", true),
        ("  its parallel coordinates (/api/sweep/parallel)", "api/sweep/parallel?label=fill", false),
        ("studies page (/studies)", "studies", true),
        ("study page (/study?name=\(study))", "study?name=\(study)", true),
        ("  its status (/api/study)", "api/study?name=\(study)", false),
        ("  its objective against budget", "api/study/budget?name=\(study)", false),
        ("  its parallel coordinates", "api/study/parallel?name=\(study)", false),
    ]
    print("\nserver time per request over loopback, \(repeats) requests each after 3 warm-up ones (milliseconds; goal p95 < 100 for pages):")
    print("  " + "page".padding(50) + "p50".padding(9) + "p95".padding(9) + "max".padding(9) + "bytes")
    var missed: [String] = []
    for page in pages {
        let samples = try timeRequests(base + page.path, count: repeats)
        let p95 = percentile(samples.map(\.serverSeconds), 0.95) * 1000
        print("  " + page.name.padding(50) + format(percentile(samples.map(\.serverSeconds), 0.5) * 1000, 1).padding(9)
            + format(p95, 1).padding(9) + format(samples.map(\.serverSeconds).max()! * 1000, 1).padding(9)
            + "\(samples.last!.bytes)")
        if page.goal && p95 >= 100 { missed.append(page.name) }
    }
    let payload = try fetch(base + "api/runs/\(longRun)/chart").utf8.count
    print("\nchart payload of the \(longIterations)-iteration run \(longRun): \(payload) bytes "
        + "(goal < 200 KB: \(payload < 200 * 1024 ? "met" : "NOT met"))")

    print("\nload: wrk, \(connections) connections, 2 threads, \(seconds) s on the runs page, \(rounds) rounds:")
    let before = residentKiB(pid: server.pid)
    print("  server RSS before: \(format(Double(before) / 1024, 1)) MiB")
    var slowest = Double.infinity
    var errors = 0
    for round in 1...rounds {
        let load = try runLoad(base, connections: connections, seconds: seconds)
        slowest = min(slowest, load.requestsPerSecond)
        errors += load.errors
        print("  round \(round): \(format(load.requestsPerSecond, 0)) requests/s, \(load.requests) requests, \(load.errors) errors "
            + "(non-2xx or socket), latency p50 \(load.latencyP50) p99 \(load.latencyP99); server RSS after: "
            + "\(format(Double(residentKiB(pid: server.pid)) / 1024, 1)) MiB")
    }
    print("  goal: >= 1,000 requests/s with 0 errors: \(slowest >= 1000 && errors == 0 ? "met" : "NOT met")")
    print("  pages at p95 >= 100 ms: \(missed.isEmpty ? "none" : missed.joined(separator: "; "))")
    print("load average after: \(loadAverage())")
}

/// Adds small finished runs (QL, N = 4, 64 iterations, label `ui-bench`) until the database holds
/// `target` runs, the size of the runs page's benchmark; returns how many it added.
func topUpRuns(path: String, to target: Int) throws -> Int {
    let store = try TrackerStore(path: path)
    // Counted on a connection of its own: the store's is internal to TrackerStore.
    let counting = try Database(path: path, mode: .readOnly)
    guard case .integer(let count)? = try counting.scalar("SELECT count(*) FROM runs"), count < target else { return 0 }
    guard case .integer(let earlier)? = try counting.scalar("SELECT count(*) FROM runs WHERE label = 'ui-bench'") else { return 0 }
    let frame = FrameGenerator.generate(count: 4, seed: 1)
    let missing = target - Int(count)
    for index in 0..<missing {
        // Seeds above the fill's, so no configuration repeats one already recorded.
        let seed = UInt64(1_000_000 + Int(earlier) + index)
        let specification = RunSpecification(
            frame: frame, frameSource: .generated(seed: 1),
            hyperparameters: Hyperparameters(algorithm: .ql, phi: 0, iterations: 64, seed: seed),
            checkpointEvery: 64, keepCheckpoints: 1, label: "ui-bench", trackerVersion: "bench")
        _ = try RunSession.start(specification, in: store).run()
    }
    return missing
}

/// The study of the study pages' figures: studies/quick.json's spec (9 DTEQL trials at N = 5, ASHA over
/// 200 to 1,800 iterations), recorded once by `tracker tune` (a few seconds). Returns its name.
func recordBenchStudy(tracker: String, path: String, in directory: URL) throws -> String {
    let name = "ui-bench-quick"
    let spec = directory.appendingPathComponent("\(name).json")
    try """
        {"name": "\(name)", "n": [5], "frames": 2, "first_frame_seed": 1, "seeds": [1], "algorithm": "dteql",
         "fixed": {"epsilon_min": 0.05},
         "search": {"lr": {"log_uniform": [0.05, 1]}, "epsilon_decay": {"uniform": [50, 2000]}, "phi": {"choice": [5, 10, 20]}},
         "objective": "median_convergence", "budget": {"min_iterations": 200, "max_iterations": 1800, "reduction": 3},
         "trials": 9, "scheduler": "asha", "sampler": "sobol", "seed": 1}
        """.write(to: spec, atomically: true, encoding: .utf8)
    // A recorded study is complete and changes nothing: `tune` finds every trial-rung done.
    let result = try runProcess(tracker, ["tune", spec.path, "--db", path, "--quiet"], capture: true)
    guard result.status == 0 else { throw UsageError(description: "tracker tune for the study pages failed with exit status \(result.status)") }
    return name
}

/// One QL run of `iterations` iterations (N = 6, label `ui-bench-long`), recorded once: the chart payload's
/// subject. Returns its run id.
func recordLongRun(path: String, iterations: Int) throws -> String {
    let store = try TrackerStore(path: path)
    // The bench reads with a plain connection of its own (the store's is internal to it).
    if case .text(let id)? = try Database(path: path, mode: .readOnly).scalar(
        "SELECT run_id FROM runs WHERE label = 'ui-bench-long' AND done_iterations = ? AND status = 'finished'",
        [.integer(Int64(iterations))]) {
        return id
    }
    print("ui benchmark: recording one QL run of \(iterations) iterations for the chart payload")
    let frame = FrameGenerator.generate(count: 6, seed: 3)
    let specification = RunSpecification(
        frame: frame, frameSource: .generated(seed: 3),
        hyperparameters: Hyperparameters(algorithm: .ql, phi: 0, iterations: iterations, seed: 77),
        checkpointEvery: iterations, keepCheckpoints: 1, label: "ui-bench-long", trackerVersion: "bench")
    let session = try RunSession.start(specification, in: store)
    _ = try session.run()
    return session.record.runID
}

/// The first two runs (of the fill), for the side-by-side page.
func twoFillRuns(_ path: String) throws -> (String, String) {
    let database = try Database(path: path, mode: .readOnly)
    guard case .text(let first)? = try database.scalar("SELECT run_id FROM runs ORDER BY id LIMIT 1"),
          case .text(let second)? = try database.scalar("SELECT run_id FROM runs ORDER BY id LIMIT 1 OFFSET 1")
    else { throw UsageError(description: "\(path) holds fewer than two runs") }
    return (first, second)
}

/// Runs, metric rows, and the run the run page shows: the first N = 8 run of the fill (25,600 metric rows).
func describeBenchDatabase(_ path: String) throws -> (runs: Int, metricRows: Int, runID: String) {
    let database = try Database(path: path, mode: .readOnly)
    guard case .integer(let runs)? = try database.scalar("SELECT count(*) FROM runs"),
          case .integer(let rows)? = try database.scalar("SELECT count(*) FROM metrics"),
          case .text(let runID)? = try database.scalar(
            "SELECT run_id FROM runs ORDER BY n = 8 AND label = 'fill' DESC, done_iterations DESC, id LIMIT 1")
    else { throw UsageError(description: "\(path) holds no runs") }
    return (Int(runs), Int(rows), runID)
}

/// A `tracker ui --port 0` child process; `baseURL` is the URL it printed.
final class DashboardServer {
    let process = Process()
    let baseURL: String
    var pid: Int32 { process.processIdentifier }

    init(tracker: String, database: String) throws {
        process.executableURL = URL(fileURLWithPath: tracker)
        process.arguments = ["ui", "--db", database, "--port", "0"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let match = text.firstMatch(of: /(http:\/\/[^ ]+\/)/) else {
            process.terminate()
            throw UsageError(description: "tracker ui printed no URL: \(text)")
        }
        baseURL = String(match.1)
    }

    /// SIGTERM, which the dashboard handles by finishing open requests and exiting.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

struct RequestSample {
    var serverSeconds: Double
    var bytes: Int
}

/// `count` GETs of `url` on one kept-alive connection (one curl process), after three warm-up ones.
func timeRequests(_ url: String, count: Int) throws -> [RequestSample] {
    let total = count + 3
    var arguments = ["-s", "-w", "%{http_code} %{time_pretransfer} %{time_starttransfer} %{size_download}\n"]
    for _ in 0..<total { arguments += ["-o", "/dev/null", url] }
    let result = try runProcess(findExecutable("curl")!, arguments, capture: true)
    let samples = result.output.split(separator: "\n").map { line -> (Int, RequestSample) in
        let fields = line.split(separator: " ")
        let code = Int(fields[0]) ?? 0
        let sent = Double(fields[1]) ?? 0, first = Double(fields[2]) ?? 0
        return (code, RequestSample(serverSeconds: first - sent, bytes: Int(fields[3]) ?? 0))
    }
    guard samples.count == total, samples.allSatisfy({ $0.0 == 200 }) else {
        throw UsageError(description: "GET \(url) did not answer 200 every time: \(result.output.prefix(200))")
    }
    return samples.dropFirst(3).map(\.1)
}

func fetch(_ url: String) throws -> String {
    let result = try runProcess(findExecutable("curl")!, ["-sf", url], capture: true)
    guard result.status == 0 else { throw UsageError(description: "GET \(url) failed (curl status \(result.status))") }
    return result.output
}

/// The value below which `fraction` of the samples lie (nearest rank).
func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    let rank = Int((fraction * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank - 1, 0), sorted.count - 1)]
}

struct LoadResult {
    var requestsPerSecond: Double
    var requests: Int
    var errors: Int
    var latencyP50: String
    var latencyP99: String
}

/// wrk on `url` for `seconds` with `connections` connections on 2 threads; wrk stops itself.
func runLoad(_ url: String, connections: Int, seconds: Int) throws -> LoadResult {
    let result = try runProcess(findExecutable("wrk")!, [
        "-t", String(min(2, connections)), "-c", String(connections), "-d", "\(seconds)s", "--latency", url,
    ], capture: true)
    let text = result.output
    guard result.status == 0, let rate = text.firstMatch(of: /Requests\/sec:\s+([0-9.]+)/).flatMap({ Double($0.1) }),
          let requests = text.firstMatch(of: /([0-9]+) requests in/).flatMap({ Int($0.1) }) else {
        throw UsageError(description: "wrk failed or printed no rate:\n\(text)")
    }
    var errors = text.firstMatch(of: /Non-2xx or 3xx responses:\s+([0-9]+)/).flatMap { Int($0.1) } ?? 0
    if let socket = text.firstMatch(of: /Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)/) {
        errors += [socket.1, socket.2, socket.3, socket.4].compactMap { Int($0) }.reduce(0, +)
    }
    func latency(_ percent: String) -> String {
        text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(percent + "%") }
            .map { String($0.split(separator: " ").last ?? "?") } ?? "?"
    }
    return LoadResult(requestsPerSecond: rate, requests: requests, errors: errors, latencyP50: latency("50"), latencyP99: latency("99"))
}

/// VmRSS of a process in KiB, from /proc; 0 where unreadable.
func residentKiB(pid: Int32) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
    return Int(line.filter(\.isNumber)) ?? 0
}

/// The 1, 5 and 15 minute load averages, as /proc/loadavg has them.
func loadAverage() -> String {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}

/// The full path of a program on $PATH, nil when there is none.
func findExecutable(_ name: String) -> String? {
    let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}
