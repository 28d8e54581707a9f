/// Random frames as the paper's section IV draws them: d ~ U(0, 2e6] bits, deadline ~ U(1, 5] s,
/// c ~ U(0, 1000] cycles/bit, task 0 first and within a task d, then the deadline, then c.
///
/// The paper writes closed intervals; draws here exclude the lower end so that no task has 0 bits or
/// 0 cycles (a task file rejects those), a difference of probability 2^-53 per draw.
public enum FrameGenerator {
    public static let dataBitsRange = 0.0...2e6
    public static let deadlineRange = 1.0...5.0
    public static let cyclesPerBitRange = 0.0...1000.0

    public static func generate(count: Int, seed: UInt64, parameters: ModelParameters = .default) -> Frame {
        precondition(count >= 0, "a frame cannot have a negative number of tasks")
        var generator = Xoshiro256(seed: seed)
        func draw(_ range: ClosedRange<Double>) -> Double {
            range.lowerBound + (range.upperBound - range.lowerBound) * generator.nextUnitExcludingZero()
        }
        var tasks = [OffloadTask]()
        tasks.reserveCapacity(count)
        for _ in 0..<count {
            let data = draw(dataBitsRange)
            let deadline = draw(deadlineRange)
            let cycles = draw(cyclesPerBitRange)
            tasks.append(OffloadTask(dataBits: data, deadlineSeconds: deadline, cyclesPerBit: cycles))
        }
        return Frame(tasks: tasks, parameters: parameters)
    }
}
