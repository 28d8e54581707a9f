// Module Scheduling: the offloading model (tasks, frames, evaluation, reference orders, exact optimum).
// Pure Swift: no SQL, no I/O beyond reading a task file.

/// One task the user offloads: `dataBits` to send, a deadline from the frame's start, and the CPU cycles
/// each bit needs on the server.
public struct OffloadTask: Sendable, Equatable, Hashable, Codable {
    public var dataBits: Double
    public var deadlineSeconds: Double
    public var cyclesPerBit: Double

    public init(dataBits: Double, deadlineSeconds: Double, cyclesPerBit: Double) {
        self.dataBits = dataBits
        self.deadlineSeconds = deadlineSeconds
        self.cyclesPerBit = cyclesPerBit
    }
}

/// The system's constants. The paper gives the CPU frequency; the uplink rate and the penalty weight are
/// this project's choice (see docs/model.md), picked so the optimum's delay and misses land near the
/// paper's Table I.
public struct ModelParameters: Sendable, Equatable, Hashable, Codable {
    /// Uplink rate R in bit/s.
    public var uplinkRate: Double
    /// Server CPU frequency f in Hz.
    public var cpuHz: Double
    /// Penalty zeta, in seconds, added to the objective for each missed deadline.
    public var zeta: Double

    public static let defaultUplinkRate = 5.5e6
    public static let defaultCPUHz = 10e9
    public static let defaultZeta = 0.1

    public init(
        uplinkRate: Double = ModelParameters.defaultUplinkRate,
        cpuHz: Double = ModelParameters.defaultCPUHz,
        zeta: Double = ModelParameters.defaultZeta
    ) {
        self.uplinkRate = uplinkRate
        self.cpuHz = cpuHz
        self.zeta = zeta
    }

    public static let `default` = ModelParameters()

    /// Throws `SchedulingError.invalidParameter` unless rate and frequency are finite and positive and zeta
    /// is finite and not negative.
    public func validate() throws(SchedulingError) {
        guard uplinkRate.isFinite, uplinkRate > 0 else {
            throw .invalidParameter("rate must be a finite number > 0, got \(uplinkRate)")
        }
        guard cpuHz.isFinite, cpuHz > 0 else {
            throw .invalidParameter("cpu-hz must be a finite number > 0, got \(cpuHz)")
        }
        guard zeta.isFinite, zeta >= 0 else {
            throw .invalidParameter("zeta must be a finite number >= 0, got \(zeta)")
        }
    }
}

/// The errors of the scheduling model. Each case's description is one line fit for a user.
public enum SchedulingError: Error, Equatable, CustomStringConvertible {
    case invalidParameter(String)
    case invalidOrder(String)
    case tooManyTasks(count: Int, maximum: Int)
    /// `line` is 1-based, or 0 when the file could not be read; `column` names the column concerned, if one.
    case invalidTaskFile(path: String, line: Int, column: String?, reason: String)

    public var description: String {
        switch self {
        case .invalidParameter(let message), .invalidOrder(let message):
            return message
        case .tooManyTasks(let count, let maximum):
            return "\(count) tasks is more than the exact optimum supports (at most \(maximum))"
        case .invalidTaskFile(let path, let line, let column, let reason):
            // Line 0 means the file as a whole (it could not be read), so no line is shown.
            let place = line > 0 ? "\(path):\(line)" : path
            if let column {
                return "\(place): column '\(column)': \(reason)"
            }
            return "\(place): \(reason)"
        }
    }
}

/// N tasks and the model they are scheduled under.
public struct Frame: Sendable, Equatable, Hashable, Codable {
    public let tasks: [OffloadTask]
    public let parameters: ModelParameters

    public init(tasks: [OffloadTask], parameters: ModelParameters = .default) {
        self.tasks = tasks
        self.parameters = parameters
    }

    public var count: Int { tasks.count }

    /// Seconds to send task i's data: d_i / R.
    public func transmitSeconds(_ i: Int) -> Double {
        tasks[i].dataBits / parameters.uplinkRate
    }

    /// Seconds the server needs for task i: d_i * c_i / f.
    public func processSeconds(_ i: Int) -> Double {
        tasks[i].dataBits * tasks[i].cyclesPerBit / parameters.cpuHz
    }

    /// The range every time the model derives from an accepted frame is kept in, in seconds: the total
    /// sending and processing time, and the bound N x (sending + processing + zeta) on any order's J, at
    /// most 1e50; their sum, which every order's J is at least, at least 1e-50. Far beyond any real frame
    /// (the universe is 4e17 s old), and narrow enough that everything derived from J stays finite:
    /// ratio rewards J_EDF / J (at most 1e100), their squares in the statistics, sums over many runs.
    public static let timeLimits: ClosedRange<Double> = 1e-50...1e50

    /// Throws `.invalidParameter`, one line, unless the parameters are valid (`ModelParameters.validate`),
    /// every task value is a finite number > 0, and the times derived from them stay within `timeLimits`,
    /// so that every transfer, processing and completion time, J and reward of every order is finite and
    /// J > 0. Every way a frame enters the tracker (options, task files, sweep specs, the database) and
    /// every consumer that divides by J (the exact optimum, the learners) checks this one rule.
    public func validate() throws(SchedulingError) {
        try parameters.validate()
        for (index, task) in tasks.enumerated() {
            for (name, value) in [("data_bits", task.dataBits), ("deadline_s", task.deadlineSeconds), ("cycles_per_bit", task.cyclesPerBit)] {
                guard value.isFinite, value > 0 else {
                    throw .invalidParameter("task \(index): \(name) must be a finite number > 0, got \(value)")
                }
            }
        }
        guard !tasks.isEmpty else { return }
        var sending = 0.0
        var processing = 0.0
        for index in tasks.indices {
            sending += transmitSeconds(index)
            processing += processSeconds(index)
        }
        let limits = Frame.timeLimits
        guard sending <= limits.upperBound else {
            throw .invalidParameter(
                "sending the tasks takes \(sending) s in all (data_bits / rate), more than the limit of \(limits.upperBound) s")
        }
        guard processing <= limits.upperBound else {
            throw .invalidParameter(
                "processing the tasks takes \(processing) s in all (data_bits * cycles_per_bit / cpu-hz), more than the limit of \(limits.upperBound) s")
        }
        // Every completion is at most sending + processing, and each of the N tasks adds at most zeta.
        let largestObjective = Double(count) * (sending + processing + parameters.zeta)
        guard largestObjective <= limits.upperBound else {
            throw .invalidParameter(
                "an order's J could reach \(largestObjective) s (N x (sending + processing + zeta)), more than the limit of \(limits.upperBound) s")
        }
        // Each task completes after its own sending and processing time at the least.
        guard sending + processing >= limits.lowerBound else {
            throw .invalidParameter(
                "the tasks take only \(sending + processing) s in all to send and process, less than the limit of \(limits.lowerBound) s (J must stay > 0 for the ratio reward J_EDF / J)")
        }
    }

    /// Throws unless `order` is a permutation of 0..<count.
    public func validate(order: [Int]) throws(SchedulingError) {
        guard order.count == count else {
            throw .invalidOrder("order has \(order.count) entries; the frame has \(count) tasks")
        }
        var seen = [Bool](repeating: false, count: count)
        for index in order {
            guard (0..<count).contains(index) else {
                throw .invalidOrder("task index \(index) is out of range 0...\(count - 1)")
            }
            guard !seen[index] else {
                throw .invalidOrder("task index \(index) appears twice; an order is a permutation of 0...\(count - 1)")
            }
            seen[index] = true
        }
    }
}
