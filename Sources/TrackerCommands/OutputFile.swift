import Foundation
import TrackerStore

/// Every file a command writes besides the database (`plot --out` in SVG, PNG or PDF, `frame --out`,
/// `reproduce`'s report folder) goes through here, so no output can land on a database, a device or
/// someone else's file, and no crash leaves half a file.
///
/// A path is refused, with nothing changed, when it is an SQLite database (any, recognised by its header,
/// not only `--db`'s), not a regular file (directory, device, FIFO, socket), an existing file of another
/// kind than the output, or in a folder that does not exist. An earlier output of the same kind (an SVG
/// over an SVG) is replaced. Checking never opens anything but a regular file, so a FIFO cannot block it.
enum OutputFile {
    /// What is written, and how to recognise an earlier copy of it from its first bytes.
    enum Kind {
        case svg, png, pdf, taskFile, report

        var name: String {
            switch self {
            case .svg: return "an SVG file"
            case .png: return "a PNG file"
            case .pdf: return "a PDF file"
            case .taskFile: return "a task file"
            case .report: return "a reproduction report"
            }
        }

        func recognizes(_ head: [UInt8]) -> Bool {
            let text = String(decoding: head, as: UTF8.self)
            switch self {
            case .svg: return text.contains("<svg")
            case .png: return head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            case .pdf: return text.hasPrefix("%PDF-")
            case .taskFile:
                // Any column order TaskFile accepts: the first line names the three columns.
                let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
                return ["data_bits", "deadline_s", "cycles_per_bit"].allSatisfy(firstLine.contains)
            case .report: return text.hasPrefix(ReproduceCommand.reportTitle)
            }
        }
    }

    /// The 16 bytes every SQLite database file starts with.
    static let sqliteHeader = Array("SQLite format 3\0".utf8)

    /// Throws a `CommandFailure` naming the path unless an output of `kind` may be written there.
    static func check(_ path: String, kind: Kind) throws {
        func refuse(_ why: String) -> CommandFailure { CommandFailure("cannot write \(path): \(why)") }
        guard !path.isEmpty else { throw CommandFailure("cannot write an output to an empty path") }
        var status = stat()
        if stat(path, &status) == 0 {
            switch status.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw refuse("it is a directory")
            default: throw refuse("it is not a regular file (\(fileTypeName(status.st_mode)))")
            }
            let head = try firstBytes(of: path, count: 512)
            if head.starts(with: sqliteHeader) {
                throw refuse("it is an SQLite database; choose another path")
            }
            if !head.isEmpty, !kind.recognizes(head) {
                throw refuse("it exists and is not \(kind.name) written by tracker; remove it or choose another path")
            }
            return
        }
        let failure = errno
        guard failure == ENOENT || failure == ENOTDIR else { throw refuse(String(cString: strerror(failure))) }
        let folder = folderOf(path)
        guard stat(folder, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw refuse("the folder \(folder) does not exist")
        }
    }

    /// Checks the path, then writes `bytes` to a new file in the same folder and renames it into place.
    static func write(_ bytes: [UInt8], to path: String, kind: Kind) throws {
        try check(path, kind: kind)
        try replace(path) { temporary in
            let failure = writeAll(bytes, toFile: temporary)
            if failure != 0 { throw CommandFailure("cannot write \(path): \(String(cString: strerror(failure)))") }
        }
    }

    static func write(_ text: String, to path: String, kind: Kind) throws {
        try write(Array(text.utf8), to: path, kind: kind)
    }

    /// Creates an empty temporary file beside `path`, lets `fill` write it, then renames it over `path`
    /// (call ``check(_:kind:)`` first). The temporary file is removed when anything fails.
    static func replace(_ path: String, fill: (String) throws -> Void) throws {
        let folder = folderOf(path)
        let name = (path as NSString).lastPathComponent
        var template = Array("\(folder)/.\(name).tmp-XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else {
            throw CommandFailure("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        // mkstemp makes the file 0600; an output is as readable as any other file the user creates.
        let mask = umask(0)
        umask(mask)
        fchmod(descriptor, 0o666 & ~mask)
        close(descriptor)
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        do {
            try fill(temporary)
            guard rename(temporary, path) == 0 else {
                throw CommandFailure("cannot write \(path): \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    static func folderOf(_ path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }

    /// Up to `count` bytes from the start of a regular file.
    private static func firstBytes(of path: String, count: Int) throws -> [UInt8] {
        // O_NONBLOCK: should the path have been swapped for a FIFO since stat, the open still returns.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw CommandFailure("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: count)
        let got = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, count) }
        return got > 0 ? Array(buffer.prefix(got)) : []
    }
}

/// Writes all of `bytes` to an existing file and syncs it; 0, or the errno of the failure.
private func writeAll(_ bytes: [UInt8], toFile path: String) -> Int32 {
    // The temporary file is opened again by name: O_NONBLOCK and fstat make sure that, should something
    // else have been put at the name since mkstemp (a FIFO), the open neither blocks nor writes into it.
    let descriptor = open(path, O_WRONLY | O_TRUNC | O_NONBLOCK)
    guard descriptor >= 0 else { return errno }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else { return errno }
    guard status.st_mode & S_IFMT == S_IFREG else { return EINVAL }
    let flags = fcntl(descriptor, F_GETFL)
    guard flags >= 0, fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK) == 0 else { return errno }
    let failure = StandardStreams.writeAll(descriptor, bytes)
    guard failure == 0 else { return failure }
    return fsync(descriptor) == 0 ? 0 : errno
}
