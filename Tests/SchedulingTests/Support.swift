import Scheduling

/// Calls `visit` with every permutation of 0..<count exactly once (Heap's algorithm, iterative: one swap apart).
func forEachPermutation(of count: Int, _ visit: ([Int]) -> Void) {
    var order = Array(0..<count)
    visit(order)
    var counters = [Int](repeating: 0, count: count)
    var i = 1
    while i < count {
        if counters[i] < i {
            order.swapAt(i % 2 == 0 ? 0 : counters[i], i)
            visit(order)
            counters[i] += 1
            i = 1
        } else {
            counters[i] = 0
            i += 1
        }
    }
}

/// The best objective over every permutation, by brute force (N! orders), with the first order reaching it.
func bruteForceOptimum(_ frame: Frame) -> (objective: Double, order: [Int]) {
    var best = Double.infinity
    var bestOrder: [Int] = []
    forEachPermutation(of: frame.count) { order in
        let objective = frame.outcome(of: order).objective
        if objective < best {
            best = objective
            bestOrder = order
        }
    }
    return (best, bestOrder)
}

/// |a - b| within a relative 1e-12 of the larger magnitude.
func nearlyEqual(_ a: Double, _ b: Double, relative: Double = 1e-12) -> Bool {
    abs(a - b) <= relative * max(abs(a), abs(b), 1e-300)
}

func isPermutation(_ order: [Int], of count: Int) -> Bool {
    order.count == count && Set(order) == Set(0..<count)
}

/// A frame from (data bits, deadline, cycles per bit) triples.
func frame(_ tasks: [(Double, Double, Double)], parameters: ModelParameters = .default) -> Frame {
    Frame(
        tasks: tasks.map { OffloadTask(dataBits: $0.0, deadlineSeconds: $0.1, cyclesPerBit: $0.2) },
        parameters: parameters
    )
}

/// With R = 1 bit/s and f = 1 Hz, sending takes d seconds and processing d * c seconds, which keeps
/// hand-made examples readable.
let unitParameters = ModelParameters(uplinkRate: 1, cpuHz: 1, zeta: 0.1)
