import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A `tracker ui --port 0` process started for a test: the real binary on a real database file, its
/// port read from the URL it prints.
final class UIServer {
    let process: Process
    let port: Int
    let url: String
    private let stderrPipe: Pipe

    /// Starts the server and waits (at most 30 s) for its URL line.
    init(database: String, extraArguments: [String] = [], environment extra: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["ui", "--db", database, "--port", "0"] + extraArguments
        var environment = ProcessInfo.processInfo.environment
        environment["TRACKER_DB"] = nil
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        self.stderrPipe = err
        // Read the first stdout line on another thread, so a server that never prints cannot hang the test.
        let line = UIServer.firstLine(of: out.fileHandleForReading, seconds: 30)
        guard let line, let range = line.range(of: #"http://[^ ]+:([0-9]+)/"#, options: .regularExpression) else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw UIServerError("tracker ui printed no URL (stdout: \(line ?? "nothing"), stderr: \(stderr))")
        }
        url = String(line[range])
        port = Int(url.split(separator: ":").last!.dropLast())!
    }

    struct UIServerError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    private static func firstLine(of handle: FileHandle, seconds: Double) -> String? {
        final class Box: @unchecked Sendable { var line: String? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var bytes = Data()
            while true {
                let chunk = handle.readData(ofLength: 1)
                if chunk.isEmpty || chunk == Data("\n".utf8) { break }
                bytes.append(chunk)
            }
            box.line = String(decoding: bytes, as: UTF8.self)
            done.signal()
        }
        return done.wait(timeout: .now() + seconds) == .success ? box.line : nil
    }

    /// Sends `signal` and waits (at most 15 s) for the exit; returns the exit status, nil if it had to
    /// be killed.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) -> Int32? {
        if process.isRunning { kill(process.processIdentifier, signal) }
        return waitForExit(process, seconds: 15) ? process.terminationStatus : nil
    }

    var stderr: String {
        String(decoding: stderrPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// One HTTP exchange over a plain socket, so tests can send what a browser never would.
    struct Response {
        let status: Int
        let headers: [String: String]
        let body: String
    }

    func get(_ path: String, headers: [String: String] = [:]) throws -> Response {
        try request("GET", path, headers: headers)
    }

    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: String = "") throws -> Response {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !body.isEmpty && headers["Content-Length"] == nil { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + body
        return try exchange(Data(text.utf8))
    }

    /// Sends raw bytes and reads until the server closes (at most 10 s).
    func exchange(_ bytes: Data) throws -> Response {
        let raw = try UIServer.sendAndReceive(bytes, port: port)
        guard let split = raw.range(of: Data("\r\n\r\n".utf8)) else {
            throw UIServerError("no HTTP response: \(String(decoding: raw, as: UTF8.self).prefix(200))")
        }
        let head = String(decoding: raw[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw UIServerError("bad status line \(head[0])") }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Response(status: status, headers: headers, body: String(decoding: raw[split.upperBound...], as: UTF8.self))
    }

    static func sendAndReceive(_ bytes: Data, port: Int) throws -> Data {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw UIServerError("socket() failed") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw UIServerError("cannot connect to port \(port)") }
        _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return received
    }
}
