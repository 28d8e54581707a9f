import Testing
import Scheduling

@Suite struct RandomOrderBaselineTests {
    /// D_rand equals the plain mean, over every permutation, of each order's evaluated mean completion time.
    @Test(arguments: 1...7) func meanOverAllOrdersEqualsBruteForce(n: Int) {
        for seed: UInt64 in [1, 2, 3] {
            let frame = FrameGenerator.generate(count: n, seed: seed)
            var sum = 0.0
            var orders = 0
            forEachPermutation(of: n) { order in
                sum += frame.evaluate(order).meanCompletionSeconds
                orders += 1
            }
            let expected = sum / Double(orders)
            let computed = frame.meanCompletionOverAllOrders()
            #expect(nearlyEqual(computed, expected), "N = \(n), seed \(seed): \(computed) vs \(expected)")
        }
    }

    @Test func oneTaskIsItsOwnEvaluation() {
        let frame = FrameGenerator.generate(count: 1, seed: 9)
        #expect(frame.meanCompletionOverAllOrders() == frame.evaluate([0]).meanCompletionSeconds)
    }
}
