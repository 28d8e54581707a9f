import Foundation
import Learning
import Scheduling
import TrackerStore

/// Reads a `tracker-import/1` file (docs/import.md) line by line into an ``ImportedRun``: a header line, one
/// line per iteration, optionally a `final_order` line. Every refusal is one ``RunImportError`` naming the
/// line (and the key); nothing is recorded until the whole file has been read and found valid. Uses only
/// the store's public API (orchestration: the application layer's, not the store's).
public enum RunImport {
    public static let format = "tracker-import/1"
    /// Bytes a line may hold (a header with a task file of the most tasks a frame holds fits many times).
    public static let maximumLineBytes = 1 << 20
    /// Iterations an imported run may hold: the metrics are held in memory until the one transaction.
    public static let maximumIterations = 10_000_000
    /// Characters of a text setting or the label.
    public static let maximumTextLength = 1024

    static let builtInAlgorithms: Set<String> = ["ql", "dteql", "dtaql"]
    /// The tracker's settings stored as INTEGER (run_params); its other numeric settings are REAL.
    static let integerSettings: Set<String> = ["delta", "twin_noise_seed", "phi"]
    static let headerKeys = ["format", "algorithm", "frame", "model", "iterations", "seed", "settings", "provenance",
                             "label", "wall_seconds"]
    static let iterationKeys = ["iteration", "action", "reward", "greedy_action", "distinct_actions"]
    /// Settings the header gives elsewhere, or that are no setting of a run.
    static let reservedSettings: [String: String] = [
        "algorithm": "the header's \"algorithm\"", "n": "the header's \"frame\"", "iterations": "the header's \"iterations\"",
        "rate": "the header's \"model\"", "cpu_hz": "the header's \"model\"", "zeta": "the header's \"model\"",
    ]

    /// Reads the file at `path` (`-`: standard input) and validates it.
    public static func read(path: String, trackerVersion: String) throws -> ImportedRun {
        let handle: FileHandle
        if path == "-" {
            handle = FileHandle.standardInput
        } else {
            guard let opened = FileHandle(forReadingAtPath: path) else {
                throw RunImportError(source: path, line: nil, message: "cannot open the file")
            }
            handle = opened
        }
        defer { if path != "-" { try? handle.close() } }
        var parser = Parser(source: path, trackerVersion: trackerVersion)
        var pending = Data()
        var lineNumber = 0
        while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw RunImportError(source: path, line: nil, message: "cannot read the file: \(error.localizedDescription)")
            }
            if chunk.isEmpty { break }
            pending.append(chunk)
            // A cursor through the chunk's lines; what is left is copied once per chunk, not once per line.
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                lineNumber += 1
                let line = pending[start..<newline]
                guard line.count <= maximumLineBytes else {
                    throw RunImportError(source: path, line: lineNumber, message: "the line is longer than \(maximumLineBytes) bytes")
                }
                try parser.take(Data(line), number: lineNumber)
                start = pending.index(after: newline)
            }
            pending = Data(pending[start...])
            if pending.count > maximumLineBytes {
                throw RunImportError(source: path, line: lineNumber + 1, message: "the line is longer than \(maximumLineBytes) bytes")
            }
        }
        if !pending.isEmpty {
            lineNumber += 1
            try parser.take(pending, number: lineNumber)
        }
        return try parser.finish(lastLine: lineNumber)
    }

    /// Validates `text`, the whole file (tests and library callers).
    public static func parse(_ text: String, source: String, trackerVersion: String) throws -> ImportedRun {
        var parser = Parser(source: source, trackerVersion: trackerVersion)
        var number = 0
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        for line in lines {
            number += 1
            guard line.utf8.count <= maximumLineBytes else {
                throw RunImportError(source: source, line: number, message: "the line is longer than \(maximumLineBytes) bytes")
            }
            try parser.take(Data(line.utf8), number: number)
        }
        return try parser.finish(lastLine: number)
    }

    struct Header {
        var algorithm: String
        var frame: Frame
        var frameSource: FrameSource
        var iterations: Int
        var seed: UInt64?
        var phi: Int
        var settings: [Setting]
        var provenanceJSON: String
        var label: String?
        var wallSeconds: Double
    }

    struct Parser {
        let source: String
        let trackerVersion: String
        var header: Header?
        var actionCount = 0
        var metrics: [MetricRow] = []
        var seenActions = Set<Int>()
        var finalSeen = false

        init(source: String, trackerVersion: String) {
            self.source = source
            self.trackerVersion = trackerVersion
        }

        func fail(_ line: Int?, _ message: String) -> RunImportError {
            RunImportError(source: source, line: line, message: message)
        }

        mutating func take(_ bytes: Data, number: Int) throws {
            var bytes = bytes
            if bytes.last == 0x0D { bytes.removeLast() }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                throw fail(number, "an empty line; every line is one JSON object (docs/import.md)")
            }
            let value: JSONValue
            do {
                value = try JSONDecoder().decode(JSONValue.self, from: bytes)
            } catch {
                let text = String(decoding: bytes.prefix(200), as: UTF8.self)
                let hint = ["NaN", "Infinity"].contains(where: text.contains)
                    ? " (NaN and Infinity are not JSON: write finite numbers)" : ""
                throw fail(number, "not JSON\(hint)")
            }
            guard case .object(let object) = value else { throw fail(number, "not a JSON object") }
            if finalSeen { throw fail(number, "a line after the final_order line, which ends the file") }
            guard let header else {
                self.header = try readHeader(object, line: number)
                actionCount = Permutations.factorial(self.header!.frame.count)
                metrics.reserveCapacity(min(self.header!.iterations, 1 << 20))
                return
            }
            if let order = object["final_order"] {
                try readFinal(order, object: object, header: header, line: number)
                return
            }
            try readIteration(object, header: header, line: number)
        }

        func finish(lastLine: Int) throws -> ImportedRun {
            guard let header else {
                throw fail(1, "the file is empty; expected a header line {\"format\": \"\(RunImport.format)\", ...} (docs/import.md)")
            }
            guard metrics.count == header.iterations else {
                throw fail(lastLine, "the file ends mid-run: the header declares \(header.iterations) iterations and the file holds \(metrics.count)")
            }
            return ImportedRun(
                format: RunImport.format, source: source, algorithm: header.algorithm, frame: header.frame,
                frameSource: header.frameSource, phi: header.phi, seed: header.seed, settings: header.settings,
                provenanceJSON: header.provenanceJSON, label: header.label, wallSeconds: header.wallSeconds,
                metrics: metrics, trackerVersion: trackerVersion)
        }

        // MARK: Header

        func readHeader(_ object: [String: JSONValue], line: Int) throws -> Header {
            if object["iteration"] != nil {
                throw fail(line, "the first line must be the header {\"format\": \"\(RunImport.format)\", ...}, not an iteration")
            }
            try checkKeys(object, allowed: RunImport.headerKeys, line: line, what: "the header")
            guard case .string(let format)? = object["format"] else {
                throw fail(line, "key 'format': missing or not text; expected \"\(RunImport.format)\"")
            }
            guard format == RunImport.format else {
                throw fail(line, "key 'format': \(quoted(format)) is not a format this tracker reads; expected \"\(RunImport.format)\"")
            }
            guard case .string(let algorithm)? = object["algorithm"] else {
                throw fail(line, "key 'algorithm': missing or not text")
            }
            try checkName(algorithm, key: "algorithm", line: line)
            if RunImport.builtInAlgorithms.contains(algorithm.lowercased()) {
                throw fail(line, "key 'algorithm': \(quoted(algorithm)) is a built-in algorithm's name (ql, dteql, dtaql, in any case); name your learner otherwise")
            }
            guard let iterations = object["iterations"]?.integer, iterations >= 1 else {
                throw fail(line, "key 'iterations': missing or not a whole number >= 1 (the run's budget: its number of iteration lines)")
            }
            guard iterations <= RunImport.maximumIterations else {
                throw fail(line, "key 'iterations': \(iterations) is more than the \(RunImport.maximumIterations) an import holds")
            }
            var seed: UInt64?
            if let value = object["seed"], value != .null {
                guard let text = value.integerText, let parsed = UInt64(text) else {
                    throw fail(line, "key 'seed': not a whole number from 0 to \(UInt64.max)")
                }
                seed = parsed
            }
            let model = try readModel(object["model"], line: line)
            let (frame, frameSource) = try readFrame(object["frame"], model: model, line: line)
            var phi = 0
            var settings: [Setting] = []
            if let value = object["settings"] {
                guard case .object(let given) = value else { throw fail(line, "key 'settings': not a JSON object") }
                for key in given.keys.sorted() {
                    let setting = try readSetting(key: key, value: given[key]!, line: line)
                    if setting.key == "phi" {
                        guard case .integer(let p) = setting.value, p >= 0, p <= Int64(Int32.max) else {
                            throw fail(line, "key 'settings.phi': not a whole number >= 0")
                        }
                        phi = Int(p)
                        continue
                    }
                    if let other = settings.first(where: { $0.key == setting.key }) {
                        throw fail(line, "key 'settings.\(key)': names the setting '\(other.key)' a second time")
                    }
                    settings.append(setting)
                }
            }
            var provenanceJSON = "{}"
            if let value = object["provenance"] {
                guard case .object = value else { throw fail(line, "key 'provenance': not a JSON object") }
                provenanceJSON = value.jsonText
            }
            var label: String?
            if let value = object["label"], value != .null {
                guard case .string(let text) = value, !text.isEmpty, text.count <= RunImport.maximumTextLength,
                      !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                    throw fail(line, "key 'label': not text of 1 to \(RunImport.maximumTextLength) characters without control characters")
                }
                label = text
            }
            var wallSeconds = 0.0
            if let value = object["wall_seconds"] {
                guard let seconds = value.number, seconds.isFinite, seconds >= 0 else {
                    throw fail(line, "key 'wall_seconds': not a finite number >= 0")
                }
                wallSeconds = seconds
            }
            return Header(algorithm: algorithm, frame: frame, frameSource: frameSource, iterations: iterations, seed: seed,
                          phi: phi, settings: settings, provenanceJSON: provenanceJSON, label: label, wallSeconds: wallSeconds)
        }

        func readModel(_ value: JSONValue?, line: Int) throws -> ModelParameters {
            guard let value else { return .default }
            guard case .object(let object) = value else { throw fail(line, "key 'model': not a JSON object") }
            try checkKeys(object, allowed: ["rate", "cpu_hz", "zeta"], line: line, what: "model")
            func number(_ key: String, _ fallback: Double) throws -> Double {
                guard let given = object[key] else { return fallback }
                guard let number = given.number, number.isFinite else { throw fail(line, "key 'model.\(key)': not a finite number") }
                return number
            }
            let parameters = ModelParameters(
                uplinkRate: try number("rate", ModelParameters.defaultUplinkRate),
                cpuHz: try number("cpu_hz", ModelParameters.defaultCPUHz), zeta: try number("zeta", ModelParameters.defaultZeta))
            do { try parameters.validate() } catch { throw fail(line, "key 'model': \(error.description)") }
            return parameters
        }

        func readFrame(_ value: JSONValue?, model: ModelParameters, line: Int) throws -> (Frame, FrameSource) {
            guard case .object(let object)? = value else {
                throw fail(line, "key 'frame': missing or not a JSON object; give {\"n\": N, \"seed\": S} or {\"tasks\": \"<task file text>\"}")
            }
            try checkKeys(object, allowed: ["n", "seed", "tasks"], line: line, what: "frame")
            var n: Int?
            if let given = object["n"] {
                guard let count = given.integer, (2...ExactOptimum.maximumTasks).contains(count) else {
                    throw fail(line, "key 'frame.n': not a whole number from 2 to \(ExactOptimum.maximumTasks)")
                }
                n = count
            }
            let frame: Frame
            let frameSource: FrameSource
            if let tasks = object["tasks"] {
                guard case .string(let text) = tasks else { throw fail(line, "key 'frame.tasks': not text (a task file's contents)") }
                if object["seed"] != nil { throw fail(line, "key 'frame.seed': goes with frame.n, not frame.tasks") }
                do {
                    frame = Frame(tasks: try TaskFile.parse(text, path: "\(source):\(line): frame.tasks"), parameters: model)
                } catch {
                    throw RunImportError(source: nil, line: nil, message: error.description)
                }
                if let n, n != frame.count {
                    throw fail(line, "key 'frame.n': \(n) does not match the frame's tasks, which are \(frame.count)")
                }
                guard frame.count >= 2 else { throw fail(line, "key 'frame.tasks': a run needs at least 2 tasks") }
                frameSource = .file
            } else {
                guard let n else { throw fail(line, "key 'frame.n': missing; give frame.n and frame.seed, or frame.tasks") }
                guard let seedValue = object["seed"], let text = seedValue.integerText, let seed = UInt64(text) else {
                    throw fail(line, "key 'frame.seed': missing or not a whole number from 0 to \(UInt64.max)")
                }
                frame = FrameGenerator.generate(count: n, seed: seed, parameters: model)
                frameSource = .generated(seed: seed)
            }
            do { try frame.validate() } catch { throw fail(line, "key 'frame': \(error.description)") }
            return (frame, frameSource)
        }

        func readSetting(key: String, value: JSONValue, line: Int) throws -> Setting {
            try checkName(key, key: "settings.\(key)", line: line)
            let canonical = SettingVocabulary.canonical(key)
            if let elsewhere = RunImport.reservedSettings[canonical] {
                throw fail(line, "key 'settings.\(key)': given by \(elsewhere), not as a setting")
            }
            let definition = SettingVocabulary.definition(key)
            let textual = definition.map { ["reward", "aggregation"].contains($0.name) } ?? false
            let setting: SettingValue
            switch value {
            case .integer(let text):
                guard let v = Int64(text) else { throw fail(line, "key 'settings.\(key)': \(text) does not fit 64 bits") }
                setting = .integer(v)
            case .real(let v):
                guard v.isFinite else { throw fail(line, "key 'settings.\(key)': not a finite number") }
                setting = .real(v)
            case .string(let text):
                guard text.count <= RunImport.maximumTextLength,
                      !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                    throw fail(line, "key 'settings.\(key)': text longer than \(RunImport.maximumTextLength) characters or with control characters")
                }
                setting = .text(text)
            default:
                throw fail(line, "key 'settings.\(key)': not a number or text")
            }
            if definition != nil {
                if textual, case .text = setting {} else if !textual, setting.number != nil {} else {
                    throw fail(line, "key 'settings.\(key)': the tracker's setting '\(canonical)' is " + (textual ? "text" : "a number"))
                }
                // Typed as the built-in runs' column is (run_params), so `lr: 1` and a built-in lr of 1.0
                // are one value in compare's columns and names.
                if let number = setting.number {
                    if RunImport.integerSettings.contains(canonical) {
                        guard let whole = Int64(exactly: number) else {
                            throw fail(line, "key 'settings.\(key)': the tracker's setting '\(canonical)' is a whole number")
                        }
                        return Setting(key: canonical, value: .integer(whole))
                    }
                    return Setting(key: canonical, value: .real(number))
                }
            }
            return Setting(key: canonical, value: setting)
        }

        /// Algorithm names and setting keys are shown in tables, headers and HTML: letters, digits and
        /// `_ . + -`, starting with a letter, at most 64 characters.
        func checkName(_ name: String, key: String, line: Int) throws {
            let allowed = name.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_.+-".unicodeScalars.contains(scalar))
            }
            guard !name.isEmpty, name.count <= 64, allowed, name.unicodeScalars.first!.properties.isAlphabetic else {
                throw fail(line, "key '\(key)': \(quoted(name)) is not a name: use 1 to 64 ASCII letters, digits and _ . + -, starting with a letter")
            }
            if name.hasPrefix("tag.") { throw fail(line, "key '\(key)': names starting with 'tag.' are tags' (--where tag.KEY)") }
        }

        func checkKeys(_ object: [String: JSONValue], allowed: [String], line: Int, what: String) throws {
            for key in object.keys.sorted() where !allowed.contains(key) {
                throw fail(line, "key '\(quotedKey(key))': unknown in \(what); expected \(allowed.joined(separator: ", "))")
            }
        }

        // MARK: Iterations

        mutating func readIteration(_ object: [String: JSONValue], header: Header, line: Int) throws {
            try checkKeys(object, allowed: RunImport.iterationKeys, line: line, what: "an iteration line")
            let expected = metrics.count
            guard let iterationValue = object["iteration"] else { throw fail(line, "key 'iteration': missing") }
            guard let iteration = iterationValue.integer else {
                throw fail(line, "key 'iteration': not a whole number")
            }
            if iteration < 0 { throw fail(line, "key 'iteration': \(iteration) is negative; iterations count from 0") }
            if iteration < expected {
                throw fail(line, "key 'iteration': \(iteration) repeats or goes back (expected \(expected): iterations run 0, 1, 2, ... in order)")
            }
            if expected >= header.iterations {
                throw fail(line, "key 'iteration': more iterations than the \(header.iterations) the header declares")
            }
            if iteration > expected {
                throw fail(line, "key 'iteration': \(iteration) is out of order (expected \(expected): iterations run 0, 1, 2, ... without gaps)")
            }
            func actionValue(_ key: String) throws -> Int {
                guard let value = object[key] else { throw fail(line, "key '\(key)': missing") }
                guard let action = value.integer, action >= 0, action < actionCount else {
                    throw fail(line, "key '\(key)': \(value.jsonText.prefix(40)) is not an action of this frame: a whole number from 0 to \(actionCount - 1) (N! - 1, N = \(header.frame.count))")
                }
                return action
            }
            let action = try actionValue("action")
            let greedy = try actionValue("greedy_action")
            guard let rewardValue = object["reward"] else { throw fail(line, "key 'reward': missing") }
            guard let reward = rewardValue.number, reward.isFinite else { throw fail(line, "key 'reward': not a finite number") }
            seenActions.insert(action)
            var distinct = seenActions.count
            if let value = object["distinct_actions"] {
                let previous = metrics.last?.distinctActions ?? 1
                guard let given = value.integer, given >= max(previous, 1), given <= actionCount else {
                    throw fail(line, "key 'distinct_actions': not a whole number from \(previous) (the previous line's) to \(actionCount) (N!)")
                }
                distinct = given
            }
            metrics.append(MetricRow(iteration: iteration, action: action, reward: reward, greedyAction: greedy,
                                          distinctActions: distinct))
        }

        mutating func readFinal(_ value: JSONValue, object: [String: JSONValue], header: Header, line: Int) throws {
            try checkKeys(object, allowed: ["final_order"], line: line, what: "the final_order line")
            guard metrics.count == header.iterations else {
                throw fail(line, "key 'final_order': after \(metrics.count) of the \(header.iterations) iterations the header declares; it comes last")
            }
            let n = header.frame.count
            guard case .array(let items) = value, items.count == n,
                  case let order = items.compactMap(\.integer), order.count == n, Set(order) == Set(0..<n) else {
                throw fail(line, "key 'final_order': not an order of the \(n) tasks (each of 0 to \(n - 1) once)")
            }
            let greedy = Permutations.order(rank: metrics.last!.greedyAction, count: n)
            guard order == greedy else {
                throw fail(line, "key 'final_order': \(order) is not the last iteration's greedy action \(metrics.last!.greedyAction), the order \(greedy)")
            }
            finalSeen = true
        }
    }
}

/// One refusal of an import: `FILE:LINE: message`.
public struct RunImportError: Error, CustomStringConvertible, Equatable {
    public let source: String?
    public let line: Int?
    public let message: String

    public var description: String {
        switch (source, line) {
        case (let source?, let line?): return "\(source):\(line): \(message); nothing was imported"
        case (let source?, nil): return "\(source): \(message); nothing was imported"
        default: return "\(message); nothing was imported"
        }
    }
}

private func quoted(_ text: String) -> String {
    let clipped = text.count > 64 ? String(text.prefix(64)) + "..." : text
    return "\"" + clipped.unicodeScalars.map { scalar in
        scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7F && scalar != "\"" && scalar != "\\"
            ? String(scalar) : "\\u{\(String(scalar.value, radix: 16))}"
    }.joined() + "\""
}

private func quotedKey(_ key: String) -> String {
    String(quoted(key).dropFirst().dropLast())
}

/// A JSON value that keeps a number's text, so whole numbers past 2^53 (seeds) stay exact.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    /// A whole number, as its decimal text.
    case integer(String)
    case real(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Int64.self) { self = .integer(String(value)); return }
        if let value = try? container.decode(UInt64.self) { self = .integer(String(value)); return }
        if let value = try? container.decode(Double.self) { self = .real(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([JSONValue].self) { self = .array(value); return }
        self = .object(try container.decode([String: JSONValue].self))
    }

    /// A whole number that fits Int.
    var integer: Int? {
        switch self {
        case .integer(let text): return Int(text)
        case .real(let v) where v == v.rounded() && abs(v) < 9e15: return Int(v)
        default: return nil
        }
    }

    var integerText: String? {
        if case .integer(let text) = self { return text }
        return nil
    }

    var number: Double? {
        switch self {
        case .integer(let text): return Double(text)
        case .real(let v): return v
        default: return nil
        }
    }

    /// Compact JSON text, keys sorted.
    var jsonText: String {
        switch self {
        case .null: return "null"
        case .bool(let v): return v ? "true" : "false"
        case .integer(let text): return text
        case .real(let v): return "\(v)"
        case .string(let text):
            let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
            return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
        case .array(let items): return "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let object):
            return "{" + object.keys.sorted().map { JSONValue.string($0).jsonText + ":" + object[$0]!.jsonText }.joined(separator: ",") + "}"
        }
    }
}

extension RunImport {
    /// An imported run's summary, derived from its metrics by the rules a built-in run's follows: the
    /// learner's ``ConvergenceTracker`` over its greedy actions and ``RunSession``'s summary. An imported
    /// run has no Q-table: its digest is the empty text.
    public static func summary(of run: ImportedRun, analysis: FrameAnalysis) throws -> RunSummary {
        guard let last = run.metrics.last else { throw StoreError.invalidArgument("an imported run needs at least one iteration") }
        var tracker = ConvergenceTracker(optimumObjective: analysis.optimum?.objective)
        var outcomes: [Int: Double] = [:]
        for metric in run.metrics {
            let objective: Double
            if let known = outcomes[metric.greedyAction] {
                objective = known
            } else {
                objective = run.frame.outcome(of: Permutations.order(rank: metric.greedyAction, count: run.frame.count)).objective
                outcomes[metric.greedyAction] = objective
            }
            tracker.observe(iteration: metric.iteration, greedyAction: metric.greedyAction, objective: objective)
        }
        var summary = RunSession.summary(
            iterations: run.metrics.count, greedyAction: last.greedyAction, frame: run.frame,
            edfObjective: analysis.edfObjective, optimalObjective: analysis.optimum?.objective,
            convergence: tracker.convergence, distinctActions: last.distinctActions, qTableSHA256: "")
        summary.wallSeconds = run.wallSeconds
        summary.iterationsPerSecond = run.wallSeconds > 0 ? Double(run.metrics.count) / run.wallSeconds : 0
        return summary
    }

    /// Records a validated run: its summary derived here, then one transaction in the store.
    public static func record(_ run: ImportedRun, in store: TrackerStore) throws -> RunRecord {
        let analysis = FrameAnalysis(frame: run.frame)
        return try store.recordImportedRun(run, analysis: analysis, summary: try summary(of: run, analysis: analysis))
    }
}
