import Foundation
import TrackerStore
import Learning

/// One write transaction's worth of a run: the metric rows since the previous batch and what is
/// committed with them. Batches are recycled, so their buffers are allocated once per session.
final class RecordingBatch {
    var rows: [MetricRow] = []
    /// The learner's snapshot at `done`, when this batch ends with a checkpoint.
    var snapshot: [UInt8] = []
    var hasCheckpoint = false
    /// Iterations done when the batch was handed over.
    var done = 0
    /// The run's new status, committed with the batch (nil leaves it 'running').
    var status: RunStatus?
    /// The summary of a finished run; the writer fills in its wall time when it commits it.
    var summary: RunSummary?

    init(capacity: Int) {
        rows.reserveCapacity(capacity)
    }

    func clear() {
        rows.removeAll(keepingCapacity: true)
        hasCheckpoint = false
        status = nil
        summary = nil
    }
}

/// A fixed pool of batches passed between the learner's thread and one writer thread: the learner fills
/// a free batch and hands it over; the writer commits it in one transaction and hands it back. The learner
/// waits only when every batch is with the writer, so a slow disk slows the learner and never grows memory.
///
/// The writer owns the session's database connection from `start()` until `finish()` returns.
final class RecordingWriter: @unchecked Sendable {
    /// Batches in the pool: enough for the writer to ride out a WAL checkpoint's fsync (a few ms) while the
    /// learner keeps going.
    static let poolSize = 8

    private enum Message {
        case batch(RecordingBatch)
        case stop
    }

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var free: [RecordingBatch]
    private var queued: [Message] = []
    private var failure: Error?
    private var writerExited = false

    /// Set to nil by the writer thread when it leaves its loop: the thread object outlives `finish()` by a
    /// moment, and if it still held the session's connection through this closure, the process could exit
    /// before that connection's last release, leaving the WAL uncheckpointed beside the file.
    private var commit: ((RecordingBatch) throws -> Void)?

    /// `commit` runs on the writer thread, once per batch, in order.
    init(batchCapacity: Int, commit: @escaping (RecordingBatch) throws -> Void) {
        free = (0..<Self.poolSize).map { _ in RecordingBatch(capacity: batchCapacity) }
        self.commit = commit
    }

    func start() {
        let thread = Thread { [self] in writerLoop() }
        thread.name = "tracker-writer"
        thread.start()
    }

    /// A cleared batch to fill; waits while all are with the writer. Throws the writer's failure, after
    /// which nothing more is written.
    func freeBatch() throws -> RecordingBatch {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && failure == nil { condition.wait() }
        if let failure { throw failure }
        let batch = free.removeLast()
        batch.clear()
        return batch
    }

    /// Hands a filled batch to the writer.
    func submit(_ batch: RecordingBatch) {
        condition.lock()
        queued.append(.batch(batch))
        // Both sides wait on this one condition, so wake all: a signal could wake the learner instead.
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the writer has committed everything submitted before (or failed), then ends its
    /// thread. Throws the writer's failure.
    func finish() throws {
        condition.lock()
        defer { condition.unlock() }
        queued.append(.stop)
        condition.broadcast()
        while !writerExited { condition.wait() }
        if let failure { throw failure }
    }

    private func writerLoop() {
        while true {
            condition.lock()
            while queued.isEmpty { condition.wait() }
            let message = queued.removeFirst()
            let failed = failure != nil
            condition.unlock()

            guard case .batch(let batch) = message else { break }
            var error: Error?
            if !failed {
                do { try commit?(batch) } catch let caught { error = caught }
            }
            condition.lock()
            if let error, failure == nil { failure = error }
            free.append(batch)
            condition.broadcast()
            condition.unlock()
        }
        commit = nil
        condition.lock()
        writerExited = true
        condition.broadcast()
        condition.unlock()
    }
}
