import Foundation
import Testing
import Scheduling

/// Random and mutated task files through `TaskFile.parse`, a fixed number of cases from a fixed seed (so a
/// failure reproduces): the parser must never crash, and must either refuse with one line naming the file
/// or return tasks that a run can use (1 to `ExactOptimum.maximumTasks` tasks, every value finite and > 0)
/// and that `format` writes back to the same tasks.
struct TaskFileFuzzTests {
    static let cases = 16_000

    /// Valid files the mutations start from.
    static let seeds = [
        "data_bits,deadline_s,cycles_per_bit\n1500000,2.5,300\n250000,1.2,800\n",
        "deadline_s, cycles_per_bit ,data_bits\r\n2,300,1e6\r\n4.5,1000,2.5E5\r\n\r\n",
        "\u{FEFF}cycles_per_bit,data_bits,deadline_s\n700,100000,1\n",
        TaskFile.format(FrameGenerator.generate(count: 12, seed: 3).tasks),
        TaskFile.format(FrameGenerator.generate(count: 5, seed: 9).tasks),
    ]

    /// Numbers a mutation swaps in: ordinary, huge, tiny, negative, zero, non-finite and non-decimal spellings.
    static let numbers = [
        "0", "-0", "1", "-1", "+3", "1e308", "1e309", "-1e309", "4.9e-324", "1e-400", "2.5e-7", "nan", "NaN", "inf",
        "-inf", "infinity", "0x1p3", "0x10", "1_000", "1,5", "1..2", "1e", "e5", ".", "-", "+", "1e+", "0.0000",
        "99999999999999999999999999999", "١٢٣", "１２", "3\u{0}", "  7  ", "\t8\t", "1 2", "", "\"5\"", "1.7976931348623157e308",
        "17976931348623157e292", "0.", ".5", "5.", "1E-5", "00012",
    ]

    static let scalars: [Unicode.Scalar] = [
        "\u{0}", "\r", "\t", " ", ",", "\"", "\u{FEFF}", "\u{2028}", "\u{85}", "\u{FFFD}", "é", "中", "\u{1F600}",
        "\u{202E}", "\u{7F}", "\u{1B}", "\u{0301}", "0", "9", "e", "-", ".",
    ]

    @Test func randomAndMutatedTaskFilesNeverCrash() {
        var random = Xoshiro256(seed: 0x7A5C_F11E)
        var accepted = 0, refused = 0
        for index in 0..<Self.cases {
            let text = Self.input(index, &random)
            do {
                let tasks = try TaskFile.parse(text, path: "fuzz.csv")
                accepted += 1
                #expect((1...ExactOptimum.maximumTasks).contains(tasks.count), "case \(index): \(tasks.count) tasks")
                for task in tasks {
                    for value in [task.dataBits, task.deadlineSeconds, task.cyclesPerBit] {
                        #expect(value.isFinite && value > 0, "case \(index): value \(value) from \(text.debugDescription)")
                    }
                }
                #expect((try? TaskFile.parse(TaskFile.format(tasks), path: "again.csv")) == tasks, "case \(index)")
            } catch {
                refused += 1
                let message = error.description
                #expect(message.hasPrefix("fuzz.csv"), "case \(index): \(message.debugDescription)")
                #expect(!message.unicodeScalars.contains { $0 == "\n" || $0 == "\r" || $0 == "\u{2028}" || $0 == "\u{85}" },
                        "case \(index): not one line: \(message.debugDescription)")
                #expect(message.unicodeScalars.count < 400, "case \(index): \(message.count) characters")
            }
        }
        // The mutations are meant to hit both sides.
        #expect(accepted > Self.cases / 20, "accepted \(accepted)")
        #expect(refused > Self.cases / 4, "refused \(refused)")
    }

    /// What the fuzz found first: a stray \r or U+2028 inside a column name or value broke the one-line
    /// message (a terminal returns to the line's start at \r). They are now shown as escapes.
    @Test func controlAndSeparatorCharactersAreEscapedInMessages() {
        for (text, shown) in [("data_bits,dead\rline_s,cycles_per_bit\n1,2,3\n", #"column 'dead\rline_s'"#),
                              ("data_bits,deadline_s,cycles_per_bit\n1,2\u{2028}5,3\n", #""2\u{2028}5" is not a finite number"#),
                              ("data_bits,deadline_s,cycles_per_bit\n1,\u{85}\u{202E}7,3\n", #""\u{85}\u{202E}7""#)] {
            do {
                _ = try TaskFile.parse(text, path: "t.csv")
                Issue.record("parsed \(text.debugDescription)")
            } catch {
                #expect(error.description.contains(shown), "\(error.description.debugDescription)")
            }
        }
    }

    /// Case `index`: mostly one to three mutations of a valid file, some wholly random text.
    static func input(_ index: Int, _ random: inout Xoshiro256) -> String {
        if index % 10 == 9 { return randomText(&random) }
        var text = seeds[random.nextInt(below: seeds.count)]
        for _ in 0..<(1 + random.nextInt(below: 3)) { text = mutate(text, &random) }
        return text
    }

    static func randomText(_ random: inout Xoshiro256) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<random.nextInt(below: 200) {
            switch random.nextInt(below: 4) {
            case 0: scalars.append(Self.scalars[random.nextInt(below: Self.scalars.count)])
            case 1: scalars.append("\n")
            case 2: scalars.append(contentsOf: numbers[random.nextInt(below: numbers.count)].unicodeScalars)
            default: scalars.append(Unicode.Scalar(UInt8(32 + random.nextInt(below: 95))))
            }
        }
        return String(scalars)
    }

    static func mutate(_ text: String, _ random: inout Xoshiro256) -> String {
        var lines = text.components(separatedBy: "\n")
        switch random.nextInt(below: 9) {
        case 0: // flip a bit of a byte; invalid UTF-8 decodes to U+FFFD, as reading a file would refuse it
            var bytes = Array(text.utf8)
            guard !bytes.isEmpty else { return text }
            bytes[random.nextInt(below: bytes.count)] ^= UInt8(1 << random.nextInt(below: 8))
            return String(decoding: bytes, as: UTF8.self)
        case 1: // truncate at a byte
            let bytes = Array(text.utf8)
            return String(decoding: bytes.prefix(random.nextInt(below: bytes.count + 1)), as: UTF8.self)
        case 2: // duplicate a line, sometimes many times
            let line = random.nextInt(below: lines.count)
            let copies = random.nextInt(below: 4) == 0 ? 1 + random.nextInt(below: 15) : 1
            lines.insert(contentsOf: Array(repeating: lines[line], count: copies), at: line)
        case 3: // replace a field with another number spelling
            let line = random.nextInt(below: lines.count)
            var fields = lines[line].components(separatedBy: ",")
            fields[random.nextInt(below: fields.count)] = numbers[random.nextInt(below: numbers.count)]
            lines[line] = fields.joined(separator: ",")
        case 4: // insert a unicode scalar anywhere
            var scalars = Array(text.unicodeScalars)
            scalars.insert(Self.scalars[random.nextInt(below: Self.scalars.count)], at: random.nextInt(below: scalars.count + 1))
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            return String(view)
        case 5: // drop a line
            lines.remove(at: random.nextInt(below: lines.count))
        case 6: // add or drop a field
            let line = random.nextInt(below: lines.count)
            lines[line] += random.nextInt(below: 2) == 0 ? ",1" : ""
            if lines[line].hasSuffix(",1") == false, let comma = lines[line].lastIndex(of: ",") {
                lines[line] = String(lines[line][..<comma])
            }
        case 7: // swap two lines (the header may move)
            let a = random.nextInt(below: lines.count), b = random.nextInt(below: lines.count)
            lines.swapAt(a, b)
        default: // blank lines or CRLF
            let line = random.nextInt(below: lines.count)
            lines[line] = random.nextInt(below: 2) == 0 ? "" : lines[line] + "\r"
        }
        return lines.joined(separator: "\n")
    }
}
