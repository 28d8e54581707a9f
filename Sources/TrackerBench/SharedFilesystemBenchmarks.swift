import Foundation
import TrackerApp
import TrackerStore

// MARK: sharedfs

/// What the shared-filesystem design costs (docs/sweeps.md#shared-filesystems): the filesystem lookup
/// every open now makes (a stat and the mount table), and one published copy (`VACUUM INTO`, sync,
/// rename) of an existing database (`--db`, e.g. the file `tracker reproduce --quick` wrote).
func sharedFilesystemBenchmark(_ arguments: ArraySlice<String>) throws {
    let options = try Options(arguments, allowed: ["db", "repeat"])
    let repeats = max(try options.int("repeat", default: 5), 1)
    let directory = try benchDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }

    let mounts = ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "")
        .split(separator: "\n").count
    let probe = directory.appendingPathComponent("probe.db").path
    var lookups: [Double] = []
    var found: Filesystem?
    for _ in 0..<200 {
        let start = now()
        found = Filesystem.of(probe)
        lookups.append(now() - start)
    }
    print("sharedfs benchmark")
    print(String(format: "  filesystem lookup per open: %.1f us median, %.1f us p95 (%@, %d mounts in the table)",
                 percentile(lookups, 0.5) * 1e6, percentile(lookups, 0.95) * 1e6,
                 found.map { "\($0.name), \($0.isShared ? "shared" : "local")" } ?? "unknown", mounts))

    guard let database = options.string("db") else {
        print("  (give --db PATH of a tracker database to time one published copy of it)")
        return
    }
    var size = stat()
    guard stat(database, &size) == 0 else { throw UsageError(description: "--db \(database): no such file") }
    var copies: [Double] = []
    for round in 0..<repeats {
        let target = directory.appendingPathComponent("published-\(round).db").path
        let publisher = try ShardPublisher(localPath: database, targetPath: target, intervalSeconds: 3600)
        let start = now()
        try publisher.publish()
        copies.append(now() - start)
    }
    print(String(format: "  one published copy of %@ (%.1f MB): %.0f ms median of %d",
                 database, Double(size.st_size) / 1e6, percentile(copies, 0.5) * 1e3, repeats))
}
