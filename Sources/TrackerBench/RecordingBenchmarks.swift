import Foundation
import Learning
import Scheduling
import SQLite
import TrackerApp
import TrackerStore

// MARK: recording

/// Wall and CPU (user + sys) seconds of one child process run to its end.
struct ProcessCost {
    var wall: Double
    var cpu: Double
}

/// Runs a process to its end with stdout and stderr discarded; its wall time and the CPU time the kernel
/// charged it (wait4's rusage, children of the child included only once they were waited for).
func measureProcess(_ executable: String, _ arguments: [String], expectFailure: Bool = false) throws -> ProcessCost {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let start = now()
    let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    guard rc == 0 else { throw UsageError(description: "cannot start \(executable): error \(rc)") }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let wall = now() - start
    guard (status == 0) != expectFailure else {
        throw UsageError(description: "\(executable) \(arguments.joined(separator: " ")) "
            + (expectFailure ? "succeeded where it should fail" : "failed (wait status \(status))"))
    }
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return ProcessCost(wall: wall, cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime))
}

/// One `tracker run` as a whole process: into a fresh database file, or, given `template`, into a copy
/// of that tracker database (made before the clock starts), as most runs are recorded.
func timeTrackerRun(_ tracker: String, in directory: URL, _ arguments: [String], template: String? = nil) throws -> ProcessCost {
    let path = directory.appendingPathComponent("run-\(UUID().uuidString).db").path
    defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
    if let template { try FileManager.default.copyItem(atPath: template, toPath: path) }
    return try measureProcess(tracker, ["run", "--db", path, "--quiet"] + arguments)
}

/// A tracker database made by `tracker` itself (migrated, in WAL mode, one tiny QL run in it), closed,
/// for `timeTrackerRun(template:)` to copy.
func trackerDatabaseTemplate(_ tracker: String, in directory: URL, name: String) throws -> String {
    let path = directory.appendingPathComponent("template-\(name).db").path
    _ = try measureProcess(tracker, ["run", "--db", path, "--quiet", "--algo", "ql", "--n", "2", "--iterations", "1"])
    return path
}

/// The fixed part of a run that comes before any recording: the process starting, its arguments parsed
/// and its frame generated and checked, then refused (phi = 0) before the database is opened.
func timeRefusedRun(_ tracker: String, in directory: URL) throws -> ProcessCost {
    let path = directory.appendingPathComponent("refused.db").path
    let arguments = ["run", "--db", path, "--quiet", "--algo", "dteql", "--phi", "0", "--n", "8"]
    let cost = try measureProcess(tracker, arguments, expectFailure: true)
    guard !FileManager.default.fileExists(atPath: path) else {
        throw UsageError(description: "\(tracker) \(arguments.joined(separator: " ")) created \(path)")
    }
    return cost
}

/// Keeps the cost of smaller wall time.
func keepBest(_ best: inout ProcessCost, _ cost: ProcessCost) {
    if cost.wall < best.wall { best = cost }
}

/// CPU seconds of the learners alone over a sweep's grid: each item's learner trained to its end in this
/// process, no database, no frame analysis.
func learnerGridCPU(_ items: [SweepItem]) throws -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ u: rusage) -> Double {
        Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) * 1e-6
    }
    let start = seconds(usage)
    for item in items {
        let learner = try Learner(frame: item.specification.frame, hyperparameters: item.specification.hyperparameters)
        learner.runToEnd()
    }
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return seconds(usage) - start
}

/// The issue's table of recording costs, every row a ratio measured side by side in this one run:
/// whole `tracker run` processes against the learner alone, QL iterations/s against the plain C insert
/// loop, `tracker reproduce`'s CPU against its learners', and one checkpoint's cost. With `--baseline
/// PATH` (another build of `tracker`, e.g. the one before a change) the whole-process rows run it too,
/// alternating with this build's, and print both.
func recordingBenchmark(_ arguments: ArraySlice<String>) throws {
    let options = try Options(arguments, allowed: ["repeat", "frames", "baseline", "jobs"])
    let repeats = try options.int("repeat", default: 5)
    let frames = try options.int("frames", default: 32)
    let jobs = try options.int("jobs", default: 2)
    let tracker = trackerBinary()
    guard FileManager.default.isExecutableFile(atPath: tracker) else {
        throw UsageError(description: "no tracker binary at \(tracker); build it: swift build -c release")
    }
    var binaries = [tracker]
    if let baseline = options.string("baseline") { binaries.append(baseline) }
    let names = ["this build", "baseline"]
    let directory = try benchDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    print("recording benchmark: whole tracker processes, best of \(repeats), a fresh database (or a copy of an existing one) each\(binaries.count > 1 ? "; baseline \(binaries[1])" : "")")

    // Rounds: each measures the learner alone (as `tracker-bench learner --algo dteql --n 8` does) and
    // then every run once, and each figure is the best over the rounds. This VM's speed drifts by tens of
    // percent within a minute; measured in blocks (all learners, then all runs), a ratio's numerator and
    // denominator saw different machines.
    let dteql = LearnerCase(algorithm: .dteql, n: 8, phi: 500, iterations: 25_600, seed: 1)
    let dteqlRun = ["--algo", "dteql", "--phi", "500", "--n", "8", "--seed", "1", "--frame-seed", "1"]
    let unmeasured = ProcessCost(wall: .infinity, cpu: .infinity)
    var learner = Timing(seconds: .infinity, cpuSeconds: .infinity, greedy: 0, sha: "")
    var withCheckpoints = [ProcessCost](repeating: unmeasured, count: binaries.count)
    var endOnly = withCheckpoints
    // The same two runs into a copy of an existing tracker database (the usual case: a file is created
    // once, then holds many runs), and the part of any run that comes before recording.
    var existingWithCheckpoints = withCheckpoints
    var existingEndOnly = withCheckpoints
    var refused = withCheckpoints
    let templates = try binaries.enumerated().map { index, binary in
        try trackerDatabaseTemplate(binary, in: directory, name: String(index))
    }
    let endOnlyRun = dteqlRun + ["--checkpoint-every", "25600"]
    // A checkpoint's cost is the difference of two runs measured next to each other, per round and per
    // kind of file, and its median over them: 24 checkpoints make a difference about as large as the
    // rounds' spread, so the difference of two bests (taken in different rounds) was noise, even negative.
    var checkpointCosts = [[Double]](repeating: [], count: binaries.count)
    for _ in 0..<max(repeats, 1) {
        let round = try timeLearner(dteql, repeats: 1)
        learner.seconds = min(learner.seconds, round.seconds)
        learner.cpuSeconds = min(learner.cpuSeconds, round.cpuSeconds)
        for (index, binary) in binaries.enumerated() {
            let a = try timeTrackerRun(binary, in: directory, dteqlRun)
            let b = try timeTrackerRun(binary, in: directory, endOnlyRun)
            let c = try timeTrackerRun(binary, in: directory, dteqlRun, template: templates[index])
            let d = try timeTrackerRun(binary, in: directory, endOnlyRun, template: templates[index])
            keepBest(&withCheckpoints[index], a)
            keepBest(&endOnly[index], b)
            keepBest(&existingWithCheckpoints[index], c)
            keepBest(&existingEndOnly[index], d)
            checkpointCosts[index] += [(a.wall - b.wall) / 24, (c.wall - d.wall) / 24]
            keepBest(&refused[index], try timeRefusedRun(binary, in: directory))
        }
    }
    print("  learner alone, DTEQL phi=500 N=8, 25,600 iterations: \(format(learner.seconds, 4)) s (thread CPU \(format(learner.cpuSeconds, 4)) s)")

    // 24 checkpoints besides the final one, which both runs write.
    func ratioLine(_ what: String, _ cost: ProcessCost, target: String) -> String {
        "\(what)  \(format(cost.wall, 4)) s = \(format(cost.wall / learner.seconds, 2))x the learner (target \(target))"
            + "; CPU \(format(cost.cpu, 4)) s = \(format(cost.cpu / learner.cpuSeconds, 2))x"
    }
    for (index, _) in binaries.enumerated() {
        let a = withCheckpoints[index], b = endOnly[index]
        let c = existingWithCheckpoints[index], d = existingEndOnly[index]
        print("  [\(names[index])] " + ratioLine("run, checkpoint every 1,024:", a, target: "<= 1.25"))
        print("  [\(names[index])] " + ratioLine("run, checkpoint at the end:", b, target: "<= 1.15"))
        let costs = checkpointCosts[index]
        print("  [\(names[index])] one checkpoint in a run (median over \(costs.count) side-by-side pairs of (every 1,024 - at the end) / 24): "
            + "\(format(percentile(costs, 0.5) * 1000, 2)) ms (target <= 1; pairs from \(format(costs.min()! * 1000, 2)) to \(format(costs.max()! * 1000, 2)))")
        print("  [\(names[index])] " + ratioLine("into an existing database, checkpoint every 1,024:", c, target: "<= 1.25"))
        print("  [\(names[index])] " + ratioLine("into an existing database, checkpoint at the end:", d, target: "<= 1.15"))
        print("  [\(names[index])] before any recording (process start, arguments, frame; refused at phi = 0): "
            + "\(format(refused[index].wall * 1000, 1)) ms = \(format(refused[index].wall / learner.seconds, 2))x the learner")
    }

    // QL iterations/s of the whole process against the C loop's rows/s, side by side.
    let rows = 200_000
    let qlRun = ["--algo", "ql", "--n", "8", "--iterations", String(rows), "--seed", "1", "--frame-seed", "1"]
    var ingest = IngestResult(rows: rows, swiftSeconds: .infinity, cSeconds: .infinity)
    var ql = [ProcessCost](repeating: unmeasured, count: binaries.count)
    for _ in 0..<max(repeats, 1) {
        let round = try measureIngest(rows: rows, repeats: 1)
        ingest.cSeconds = min(ingest.cSeconds, round.cSeconds)
        ingest.swiftSeconds = min(ingest.swiftSeconds, round.swiftSeconds)
        for (index, binary) in binaries.enumerated() {
            keepBest(&ql[index], try timeTrackerRun(binary, in: directory, qlRun))
        }
    }
    print("  C insert loop, \(rows) rows: \(Int(ingest.cRate)) rows/s")
    for (index, cost) in ql.enumerated() {
        let rate = Double(rows) / cost.wall
        print("  [\(names[index])] tracker run QL N=8, \(rows) iterations: \(format(cost.wall, 4)) s, \(Int(rate)) it/s = \(format(rate / ingest.cRate, 2))x the C loop (target >= 0.8)"
            + "; CPU \(format(cost.cpu, 4)) s")
    }

    // One checkpoint's parts in isolation.
    try checkpointBenchmark(["--repeat", "10"])

    // The paper's grid: CPU of `tracker reproduce` against the learners' CPU alone.
    guard let text = EmbeddedSQL.sweeps.first(where: { $0.name == "paper" })?.sql else {
        throw UsageError(description: "this build has no sweeps/paper.json")
    }
    var spec = try SweepSpec.parse(text, source: "sweeps/paper.json")
    let firstFrame = spec.frameSeeds.first ?? 1
    spec.frameSeeds = (0..<UInt64(frames)).map { firstFrame + $0 }
    let items = try spec.items()
    var learnersCPU = Double.infinity
    // Rounds again (the learners alone, then each build), up to 3, the least CPU of each: a reproduce
    // takes seconds, long enough for this VM's speed to drift between two measured one after the other.
    var reproduce = [ProcessCost](repeating: unmeasured, count: binaries.count)
    let reproduceRounds = min(max(repeats, 1), 3)
    for round in 0..<reproduceRounds {
        learnersCPU = min(learnersCPU, try learnerGridCPU(items))
        for (index, binary) in binaries.enumerated() {
            let path = directory.appendingPathComponent("reproduce-\(round)-\(index).db").path
            let report = directory.appendingPathComponent("report-\(round)-\(index)").path
            let cost = try measureProcess(binary, ["reproduce", "--db", path, "--frames", String(frames), "--jobs", String(jobs), "--report", report])
            if cost.cpu < reproduce[index].cpu { reproduce[index] = cost }
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
    }
    print("  learners alone over the grid (\(items.count) runs, \(frames) frames per N), least of \(reproduceRounds): \(format(learnersCPU, 2)) CPU s")
    var reproduceCPU: [Double] = []
    for (index, cost) in reproduce.enumerated() {
        print("  [\(names[index])] tracker reproduce --frames \(frames) --jobs \(jobs), least of \(reproduceRounds): \(format(cost.cpu, 2)) CPU s (wall \(format(cost.wall, 1)) s)"
            + " = \(format(cost.cpu / learnersCPU, 2))x the learners; recording \(format(cost.cpu - learnersCPU, 2)) CPU s")
        reproduceCPU.append(cost.cpu)
    }
    // What one metric row per iteration costs on its own: the grid's rows at the C loop's rate above.
    let gridRows = items.reduce(0) { $0 + $1.specification.hyperparameters.iterations }
    let rowsFloor = Double(gridRows) / ingest.cRate
    print("  the grid's \(gridRows) metric rows alone, at the C loop's rate: \(format(rowsFloor, 2)) CPU s")
    if reproduceCPU.count == 2 {
        print("  reproduce CPU, this build / baseline: \(format(reproduceCPU[0] / reproduceCPU[1], 2)) (target <= 0.6)")
        let budget = 0.6 * reproduceCPU[1] - learnersCPU
        print("  at 0.6x the baseline, recording may cost \(format(budget, 2)) CPU s = \(format(budget / rowsFloor, 2))x the rows alone")
    }
}

// MARK: key layout

/// `metrics` as it is (`WITHOUT ROWID`, the key (run, iteration) is the table's B-tree) against a rowid
/// table with the same primary key, which SQLite keeps as a second B-tree (an automatic unique index):
/// insert rate through 64-row INSERTs, bytes per row on disk, and reading one run back in iteration order.
func keyLayoutBenchmark(_ arguments: ArraySlice<String>) throws {
    let options = try Options(arguments, allowed: ["rows", "repeat"])
    let rows = try options.int("rows", default: 400_000)
    let repeats = try options.int("repeat", default: 3)
    let runs = 4
    print("key layout: \(runs) runs x \(rows / runs) rows, 64-row INSERTs in one transaction per run, best of \(repeats)")
    let columns = """
        run INTEGER NOT NULL, iteration INTEGER NOT NULL, action INTEGER NOT NULL, reward REAL NOT NULL,
        greedy_action INTEGER NOT NULL, distinct_actions INTEGER NOT NULL, PRIMARY KEY (run, iteration)
        """
    let layouts = [("WITHOUT ROWID (today)", "CREATE TABLE m (\(columns)) STRICT, WITHOUT ROWID"),
                   ("rowid + key index", "CREATE TABLE m (\(columns)) STRICT")]
    let perInsert = 64
    let insertSQL = "INSERT INTO m VALUES " + Array(repeating: "(?, ?, ?, ?, ?, ?)", count: perInsert).joined(separator: ", ")
    for (name, create) in layouts {
        var bestInsert = Double.infinity, bestRead = Double.infinity
        var bytes = 0
        for _ in 0..<max(repeats, 1) {
            let directory = try benchDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let database = try Database(path: directory.appendingPathComponent("k.db").path)
            try database.enableWAL()
            try database.execute(create)
            let insert = try database.prepare(insertSQL)
            let perRun = rows / runs
            let start = now()
            for run in 1...Int64(runs) {
                try database.transaction(.immediate) {
                    var i: Int64 = 0
                    while i + Int64(perInsert) <= Int64(perRun) {
                        var index: Int32 = 1
                        for k in i..<(i + Int64(perInsert)) {
                            try insert.bind(run, at: index)
                            try insert.bind(k, at: index + 1)
                            try insert.bind((k &* 7919) % 40320, at: index + 2)
                            try insert.bind(1.0 + Double(k % 1000) * 1e-3, at: index + 3)
                            try insert.bind((k / 64) % 40320, at: index + 4)
                            try insert.bind(k < 40320 ? k + 1 : 40320, at: index + 5)
                            index += 6
                        }
                        _ = try insert.step()
                        insert.reset()
                        i += Int64(perInsert)
                    }
                }
            }
            bestInsert = min(bestInsert, now() - start)
            let readStart = now()
            let select = try database.prepare("SELECT iteration, reward FROM m WHERE run = 3 ORDER BY iteration")
            var sum = 0.0
            while try select.step() { sum += select.double(1) }
            bestRead = min(bestRead, now() - readStart)
            if case .integer(let size)? = try database.scalar("SELECT sum(pgsize) FROM dbstat WHERE name IN ('m', 'sqlite_autoindex_m_1')") {
                bytes = Int(size)
            }
            precondition(sum > 0)
        }
        print("  \(name.padding(22))  \(Int(Double(rows) / bestInsert)) rows/s  \(format(Double(bytes) / Double(rows), 1)) bytes/row"
            + "  read one run in order \(format(bestRead * 1000, 2)) ms")
    }
}
