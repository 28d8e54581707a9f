/// The action space: the N! orders of N tasks, numbered by lexicographic rank. Rank 0 is the identity
/// (0, 1, ..., N-1) and rank N!-1 the reversed order.
///
/// The rank is the Lehmer code read as a factorial-base number: digit i (weight (N-1-i)!) counts the later
/// positions holding a smaller task index than position i.
public enum Permutations {
    /// The largest N whose N! fits in an `Int`.
    public static let maximumCount = 20

    /// n! for 0 <= n <= 20.
    public static func factorial(_ n: Int) -> Int {
        precondition(n >= 0 && n <= maximumCount, "factorial is defined here for 0...\(maximumCount), got \(n)")
        var result = 1
        var k = 2
        while k <= n {
            result *= k
            k += 1
        }
        return result
    }

    /// n! when it fits in an `Int`, else nil. Never traps.
    public static func checkedFactorial(_ n: Int) -> Int? {
        guard n >= 0 else { return nil }
        var result = 1
        var k = 2
        while k <= n {
            let (product, overflow) = result.multipliedReportingOverflow(by: k)
            if overflow { return nil }
            result = product
            k += 1
        }
        return result
    }

    /// The order with lexicographic rank `rank` among the orders of `count` tasks.
    public static func order(rank: Int, count: Int) -> [Int] {
        precondition(count >= 0 && count <= maximumCount, "count must be in 0...\(maximumCount), got \(count)")
        precondition(rank >= 0 && rank < factorial(count), "rank \(rank) is out of range 0..<\(count)!")
        var result = [Int](repeating: 0, count: count)
        result.withUnsafeMutableBufferPointer { unrank(rank, into: $0) }
        return result
    }

    /// Writes the order of rank `rank` into `buffer` (its count is N), without allocating: the Lehmer
    /// digits are written first, then turned into task indices in place, right to left.
    @inline(__always)
    public static func unrank(_ rank: Int, into buffer: UnsafeMutableBufferPointer<Int>) {
        let n = buffer.count
        guard n > 0 else { return }
        // Digits, least significant (last position, base 1) first.
        var rest = rank
        var base = 1
        var position = n - 1
        while position >= 0 {
            buffer[position] = rest % base
            rest /= base
            base += 1
            position -= 1
        }
        // Lehmer code to permutation: every later entry not smaller than this digit moves up by one.
        var i = n - 2
        while i >= 0 {
            let digit = buffer[i]
            var j = i + 1
            while j < n {
                if buffer[j] >= digit { buffer[j] += 1 }
                j += 1
            }
            i -= 1
        }
    }

    /// The lexicographic rank of `order`, which must be a permutation of 0..<order.count.
    public static func rank<C: Collection>(of order: C) -> Int where C.Element == Int {
        let values = Array(order)
        let n = values.count
        precondition(n <= maximumCount, "at most \(maximumCount) tasks, got \(n)")
        var rank = 0
        for i in 0..<n {
            var smaller = 0
            var j = i + 1
            while j < n {
                if values[j] < values[i] { smaller += 1 }
                j += 1
            }
            rank = rank * (n - i) + smaller
        }
        return rank
    }
}
