import Foundation

/// UTC times as ISO 8601 text with milliseconds ("2026-11-29T04:12:33.123Z"), which sort as text.
public enum Timestamp {
    public static func now() -> String { format(Date()) }

    /// Total: a date outside the years 1 to 9999 (`list --since 9223372036854775807w`) is clamped to them,
    /// where the text still sorts as text; `time_t(...)` of it used to trap.
    public static func format(_ date: Date) -> String {
        let raw = date.timeIntervalSince1970
        let interval = raw.isNaN ? 0 : min(max(raw, -62_135_596_800), 253_402_300_799.999)
        var seconds = time_t(interval.rounded(.down))
        let milliseconds = Int((interval - Double(seconds)) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), min(milliseconds, 999)
        )
    }

    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

/// Facts about this process that a run records, so a later `list` can tell a live run from a dead one.
public enum ProcessIdentity {
    public static var host: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static var pid: Int { Int(getpid()) }

    /// Whether a process with this id exists on this machine (signal 0 checks without sending). The one
    /// place a recorded pid becomes a `pid_t`: a stored value is whatever the file holds (a hostile or
    /// merged shard), so one that is no process id (0 or below, beyond 32 bits) names no process and is
    /// not alive. Passed on as it was, it would trap (`pid_t(_:)` of a 64-bit value), or `kill` would test
    /// our process group (0) or every process (-1) and call a dead run alive.
    static func isAlive(pid: Int) -> Bool {
        guard pid > 0, let processID = pid_t(exactly: pid) else { return false }
        if kill(processID, 0) == 0 { return true }
        return errno == EPERM
    }
}
