import Foundation
import Testing
import Scheduling

/// The parts of a task-file error, or nil when the text parses.
private func failure(_ text: String) -> (line: Int, column: String?, reason: String, message: String)? {
    do {
        _ = try TaskFile.parse(text, path: "tasks.csv")
        return nil
    } catch {
        guard case .invalidTaskFile(let path, let line, let column, let reason) = error else {
            Issue.record("unexpected error \(error)")
            return nil
        }
        #expect(path == "tasks.csv")
        return (line, column, reason, error.description)
    }
}

private let header = "data_bits,deadline_s,cycles_per_bit"

struct TaskFileTests {
    let expected = [
        OffloadTask(dataBits: 1_500_000, deadlineSeconds: 2.5, cyclesPerBit: 300),
        OffloadTask(dataBits: 250_000, deadlineSeconds: 1.2, cyclesPerBit: 800),
    ]

    @Test func headerConstant() {
        #expect(TaskFile.header == header)
    }

    @Test func parsesAPlainFile() throws {
        let text = "\(header)\n1500000,2.5,300\n250000,1.2,800\n"
        #expect(try TaskFile.parse(text, path: "t") == expected)
    }

    @Test func parsesCRLFAndTrailingBlankLines() throws {
        let text = "\(header)\r\n1500000,2.5,300\r\n250000,1.2,800\r\n\r\n  \r\n\n"
        #expect(try TaskFile.parse(text, path: "t") == expected)
    }

    @Test func parsesWithoutFinalNewline() throws {
        #expect(try TaskFile.parse("\(header)\n1500000,2.5,300\n250000,1.2,800", path: "t") == expected)
    }

    @Test func parsesSpacesAroundNamesAndValues() throws {
        let text = " data_bits ,\tdeadline_s , cycles_per_bit\n 1500000 , 2.5 ,300 \n250000,  1.2,\t800\n"
        #expect(try TaskFile.parse(text, path: "t") == expected)
    }

    @Test func parsesReorderedColumns() throws {
        let text = "cycles_per_bit,data_bits,deadline_s\n300,1.5e6,2.5\n800,250000,1.2\n"
        #expect(try TaskFile.parse(text, path: "t") == expected)
    }

    @Test func parsesAByteOrderMark() throws {
        #expect(try TaskFile.parse("\u{FEFF}\(header)\n1500000,2.5,300\n250000,1.2,800\n", path: "t") == expected)
    }

    @Test func refusesAnEmptyFile() {
        for text in ["", "\n", "\r\n  \n"] {
            let error = failure(text)
            #expect(error?.line == 1)
            #expect(error?.column == nil)
            #expect(error?.reason.contains("empty") == true)
        }
    }

    @Test func refusesAHeaderWithoutTasks() {
        for text in [header, "\(header)\n", "\(header)\r\n\r\n"] {
            let error = failure(text)
            #expect(error?.line == 2)
            #expect(error?.column == nil)
            #expect(error?.reason.contains("no tasks") == true)
        }
    }

    @Test func refusesUnknownMissingAndDuplicateColumns() {
        let unknown = failure("data_bits,deadline_s,cycles_per_bit,priority\n1,2,3,4\n")
        #expect(unknown?.line == 1)
        #expect(unknown?.column == "priority")
        #expect(unknown?.reason.contains("unknown column") == true)

        let missing = failure("data_bits, deadline_s\n1,2\n")
        #expect(missing?.line == 1)
        #expect(missing?.column == "cycles_per_bit")
        #expect(missing?.reason.contains("missing") == true)

        let duplicate = failure("data_bits,deadline_s,data_bits,cycles_per_bit\n1,2,1,3\n")
        #expect(duplicate?.line == 1)
        #expect(duplicate?.column == "data_bits")
        #expect(duplicate?.reason.contains("twice") == true)

        let misspelled = failure("data_bits,deadline,cycles_per_bit\n1,2,3\n")
        #expect(misspelled?.column == "deadline")
    }

    @Test func refusesAWrongNumberOfFields() {
        let short = failure("\(header)\n1,2,3\n4,5\n")
        #expect(short?.line == 3)
        #expect(short?.column == nil)
        #expect(short?.reason == "expected 3 fields, found 2")
        let long = failure("\(header)\r\n1,2,3,4\r\n")
        #expect(long?.line == 2)
        #expect(long?.reason == "expected 3 fields, found 4")
    }

    @Test(arguments: ["nan", "NaN", "inf", "-inf", "infinity", "", "  ", "abc", "1e999", "0x10", "1,5", "1.2.3", "--1"])
    func refusesValuesThatAreNotFiniteNumbers(value: String) {
        // The bad value goes in the middle column of the second task, on line 3.
        let text = "\(header)\n1,2,3\n1,\(value),3\n"
        let error = failure(text)
        #expect(error?.line == 3)
        if value == "1,5" {
            #expect(error?.column == nil)  // an extra comma is a field-count error
        } else {
            #expect(error?.column == "deadline_s")
        }
    }

    @Test func refusesValuesThatAreNotPositive() {
        let zeroBits = failure("\(header)\n0,2,3\n")
        #expect(zeroBits?.line == 2)
        #expect(zeroBits?.column == "data_bits")
        #expect(zeroBits?.reason.contains("> 0") == true)

        let negativeCycles = failure("\(header)\n1,2,3\n1,2,3\n1,2,-1\n")
        #expect(negativeCycles?.line == 4)
        #expect(negativeCycles?.column == "cycles_per_bit")

        let zeroDeadline = failure("deadline_s,data_bits,cycles_per_bit\n-0,1,1\n")
        #expect(zeroDeadline?.line == 2)
        #expect(zeroDeadline?.column == "deadline_s")
    }

    @Test func refusesABlankLineBetweenTasks() {
        let error = failure("\(header)\n1,2,3\n\n1,2,3\n")
        #expect(error?.line == 3)
        #expect(error?.column == nil)
    }

    @Test func refusesMoreTasksThanTheOptimumSupports() throws {
        let limit = ExactOptimum.maximumTasks
        let row = "1000,2,3\n"
        #expect(try TaskFile.parse(header + "\n" + String(repeating: row, count: limit), path: "t").count == limit)
        let error = failure(header + "\n" + String(repeating: row, count: limit + 1))
        #expect(error?.line == limit + 2)  // the header is line 1; task k is on line k + 1
        #expect(error?.column == nil)
        #expect(error?.reason.contains("\(limit)") == true)
    }

    @Test func messagesAreOneLine() {
        let bad = [
            "", header, "a,b\n", "\(header)\n1,2\n", "\(header)\n1,\r2,3\n", "\(header)\nnan,1,1\n",
            "\(header)\n" + String(repeating: "x", count: 500) + ",1,1\n",
        ]
        for text in bad {
            let message = failure(text)?.message ?? ""
            #expect(!message.isEmpty)
            #expect(!message.contains("\n") && !message.contains("\r"), "\(message.debugDescription)")
            #expect(message.hasPrefix("tasks.csv:"))
        }
    }

    @Test func formatWritesHeaderAndShortestValues() {
        #expect(TaskFile.format(expected) == "\(header)\n1500000.0,2.5,300.0\n250000.0,1.2,800.0\n")
        #expect(TaskFile.format([]) == "\(header)\n")
    }

    @Test func roundTripIsBitExact() throws {
        var cases = [FrameGenerator.generate(count: ExactOptimum.maximumTasks, seed: 11).tasks]
        cases.append([
            OffloadTask(dataBits: 0.1, deadlineSeconds: 1.0 / 3, cyclesPerBit: .leastNonzeroMagnitude),
            OffloadTask(dataBits: .greatestFiniteMagnitude, deadlineSeconds: 1e-300, cyclesPerBit: 2e-7),
            OffloadTask(dataBits: 123456789012345680, deadlineSeconds: 1.0.nextUp, cyclesPerBit: 1e22),
        ])
        for seed in UInt64(20)..<30 {
            cases.append(FrameGenerator.generate(count: 5, seed: seed).tasks)
        }
        for tasks in cases {
            let parsed = try TaskFile.parse(TaskFile.format(tasks), path: "t")
            #expect(parsed.count == tasks.count)
            for (a, b) in zip(parsed, tasks) {
                #expect(a.dataBits.bitPattern == b.dataBits.bitPattern)
                #expect(a.deadlineSeconds.bitPattern == b.deadlineSeconds.bitPattern)
                #expect(a.cyclesPerBit.bitPattern == b.cyclesPerBit.bitPattern)
            }
        }
    }

    @Test func readsAFile() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("scheduling-tests-\(UInt64.random(in: 0...UInt64.max)).csv")
        try Data("\(header)\r\n1500000,2.5,300\r\n250000,1.2,800\r\n".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try TaskFile.read(path: url.path) == expected)
    }

    @Test func reportsAnUnreadableFile() {
        for path in ["/nonexistent-directory/tasks.csv", FileManager.default.temporaryDirectory.path] {
            do {
                _ = try TaskFile.read(path: path)
                Issue.record("read \(path)")
            } catch {
                guard case .invalidTaskFile(let errorPath, let line, let column, let reason) = error else {
                    Issue.record("unexpected \(error)")
                    continue
                }
                #expect(errorPath == path)
                #expect(line == 0)
                #expect(column == nil)
                #expect(reason.hasPrefix("cannot"))
                #expect(error.description.hasPrefix("\(path): cannot"))
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test func refusesAFileThatIsNotUTF8() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("scheduling-tests-\(UInt64.random(in: 0...UInt64.max)).csv")
        try Data([0xFF, 0xFE, 0x00, 0x41]).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: SchedulingError.invalidTaskFile(path: url.path, line: 0, column: nil, reason: "the file is not UTF-8 text")) {
            try TaskFile.read(path: url.path)
        }
    }
}
