import Scheduling

/// The best objective over every permutation, by brute force (N! orders), with the first order reaching it.
func bruteForceOptimum(_ frame: Frame) -> (objective: Double, order: [Int]) {
    var order = Array(0..<frame.count)
    var best = frame.outcome(of: order).objective
    var bestOrder = order
    // Heap's algorithm, iterative: every permutation exactly once, one swap apart.
    var counters = [Int](repeating: 0, count: frame.count)
    var i = 1
    while i < frame.count {
        if counters[i] < i {
            order.swapAt(i % 2 == 0 ? 0 : counters[i], i)
            let objective = frame.outcome(of: order).objective
            if objective < best {
                best = objective
                bestOrder = order
            }
            counters[i] += 1
            i = 1
        } else {
            counters[i] = 0
            i += 1
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
