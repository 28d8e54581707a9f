import Learning
import Scheduling
import SQLite

/// Where a frame came from, recorded with it.
public enum FrameSource: Equatable, Sendable {
    case generated(seed: UInt64)
    case file
}

/// What the store records about a frame besides its tasks: the exact optimum where the solver supports
/// N, and each reference order.
public struct FrameAnalysis: Sendable {
    public let frame: Frame
    public let optimum: Evaluation?
    public let references: [ReferenceOrder: Evaluation]

    public init(frame: Frame) {
        self.frame = frame
        optimum = frame.count <= ExactOptimum.maximumTasks ? try? ExactOptimum.solve(frame) : nil
        var references: [ReferenceOrder: Evaluation] = [:]
        for reference in ReferenceOrder.allCases {
            references[reference] = frame.evaluate(reference.order(for: frame))
        }
        self.references = references
    }

    public var edfObjective: Double { references[.edf]!.objective }
}

extension Frame {
    /// SHA-256 of the tasks and the model parameters as little-endian doubles: equal frames, equal
    /// fingerprints, on every machine.
    public var fingerprint: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity((tasks.count * 3 + 3) * 8)
        func append(_ value: Double) {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        for task in tasks {
            append(task.dataBits)
            append(task.deadlineSeconds)
            append(task.cyclesPerBit)
        }
        append(parameters.uplinkRate)
        append(parameters.cpuHz)
        append(parameters.zeta)
        return SHA256.hexDigest(bytes)
    }
}

/// A frame as the database holds it.
public struct StoredFrame: Sendable {
    public let frameID: Int64
    public let frame: Frame
    public let source: FrameSource
    public let optimalObjective: Double?
    public let edfObjective: Double
}

extension TrackerStore {
    /// The id of `analysis.frame` in the database, inserting it the first time (then `inserted` is true).
    /// Frames are shared by every run on them, found by fingerprint. Call inside a transaction.
    func frameInsertedIfNeeded(_ analysis: FrameAnalysis, source: FrameSource) throws -> (id: Int64, inserted: Bool) {
        let frame = analysis.frame
        let fingerprint = frame.fingerprint
        let find = try database.cachedStatement("SELECT frame_id FROM frames WHERE fingerprint = ?")
        try find.bind(fingerprint, at: 1)
        if try find.step() {
            let id = find.int64(0)
            find.reset()
            return (id, false)
        }
        find.reset()

        let insert = try database.cachedStatement("""
            INSERT INTO frames (fingerprint, n, source, seed, uplink_rate, cpu_hz, zeta,
                optimal_objective, optimal_order, optimal_misses, optimal_mean_completion_s,
                fifo_objective, edf_objective, spt_objective, johnson_objective, created_at,
                random_mean_completion_s)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let seed: SQLiteValue
        switch source {
        case .generated(let value): seed = .integer(Int64(bitPattern: value))
        case .file: seed = .null
        }
        let optimum = analysis.optimum
        try insert.bind([
            .text(fingerprint), .integer(Int64(frame.count)),
            .text(source == .file ? "file" : "generated"), seed,
            .real(frame.parameters.uplinkRate), .real(frame.parameters.cpuHz), .real(frame.parameters.zeta),
            optimum.map { .real($0.objective) } ?? .null,
            optimum.map { .text(orderJSON($0.order)) } ?? .null,
            optimum.map { .integer(Int64($0.misses)) } ?? .null,
            optimum.map { .real($0.meanCompletionSeconds) } ?? .null,
            .real(analysis.references[.fifo]!.objective), .real(analysis.references[.edf]!.objective),
            .real(analysis.references[.spt]!.objective), .real(analysis.references[.johnson]!.objective),
            .text(Timestamp.now()),
            randomOrderMeanCompletion(frame).map { .real($0) } ?? .null,
        ])
        _ = try insert.step()
        insert.reset()
        let frameID = database.lastInsertRowID

        let insertTask = try database.cachedStatement(
            "INSERT INTO frame_tasks (frame_id, task, data_bits, deadline_s, cycles_per_bit) VALUES (?, ?, ?, ?, ?)")
        for (index, task) in frame.tasks.enumerated() {
            try insertTask.bind([
                .integer(frameID), .integer(Int64(index)),
                .real(task.dataBits), .real(task.deadlineSeconds), .real(task.cyclesPerBit),
            ])
            _ = try insertTask.step()
            insertTask.reset()
        }
        return (frameID, true)
    }

    /// Reads a frame back exactly as it was stored.
    public func loadFrame(id frameID: Int64) throws -> StoredFrame {
        try storeOperation("reading frame \(frameID)") {
            let header = try database.cachedStatement("""
                SELECT source, seed, uplink_rate, cpu_hz, zeta, optimal_objective, edf_objective
                FROM frames WHERE frame_id = ?
                """)
            try header.bind(frameID, at: 1)
            defer { header.reset() }
            guard try header.step() else {
                throw StoreError.invalidArgument("frame \(frameID) is missing from the database")
            }
            let source: FrameSource = try header.text("source") == "file"
                ? .file : .generated(seed: UInt64(bitPattern: try header.int64("seed")))
            let parameters = ModelParameters(
                uplinkRate: try header.double("uplink_rate"), cpuHz: try header.double("cpu_hz"), zeta: try header.double("zeta"))
            let optimal = try header.optionalDouble("optimal_objective")
            let edf = try header.double("edf_objective")

            let taskRows = try database.cachedStatement(
                "SELECT data_bits, deadline_s, cycles_per_bit FROM frame_tasks WHERE frame_id = ? ORDER BY task")
            let tasks = try taskRows.rows([.integer(frameID)]) { row in
                OffloadTask(dataBits: try row.double("data_bits"), deadlineSeconds: try row.double("deadline_s"),
                            cyclesPerBit: try row.double("cycles_per_bit"))
            }
            // Values read back are checked like values typed in: a file edited by hand (or by another
            // program) must not smuggle in a frame whose times overflow.
            let frame = Frame(tasks: tasks, parameters: parameters)
            do throws(SchedulingError) {
                try frame.validate()
            } catch {
                throw StoreError.invalidArgument("frame \(frameID) in the database cannot be used: \(error.description)")
            }
            return StoredFrame(
                frameID: frameID, frame: frame, source: source,
                optimalObjective: optimal, edfObjective: edf)
        }
    }
}

/// An order as the JSON array text stored in the database, e.g. "[2,0,1]".
func orderJSON(_ order: [Int]) -> String {
    "[" + order.map(String.init).joined(separator: ",") + "]"
}

/// D_rand of a frame (the delay score's zero point), or nil above the exact solver's N, where neither it
/// nor D* is computed. Enumerates all N! orders: instant at N = 8, under a second at N = 10.
func randomOrderMeanCompletion(_ frame: Frame) -> Double? {
    frame.count <= ExactOptimum.maximumTasks ? frame.meanCompletionOverAllOrders() : nil
}

extension TrackerStore {
    /// Computes D_rand for every frame stored without it (by a tracker older than migration 0005) and
    /// stores it. Runs on every open for writing; after the first it finds nothing to do. Each value is
    /// computed outside any transaction and written only where still missing, so two processes opening
    /// the same old database at once both write the same value at most.
    func fillMissingRandomOrderDelays() throws {
        let missing = try storeOperation("finding frames without a random-order delay") {
            try database.prepare("SELECT frame_id FROM frames WHERE random_mean_completion_s IS NULL AND n <= ?")
                .rows([.integer(Int64(ExactOptimum.maximumTasks))]) { $0.int64(0) }
        }
        for frameID in missing {
            let frame = try loadFrame(id: frameID).frame
            guard let value = randomOrderMeanCompletion(frame) else { continue }
            try storeOperation("storing the random-order delay of frame \(frameID)") {
                try database.prepare(
                    "UPDATE frames SET random_mean_completion_s = ? WHERE frame_id = ? AND random_mean_completion_s IS NULL")
                    .run([.real(value), .integer(frameID)])
            }
        }
    }
}
