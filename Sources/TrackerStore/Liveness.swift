// When a running run counts as dead: the staleness bound the store, merge, delete and the recording
// pipeline all judge heartbeats by.

import Foundation

/// When a 'running' run counts as dead: its heartbeat is older than the staleness bound (wherever it
/// ran), or it ran on this host and its process is gone.
public enum Liveness {
    /// The staleness bound when `$TRACKER_STALE_AFTER_S` is not set: two minutes, so a killed or
    /// preempted run on another host can be resumed soon, while a live one (heartbeat every 20 s) is
    /// never mistaken for dead over a few missed beats or a modest clock skew.
    public static let defaultStaleAfterSeconds = 120.0

    /// Seconds without a heartbeat after which a running run is dead: `$TRACKER_STALE_AFTER_S` (a
    /// number of seconds from 1 to 86400) when set, else the default. Anything else in the variable is
    /// ignored, as for `TRACKER_BUSY_TIMEOUT_MS`.
    public static var staleAfterSeconds: Double {
        guard let text = ProcessInfo.processInfo.environment["TRACKER_STALE_AFTER_S"],
              let value = Double(text.trimmingCharacters(in: .whitespaces)), (1...86_400).contains(value) else {
            return defaultStaleAfterSeconds
        }
        return value
    }

    /// A run beats six times per staleness bound, so five beats in a row must go missing (a stalled
    /// disk, a busy lock) before anyone may call it dead.
    public static var heartbeatIntervalSeconds: Double { staleAfterSeconds / 6 }
}
