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
