/// The fixed orders the learners are compared with. Every rule breaks ties by the lower task index, so an
/// order depends on the frame alone.
public enum ReferenceOrder: String, CaseIterable, Sendable {
    /// First in, first out: the tasks in index order.
    case fifo
    /// Earliest deadline first.
    case edf
    /// Shortest processing time (d * c / f) first.
    case spt
    /// Johnson's rule for the two-stage flow shop, stage 1 = sending (d / R), stage 2 = processing
    /// (d * c / f). It minimises the last completion time (the makespan), not the objective.
    case johnson

    public func order(for frame: Frame) -> [Int] {
        let indices = Array(0..<frame.count)
        switch self {
        case .fifo:
            return indices
        case .edf:
            let deadlines = frame.tasks.map(\.deadlineSeconds)
            return indices.sorted { ascendingThenIndex(deadlines[$0], $0, deadlines[$1], $1) }
        case .spt:
            let processing = indices.map(frame.processSeconds)
            return indices.sorted { ascendingThenIndex(processing[$0], $0, processing[$1], $1) }
        case .johnson:
            let sending = indices.map(frame.transmitSeconds)
            let processing = indices.map(frame.processSeconds)
            // First the tasks whose sending is no longer than their processing, shortest sending first; they
            // keep the server busy early. Then the others, longest processing first, so the shortest
            // processing runs last, after the uplink has gone idle.
            let first = indices.filter { sending[$0] <= processing[$0] }
                .sorted { ascendingThenIndex(sending[$0], $0, sending[$1], $1) }
            let last = indices.filter { !(sending[$0] <= processing[$0]) }
                .sorted { descendingThenIndex(processing[$0], $0, processing[$1], $1) }
            return first + last
        }
    }
}

/// A strict weak order on (key, index): smaller key first, equal keys by lower index.
@inline(__always)
private func ascendingThenIndex(_ a: Double, _ i: Int, _ b: Double, _ j: Int) -> Bool {
    a != b ? a < b : i < j
}

/// Larger key first, equal keys by lower index.
@inline(__always)
private func descendingThenIndex(_ a: Double, _ i: Int, _ b: Double, _ j: Int) -> Bool {
    a != b ? a > b : i < j
}
