import Foundation
import Learning
import Scheduling
import SQLite
import TrackerApp
import TrackerStore

// MARK: pipeline

/// The whole `tracker run` pipeline without the terminal: learner, metric rows, frame actions,
/// checkpoints and summary into a fresh database file.
func pipelineBenchmark(_ arguments: ArraySlice<String>) throws {
    let options = try Options(arguments, allowed: ["algo", "n", "iterations", "checkpoint-every", "repeat", "phi"])
    let algorithm = Algorithm(rawValue: options.string("algo") ?? "ql") ?? .ql
    let n = try options.int("n", default: 8)
    let iterations = try options.int("iterations", default: 25_600)
    let repeats = try options.int("repeat", default: 3)
    let phi = try options.int("phi", default: 500)
    let intervals = options.string("checkpoint-every").map { [Int($0) ?? 1024] } ?? [1024, iterations + 1]
    print("pipeline benchmark: \(algorithm.rawValue) N=\(n) \(iterations) iterations, best of \(repeats), fresh database each")
    for interval in intervals {
        var best = Double.infinity
        var bytes = 0
        for _ in 0..<max(repeats, 1) {
            let directory = try benchDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("bench.db").path
            let store = try TrackerStore(path: path)
            let frame = FrameGenerator.generate(count: n, seed: 1)
            let specification = RunSpecification(
                frame: frame, frameSource: .generated(seed: 1),
                hyperparameters: Hyperparameters(algorithm: algorithm, phi: algorithm == .ql ? 0 : phi, iterations: iterations),
                checkpointEvery: interval, trackerVersion: "bench")
            let start = now()
            let session = try RunSession.start(specification, in: store)
            _ = try session.run()
            best = min(best, now() - start)
            // On a connection of its own: the store's is internal to TrackerStore.
            if case .integer(let size)? = try Database(path: store.path, mode: .readOnly).scalar(
                "SELECT sum(pgsize) FROM dbstat WHERE name IN ('metrics', 'frame_actions')") {
                bytes = Int(size)
            }
        }
        let label = interval > iterations ? "no checkpoints until the end" : "checkpoint every \(interval)"
        print("  \(label.padding(30))  \(format(best, 4)) s  \(Int(Double(iterations) / best)) rows/s"
            + "  metrics+frame_actions \(format(Double(bytes) / Double(iterations), 1)) bytes/iteration")
    }
}

// MARK: checkpoint

/// One checkpoint's parts for a learner trained 25,600 iterations: the snapshot, its SHA-256 (the
/// store's, on the CPU's SHA instructions where it has them, and beside it the portable one it replaced),
/// the INSERT of the blob (its own transaction, WAL, synchronous=NORMAL), the read back and the restore.
func checkpointBenchmark(_ arguments: ArraySlice<String>) throws {
    let options = try Options(arguments, allowed: ["n", "repeat", "phi"])
    let n = try options.int("n", default: 8)
    let repeats = try options.int("repeat", default: 20)
    let phi = try options.int("phi", default: 500)
    let directory = try benchDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let database = try Database(path: directory.appendingPathComponent("blobs.db").path)
    try database.enableWAL()
    try database.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, snapshot BLOB NOT NULL, sha256 TEXT NOT NULL)")
    print("checkpoint benchmark: N=\(n), learner after 25,600 iterations, best of \(repeats) (milliseconds)")
    print("  algorithm  bytes      snapshot  sha256   write    read     restore  total write  (portable sha256)")
    let frame = FrameGenerator.generate(count: n, seed: 1)
    var key: Int64 = 0
    for algorithm in Algorithm.allCases {
        let hyperparameters = Hyperparameters(algorithm: algorithm, phi: algorithm == .ql ? 0 : phi, iterations: 25_600)
        let learner = try Learner(frame: frame, hyperparameters: hyperparameters)
        learner.runToEnd()
        var best = (snapshot: Double.infinity, hash: Double.infinity, write: Double.infinity,
                    read: Double.infinity, restore: Double.infinity, total: Double.infinity, portable: Double.infinity)
        var size = 0
        for _ in 0..<max(repeats, 1) {
            key += 1
            let t0 = now()
            let snapshot = learner.snapshot()
            let t1 = now()
            let hash = CheckpointDigest.hex(snapshot)
            let t2 = now()
            try database.transaction(.immediate) {
                let insert = try database.cachedStatement("INSERT INTO blobs (id, snapshot, sha256) VALUES (?, ?, ?)")
                try insert.run([.integer(key), .blob(snapshot), .text(hash)])
            }
            let t3 = now()
            let select = try database.cachedStatement("SELECT snapshot FROM blobs WHERE id = ?")
            let blob = try select.rows([.integer(key)]) { $0.blob(0) }.first ?? []
            let t4 = now()
            _ = try Learner(restoring: blob, frame: frame, hyperparameters: hyperparameters, optimumObjective: nil)
            let t5 = now()
            let portableHash = SHA256.hexDigest(snapshot)
            let t6 = now()
            guard portableHash == hash else { throw UsageError(description: "the two SHA-256 implementations disagree") }
            size = snapshot.count
            best = (min(best.snapshot, t1 - t0), min(best.hash, t2 - t1), min(best.write, t3 - t2),
                    min(best.read, t4 - t3), min(best.restore, t5 - t4), min(best.total, t3 - t0),
                    min(best.portable, t6 - t5))
        }
        func ms(_ seconds: Double) -> String { format(seconds * 1000, 3).padding(8) }
        print("  \(algorithm.rawValue.padding(9))  \(String(size).padding(9))  \(ms(best.snapshot))  \(ms(best.hash)) "
            + "\(ms(best.write)) \(ms(best.read)) \(ms(best.restore)) \(ms(best.total))     \(ms(best.portable))")
    }
}
