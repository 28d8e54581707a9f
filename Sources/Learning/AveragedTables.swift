/// The 1 + phi tables of DTAQL (agent 0 is the real agent, agents 1...phi the twins), stored as one shared
/// base table, the element-wise average as of the last averaging, plus one small overlay per agent holding
/// the entries the agent has changed since then (at most min(delta, N!) of them).
///
/// Overlays are open-addressing hash tables (linear probing, capacity a power of two >= twice the most
/// entries they can hold) over (action, value) slots, plus the list of used slots in insertion order.
/// The slots are stored slot-major: slot h of agent k is at h * agents + k. Every agent hashes an action
/// to the same home slot, and most agents exploit the same greedy action (the tables were equal at the
/// last averaging), so their accesses fall on a few adjacent cache lines instead of one line each.
///
/// Each agent's greedy action is kept like `SingleTable`'s: an update can only move it to the updated
/// entry, unless the greedy entry fell; then it is stale and found again, when the agent next exploits, as
/// the better of its overlay's best entry and the first base entry (in the order of value descending, rank
/// ascending) that is not in its overlay. Only the first min(delta, N!) + 1 entries of that order are ever
/// needed, so only those are kept, rebuilt lazily after each averaging.
///
/// With `Aggregation.pool` a pool table (a full N!-vector, equal to the base after every averaging) also
/// takes every update, in the order the updates are made (agent order); averaging then sets the base to
/// the pool instead of the mean. The pool can differ from the base only at entries some agent changed, so
/// the same list of changed entries serves both aggregations.
final class AveragedTables {
    struct Slot {
        var action: Int32
        /// The entry's position in the agent's insertion order (its index in the dense mirror).
        var index: Int32
        var value: Double
    }

    let count: Int
    let agents: Int
    /// The most entries an overlay can hold between two averagings: min(delta, N!).
    let overlayLimit: Int
    let capacity: Int
    private let hashShift: UInt64
    let base: UnsafeMutableBufferPointer<Double>
    /// Experience pooling (empty for the mean): the base plus every sample of the current cycle.
    let pooling: Bool
    let pool: UnsafeMutableBufferPointer<Double>
    private let slots: UnsafeMutableBufferPointer<Slot>
    /// Per agent, overlayLimit slot indices (within the agent's slots) in insertion order.
    private let used: UnsafeMutableBufferPointer<Int32>
    private let usedCount: UnsafeMutableBufferPointer<Int32>
    private let greedy: UnsafeMutableBufferPointer<Int32>
    private let greedyValue: UnsafeMutableBufferPointer<Double>
    private let greedyStale: UnsafeMutableBufferPointer<Bool>
    // Averaging scratch.
    private let accumulator: UnsafeMutableBufferPointer<Double>
    private let listed: UnsafeMutableBufferPointer<Bool>
    private let touched: UnsafeMutableBufferPointer<Int32>
    // The first min(overlayLimit + 1, N!) base entries by (value desc, rank asc); empty when stale.
    private var baseTop: [Int32] = []
    /// When entries can fall (negative rewards, imperfect twin), each overlay's entries are mirrored densely
    /// (action and value by insertion index), so finding a fallen greedy scans contiguous memory.
    let mirrored: Bool
    private let denseAction: UnsafeMutableBufferPointer<Int32>
    private let denseValue: UnsafeMutableBufferPointer<Double>
    /// Per agent, a position in `baseTop` before which every entry is in the agent's overlay. Overlays only
    /// grow between averagings and `baseTop` is fixed meanwhile, so it only advances: amortised, an agent
    /// probes each kept top entry once per averaging period, not once per fallen greedy.
    private let baseCursor: UnsafeMutableBufferPointer<Int32>

    init(count: Int, agents: Int, delta: Int, entriesOnlyRise: Bool, aggregation: Aggregation = .mean) {
        self.count = count
        self.agents = agents
        overlayLimit = Swift.min(delta, count)
        capacity = AveragedTables.capacity(overlayLimit: overlayLimit)
        hashShift = UInt64(64 - capacity.trailingZeroBitCount)
        base = allocateLarge(Double.self, count: count)
        base.initialize(repeating: 0)
        pooling = aggregation == .pool
        pool = allocateLarge(Double.self, count: pooling ? count : 0)
        pool.initialize(repeating: 0)
        slots = allocateLarge(Slot.self, count: agents * capacity)
        slots.initialize(repeating: Slot(action: -1, index: 0, value: 0))
        mirrored = !entriesOnlyRise
        denseAction = allocateLarge(Int32.self, count: mirrored ? agents * overlayLimit : 0)
        denseValue = allocateLarge(Double.self, count: mirrored ? agents * overlayLimit : 0)
        baseCursor = .allocate(capacity: agents)
        baseCursor.initialize(repeating: 0)
        used = .allocate(capacity: agents * overlayLimit)
        used.initialize(repeating: 0)
        usedCount = .allocate(capacity: agents)
        usedCount.initialize(repeating: 0)
        greedy = .allocate(capacity: agents)
        greedy.initialize(repeating: 0)
        greedyValue = .allocate(capacity: agents)
        greedyValue.initialize(repeating: 0)
        greedyStale = .allocate(capacity: agents)
        greedyStale.initialize(repeating: false)
        accumulator = allocateLarge(Double.self, count: count)
        accumulator.initialize(repeating: 0)
        listed = .allocate(capacity: count)
        listed.initialize(repeating: false)
        touched = .allocate(capacity: count)
        touched.initialize(repeating: 0)
    }

    deinit {
        deallocateLarge(base)
        deallocateLarge(pool)
        deallocateLarge(slots)
        deallocateLarge(denseAction)
        deallocateLarge(denseValue)
        baseCursor.deallocate()
        used.deallocate()
        usedCount.deallocate()
        greedy.deallocate()
        greedyValue.deallocate()
        greedyStale.deallocate()
        deallocateLarge(accumulator)
        listed.deallocate()
        touched.deallocate()
    }

    static func capacity(overlayLimit: Int) -> Int {
        var capacity = 4
        while capacity < 2 * overlayLimit { capacity <<= 1 }
        return capacity
    }

    @inline(__always)
    private func home(_ action: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(truncatingIfNeeded: action) &* 0x9E37_79B9_7F4A_7C15) >> hashShift)
    }

    /// The slot index (in `slots`) holding `action` in `agent`'s overlay, or nil.
    @inline(__always)
    private func find(agent: Int, action: Int) -> Int? {
        let mask = capacity - 1
        var h = home(action)
        while true {
            let key = Int(slots[h * agents + agent].action)
            if key == action { return h * agents + agent }
            if key < 0 { return nil }
            h = (h + 1) & mask
        }
    }

    /// Loads the key of `action`'s home slot in `agent`'s overlay: called ahead of `update` so the cache
    /// miss overlaps with other agents' work (a prefetch by hand; the caller must use the result).
    @inline(__always)
    func touch(agent: Int, action: Int) -> Int32 {
        slots[home(action) * agents + agent].action
    }

    /// Agent `agent`'s Q-value of `action`.
    @inline(__always)
    func value(agent: Int, action: Int) -> Double {
        if let slot = find(agent: agent, action: action) { return slots[slot].value }
        return base[action]
    }

    /// The slot for `action` in `agent`'s overlay, inserted with the base value if absent.
    @inline(__always)
    private func slot(agent: Int, action: Int) -> Int {
        let mask = capacity - 1
        var h = home(action)
        while true {
            let index = h * agents + agent
            let key = Int(slots[index].action)
            if key == action { return index }
            if key < 0 {
                let n = Int(usedCount[agent])
                precondition(n < overlayLimit, "DTAQL overlay overflow")
                let value = base[action]
                slots[index] = Slot(
                    action: Int32(truncatingIfNeeded: action), index: Int32(truncatingIfNeeded: n), value: value)
                used[agent * overlayLimit + n] = Int32(truncatingIfNeeded: h)
                if mirrored {
                    denseAction[agent * overlayLimit + n] = Int32(truncatingIfNeeded: action)
                    denseValue[agent * overlayLimit + n] = value
                }
                usedCount[agent] = Int32(truncatingIfNeeded: n + 1)
                return index
            }
            h = (h + 1) & mask
        }
    }

    /// The agent's current greedy action (argmax of its table, ties to the lowest rank).
    @inline(__always)
    func greedyAction(agent: Int) -> Int {
        if greedyStale[agent] { recomputeGreedy(agent: agent) }
        return Int(greedy[agent])
    }

    @inline(__always)
    func update(agent: Int, action: Int, reward: Double, learningRate: Double) {
        let index = slot(agent: agent, action: action)
        let old = slots[index].value
        let new = old + learningRate * (reward - old)
        slots[index].value = new
        if mirrored { denseValue[agent * overlayLimit + Int(slots[index].index)] = new }
        if pooling {
            let pooled = pool[action]
            pool[action] = pooled + learningRate * (reward - pooled)
        }
        let current = Int(greedy[agent])
        if action == current {
            if new >= old { greedyValue[agent] = new } else { greedyStale[agent] = true }
        } else if !greedyStale[agent] {
            let currentValue = greedyValue[agent]
            if new > currentValue || (new == currentValue && action < current) {
                greedy[agent] = Int32(truncatingIfNeeded: action)
                greedyValue[agent] = new
            }
        }
    }

    /// Sets every table to the element-wise mean of the 1 + phi tables (or, pooling, to the pool). Only
    /// actions some agent changed since the last averaging can differ from the base; for those the mean is
    /// computed as base + (sum over agents, real agent first, of (value - base)) / (1 + phi), which is the
    /// mean in exact arithmetic and leaves an entry nobody changed exactly as it was.
    func average() {
        var touchedCount = 0
        for agent in 0..<agents {
            let n = Int(usedCount[agent])
            for k in 0..<n {
                let index = Int(used[agent * overlayLimit + k]) * agents + agent
                let action = Int(slots[index].action)
                if !listed[action] {
                    listed[action] = true
                    accumulator[action] = 0
                    touched[touchedCount] = Int32(truncatingIfNeeded: action)
                    touchedCount += 1
                }
                accumulator[action] += slots[index].value - base[action]
                slots[index] = Slot(action: -1, index: 0, value: 0)
            }
            usedCount[agent] = 0
        }
        let divisor = Double(agents)
        for k in 0..<touchedCount {
            let action = Int(touched[k])
            base[action] = pooling ? pool[action] : base[action] + accumulator[action] / divisor
            listed[action] = false
        }
        baseTop = []
        baseCursor.update(repeating: 0)
        resetGreedyToBase()
    }

    private func resetGreedyToBase() {
        var best = 0
        var bestValue = base[0]
        for a in 1..<count where base[a] > bestValue {
            best = a
            bestValue = base[a]
        }
        for agent in 0..<agents {
            greedy[agent] = Int32(truncatingIfNeeded: best)
            greedyValue[agent] = bestValue
            greedyStale[agent] = false
        }
    }

    @inline(never)
    private func recomputeGreedy(agent: Int) {
        var best = -1
        var bestValue = -Double.infinity
        @inline(__always) func consider(_ action: Int, _ value: Double) {
            if best < 0 || value > bestValue || (value == bestValue && action < best) {
                best = action
                bestValue = value
            }
        }
        let n = Int(usedCount[agent])
        if mirrored {
            // Two predictable passes: the largest value, then the lowest action holding it.
            let start = agent * overlayLimit
            if n > 0 {
                var top = denseValue[start]
                for k in (start + 1)..<(start + n) {
                    let v = denseValue[k]
                    top = v > top ? v : top
                }
                for k in start..<(start + n) where denseValue[k] == top { consider(Int(denseAction[k]), top) }
            }
        } else {
            for k in 0..<n {
                let slot = slots[Int(used[agent * overlayLimit + k]) * agents + agent]
                consider(Int(slot.action), slot.value)
            }
        }
        if baseTop.isEmpty { rebuildBaseTop() }
        var position = Int(baseCursor[agent])
        while position < baseTop.count, find(agent: agent, action: Int(baseTop[position])) != nil {
            position += 1
        }
        baseCursor[agent] = Int32(truncatingIfNeeded: position)
        if position < baseTop.count {
            let candidate = Int(baseTop[position])
            consider(candidate, base[candidate])
        }
        greedy[agent] = Int32(truncatingIfNeeded: best)
        greedyValue[agent] = bestValue
        greedyStale[agent] = false
    }

    /// The first min(overlayLimit + 1, N!) actions by (base value descending, rank ascending), by a bounded
    /// heap whose root is the worst kept entry.
    private func rebuildBaseTop() {
        let k = Swift.min(overlayLimit + 1, count)
        let values = base
        // a is "worse" than b when it sorts after b.
        @inline(__always) func worse(_ a: Int32, _ b: Int32) -> Bool {
            let va = values[Int(a)], vb = values[Int(b)]
            return va < vb || (va == vb && a > b)
        }
        var heap = [Int32]()
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && worse(heap[l], heap[m]) { m = l }
                if r < heap.count && worse(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for a in 0..<count {
            let candidate = Int32(truncatingIfNeeded: a)
            if heap.count < k {
                heap.append(candidate)
                var i = heap.count - 1
                while i > 0 {
                    let p = (i - 1) / 2
                    if worse(heap[i], heap[p]) { heap.swapAt(i, p); i = p } else { break }
                }
            } else if worse(heap[0], candidate) {
                heap[0] = candidate
                siftDown(0)
            }
        }
        heap.sort { worse($1, $0) }
        baseTop = heap
    }

    /// Agent `agent`'s whole table in rank order.
    func table(agent: Int) -> [Double] {
        var result = Array(base)
        for k in 0..<Int(usedCount[agent]) {
            let slot = slots[Int(used[agent * overlayLimit + k]) * agents + agent]
            result[Int(slot.action)] = slot.value
        }
        return result
    }

    /// The agent's overlay entries in insertion order.
    func overlay(agent: Int) -> [(action: Int, value: Double)] {
        return (0..<Int(usedCount[agent])).map { k in
            let slot = slots[Int(used[agent * overlayLimit + k]) * agents + agent]
            return (Int(slot.action), slot.value)
        }
    }

    func overlayCount(agent: Int) -> Int { Int(usedCount[agent]) }

    /// Restores an overlay entry (snapshot); false when the action is already present or the overlay full.
    func restoreEntry(agent: Int, action: Int, value: Double) -> Bool {
        guard find(agent: agent, action: action) == nil, overlayCount(agent: agent) < overlayLimit else { return false }
        let index = slot(agent: agent, action: action)
        slots[index].value = value
        if mirrored { denseValue[agent * overlayLimit + Int(slots[index].index)] = value }
        return true
    }

    /// After a restore: every greedy is found again when next needed.
    func invalidateCaches() {
        baseTop = []
        baseCursor.update(repeating: 0)
        for agent in 0..<agents { greedyStale[agent] = true }
    }
}

