import Foundation
import Testing
import TestSupport

/// `tracker frame`, `eval` and `optimum`, end to end through the built binary.
@Suite struct ModelCommandTests {
    @Test func frameIsDeterministicAndWritesATaskFile() throws {
        let dir = try TemporaryDirectory()
        let first = try CLI.run(["frame", "--n", "5", "--seed", "7", "--format", "json"])
        let second = try CLI.run(["frame", "--n", "5", "--seed", "7", "--format", "json"])
        #expect(first.status == 0)
        #expect(first.stdout == second.stdout)
        let rows = try #require(try CLI.json(first) as? [[String: Any]])
        #expect(rows.count == 5)
        #expect(rows.allSatisfy { ($0["deadline_s"] as? Double).map { (1...5).contains($0) } ?? false })

        let out = dir.path("frame.csv")
        let written = try CLI.run(["frame", "--n", "5", "--seed", "7", "--out", out])
        #expect(written.status == 0)
        #expect(written.stdout.isEmpty)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.hasPrefix("data_bits,deadline_s,cycles_per_bit\n"))
        #expect(text.split(separator: "\n").count == 6)

        // The file reads back as the same frame: same optimum from the file as from the seed.
        let fromFile = try CLI.run(["optimum", "--tasks", out, "--format", "json"])
        let fromSeed = try CLI.run(["optimum", "--n", "5", "--seed", "7", "--format", "json"])
        #expect(fromFile.status == 0)
        #expect(fromFile.stdout == fromSeed.stdout)
    }

    @Test func evalComputesTheHandExample() throws {
        let dir = try TemporaryDirectory()
        // R = 1e6 bit/s, f = 1e9 Hz, zeta = 0.5 s (see EvaluationTests for the same arithmetic):
        // task 0: 1e6 bits, 1000 cycles/bit -> send 1 s, process 1 s; task 1: 2e6 bits, 100 -> send 2 s, process 0.2 s.
        // Order 0,1: task 0 ready 1, done 2 (deadline 3: met); task 1 ready 3, done 3.2 (deadline 3: missed).
        // J = 2 + 3.2 + 0.5 * 1 = 5.7.
        let file = dir.path("tasks.csv")
        try "data_bits,deadline_s,cycles_per_bit\n1000000,3,1000\n2000000,3,100\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let result = try CLI.run([
            "eval", "--tasks", file, "--order", "0,1", "--rate", "1e6", "--cpu-hz", "1e9", "--zeta", "0.5",
            "--format", "json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try CLI.json(result) as? [String: Any])
        #expect(abs((object["objective"] as? Double ?? 0) - 5.7) < 1e-12)
        #expect(object["misses"] as? Int == 1)
        #expect(abs((object["mean_completion_s"] as? Double ?? 0) - 2.6) < 1e-12)
        #expect(object["order"] as? [Int] == [0, 1])
    }

    @Test func optimumReportsEveryHeuristicWithItsGap() throws {
        let result = try CLI.run(["optimum", "--n", "8", "--seed", "1", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try CLI.json(result) as? [String: Any])
        let optimum = try #require(object["objective"] as? Double)
        #expect((object["order"] as? [Int])?.sorted() == Array(0..<8))
        #expect(object["misses"] is Int)
        #expect(object["mean_completion_s"] is Double)
        let heuristics = try #require(object["heuristics"] as? [String: [String: Any]])
        #expect(Set(heuristics.keys) == ["fifo", "edf", "spt", "johnson"])
        for (_, heuristic) in heuristics {
            let objective = try #require(heuristic["objective"] as? Double)
            #expect(objective >= optimum * (1 - 1e-12))
            #expect((heuristic["order"] as? [Int])?.sorted() == Array(0..<8))
        }
        let table = try CLI.run(["optimum", "--n", "8", "--seed", "1"])
        #expect(table.status == 0)
        for name in ["optimum", "fifo", "edf", "spt", "johnson"] { #expect(table.stdout.contains(name)) }
    }

    @Test(arguments: [
        ("0,1,1", "appears twice"),
        ("0,1", "has 2 entries"),
        ("0,1,7", "out of range"),
        ("0,x,2", "not a task index"),
    ])
    func evalRejectsAnythingButAPermutation(order: String, message: String) throws {
        let result = try CLI.run(["eval", "--n", "3", "--seed", "1", "--order", order])
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(result.errorLines.count == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func optimumAboveTheSupportedSizeIsAClearError() throws {
        let result = try CLI.run(["optimum", "--n", "40", "--seed", "1"])
        #expect(result.status != 0)
        #expect(result.errorLines.count == 1)
        #expect(result.stderr.contains("at most"), "\(result.stderr)")
    }

    static let badTaskFiles: [(name: String, content: String, expected: String)] = [
        ("empty", "", "empty"),
        ("header-only", "data_bits,deadline_s,cycles_per_bit\n", "no tasks"),
        ("missing-column", "data_bits,deadline_s\n1,2\n", "cycles_per_bit"),
        ("unknown-column", "data_bits,deadline_s,cycles_per_bit,colour\n1,2,3,4\n", "colour"),
        ("not-a-number", "data_bits,deadline_s,cycles_per_bit\n1,abc,3\n", "deadline_s"),
        ("infinite", "data_bits,deadline_s,cycles_per_bit\n1,inf,3\n", "deadline_s"),
        ("nan", "data_bits,deadline_s,cycles_per_bit\nnan,2,3\n", "data_bits"),
        ("zero-data", "data_bits,deadline_s,cycles_per_bit\n0,2,3\n", "data_bits"),
        ("negative-cycles", "data_bits,deadline_s,cycles_per_bit\n1,2,-3\n", "cycles_per_bit"),
        ("zero-deadline", "data_bits,deadline_s,cycles_per_bit\n1,0,3\n", "deadline_s"),
        ("short-row", "data_bits,deadline_s,cycles_per_bit\n1,2,3\n4,5\n", ":3"),
        ("too-many", "data_bits,deadline_s,cycles_per_bit\n" + String(repeating: "1,2,3\n", count: 13), "at most"),
    ]

    @Test(arguments: badTaskFiles.indices)
    func badTaskFilesGiveOneLineErrors(index: Int) throws {
        let bad = Self.badTaskFiles[index]
        let dir = try TemporaryDirectory()
        let file = dir.path("\(bad.name).csv")
        try bad.content.write(toFile: file, atomically: true, encoding: .utf8)
        for command in [["optimum", "--tasks", file], ["eval", "--tasks", file, "--order", "0"]] {
            let result = try CLI.run(command)
            #expect(result.status == 1, "\(bad.name): \(result.stderr)")
            #expect(result.stdout.isEmpty)
            #expect(result.errorLines.count == 1, "\(bad.name): \(result.stderr)")
            #expect(result.stderr.contains(file), "\(bad.name): \(result.stderr)")
            #expect(result.stderr.contains(bad.expected), "\(bad.name): \(result.stderr)")
        }
    }

    @Test func missingTaskFileIsAClearError() throws {
        let result = try CLI.run(["optimum", "--tasks", "/nonexistent/tasks.csv"])
        #expect(result.status == 1)
        #expect(result.errorLines.count == 1)
        #expect(result.stderr.contains("/nonexistent/tasks.csv"))
    }

    @Test func conflictingFrameSourcesAreUsageErrors() throws {
        let both = try CLI.run(["optimum", "--tasks", "x.csv", "--n", "3"])
        #expect(both.status == 64)
        let neither = try CLI.run(["optimum"])
        #expect(neither.status == 64)
        let badRate = try CLI.run(["optimum", "--n", "3", "--rate", "-1"])
        #expect(badRate.status == 64)
        #expect(badRate.stderr.contains("rate"))
    }
}
