import Scheduling

/// Rewards and outcomes of one model (the real environment or the twin), cached per action: the model is
/// deterministic, so every action is evaluated at most once. NaN marks an entry not yet computed (a reward
/// is never NaN: J > 0 for every order because every task carries data).
final class RewardTable {
    let frame: Frame
    let form: RewardForm
    let twin: TwinModel
    /// J of the earliest-deadline-first order under this model: the numerator of the ratio reward.
    let edfObjective: Double
    let count: Int
    private let cache: UnsafeMutableBufferPointer<Double>
    private let orderBuffer: UnsafeMutableBufferPointer<Int>

    init(frame: Frame, form: RewardForm, twin: TwinModel = .exact) {
        self.frame = frame
        self.form = form
        self.twin = twin
        self.edfObjective = frame.outcome(of: ReferenceOrder.edf.order(for: frame)).objective
        self.count = Permutations.factorial(frame.count)
        cache = allocateLarge(Double.self, count: count)
        cache.initialize(repeating: .nan)
        orderBuffer = .allocate(capacity: frame.count)
        orderBuffer.initialize(repeating: 0)
    }

    deinit {
        deallocateLarge(cache)
        orderBuffer.deallocate()
    }

    @inline(__always)
    func reward(_ action: Int) -> Double {
        let cached = cache[action]
        if !cached.isNaN { return cached }
        return computeReward(action)
    }

    @inline(never)
    private func computeReward(_ action: Int) -> Double {
        let objective = outcome(action).objective
        var value: Double
        switch form {
        case .ratio: value = edfObjective / objective
        case .negative: value = -objective
        }
        value *= twin.noiseFactor(action: action)
        cache[action] = value
        return value
    }

    /// The objective, misses and mean completion time of an action under this model (not cached).
    func outcome(_ action: Int) -> Outcome {
        Permutations.unrank(action, into: orderBuffer)
        return frame.outcome(of: orderBuffer)
    }
}

/// One Q-table over all actions (QL and DTEQL), with its greedy action kept incrementally.
///
/// Each action's Q-value shares a 16-byte cell with its cached twin-sample reward (NaN until first
/// needed), so a DTEQL twin update touches one cache line.
///
/// The greedy action is the argmax with ties to the lowest rank. An update changes one entry, so the greedy
/// can only move to that entry, unless the entry was the greedy one and fell: then the greedy is marked
/// stale and found again, when next needed, from per-block bests (blocks of 64 ranks), kept the same way (a
/// fallen block best rescans its 64 entries). When every target an entry is pulled toward is the same
/// fixed positive reward (ratio rewards, exact twin), an entry only ever rises and the block bests are not
/// kept at all; a fall then would mean a full scan.
final class SingleTable {
    struct Cell {
        var q: Double
        var sampleReward: Double
    }

    static let blockShift = 6
    let count: Int
    let cells: UnsafeMutableBufferPointer<Cell>
    private let trackBlocks: Bool
    private let blockBest: UnsafeMutableBufferPointer<Int32>
    /// The greedy bookkeeping lives behind a pointer so the hot loop pays no dynamic exclusivity checks.
    private struct Greedy {
        var action: Int
        var value: Double
        var stale: Bool
    }
    private let state: UnsafeMutablePointer<Greedy>

    /// The greedy action; current only after `refreshGreedy()`.
    var greedy: Int { state.pointee.action }

    init(count: Int, entriesOnlyRise: Bool) {
        self.count = count
        cells = allocateLarge(Cell.self, count: count)
        cells.initialize(repeating: Cell(q: 0, sampleReward: .nan))
        trackBlocks = !entriesOnlyRise
        let blocks = trackBlocks ? (count + (1 << SingleTable.blockShift) - 1) >> SingleTable.blockShift : 0
        blockBest = .allocate(capacity: blocks)
        for b in 0..<blocks { blockBest[b] = Int32(b << SingleTable.blockShift) }
        state = .allocate(capacity: 1)
        state.initialize(to: Greedy(action: 0, value: 0, stale: false))
    }

    deinit {
        deallocateLarge(cells)
        blockBest.deallocate()
        state.deallocate()
    }

    static func estimatedBytes(count: Int) -> Int {
        saturatingAdd(saturatingMultiply(count, 16), saturatingMultiply(count >> blockShift + 1, 4))
    }

    /// The twin's reward of `action`, cached in the action's cell.
    @inline(__always)
    func sampleReward(_ action: Int, from model: RewardTable) -> Double {
        let cached = cells[action].sampleReward
        if !cached.isNaN { return cached }
        let value = model.reward(action)
        cells[action].sampleReward = value
        return value
    }

    /// Q(a) <- Q(a) + lr * (r + gamma * 0 - Q(a)): every episode ends after its one action.
    @inline(__always)
    func update(_ action: Int, reward: Double, learningRate: Double) {
        let old = cells[action].q
        let new = old + learningRate * (reward - old)
        cells[action].q = new

        if trackBlocks {
            let block = action >> SingleTable.blockShift
            let best = Int(blockBest[block])
            if best == action {
                if new < old { rescanBlock(block) }
            } else {
                let bestValue = cells[best].q
                if new > bestValue || (new == bestValue && action < best) {
                    blockBest[block] = Int32(truncatingIfNeeded: action)
                }
            }
        }

        let g = state.pointee
        if action == g.action {
            if new >= old { state.pointee.value = new } else { state.pointee.stale = true }
        } else if !g.stale && (new > g.value || (new == g.value && action < g.action)) {
            state.pointee.action = action
            state.pointee.value = new
        }
    }

    /// Makes `greedy` current; call before reading it.
    @inline(__always)
    func refreshGreedy() {
        if state.pointee.stale { recomputeGreedy() }
    }

    @inline(never)
    private func rescanBlock(_ block: Int) {
        let start = block << SingleTable.blockShift
        let end = Swift.min(start + (1 << SingleTable.blockShift), count)
        blockBest[block] = Int32(truncatingIfNeeded: scan(start, end).action)
    }

    /// The argmax over ranks start..<end, ties to the lowest rank.
    private func scan(_ start: Int, _ end: Int) -> (action: Int, value: Double) {
        var best = start
        var bestValue = cells[start].q
        var a = start + 1
        while a < end {
            let value = cells[a].q
            if value > bestValue { best = a; bestValue = value }
            a += 1
        }
        return (best, bestValue)
    }

    @inline(never)
    private func recomputeGreedy() {
        var best: (action: Int, value: Double)
        if trackBlocks {
            let blocks = (count + (1 << SingleTable.blockShift) - 1) >> SingleTable.blockShift
            best = (Int(blockBest[0]), cells[Int(blockBest[0])].q)
            for b in 1..<Swift.max(blocks, 1) {
                let candidate = Int(blockBest[b])
                if cells[candidate].q > best.value { best = (candidate, cells[candidate].q) }
            }
        } else {
            best = scan(0, count)
        }
        state.pointee = Greedy(action: best.action, value: best.value, stale: false)
    }

    /// The Q-values in rank order.
    func qValues() -> [Double] { cells.map(\.q) }

    /// Replaces the Q-values (snapshot restore) and rebuilds the block bests and the greedy action.
    func load(_ values: UnsafeBufferPointer<Double>) {
        precondition(values.count == count)
        for a in 0..<count { cells[a].q = values[a] }
        if trackBlocks {
            let blocks = (count + (1 << SingleTable.blockShift) - 1) >> SingleTable.blockShift
            for b in 0..<blocks { rescanBlock(b) }
        }
        recomputeGreedy()
    }
}
