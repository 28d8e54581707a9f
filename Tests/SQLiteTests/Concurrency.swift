import Foundation

/// Runs `body` on `count` threads released at the same instant; returns the errors they threw.
/// Each thread must open its own connection: a Database is not shared across threads.
func runConcurrently(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) -> [String] {
    final class Collector: @unchecked Sendable {
        let lock = NSLock()
        var errors: [String] = []
        func add(_ error: String) { lock.lock(); errors.append(error); lock.unlock() }
    }
    let collector = Collector()
    let start = DispatchSemaphore(value: 0)
    let done = DispatchGroup()
    for index in 0..<count {
        done.enter()
        let thread = Thread {
            start.wait()
            do { try body(index) } catch { collector.add("thread \(index): \(error)") }
            done.leave()
        }
        thread.start()
    }
    for _ in 0..<count { start.signal() }
    done.wait()
    return collector.errors
}
