import Foundation

/// A fresh, uniquely named directory under the system temporary directory, removed with everything in it
/// when the last reference goes away (or earlier, via ``remove()``).
///
/// Keep a reference for as long as files in it are used: `let dir = try TemporaryDirectory()`.
public final class TemporaryDirectory: Sendable {
    /// The directory.
    public let url: URL

    /// Creates the directory. `prefix` only helps recognise leftovers after a crash.
    public init(prefix: String = "tracker-tests") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        remove()
    }

    /// The path of `name` inside the directory (the file need not exist).
    public func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    /// The URL of `name` inside the directory (the file need not exist).
    public func url(_ name: String) -> URL {
        url.appendingPathComponent(name)
    }

    /// Deletes the directory and its contents now; safe to call more than once.
    public func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// The size in bytes of the file at `path`; 0 when there is none (a WAL not created yet, say).
public func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
}
