import Scheduling
import Testing

/// Issue 10 section 4: model constants and task values that are each finite and positive can still make
/// the derived times overflow (d / R with R = .leastNonzeroMagnitude) or vanish (J = 0, and the ratio reward J_EDF / J is
/// NaN). `Frame.validate` is the one rule every entry point applies; the exact optimum applies it too, and
/// on main these frames reached its `preconditionFailure` (exit 132).
struct FrameValidationTests {
    static let task = OffloadTask(dataBits: 1e6, deadlineSeconds: 2, cyclesPerBit: 300)

    static func frame(_ tasks: [OffloadTask] = [task, task, task], rate: Double = 5.5e6, cpuHz: Double = 10e9, zeta: Double = 0.1) -> Frame {
        Frame(tasks: tasks, parameters: ModelParameters(uplinkRate: rate, cpuHz: cpuHz, zeta: zeta))
    }

    /// Hostile model constants and task values, with a fragment of the one-line refusal.
    static let refused: [(Frame, String)] = [
        (frame(cpuHz: 1e-300), "processing the tasks takes inf s in all"),
        (frame(rate: .leastNonzeroMagnitude), "sending the tasks takes inf s in all"),
        (frame(rate: 1e-300), "sending the tasks takes"),
        (frame(cpuHz: 1e6, zeta: 1e308), "an order's J could reach"),
        (frame(zeta: 1e50), "an order's J could reach"),
        (frame(rate: 1e308, cpuHz: 1e308), "the tasks take only 9.03e-300 s in all"),
        (frame(cpuHz: .nan), "cpu-hz must be a finite number > 0, got nan"),
        (frame(rate: .infinity), "rate must be a finite number > 0, got inf"),
        (frame(rate: -.infinity), "rate must be a finite number > 0"),
        (frame(zeta: -1e-300), "zeta must be a finite number >= 0"),
        (frame(rate: 0), "rate must be a finite number > 0"),
        (frame(rate: -5.5e6), "rate must be a finite number > 0"),
        (frame([OffloadTask(dataBits: 1e308, deadlineSeconds: 2, cyclesPerBit: 3)]), "sending the tasks takes 1.8181818181818183e+301 s"),
        (frame([OffloadTask(dataBits: 1e6, deadlineSeconds: 2, cyclesPerBit: 1e308)]), "processing the tasks takes inf s"),
        (frame([OffloadTask(dataBits: .leastNonzeroMagnitude, deadlineSeconds: 2, cyclesPerBit: 3)]), "the tasks take only 0.0 s in all"),
        (frame([OffloadTask(dataBits: 1e-300, deadlineSeconds: 1e-300, cyclesPerBit: 1e-300)]), "the tasks take only"),
        (frame([OffloadTask(dataBits: .nan, deadlineSeconds: 2, cyclesPerBit: 3)]), "task 0: data_bits must be a finite number > 0, got nan"),
        (frame([task, OffloadTask(dataBits: 1, deadlineSeconds: .infinity, cyclesPerBit: 3)]), "task 1: deadline_s must be a finite number > 0, got inf"),
        (frame([OffloadTask(dataBits: 1, deadlineSeconds: 0, cyclesPerBit: 3)]), "task 0: deadline_s must be a finite number > 0, got 0.0"),
        (frame([OffloadTask(dataBits: 1, deadlineSeconds: 1, cyclesPerBit: -3)]), "task 0: cycles_per_bit must be a finite number > 0"),
    ]

    @Test(arguments: refused.indices)
    func aFrameWhoseTimesAreNotFiniteIsRefusedInOneLine(index: Int) {
        let (frame, fragment) = Self.refused[index]
        #expect {
            try frame.validate()
        } throws: { error in
            let message = String(describing: error)
            return message.contains(fragment) && !message.contains("\n")
        }
        // The exact optimum refuses the same frames instead of trapping.
        #expect(throws: SchedulingError.self) { try ExactOptimum.solve(frame) }
    }

    /// Extreme but usable frames pass, and everything derived from them is finite, J > 0 included.
    static let accepted: [Frame] = [
        frame(),
        frame(rate: 1e30, cpuHz: 1e30),
        frame(zeta: 0),
        frame(zeta: 1e40),
        frame([OffloadTask(dataBits: .leastNonzeroMagnitude, deadlineSeconds: 2, cyclesPerBit: 3), task]),
        frame([OffloadTask(dataBits: 1e-300, deadlineSeconds: 1e-300, cyclesPerBit: 1e300), OffloadTask(dataBits: 1e-300, deadlineSeconds: 2, cyclesPerBit: 1e300)]),
        frame([OffloadTask(dataBits: 1, deadlineSeconds: 1e308, cyclesPerBit: 1)]),
        frame([task], rate: 1e-40, cpuHz: 1e-40),
    ]

    @Test(arguments: accepted.indices)
    func anExtremeButUsableFrameGivesFiniteFigures(index: Int) throws {
        let frame = Self.accepted[index]
        try frame.validate()
        let optimum = try ExactOptimum.solve(frame)
        for reference in ReferenceOrder.allCases {
            let evaluation = frame.evaluate(reference.order(for: frame))
            #expect(evaluation.objective.isFinite && evaluation.objective > 0)
            #expect(evaluation.completionTimes.allSatisfy { $0.isFinite })
            // The ratio reward and its square (statistics) stay finite.
            let reward = evaluation.objective / optimum.objective
            #expect(reward.isFinite && (reward * reward).isFinite)
        }
    }

    /// Every random frame the generator draws with the default constants passes (the rule refuses no
    /// legitimate input).
    @Test func generatedFramesPass() throws {
        for seed in UInt64(0)..<200 {
            try FrameGenerator.generate(count: 12, seed: seed).validate()
        }
        try FrameGenerator.generate(count: 8, seed: .max).validate()
    }
}
