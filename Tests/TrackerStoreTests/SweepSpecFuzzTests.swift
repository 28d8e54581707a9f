import Foundation
import Scheduling
import Testing
import TrackerApp
import TrackerStore

/// Random and mutated sweep specs through `SweepSpec.parse`, a fixed number of cases from a fixed seed: no
/// crash, and either one line naming the file or a spec whose `items()` succeeds.
struct SweepSpecFuzzTests {
    static let cases = 3000

    /// Small valid specs (small grids, so a surviving mutation expands quickly).
    static let seeds = [
        #"{"n": [5, 6], "frames": 2, "iterations": 100, "configurations": [{"algorithm": "dteql", "phi": [20]}, {"algorithm": "ql"}]}"#,
        #"{"label": "x", "n": 4, "frame_seeds": [3, 4], "seeds": [1, 2], "configurations": [{"algorithm": "dtaql", "phi": 5, "delta": [8]}], "hyperparameters": {"learning_rate": [0.1, 0.5], "reward": ["negative"]}, "model": {"rate": 1e6, "zeta": 0.2}, "checkpoint_every": 50, "keep_checkpoints": 1}"#,
        #"{"description": "d", "n": [3], "configurations": [{"algorithm": "ql"}], "hyperparameters": {"discount": 0.5, "epsilon_start": [1], "epsilon_min": [0.01], "epsilon_decay": [100], "twin_noise": [0, 0.1]}}"#,
    ]

    /// JSON values a mutation swaps in for another: numbers of every kind (valid JSON or not), strings,
    /// literals, containers.
    static let values = [
        "0", "-1", "1", "2", "7", "12", "13", "100000", "100001", "1e308", "1e309", "-1e309", "2.5", "-0", "1e-320",
        "9223372036854775807", "9223372036854775808", "18446744073709551616", "NaN", "Infinity", "-Infinity", "0x10",
        "true", "false", "null", "\"\"", "\"ql\"", "\"dtaql\"", "\"sarsa\"", "\"\\u0000\"", "\"\\ud800\"", "\"é中😀\"",
        "[]", "[1]", "[2, 3]", "[null]", "[[1]]", "{}", "{\"algorithm\": \"ql\"}", "[\"ratio\", \"negative\"]",
        "\"\u{2028}\"", "1.0", "01", "+1", ".5",
    ]

    @Test func randomAndMutatedSpecsNeverCrash() {
        var random = Xoshiro256(seed: 0x5EE9_F022)
        var accepted = 0, refused = 0
        for index in 0..<Self.cases {
            let text = Self.input(index, &random)
            do {
                let spec = try SweepSpec.parse(text, source: "fuzz.json")
                accepted += 1
                #expect(throws: Never.self, "case \(index): items() failed for \(text)") { _ = try spec.items() }
            } catch {
                refused += 1
                let message = String(describing: error)
                #expect(message.hasPrefix("fuzz.json: "), "case \(index): \(message.debugDescription)")
                #expect(!message.unicodeScalars.contains { $0 == "\n" || $0 == "\r" },
                        "case \(index): not one line: \(message.debugDescription)")
            }
        }
        #expect(accepted > Self.cases / 40, "accepted \(accepted)")
        #expect(refused > Self.cases / 4, "refused \(refused)")
    }

    /// Nesting far deeper than any spec: refused in one line, never a stack overflow.
    @Test(arguments: [100, 10_000, 200_000])
    func deeplyNestedJSONIsRefused(depth: Int) {
        for text in [String(repeating: "[", count: depth) + String(repeating: "]", count: depth),
                     #"{"n": "# + String(repeating: "[", count: depth) + "6" + String(repeating: "]", count: depth)
                        + #", "configurations": [{"algorithm": "ql"}]}"#,
                     String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth),
                     String(repeating: "[", count: depth)] {
            #expect {
                try SweepSpec.parse(text, source: "deep.json")
            } throws: { error in
                let message = String(describing: error)
                return message.hasPrefix("deep.json: ") && !message.contains("\n")
            }
        }
    }

    static func input(_ index: Int, _ random: inout Xoshiro256) -> String {
        switch index % 10 {
        case 9: // random bytes as text
            let bytes = (0..<random.nextInt(below: 120)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            return String(decoding: bytes, as: UTF8.self)
        case 8: // a random JSON tree
            return randomJSON(depth: 0, &random)
        default:
            var text = seeds[random.nextInt(below: seeds.count)]
            // Mostly one mutation, so a good share of the specs stays valid JSON and reaches the checks.
            for _ in 0..<(index % 4 == 0 ? 2 + random.nextInt(below: 2) : 1) { text = mutate(text, &random) }
            return text
        }
    }

    static func randomJSON(depth: Int, _ random: inout Xoshiro256) -> String {
        let keys = ["n", "frames", "frame_seeds", "seeds", "iterations", "configurations", "hyperparameters", "model",
                    "algorithm", "phi", "delta", "learning_rate", "lr", "beta", "reward", "rate", "label", "keep_checkpoints", "zz"]
        switch depth > 3 ? 0 : random.nextInt(below: 4) {
        case 0, 1: return values[random.nextInt(below: values.count)]
        case 2:
            let entries = (0..<random.nextInt(below: 4)).map { _ in randomJSON(depth: depth + 1, &random) }
            return "[" + entries.joined(separator: ",") + "]"
        default:
            let entries = (0..<random.nextInt(below: 5)).map { _ in
                "\"\(keys[random.nextInt(below: keys.count)])\": " + randomJSON(depth: depth + 1, &random)
            }
            return "{" + entries.joined(separator: ",") + "}"
        }
    }

    static func mutate(_ text: String, _ random: inout Xoshiro256) -> String {
        var bytes = Array(text.utf8)
        switch random.nextInt(below: 10) {
        case 0: // flip a bit
            guard !bytes.isEmpty else { return text }
            bytes[random.nextInt(below: bytes.count)] ^= UInt8(1 << random.nextInt(below: 8))
        case 1: // truncate
            bytes = Array(bytes.prefix(random.nextInt(below: bytes.count + 1)))
        case 2: // duplicate a slice (keys, entries, brackets)
            guard !bytes.isEmpty else { return text }
            let start = random.nextInt(below: bytes.count)
            let end = min(bytes.count, start + 1 + random.nextInt(below: 30))
            bytes.insert(contentsOf: bytes[start..<end], at: start)
        default: // replace a JSON value (the text after a ':' or '[' or ',') with another
            let starts = bytes.indices.filter { [UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: ",")].contains(bytes[$0]) }
            guard let start = starts.isEmpty ? nil : starts[random.nextInt(below: starts.count)] else { return text }
            var end = start + 1
            while end < bytes.count, bytes[end] == UInt8(ascii: " ") { end += 1 }
            // A scalar value ends at the next ',', ']' or '}'; a container is left in place and a value put before it.
            var stop = end
            if end < bytes.count, bytes[end] != UInt8(ascii: "["), bytes[end] != UInt8(ascii: "{") {
                while stop < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}")].contains(bytes[stop]) { stop += 1 }
            }
            let replacement = random.nextInt(below: 5) == 0 ? randomJSON(depth: 1, &random) : values[random.nextInt(below: values.count)]
            bytes.replaceSubrange(end..<stop, with: Array(replacement.utf8))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
