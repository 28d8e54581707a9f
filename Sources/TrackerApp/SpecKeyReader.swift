import Foundation
import TrackerStore

/// Reads typed values out of a spec's JSON (a sweep spec, a study spec), each failure one line naming the
/// key and the file.
struct SpecKeyReader {
    let source: String

    func fail(_ message: String) -> StoreError { .invalidArgument("\(source): \(message)") }

    /// The spec's top-level JSON object, every key in `knownKeys`; `what` names the spec in the refusal
    /// ("the spec", "the study spec").
    func root(of text: String, what: String, knownKeys: [String]) throws -> [String: Any] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            let detail = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "malformed JSON"
            throw fail("not valid JSON (\(detail.split(separator: "\n").first ?? ""))")
        }
        guard let root = object as? [String: Any] else { throw fail("\(what) must be a JSON object") }
        for key in root.keys.sorted() where !knownKeys.contains(key) {
            throw fail("unknown key '\(key)' (known: \(knownKeys.joined(separator: ", ")))")
        }
        return root
    }

    /// JSON numbers arrive as NSNumber; a Bool is an NSNumber too and must not pass for 1 or 0.
    private func numberValue(_ value: Any) -> NSNumber? {
        guard let number = value as? NSNumber, !(value is String) else { return nil }
        // JSON true/false come back as NSNumbers whose Objective-C type is "c" (char).
        if String(cString: number.objCType) == "c" { return nil }
        return number
    }

    /// JSON true or false only (not 1 or 0, which arrive as NSNumbers too).
    func boolean(_ value: Any?, key: String, default fallback: Bool) throws -> Bool {
        guard let value, !(value is NSNull) else { return fallback }
        guard let number = value as? NSNumber, !(value is String), String(cString: number.objCType) == "c" else {
            throw fail("'\(key)' must be true or false, got \(describe(value))")
        }
        return number.boolValue
    }

    func integer(_ value: Any?, key: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let value, !(value is NSNull) else { return fallback }
        guard let number = numberValue(value), let exact = Int(exactly: number.doubleValue), number.doubleValue.isFinite else {
            throw fail("'\(key)' must be a whole number, got \(describe(value))")
        }
        guard range.contains(exact) else {
            throw fail("'\(key)' must be between \(range.lowerBound) and \(range.upperBound), got \(exact)")
        }
        return exact
    }

    func integers(_ value: Any?, key: String, required: Bool, range: ClosedRange<Int>, default fallback: [Int] = []) throws -> [Int] {
        guard let value, !(value is NSNull) else {
            if required { throw fail("'\(key)' is missing") }
            return fallback
        }
        let list = (value as? [Any]) ?? [value]
        guard !list.isEmpty else { throw fail("'\(key)' must not be empty") }
        return try list.map { try integer($0, key: key, default: 0, range: range) }
    }

    func number(_ value: Any?, key: String, default fallback: Double) throws -> Double {
        guard let value, !(value is NSNull) else { return fallback }
        guard let number = numberValue(value), number.doubleValue.isFinite else {
            throw fail("'\(key)' must be a finite number, got \(describe(value))")
        }
        return number.doubleValue
    }

    func numbers(_ value: Any?, key: String, default fallback: Double) throws -> [Double] {
        guard let value, !(value is NSNull) else { return [fallback] }
        let list = (value as? [Any]) ?? [value]
        guard !list.isEmpty else { throw fail("'\(key)' must not be empty") }
        return try list.map { try number($0, key: key, default: fallback) }
    }

    func strings(_ value: Any?, key: String, default fallback: [String]) throws -> [String] {
        guard let value, !(value is NSNull) else { return fallback }
        let list = (value as? [Any]) ?? [value]
        guard !list.isEmpty else { throw fail("'\(key)' must not be empty") }
        return try list.map { entry in
            guard let text = entry as? String else { throw fail("'\(key)' must hold strings, got \(describe(entry))") }
            return text
        }
    }

    func describe(_ value: Any) -> String {
        let text = String(describing: value).replacingOccurrences(of: "\n", with: " ")
        return text.count > 40 ? String(text.prefix(40)) + "..." : text
    }
}
