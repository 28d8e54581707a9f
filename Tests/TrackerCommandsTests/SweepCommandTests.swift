import Foundation
import SQLite
import Testing
import TestSupport

/// `tracker sweep`, `merge` and `reproduce` through the built binary: interruptions, kills, shards.
@Suite(.serialized) struct SweepCommandTests {
    static let spec = """
        { "label": "cli", "n": [5, 6], "frames": 2, "iterations": 4000,
          "configurations": [ {"algorithm": "dteql", "phi": [100, 20]}, {"algorithm": "dtaql", "phi": [20], "delta": [256]},
                              {"algorithm": "ql"} ],
          "checkpoint_every": 500 }
        """

    @Test func killedAndInterruptedSweepsFinishOnTheNextRunWithIdenticalResults() throws {
        let dir = try TemporaryDirectory()
        let specPath = dir.path("spec.json")
        try Self.spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        let reference = dir.path("reference.db")
        let straight = try CLI.run(["sweep", specPath, "--db", reference, "--jobs", "2", "--quiet"])
        #expect(straight.status == 0, "\(straight.stderr)")

        let db = dir.path("killed.db")
        // Kill -9 at moments chosen by a fixed seed, each after some progress; then SIGINT once.
        var generator = SeededTimings(seed: 7)
        var kills = 0
        for round in 0..<4 {
            let process = try CLI.start(["sweep", specPath, "--db", db, "--jobs", "2", "--quiet"], captureStderr: true)
            waitForProgress(db, atLeast: 1 + round * 700, while: process)
            Thread.sleep(forTimeInterval: Double(generator.next() % 60) / 1000)
            if process.isRunning {
                kill(process.processIdentifier, round == 3 ? SIGINT : SIGKILL)
                kills += 1
            }
            #expect(waitForExit(process, seconds: 60))
            if round == 3, process.terminationReason == .exit {
                #expect([0, 130].contains(process.terminationStatus))
            }
            #expect(try integrityCheck(db) == "ok")
        }
        #expect(kills >= 2, "the sweep finished before it could be interrupted")
        let finish = try CLI.run(["sweep", specPath, "--db", db, "--jobs", "2"])
        #expect(finish.status == 0, "\(finish.stderr)")
        let again = try CLI.run(["sweep", specPath, "--db", db, "--jobs", "2"])
        #expect(again.stderr.contains("0 started, 0 resumed, 16 already finished"), "\(again.stderr)")
        #expect(try runResults(db) == runResults(reference))
        #expect(try metricDump(db) != "", "no metrics")
    }

    /// Ctrl-C on a sweep with `--format json`: the partial result still comes on stdout, each interrupted
    /// run named (and 'interrupted' in the database), the runs never reached counted; the last progress line
    /// counts the interrupted runs apart from the done ones and claims no ETA.
    @Test func anInterruptedSweepPrintsItsPartialResultAsJSON() throws {
        let dir = try TemporaryDirectory()
        let specPath = dir.path("spec.json")
        try Self.spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        let db = dir.path("t.db")
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["sweep", specPath, "--db", db, "--jobs", "2", "--format", "json"]
        var environment = ProcessInfo.processInfo.environment
        environment["TRACKER_DB"] = nil
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        waitForProgress(db, atLeast: 500, while: process)
        try #require(process.isRunning, "the sweep finished before it could be interrupted")
        kill(process.processIdentifier, SIGINT)
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        let stderr = String(decoding: errData, as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: outData) as? [String: Any], "\(String(decoding: outData, as: UTF8.self))")
        #expect(json["stopped"] as? Bool == true)
        let interrupted = try #require(json["interrupted_runs"] as? [String])
        #expect(!interrupted.isEmpty && interrupted.count == json["interrupted"] as? Int, "\(json)")
        let statuses = try Database(path: db, mode: .readOnly).prepare("SELECT run_id, status FROM runs").rows { ($0.text(0), $0.text(1)) }
        for runID in interrupted {
            #expect(statuses.first { $0.0 == runID }?.1 == "interrupted", "\(runID): \(statuses)")
        }
        let finished = statuses.filter { $0.1 == "finished" }.count
        #expect((json["started"] as? Int ?? 0) - interrupted.count == finished, "\(json) \(statuses)")
        #expect(json["not_started"] as? Int == 16 - statuses.count, "\(json)")
        let last = try #require(stderr.split(separator: "\n").last { $0.contains(" runs") && $0.hasPrefix("sweep ") })
        #expect(last.contains("\(finished)/16 runs, \(interrupted.count) interrupted"), "\(stderr)")
        #expect(last.contains("stopped") && !last.contains("ETA"), "\(stderr)")
    }

    @Test func fourShardsMergedGiveTheSameCompareTablesAsOneSweep() throws {
        let dir = try TemporaryDirectory()
        let specPath = dir.path("spec.json")
        try Self.spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        let whole = dir.path("whole.db")
        #expect(try CLI.run(["sweep", specPath, "--db", whole, "--quiet"]).status == 0)
        var shards: [String] = []
        for shard in 1...4 {
            let path = dir.path("shard\(shard).db")
            let result = try CLI.run(["sweep", specPath, "--db", path, "--shard", "\(shard)/4", "--jobs", "1", "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
            shards.append(path)
        }
        let merged = dir.path("merged.db")
        let merge = try CLI.run(["merge", merged] + shards + [shards[0]])
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stderr.contains("0 runs added, 0 replaced a copy less far along, 4 skipped (already present)"), "\(merge.stderr)")
        for arguments in [["compare", "--n", "5"], ["compare", "--n", "6"], ["compare"], ["compare", "--n", "6", "--format", "json"]] {
            let a = try CLI.run(arguments + ["--db", whole])
            let b = try CLI.run(arguments + ["--db", merged])
            #expect(a.status == 0, "\(a.stderr)")
            #expect(a.stdout == b.stdout, "\(arguments)")
        }
        #expect(try runResults(merged) == runResults(whole))
    }

    @Test func badSweepInputsAreOneLineErrors() throws {
        let dir = try TemporaryDirectory()
        let bad = dir.path("bad.json")
        try #"{"n": [6], "configurations": [{"algorithm": "sarsa"}]}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        let result = try CLI.run(["sweep", bad, "--db", dir.path("t.db")])
        #expect(result.status == 1)
        #expect(result.errorLines.count == 1)
        #expect(result.stderr.contains("sarsa"))
        #expect(try CLI.run(["sweep", dir.path("missing.json")]).status == 1)
        #expect(try CLI.run(["sweep", bad, "--shard", "5/4"]).status == 64)
        #expect(try CLI.run(["merge", dir.path("out.db"), dir.path("missing.db")]).status == 1)
    }

    /// A new user's first look at a grid that sweeps a hyperparameter: without a database the plan still
    /// comes (every run starts, nothing is created), and each row names the settings that set it apart.
    @Test func aDryRunNeedsNoDatabaseAndShowsTheSettingsThatTellRowsApart() throws {
        let dir = try TemporaryDirectory()
        let spec = dir.path("lr.json")
        try #"{"n": [4], "iterations": 100, "configurations": [{"algorithm": "ql"}, {"algorithm": "dtaql", "phi": [2], "delta": [8, 16]}], "hyperparameters": {"learning_rate": [0.5, 0.9]}}"#
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let db = dir.path("new.db")
        let plan = try CLI.run(["sweep", spec, "--db", db, "--dry-run", "--format", "json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stderr.contains("does not exist yet: every run would start (nothing was created)"), "\(plan.stderr)")
        let rows = try #require(try CLI.json(plan) as? [[String: Any]])
        let names = rows.compactMap { $0["run"] as? String }
        #expect(names.count == 6, "\(plan.stdout)")
        #expect(Set(names).count == 6, "two rows read alike: \(plan.stdout)")
        #expect(rows.allSatisfy { $0["action"] as? String == "start" })
        #expect(names.contains("ql N=4 frame-seed=1 seed=1 lr=0.5"), "\(plan.stdout)")
        #expect(names.contains("dtaql phi=2 N=4 frame-seed=1 seed=1 lr=0.9 delta=16"), "\(plan.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted() == ["lr.json"])
    }

    @Test func reproduceDryRunListsThePapersGrid() throws {
        let dir = try TemporaryDirectory()
        // A dry run only reads: without a database it plans every run to start, says so and creates nothing.
        let missing = try CLI.run(["reproduce", "--quick", "--dry-run", "--db", dir.path("t.db")])
        #expect(missing.status == 0, "\(missing.stderr)")
        #expect(missing.errorLines == ["note: \(dir.path("t.db")) does not exist yet: every run would start (nothing was created)"])
        #expect(missing.stdout.split(separator: "\n").count == 48 + 2)
        #expect(missing.stdout.split(separator: "\n").dropFirst(2).allSatisfy { $0.contains(" start") }, "\(missing.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("t.db")))
        for suffix in ["-wal", "-shm", "-journal"] { #expect(!FileManager.default.fileExists(atPath: dir.path("t.db" + suffix))) }
        #expect(try CLI.run(["run", "--db", dir.path("t.db"), "--algo", "ql", "--n", "4", "--iterations", "10", "--quiet"]).status == 0)
        let result = try CLI.run(["reproduce", "--quick", "--dry-run", "--db", dir.path("t.db")])
        #expect(result.status == 0, "\(result.stderr)")
        // 2 N x 4 frames x 6 configurations, plus the header lines.
        #expect(result.stdout.split(separator: "\n").count == 48 + 2)
        #expect(result.stdout.contains("dteql phi=500 N=6 frame-seed=1 seed=1"))
    }

    /// Both readings in one database: each prints only its own runs, the spec tables are the same with or
    /// without the literal runs beside them, and the literal DTAQL column is named for its aggregation.
    @Test func bothReadingsShareADatabaseWithoutMixing() throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("both.db")
        func reproduce(_ reading: String) throws -> String {
            let result = try CLI.run([
                "reproduce", "--quick", "--frames", "2", "--iterations", "300", "--reading", reading, "--db", db,
                "--report", dir.path("report-\(reading)"), "--quiet",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout
        }
        let specAlone = try reproduce("spec")
        let literal = try reproduce("literal")
        #expect(try reproduce("spec") == specAlone)
        #expect(literal.contains("DTAQL phi=500 aggregation=pool"))
        #expect(literal.contains("literal reading"))
        #expect(!specAlone.contains("pool"))
        let labels = try CLI.run(["sql", "--db", db, "--format", "csv",
            "SELECT label, count(*), sum(p.epsilon_start = p.epsilon_min), sum(p.aggregation = 'pool') FROM runs JOIN run_params AS p ON p.run = runs.id GROUP BY label ORDER BY label"])
        #expect(labels.stdout.contains("paper,24,0,0"), "\(labels.stdout)")
        #expect(labels.stdout.contains("paper-literal,24,24,4"), "\(labels.stdout)")
        let report = try String(contentsOfFile: dir.path("report-literal/report.md"), encoding: .utf8)
        #expect(report.contains("Reading: literal"))
    }
}

/// Every run's identity with its results, for comparing databases built different ways.
func runResults(_ path: String) throws -> [String] {
    let database = try Database(path: path, mode: .readOnly)
    return try database.prepare("""
        SELECT r.config_hash, r.status, s.qtable_sha256, s.objective, s.iterations_to_optimal,
               (SELECT count(*) FROM metrics AS m WHERE m.run = r.id)
        FROM runs AS r LEFT JOIN run_summaries AS s ON s.run = r.id ORDER BY r.config_hash
        """).rows { row in (0..<6).map { String(describing: row.value(Int32($0))) }.joined(separator: "|") }
}

/// A tiny seeded generator for test timings (SplitMix64), so a failing schedule can be replayed.
struct SeededTimings {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
