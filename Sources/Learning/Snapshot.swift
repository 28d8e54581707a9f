import Scheduling

/// The learner's whole state as bytes, and back. Layout (little-endian throughout) in docs/learning.md.
extension Learner {
    static let snapshotMagic: [UInt8] = Array("DTQLSNAP".utf8)
    static let snapshotHeaderBytes = 112

    /// Every piece of state needed to continue bit-identically: tables, PRNG words, iteration, tried
    /// actions, convergence bookkeeping. Caches (rewards, greedy actions, block bests) are not included.
    public func snapshot() -> [UInt8] {
        var bytes: [UInt8] = []
        snapshot(into: &bytes)
        return bytes
    }

    /// `snapshot()` into `buffer`, reusing its storage: a recording session keeps a few buffers and
    /// allocates none per checkpoint.
    public func snapshot(into buffer: inout [UInt8]) {
        var w = ByteWriter()
        swap(&w.data, &buffer)
        w.data.removeAll(keepingCapacity: true)
        w.data.reserveCapacity(Learner.snapshotHeaderBytes + actionCount / 8 + 1 + distinctActions * 8 + 64)
        w.bytes(Learner.snapshotMagic)
        w.u32(UInt32(Learner.snapshotLayoutVersion))
        w.u32(UInt32(frame.count))
        w.u8(Learner.algorithmCode(hyperparameters.algorithm))
        w.u8(hyperparameters.reward == .ratio ? 0 : 1)
        // Formerly reserved and written 0, which is the mean: older snapshots read unchanged.
        w.u16(Learner.aggregationCode(hyperparameters.aggregation))
        w.u32(0)
        w.i64(hyperparameters.phi)
        w.i64(hyperparameters.delta)
        let state = snapshotState
        w.i64(state.iteration)
        for word in state.rngWords { w.u64(word) }
        w.i64(state.distinctActions)
        w.i64(state.lastGreedyChange)
        w.i64(state.previousGreedy)
        w.i64(state.optimalStreakStart)
        assert(w.data.count == Learner.snapshotHeaderBytes)

        // Tried actions: bit (a % 8) of byte (a / 8). Written in bulk, in place, eight flags per load (a
        // Bool is stored as the byte 0 or 1): flag by flag, the bitmap and the walks below made a QL
        // checkpoint cost its learner more than 100 iterations.
        let flags = triedFlags
        let count = actionCount
        var triedCount = 0
        w.bulk((count + 7) / 8) { out in
            let whole = count / 8
            let raw = UnsafeRawPointer(flags.baseAddress!)
            for index in 0..<whole {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
                // Gathers the low bit of byte k into bit k of the top byte.
                let byte = UInt8(truncatingIfNeeded: (word &* 0x0102_0408_1020_4080) >> 56)
                out[index] = byte
                triedCount += byte.nonzeroBitCount
            }
            if whole < out.count {
                var byte: UInt8 = 0
                for bit in 0..<(count - whole * 8) where flags[whole * 8 + bit] {
                    byte |= 1 << UInt8(bit)
                    triedCount += 1
                }
                out[whole] = byte
            }
        }
        // Only tried actions can hold a non-zero value (every update touches a tried action, and
        // averaging leaves untouched entries as they are), so only their values are written, in rank
        // order: a QL table at N = 8 is about 6,400 values, not 40,320.
        if let single = singleTable {
            let cells = single.cells
            w.doubles(triedCount) { out in
                var k = 0
                forEachTried(flags, count) { a in out(k, cells[a].q); k += 1 }
            }
        } else {
            let tables = averagedTables!
            let base = tables.base
            w.doubles(triedCount) { out in
                var k = 0
                forEachTried(flags, count) { a in out(k, base[a]); k += 1 }
            }
            for agent in 0..<tables.agents {
                let overlay = tables.overlay(agent: agent)
                w.u32(UInt32(overlay.count))
                for entry in overlay {
                    w.u32(UInt32(entry.action))
                    w.f64(entry.value)
                }
            }
            // The pool differs from 0 only where some agent updated, i.e. at tried actions.
            if tables.pooling {
                let pool = tables.pool
                w.doubles(triedCount) { out in
                    var k = 0
                    forEachTried(flags, count) { a in out(k, pool[a]); k += 1 }
                }
            }
        }
        w.u64(SnapshotChecksum.compute(w.data[...]))
        swap(&w.data, &buffer)
    }

    /// Calls `body` with each tried action among the first `count`, in increasing order, skipping eight
    /// untried ones per load.
    @inline(__always)
    private func forEachTried(_ flags: UnsafeMutableBufferPointer<Bool>, _ count: Int, _ body: (Int) -> Void) {
        let raw = UnsafeRawPointer(flags.baseAddress!)
        let whole = count / 8
        for index in 0..<whole {
            var word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
            while word != 0 {
                let byte = word.trailingZeroBitCount / 8
                body(index * 8 + byte)
                word &= ~(0xFF << UInt64(byte * 8))
            }
        }
        for a in (whole * 8)..<count where flags[a] { body(a) }
    }

    /// Rebuilds a learner from `snapshot()`'s bytes. The frame and hyperparameters must be those of the run
    /// (N, algorithm, reward form, phi for DTEQL/DTAQL and delta for DTAQL are checked); the iteration budget
    /// may differ, to extend a run.
    public convenience init(
        restoring snapshot: [UInt8], frame: Frame, hyperparameters: Hyperparameters, optimumObjective: Double?,
        memoryLimitBytes: Int = 4 << 30
    ) throws(LearningError) {
        try self.init(
            frame: frame, hyperparameters: hyperparameters, optimumObjective: optimumObjective,
            memoryLimitBytes: memoryLimitBytes)
        try restore(snapshot)
    }

    static func algorithmCode(_ algorithm: Algorithm) -> UInt8 {
        switch algorithm {
        case .ql: return 0
        case .dteql: return 1
        case .dtaql: return 2
        }
    }

    static func aggregationCode(_ aggregation: Aggregation) -> UInt16 {
        switch aggregation {
        case .mean: return 0
        case .pool: return 1
        }
    }

    private func restore(_ bytes: [UInt8]) throws(LearningError) {
        let digestCount = SnapshotChecksum.byteCount
        guard bytes.count >= Learner.snapshotHeaderBytes + digestCount else {
            throw .invalidSnapshot("\(bytes.count) bytes is shorter than any snapshot")
        }
        guard Array(bytes[0..<8]) == Learner.snapshotMagic else {
            throw .invalidSnapshot("not a learner snapshot (bad magic)")
        }
        var r = ByteReader(bytes: bytes, end: bytes.count - digestCount)
        r.offset = 8
        let version = Int(try r.u32())
        guard version == Learner.snapshotLayoutVersion else {
            throw .invalidSnapshot(
                "layout version \(version) is not supported (this build reads \(Learner.snapshotLayoutVersion))")
        }
        var trailer = ByteReader(bytes: bytes, end: bytes.count)
        trailer.offset = bytes.count - digestCount
        guard SnapshotChecksum.compute(bytes[0..<(bytes.count - digestCount)]) == (try trailer.u64()) else {
            throw .invalidSnapshot("checksum mismatch: the snapshot is corrupted or truncated")
        }
        let n = Int(try r.u32())
        guard n == frame.count else {
            throw .invalidSnapshot("snapshot is for N = \(n) tasks, the frame has \(frame.count)")
        }
        let algorithmCode = try r.u8()
        guard algorithmCode == Learner.algorithmCode(hyperparameters.algorithm) else {
            let name = Algorithm.allCases.first { Learner.algorithmCode($0) == algorithmCode }?.rawValue ?? "code \(algorithmCode)"
            throw .invalidSnapshot("snapshot is for algorithm \(name), not \(hyperparameters.algorithm.rawValue)")
        }
        let rewardCode = try r.u8()
        guard rewardCode == (hyperparameters.reward == .ratio ? 0 : 1) else {
            throw .invalidSnapshot("snapshot was trained with another reward form than \(hyperparameters.reward.rawValue)")
        }
        let aggregationCode = try r.u16()
        guard aggregationCode == Learner.aggregationCode(hyperparameters.aggregation) else {
            let name = Aggregation.allCases.first { Learner.aggregationCode($0) == aggregationCode }?.rawValue
                ?? "code \(aggregationCode)"
            throw .invalidSnapshot(
                "snapshot has aggregation \(name), the hyperparameters \(hyperparameters.aggregation.rawValue)")
        }
        _ = try r.u32()
        let phi = try r.i64()
        let delta = try r.i64()
        if hyperparameters.algorithm != .ql && phi != hyperparameters.phi {
            throw .invalidSnapshot("snapshot has phi = \(phi), the hyperparameters \(hyperparameters.phi)")
        }
        if hyperparameters.algorithm == .dtaql && delta != hyperparameters.delta {
            throw .invalidSnapshot("snapshot has delta = \(delta), the hyperparameters \(hyperparameters.delta)")
        }
        let iteration = try r.i64()
        guard iteration >= 0 else { throw .invalidSnapshot("negative iteration \(iteration)") }
        var words = [UInt64]()
        for _ in 0..<4 { words.append(try r.u64()) }
        guard let rng = Xoshiro256(state: words) else { throw .invalidSnapshot("all-zero PRNG state") }
        let distinct = try r.i64()
        let lastChange = try r.i64()
        let previousGreedy = try r.i64()
        let streakStart = try r.i64()
        let count = actionCount
        guard (0...count).contains(distinct) else { throw .invalidSnapshot("distinct action count \(distinct) out of range") }
        guard iteration == 0 ? lastChange == -1 : (0..<iteration).contains(lastChange) else {
            throw .invalidSnapshot("last greedy change \(lastChange) out of range")
        }
        guard previousGreedy >= -1, previousGreedy < count, (previousGreedy == -1) == (iteration == 0) else {
            throw .invalidSnapshot("previous greedy action \(previousGreedy) out of range")
        }
        guard streakStart >= -1, streakStart < Swift.max(iteration, 0) || streakStart == -1 else {
            throw .invalidSnapshot("optimal streak start \(streakStart) out of range")
        }

        let flags = triedFlags
        var popcount = 0
        let flagBytes = (count + 7) / 8
        for k in 0..<flagBytes {
            let byte = try r.u8()
            for bit in 0..<8 {
                let a = k * 8 + bit
                let set = byte & (1 << UInt8(bit)) != 0
                if a >= count {
                    if set { throw .invalidSnapshot("tried-action bit set beyond N!") }
                    continue
                }
                flags[a] = set
                if set { popcount += 1 }
            }
        }
        guard popcount == distinct else {
            throw .invalidSnapshot("distinct action count \(distinct) disagrees with the tried set (\(popcount))")
        }

        if let single = singleTable {
            let values = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
            defer { values.deallocate() }
            for a in 0..<count {
                let value = flags[a] ? try r.f64() : 0
                guard value.isFinite else { throw .invalidSnapshot("non-finite Q-value at rank \(a)") }
                values.initializeElement(at: a, to: value)
            }
            single.load(UnsafeBufferPointer(values))
        } else {
            let tables = averagedTables!
            for a in 0..<count {
                let value = flags[a] ? try r.f64() : 0
                guard value.isFinite else { throw .invalidSnapshot("non-finite base Q-value at rank \(a)") }
                tables.base[a] = value
            }
            for agent in 0..<tables.agents {
                let entries = Int(try r.u32())
                guard entries <= tables.overlayLimit else {
                    throw .invalidSnapshot("agent \(agent) has \(entries) overlay entries, more than \(tables.overlayLimit)")
                }
                for _ in 0..<entries {
                    let action = Int(try r.u32())
                    let value = try r.f64()
                    guard action < count, value.isFinite else {
                        throw .invalidSnapshot("bad overlay entry for agent \(agent)")
                    }
                    guard tables.restoreEntry(agent: agent, action: action, value: value) else {
                        throw .invalidSnapshot("duplicate overlay entry for agent \(agent), action \(action)")
                    }
                }
            }
            if tables.pooling {
                for a in 0..<count {
                    let value = flags[a] ? try r.f64() : 0
                    guard value.isFinite else { throw .invalidSnapshot("non-finite pool value at rank \(a)") }
                    tables.pool[a] = value
                }
            }
            tables.invalidateCaches()
        }
        guard r.offset == r.end else {
            throw .invalidSnapshot("\(r.end - r.offset) unexpected bytes after the tables")
        }
        apply(
            SnapshotState(
                iteration: iteration, rngWords: words, distinctActions: distinct, lastGreedyChange: lastChange,
                previousGreedy: previousGreedy, optimalStreakStart: streakStart),
            rng: rng)
        if iteration > 0 && greedyAction != previousGreedy {
            throw .invalidSnapshot("the stored greedy action \(previousGreedy) is not the table's argmax \(greedyAction)")
        }
    }
}

struct ByteWriter {
    var data = [UInt8]()

    mutating func bytes(_ b: [UInt8]) { data.append(contentsOf: b) }
    mutating func u8(_ v: UInt8) { data.append(v) }
    mutating func u16(_ v: UInt16) { append(v.littleEndian) }
    mutating func u32(_ v: UInt32) { append(v.littleEndian) }
    mutating func u64(_ v: UInt64) { append(v.littleEndian) }
    mutating func i64(_ v: Int) { append(Int64(v).littleEndian) }
    mutating func f64(_ v: Double) { append(v.bitPattern.littleEndian) }

    private mutating func append<T: FixedWidthInteger>(_ v: T) {
        var copy = v
        withUnsafeBytes(of: &copy) { data.append(contentsOf: $0) }
    }

    /// Appends `count` bytes that `fill` writes in place.
    mutating func bulk(_ count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        let start = data.count
        data.append(contentsOf: repeatElement(0, count: count))
        data.withUnsafeMutableBytes { fill(UnsafeMutableRawBufferPointer(rebasing: $0[start..<(start + count)])) }
    }

    /// Appends `count` little-endian doubles; `fill` stores the k-th with `store(k, value)`, each k once.
    mutating func doubles(_ count: Int, _ fill: (_ store: (Int, Double) -> Void) -> Void) {
        bulk(count * 8) { out in
            fill { k, value in out.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: k * 8, as: UInt64.self) }
        }
    }
}

struct ByteReader {
    let bytes: [UInt8]
    let end: Int
    var offset = 0

    init(bytes: [UInt8], end: Int) {
        self.bytes = bytes
        self.end = end
    }

    private mutating func take<T: FixedWidthInteger>(_: T.Type) throws(LearningError) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= end else {
            throw .invalidSnapshot("truncated at byte \(offset): expected \(size) more bytes")
        }
        var value: T = 0
        for k in 0..<size {
            value |= T(bytes[offset + k]) << (8 * k)
        }
        offset += size
        return value
    }

    mutating func u8() throws(LearningError) -> UInt8 { try take(UInt8.self) }
    mutating func u16() throws(LearningError) -> UInt16 { try take(UInt16.self) }
    mutating func u32() throws(LearningError) -> UInt32 { try take(UInt32.self) }
    mutating func u64() throws(LearningError) -> UInt64 { try take(UInt64.self) }
    mutating func i64() throws(LearningError) -> Int { Int(Int64(bitPattern: try take(UInt64.self))) }
    mutating func f64() throws(LearningError) -> Double { Double(bitPattern: try take(UInt64.self)) }
}

/// A fast 64-bit checksum of a snapshot's bytes, to catch truncation and corruption before anything is
/// restored. It is not a cryptographic hash: the store keeps a SHA-256 of every checkpoint beside it, and
/// computing a second SHA-256 here cost more than writing the checkpoint.
enum SnapshotChecksum {
    static let byteCount = 8

    static func compute(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.withUnsafeBytes { raw -> UInt64 in
            var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(raw.count)
            let words = raw.count / 8
            for index in 0..<words {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
                hash = mix(hash ^ word)
            }
            var tail: UInt64 = 0
            for index in (words * 8)..<raw.count {
                tail |= UInt64(raw[index]) << (8 * UInt64(index - words * 8))
            }
            hash = mix(hash ^ tail)
            // SplitMix64's finalizer spreads every input bit over the whole result.
            hash = (hash ^ (hash >> 30)) &* 0xBF58_476D_1CE4_E5B9
            hash = (hash ^ (hash >> 27)) &* 0x94D0_49BB_1331_11EB
            return hash ^ (hash >> 31)
        }
    }

    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        let rotated = (value << 29) | (value >> 35)
        return rotated &* 0x9FB2_1C65_1E98_DF25
    }
}
