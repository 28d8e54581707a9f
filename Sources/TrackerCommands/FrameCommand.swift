import ArgumentParser
import Foundation
import Scheduling
import TrackerReports

/// `tracker frame`: print a generated frame, or write it as a task file.
public struct FrameCommand: ParsableCommand {
    /// A generated frame is only printed or saved, so it may be larger than the optimum supports; the
    /// bound keeps a typo from allocating gigabytes.
    static let maximumGeneratedTasks = 100_000

    public static let configuration = CommandConfiguration(
        commandName: "frame",
        abstract: "Generate a frame of N random tasks from a seed.",
        discussion: "The same seed gives the same frame on every machine (xoshiro256** seeded by SplitMix64)."
    )

    @Option(help: ArgumentHelp("Number of tasks.", valueName: "N"))
    var n: Int = 8

    @Option(help: ArgumentHelp("Seed of the frame.", valueName: "S"))
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Write the frame as a task file (CSV) instead of printing it.", valueName: "file.csv"))
    var out: String?

    @OptionGroup var model: ModelOptions

    @Option(help: "Output format.")
    var format: ReportFormat = .table

    public init() {}

    public func validate() throws {
        guard (1...Self.maximumGeneratedTasks).contains(n) else {
            throw ValidationError("--n must be between 1 and \(Self.maximumGeneratedTasks), got \(n).")
        }
    }

    public func run() throws {
        let frame = try checkedFrame(FrameGenerator.generate(count: n, seed: seed, parameters: model.parameters), taskFile: nil)
        if let out {
            try OutputFile.write(TaskFile.format(frame.tasks), to: out, kind: .taskFile)
            StandardError.write("Wrote \(n) tasks to \(out)\n")
            return
        }
        try StandardOutput.print(frameTable(frame).render(format), terminator: "")
    }
}

/// The tasks of a frame with their derived times, one row per task.
func frameTable(_ frame: Frame) -> Table {
    Table(
        columns: ["task", "data_bits", "deadline_s", "cycles_per_bit", "transmit_s", "process_s"],
        rows: frame.tasks.indices.map { index in
            let task = frame.tasks[index]
            return [
                .integer(index), .number(task.dataBits), .number(task.deadlineSeconds),
                .number(task.cyclesPerBit), .number(frame.transmitSeconds(index)), .number(frame.processSeconds(index)),
            ]
        }
    )
}

/// A failure a user can act on, printed as one line `Error: <message>` with exit code 1.
public struct CommandFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
