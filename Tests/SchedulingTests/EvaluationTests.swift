import Testing
import Scheduling

struct EvaluationTests {
    /// R = 1e6 bit/s, f = 1e9 Hz, zeta = 0.5 s; every number below is exact in binary floating point.
    ///
    ///   task  d (bits)  eps (s)  c (cycles/bit)  d/R (s)  p = d c / f (s)
    ///   0     1e6       2.9      500             1.0      1e6 * 500 / 1e9  = 0.5
    ///   1     2e6       4.0      125             2.0      2e6 * 125 / 1e9  = 0.25
    ///   2     5e5       2.5      4000            0.5      5e5 * 4000 / 1e9 = 2.0
    ///
    /// Order (2, 0, 1):
    ///   j=1, task 2: T_ready = 0.5e6 / 1e6 = 0.5;  T_comp = 0.5 + 2.0 = 2.5.
    ///                2.5 > 2.5 is false: met (a completion equal to the deadline is not a miss).
    ///   j=2, task 0: T_ready = 1.5e6 / 1e6 = 1.5;  T_comp = max(1.5, 2.5) + 0.5 = 3.0
    ///                (the server is still busy: the previous completion wins the max). 3.0 > 2.9: MISS.
    ///   j=3, task 1: T_ready = 3.5e6 / 1e6 = 3.5;  T_comp = max(3.5, 3.0) + 0.25 = 3.75
    ///                (the server waits for the data: the ready time wins the max). 3.75 <= 4: met.
    ///   J = 2.5 + 3.0 + 3.75 + 0.5 * 1 = 9.25 + 0.5 = 9.75; mean completion 9.25 / 3; miss ratio 1/3.
    let handFrame = frame(
        [(1e6, 2.9, 500), (2e6, 4.0, 125), (5e5, 2.5, 4000)],
        parameters: ModelParameters(uplinkRate: 1e6, cpuHz: 1e9, zeta: 0.5)
    )

    @Test func handComputedThreeTaskExample() {
        #expect(handFrame.transmitSeconds(2) == 0.5)
        #expect(handFrame.processSeconds(0) == 0.5)
        #expect(handFrame.processSeconds(1) == 0.25)
        #expect(handFrame.processSeconds(2) == 2.0)

        let evaluation = handFrame.evaluate([2, 0, 1])
        #expect(evaluation.order == [2, 0, 1])
        #expect(evaluation.completionTimes == [2.5, 3.0, 3.75])
        #expect(evaluation.misses == 1)
        #expect(evaluation.objective == 9.75)
        #expect(evaluation.meanCompletionSeconds == 9.25 / 3)
        #expect(evaluation.missRatio == 1.0 / 3)
    }

    /// FIFO on the same frame: ready 1.0, 3.0, 3.5. T_comp = 1.0 + 0.5 = 1.5; max(3.0, 1.5) + 0.25 = 3.25;
    /// max(3.5, 3.25) + 2.0 = 5.5 > 2.5, a miss. J = 1.5 + 3.25 + 5.5 + 0.5 = 10.75.
    @Test func handComputedFIFO() {
        let evaluation = handFrame.evaluate([0, 1, 2])
        #expect(evaluation.completionTimes == [1.5, 3.25, 5.5])
        #expect(evaluation.misses == 1)
        #expect(evaluation.objective == 10.75)
    }

    @Test func outcomeMatchesEvaluateBitForBit() {
        let random = FrameGenerator.generate(count: 9, seed: 42)
        var generator = Xoshiro256(seed: 7)
        for _ in 0..<20 {
            let order = Array(0..<9).shuffled(using: &generator)
            let evaluation = random.evaluate(order)
            let outcome = random.outcome(of: order)
            #expect(outcome.objective == evaluation.objective)
            #expect(outcome.misses == evaluation.misses)
            #expect(outcome.meanCompletionSeconds == evaluation.meanCompletionSeconds)
        }
    }

    @Test func emptyFrameCostsNothing() {
        let evaluation = Frame(tasks: []).evaluate([])
        #expect(evaluation.objective == 0)
        #expect(evaluation.meanCompletionSeconds == 0)
        #expect(evaluation.missRatio == 0)
    }
}
