#if canImport(Glibc)
import Glibc
#endif

/// Storage for the big randomly-accessed arrays (DTAQL overlays, the DTEQL table, the reward caches). On
/// Linux, arrays of 256 KiB or more are 2 MiB-aligned, rounded up to whole 2 MiB and advised to use
/// transparent huge pages: the learners touch them at random, one 4 KiB page per access, and the page
/// walks otherwise dominate (DTAQL N=8 phi=500 went from about 0.45 s to 0.29 s). Elsewhere, or when the
/// advice is refused, ordinary pages.
func allocateLarge<T>(_: T.Type, count: Int) -> UnsafeMutableBufferPointer<T> {
    #if os(Linux)
    let bytes = Swift.max(count * MemoryLayout<T>.stride, 1)
    let huge = 2 << 20
    let large = bytes >= 256 << 10
    let alignment = large ? huge : Swift.max(MemoryLayout<T>.alignment, 16)
    let size = large ? (bytes + huge - 1) / huge * huge : bytes
    var raw: UnsafeMutableRawPointer?
    guard posix_memalign(&raw, alignment, size) == 0, let raw else {
        fatalError("out of memory allocating \(size) bytes")
    }
    if large { _ = madvise(raw, size, 14 /* MADV_HUGEPAGE */) }
    return UnsafeMutableBufferPointer(start: raw.bindMemory(to: T.self, capacity: count), count: count)
    #else
    return .allocate(capacity: count)
    #endif
}

/// Frees what `allocateLarge` returned.
func deallocateLarge<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
    #if os(Linux)
    free(buffer.baseAddress)
    #else
    buffer.deallocate()
    #endif
}
