import Foundation
import Synchronization
import TrackerStore

/// The dashboard's read-only stores, kept open between requests.
///
/// Opening a store costs more than a runs page's queries: a probe connection, the open, the schema read
/// and checked, and then a cold page cache. So a request borrows an open store, reads, and gives it
/// back. Each borrowed store is used by one request at a time (the handlers never suspend while they
/// hold it), and a store is only given back between read transactions, so it holds no snapshot across
/// requests and every request sees the newest commits of writers in other processes (WAL).
///
/// Before each request a kept store is checked, cheaply, against what it was opened on; it is dropped
/// and the request opens the file afresh (which reports a missing, newer or foreign file as the
/// store's error, the same page as before) when:
/// - the path no longer names the same file (`stat`: device and inode differ, or no file at all): the
///   file was replaced (a new file renamed over it, deleted and recreated) or deleted;
/// - the schema version (`PRAGMA user_version`, read inside the request's read transaction) differs from
///   the one it was opened at: another tracker migrated the file since;
/// - the request failed in the database (not a bad request or an unknown run): the store is dropped
///   rather than kept in an unknown state, and the request is tried once on a fresh open (except after a
///   lock held beyond the busy timeout, which a fresh open would only wait for again).
final class StorePool: Sendable {
    /// Which file a path named when a store was opened on it.
    struct FileIdentity: Equatable, Sendable {
        let device: UInt64
        let inode: UInt64

        /// The file at `path` now; nil when there is none (or it cannot be looked at).
        init?(path: String) {
            var status = stat()
            guard stat(path, &status) == 0 else { return nil }
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
        }
    }

    /// An open store and what it was opened on. Only the pool's lock or the one request that borrowed
    /// it touches it, never two threads at once: hence unchecked.
    private final class Kept: @unchecked Sendable {
        let store: TrackerStore
        let identity: FileIdentity
        let schemaVersion: Int

        init(store: TrackerStore, identity: FileIdentity, schemaVersion: Int) {
            self.store = store
            self.identity = identity
            self.schemaVersion = schemaVersion
        }
    }

    private let open: @Sendable () throws -> TrackerStore
    private let path: String
    private let idle = Mutex<[Kept]>([])
    /// At most this many stores wait between requests; more requests at once than that open their own
    /// and close them after. The pages read on NIO's blocking thread pool (one thread per core, see
    /// `Dashboard.makeRouter`), so about that many are ever busy at once.
    let capacity: Int

    /// How long the reads of one borrowing may run before SQLite stops them (``TimeLimitExceeded``).
    let timeLimit: Duration

    init(path: String, capacity: Int = max(2, ProcessInfo.processInfo.activeProcessorCount), timeLimit: Duration = .seconds(10),
         open: @escaping @Sendable () throws -> TrackerStore) {
        self.path = path
        self.capacity = capacity
        self.timeLimit = timeLimit
        self.open = open
    }

    /// Runs `body` on a store that is current for the file at the path now, inside one read transaction
    /// (so the queries of one page see one snapshot), and keeps the store for the next request unless
    /// something failed.
    func withStore<T>(_ body: (TrackerStore) throws -> T) throws -> T {
        guard let identity = FileIdentity(path: path) else {
            // No file there (or not one we may look at): drop every kept store and let the open say why.
            idle.withLock { $0.removeAll() }
            let store = try open()
            return try read(store, body)
        }
        if let kept = borrow(identity) {
            let outcome = Result { () throws -> T? in
                try read(kept.store) { store in
                    // Migrated by another tracker since it was opened: a fresh open decides (it refuses a
                    // newer schema with the store's message).
                    guard try store.schemaVersion == kept.schemaVersion else { return nil }
                    return try body(store)
                }
            }
            switch outcome {
            case .success(let value?):
                giveBack(kept)
                return value
            case .success(nil):
                break
            case .failure(let error):
                switch Self.kind(of: error) {
                case .request:
                    giveBack(kept)
                    throw error
                case .busy:
                    throw error
                case .database:
                    break
                }
            }
        }
        // Open before looking at the schema version, and label the store with the identity seen before
        // the open: if the file was replaced in between, the next request sees a different identity and
        // opens again, rather than keeping a store on a file the path no longer names.
        let store = try open()
        let kept = Kept(store: store, identity: identity, schemaVersion: try store.schemaVersion)
        do {
            let value = try read(store, body)
            giveBack(kept)
            return value
        } catch {
            if Self.kind(of: error) == .request { giveBack(kept) }
            throw error
        }
    }

    /// What a failed request on a kept store says about the store.
    private enum FailureKind {
        /// A bad request or an unknown run: answered as it is (a fresh open would say the same), and the
        /// store is fine to keep.
        case request
        /// A lock held beyond the busy timeout: answered as it is (a fresh open would only wait again),
        /// and the store is dropped.
        case busy
        /// Anything else from the database: the store is dropped and the request tried once on a fresh
        /// open, which may not have the problem (or reports the file's state as the store's error).
        case database
    }

    private static func kind(of error: any Error) -> FailureKind {
        switch error {
        case StoreError.runNotFound, StoreError.ambiguousRunID, StoreError.invalidArgument, StoreError.unknownSetting, StoreError.invalidSettingName,
             is WebError:
            return .request
        case let error as StoreError where error.isBusyOrLocked || error.isTooBig:
            return .busy
        case is TimeLimitExceeded:
            // A fresh open would only run as long again; the store is dropped all the same.
            return .busy
        default:
            return .database
        }
    }

    /// A kept store opened on `identity`; kept stores on another file are closed.
    private func borrow(_ identity: FileIdentity) -> Kept? {
        idle.withLock { stores in
            stores.removeAll { $0.identity != identity }
            return stores.popLast()
        }
    }

    private func giveBack(_ kept: Kept) {
        // A store inside a transaction would keep its snapshot; one cannot be here (read commits or
        // rolls back), but a store in that state is never worth keeping.
        guard !kept.store.isInTransaction else { return }
        idle.withLock { stores in
            // Beyond the capacity the store is closed as the request ends.
            if stores.count < capacity { stores.append(kept) }
        }
    }

    /// `body` inside one deferred (read) transaction, ended before this returns; SQLite's errors from
    /// BEGIN, COMMIT or the version read become the store's kind of error (a 503 page).
    ///
    /// The reads run under the pool's time limit (`TrackerStore.limitTime`, counted from here): past it
    /// SQLite interrupts the statement and the request answers ``TimeLimitExceeded`` (503), whatever the query.
    private func read<T>(_ store: TrackerStore, _ body: (TrackerStore) throws -> T) throws -> T {
        store.limitTime(to: timeLimit)
        defer { store.limitTime(to: nil) }
        do {
            return try store.readTransaction { try body(store) }
        } catch let error as StoreError where error.isInterrupted {
            throw TimeLimitExceeded(limit: timeLimit)
        }
    }
}

/// A request's reads ran past the pool's time limit and SQLite stopped them: answered 503.
struct TimeLimitExceeded: Error {
    let limit: Duration
}

extension Duration {
    /// Whole seconds as an integer (`10`), else the decimal (`0.5`), for messages.
    var seconds: String {
        let (whole, fraction) = components
        if fraction == 0 { return String(whole) }
        return String(Double(whole) + Double(fraction) / 1e18)
    }
}
