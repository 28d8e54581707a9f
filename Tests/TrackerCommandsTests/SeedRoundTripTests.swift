import Foundation
import SQLite
import Testing
import TestSupport

/// Issue 10 section 4: seeds are UInt64s, SQLite integers signed 64-bit. On main `run --frame-seed
/// 18446744073709551615` stored -1 and `show` then trapped ("Not enough bits", exit 132); `--seed` above
/// 2^63 - 1 was refused. Every seed now round-trips exactly through the database (stored as its bit
/// pattern) and every command shows it as itself.
@Suite struct SeedRoundTripTests {
    @Test(arguments: [UInt64.max, UInt64(1) << 63, UInt64(Int64.max)])
    func aSeedRoundTripsThroughEveryCommand(seed: UInt64) throws {
        let dir = try TemporaryDirectory()
        let db = dir.path("seeds.db")
        let text = String(seed)
        let run = try CLI.run(["run", "--db", db, "--algo", "ql", "--n", "4", "--iterations", "60", "--checkpoint-every", "20",
                               "--frame-seed", text, "--seed", text, "--twin-noise", "0.1", "--twin-noise-seed", text,
                               "--quiet", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(text))
        let runID = try #require((try CLI.json(run) as? [String: Any])?["run_id"] as? String)

        // The columns hold the bit pattern; nothing else changes what an existing database stores.
        let database = try Database(path: db)
        #expect(try database.scalar("SELECT seed FROM runs") == .integer(Int64(bitPattern: seed)))
        #expect(try database.scalar("SELECT seed FROM frames") == .integer(Int64(bitPattern: seed)))

        let show = try CLI.run(["show", runID, "--db", db])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.split(separator: "\n").filter { $0.hasPrefix("seed ") }.allSatisfy { $0.hasSuffix(" \(text)") })
        #expect(show.stdout.split(separator: "\n").contains { $0.hasPrefix("twin_noise_seed ") && $0.hasSuffix(" \(text)") })
        let showJSON = try CLI.run(["show", runID, "--db", db, "--format", "json"])
        #expect(showJSON.status == 0, "\(showJSON.stderr)")
        #expect(!showJSON.stdout.contains("-1,") && !showJSON.stdout.contains(": -"))
        #expect(showJSON.stdout.components(separatedBy: text).count - 1 >= 3)

        let list = try CLI.run(["list", "--db", db, "--columns", "run_id,seed,frame_seed"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("\(runID)  \(text)  \(text)"))
        let listJSON = try CLI.run(["list", "--db", db, "--format", "json"])
        #expect(listJSON.stdout.components(separatedBy: text).count - 1 == 2)

        // Stopped mid-way, then resumed: same seeds, still shown exactly.
        try database.execute("UPDATE runs SET status = 'interrupted', pid = NULL")
        let resume = try CLI.run(["resume", runID, "--db", db, "--quiet", "--format", "json"])
        #expect(resume.status == 0, "\(resume.stderr)")
        #expect(resume.stdout.contains(text))

        let compare = try CLI.run(["compare", "--db", db, "--by", "twin_noise_seed"])
        #expect(compare.status == 0, "\(compare.stderr)")
        #expect(compare.stdout.contains(text) && !compare.stdout.contains(" -1 "))
        let filtered = try CLI.run(["list", "--db", db, "--where", "twin_noise_seed=\(text)", "--columns", "run_id"])
        #expect(filtered.stdout.contains(runID), "\(filtered.stderr)")
    }

    /// Seeds past UInt64 are bad options, not traps.
    @Test func aSeedPastUInt64IsABadOption() throws {
        for option in ["--seed", "--frame-seed", "--twin-noise-seed"] {
            let result = try CLI.run(["run", "--db", "/nonexistent/never.db", "--algo", "ql", "--n", "4", option, "18446744073709551616"])
            #expect(result.status == 64, "\(option): \(result.stderr)")
            #expect(result.stderr.hasPrefix("Error: "))
        }
    }
}
