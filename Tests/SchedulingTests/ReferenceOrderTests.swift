import Testing
import Scheduling

struct ReferenceOrderTests {
    /// With R = f = 1: send = d, p = d * c.
    ///   task  d  eps  c    send  p
    ///   0     4  9    0.5  4     2
    ///   1     1  3    3    1     3
    ///   2     2  5    0.5  2     1
    ///   3     3  1    2    3     6
    let handFrame = frame([(4, 9, 0.5), (1, 3, 3), (2, 5, 0.5), (3, 1, 2)], parameters: unitParameters)

    @Test func fifoIsIndexOrder() {
        #expect(ReferenceOrder.fifo.order(for: handFrame) == [0, 1, 2, 3])
    }

    @Test func edfSortsByDeadline() {
        // Deadlines 9, 3, 5, 1.
        #expect(ReferenceOrder.edf.order(for: handFrame) == [3, 1, 2, 0])
    }

    @Test func sptSortsByProcessingTime() {
        // Processing 2, 3, 1, 6.
        #expect(ReferenceOrder.spt.order(for: handFrame) == [2, 0, 1, 3])
    }

    @Test func johnsonSplitsAndSorts() {
        // send <= p: tasks 1 (1 <= 3) and 3 (3 <= 6), by increasing send: 1, 3.
        // the rest: tasks 0 (p 2) and 2 (p 1), by decreasing p: 0, 2.
        #expect(ReferenceOrder.johnson.order(for: handFrame) == [1, 3, 0, 2])
    }

    @Test func namesAreTheRawValues() {
        #expect(ReferenceOrder.allCases.map(\.rawValue) == ["fifo", "edf", "spt", "johnson"])
        #expect(ReferenceOrder(rawValue: "johnson") == .johnson)
    }

    @Test func tiesGoToTheLowerIndex() {
        // Deadlines 2, 1, 1, 2: the two 1s keep index order, then the two 2s.
        let deadlines = frame([(1, 2, 1), (1, 1, 1), (1, 1, 1), (1, 2, 1)], parameters: unitParameters)
        #expect(ReferenceOrder.edf.order(for: deadlines) == [1, 2, 0, 3])
        // Processing (d * c) 3, 1, 3, 1.
        let processing = frame([(3, 1, 1), (1, 1, 1), (1, 1, 3), (1, 1, 1)], parameters: unitParameters)
        #expect(ReferenceOrder.spt.order(for: processing) == [1, 3, 0, 2])
        // All equal: every rule gives index order.
        let same = frame(Array(repeating: (2.0, 3.0, 1.5), count: 5), parameters: unitParameters)
        for rule in ReferenceOrder.allCases {
            #expect(rule.order(for: same) == [0, 1, 2, 3, 4], "\(rule)")
        }
    }

    @Test func johnsonTies() {
        //   task  d    c     send  p   group
        //   0     2    0.5   2     1   second (2 > 1)
        //   1     1    1     1     1   first (send == p goes first)
        //   2     4    0.25  4     1   second
        //   3     1    2     1     2   first
        //   4     0.5  4     0.5   2   first
        // First group by send: 4 (0.5), then 1 and 3 (both 1, index order). Second group by decreasing p:
        // 0 and 2 (both 1, index order).
        let tied = frame([(2, 9, 0.5), (1, 9, 1), (4, 9, 0.25), (1, 9, 2), (0.5, 9, 4)], parameters: unitParameters)
        #expect(ReferenceOrder.johnson.order(for: tied) == [4, 1, 3, 0, 2])
    }

    /// A two-machine flow shop worked by hand: (send, p) = (3, 6), (5, 2.5), (1, 2), (6, 6), (7, 3.5), (4, 1).
    /// Johnson: first group {2, 0, 3} by send 1, 3, 6; second group {4, 1, 5} by p 3.5, 2.5, 1.
    /// Cumulative sends 1, 4, 10, 17, 22, 26; completions 3, 10, 16, 20.5, 24.5, 27. The makespan 27 is
    /// optimal: all data has arrived no sooner than 26, and the last task needs at least min p = 1 after it.
    @Test func johnsonKnownExampleIsMakespanOptimal() {
        let shop = frame(
            [(3, 99, 2), (5, 99, 0.5), (1, 99, 2), (6, 99, 1), (7, 99, 0.5), (4, 99, 0.25)],
            parameters: unitParameters
        )
        let order = ReferenceOrder.johnson.order(for: shop)
        #expect(order == [2, 0, 3, 4, 1, 5])
        let evaluation = shop.evaluate(order)
        #expect(evaluation.completionTimes == [3, 10, 16, 20.5, 24.5, 27])

        // No order has a smaller makespan.
        var permutation = Array(0..<6)
        var smallest = Double.infinity
        func visit(_ k: Int) {
            if k == permutation.count {
                smallest = min(smallest, shop.evaluate(permutation).completionTimes.last!)
                return
            }
            for i in k..<permutation.count {
                permutation.swapAt(k, i)
                visit(k + 1)
                permutation.swapAt(k, i)
            }
        }
        visit(0)
        #expect(smallest == 27)
    }

    @Test(arguments: [0, 1, 7, 12])
    func everyRuleGivesAPermutation(count: Int) {
        let random = FrameGenerator.generate(count: count, seed: UInt64(count) + 100)
        for rule in ReferenceOrder.allCases {
            let order = rule.order(for: random)
            #expect(isPermutation(order, of: count), "\(rule)")
            #expect((try? random.validate(order: order)) != nil)
        }
    }
}
