import Foundation
import SQLite
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Issue 22: no request of `tracker ui` may block or grow without bound. Real server, real sockets on
/// 127.0.0.1, real SQLite files (docs/ui.md, "Limits").
@Suite(.serialized) struct UILimitsTests {
    /// One finished run of `iterations` iterations (run_history returns one row per iteration).
    static func database(_ dir: TemporaryDirectory, iterations: Int) throws -> (path: String, run: String) {
        let db = dir.path("limits.db")
        let result = try CLI.run(["run", "--db", db, "--quiet", "--format", "json", "--algo", "ql", "--n", "5",
                                  "--iterations", String(iterations)])
        #expect(result.status == 0, "\(result.stderr)")
        let run = try #require((try CLI.json(result) as? [String: Any])?["run_id"] as? String)
        return (db, run)
    }

    static func object(_ body: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    /// run_history with its default step of 1 on a 30,000-iteration run: the page, the CSV and the API
    /// answer 1,000 rows with a link to the next ones, never the whole result; following the links (in a
    /// bounded loop) gives every row exactly once, as `tracker query` prints them.
    @Test func savedQueryResultsArePagedNotWhole() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-limits")
        let (db, run) = try Self.database(dir, iterations: 30_000)
        let server = try UIServer(database: db)
        let page = try server.get("/queries/run_history?run_id=\(run)")
        #expect(page.status == 200)
        #expect(page.body.contains("rows 1 to 1000 (more follow)"))
        #expect(page.body.contains("href=\"/queries/run_history?run_id=\(run)&amp;offset=1000\">more: rows from 1001</a>"))
        let result = try #require(page.body.components(separatedBy: "id=\"result\"").last?.components(separatedBy: "</table>").first)
        #expect(result.components(separatedBy: "<tr>").count - 2 == 1000, "a header row and 1,000 rows")

        let csv = try server.get("/queries/run_history.csv?run_id=\(run)")
        #expect(csv.status == 200 && csv.body.split(separator: "\n").count == 1001)
        #expect(csv.headers["link"] == "</queries/run_history.csv?run_id=\(run)&offset=1000>; rel=\"next\"")

        var next: String? = "/api/queries/run_history?run_id=\(run)&limit=7000"
        var iterations: [Int] = []
        var pages = 0
        while let path = next, pages < 10 {
            let response = try server.get(path)
            #expect(response.status == 200, "\(path): \(response.body.prefix(200))")
            let object = try Self.object(response.body)
            let rows = try #require(object["rows"] as? [[Any]])
            #expect(rows.count <= 7000)
            iterations += rows.compactMap { $0.first as? Int }
            next = object["next"] as? String
            #expect(response.headers["link"] == next.map { "<\($0)>; rel=\"next\"" })
            pages += 1
        }
        #expect(pages == 5 && next == nil)
        #expect(iterations == Array(0..<30_000))
        // The command prints them all, streamed in pieces that add up to one listing.
        let printed = try CLI.run(["query", "run_history", "--db", db, "--param", "run_id=\(run)", "--format", "csv"])
        #expect(printed.status == 0 && printed.stdout.split(separator: "\n").count == 30_001)
        #expect(printed.stdout.split(separator: "\n").dropFirst().compactMap { Int($0.prefix { $0 != "," }) } == Array(0..<30_000))
        let stopped = try CLI.run(["query", "run_history", "--db", db, "--param", "run_id=\(run)", "--timeout", "0.001"])
        #expect(stopped.status == 1 && stopped.stderr == "Error: the statement ran past the time limit of 0.001 s and was stopped (--timeout)\n",
                "\(stopped.stderr)")
        let json = try CLI.run(["sql", "--db", db, "--format", "json", "SELECT iteration FROM iteration_metrics WHERE run_id = :r ORDER BY iteration",
                                "--param", "r=\(run)"])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Int]])
        #expect(objects.map { $0["iteration"] ?? -1 } == Array(0..<30_000))

        // Past the end: no rows, no next; bad paging values are 400s naming the field.
        let past = try Self.object(try server.get("/api/queries/run_history?run_id=\(run)&offset=30000").body)
        #expect((past["rows"] as? [Any])?.isEmpty == true && past["next"] is NSNull)
        for bad in ["limit=0", "limit=10001", "offset=-1", "offset=x"] {
            let response = try server.get("/api/queries/run_history?run_id=\(run)&\(bad)")
            #expect(response.status == 400, "\(bad)")
            #expect(response.body.contains(bad.split(separator: "=")[0]), "\(bad): \(response.body)")
        }
        // No shipped query declares the paging's own names.
        let queries = try #require(try JSONSerialization.jsonObject(with: Data(server.get("/api/queries").body.utf8)) as? [[String: Any]])
        let declared = queries.flatMap { ($0["parameters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } }
        #expect(!declared.contains("offset") && !declared.contains("limit"))
        #expect(server.stop() == 0)
    }

    /// A request whose database work runs past the time limit is stopped by SQLite and answered 503 with
    /// one line; the server keeps serving. The limit is lowered to 1 ms ($TRACKER_UI_TIME_LIMIT_MS) so that
    /// stepping over 29,000 rows is sure to pass it.
    @Test func aRequestPastTheTimeLimitIsStoppedWith503() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-limits")
        let (db, run) = try Self.database(dir, iterations: 30_000)
        let server = try UIServer(database: db, environment: ["TRACKER_UI_TIME_LIMIT_MS": "1"])
        for _ in 0..<3 {
            let started = Date()
            let response = try server.get("/api/queries/run_history?run_id=\(run)&offset=29000")
            #expect(response.status == 503, "\(response.body.prefix(300))")
            #expect(try Self.object(response.body)["error"] as? String
                    == "the request was stopped at the dashboard's time limit of 0.001 s; ask for less (fewer rows, a larger step)")
            #expect(Date().timeIntervalSince(started) < 5)
            let page = try server.get("/queries/run_history?run_id=\(run)&offset=29000")
            #expect(page.status == 503 && page.body.contains("time limit of 0.001 s"))
        }
        #expect(try server.get("/static/app.js").status == 200, "still serving")
        #expect(server.stop() == 0)
    }

    /// A saved query's value over 1 MiB (here a 2 MiB label, written behind the tracker's back) is refused
    /// with a 400 instead of being read, rendered and sent; the rest keeps working.
    @Test func aValueOverTheLimitIsRefused() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-limits")
        let (db, run) = try Self.database(dir, iterations: 200)
        do {
            let database = try Database(path: db)
            let update = try database.prepare("UPDATE runs SET label = ? WHERE run_id = ?")
            try update.bind([.text(String(repeating: "x", count: 2 * 1024 * 1024)), .text(run)])
            try update.run()
        }
        let server = try UIServer(database: db)
        let response = try server.get("/api/queries/runs_by_label")
        #expect(response.status == 400, "\(response.status) \(response.body.prefix(200))")
        #expect(try Self.object(response.body)["error"] as? String
                == "a value of the result is larger than the dashboard's limit of 1 MiB per value")
        #expect(try server.get("/api/queries/checkpoint_sizes").status == 200)
        #expect(server.stop() == 0)
    }

    /// HEAD is answered wherever GET is: same status and headers (Content-Length is the GET body's), no body.
    @Test func headIsAnsweredWhereverGetIs() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-limits")
        let (db, run) = try Self.database(dir, iterations: 200)
        let server = try UIServer(database: db)
        for path in ["/", "/runs/\(run)", "/runs/\(run)/schedule.svg", "/api/runs", "/api/runs/\(run)/progress", "/compare",
                     "/queries", "/queries/run_history?run_id=\(run)", "/api/queries/run_history?run_id=\(run)",
                     "/static/app.js", "/static/style.css", "/nowhere", "/runs/ffffffffff", "/?n=abc"] {
            let get = try server.get(path)
            let head = try server.request("HEAD", path)
            #expect(head.status == get.status, "\(path)")
            #expect(head.body.isEmpty, "\(path): a HEAD answer has no body")
            #expect(head.headers["content-length"] == String(get.body.utf8.count), "\(path)")
            #expect(head.headers["content-type"] == get.headers["content-type"], "\(path)")
            #expect(head.headers["content-security-policy"] == get.headers["content-security-policy"], "\(path)")
        }
        let post = try server.request("POST", "/", body: "x=1")
        #expect(post.status == 405 && post.headers["allow"] == "GET, HEAD")
        #expect(server.stop() == 0)
    }

    /// Percent-encoded path segments are decoded before routing (RFC 3986 6.2.2.2): /queries/run%5Fhistory
    /// is /queries/run_history and an encoded run id is the run. What would change the path's structure or
    /// does not decode is a 400.
    @Test func percentEncodedPathSegmentsAreDecoded() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-limits")
        let (db, run) = try Self.database(dir, iterations: 200)
        let server = try UIServer(database: db)
        let encodedRun = run.unicodeScalars.map { String(format: "%%%02X", $0.value) }.joined()
        for path in ["/queries/run%5Fhistory", "/queries/run%5fhistory?run_id=\(run)", "/runs/\(encodedRun)",
                     "/api/runs/\(encodedRun)", "/r%75ns/\(run)/convergence.svg", "/api/queries/run%5Fhistory?run_id=\(run)"] {
            let response = try server.get(path)
            #expect(response.status == 200, "\(path): \(response.status) \(response.body.prefix(200))")
        }
        #expect(try server.get("/queries/run%5Fhistory?run_id=\(run)").body == server.get("/queries/run_history?run_id=\(run)").body)
        #expect(try server.get("/queries/run_history.csv?run_id=\(run)").body
                == server.get("/queries/run%5Fhistory%2Ecsv?run_id=\(run)").body)
        for path in ["/runs/a%2Fb", "/runs/%ZZ", "/runs/%C3", "/runs/%00", "/runs/a%3Fb", "/runs/a%23b"] {
            let response = try server.get(path)
            #expect(response.status == 400, "\(path): \(response.status)")
        }
        #expect(try server.get("/runs/ffff%66%66").status == 404, "decoded, and no such run")
        #expect(server.stop() == 0)
    }

    /// A connected socket on 127.0.0.1:port, with a receive timeout; -1 when it cannot connect.
    static func connectSocket(port: Int, receiveTimeout seconds: Int = 30) -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return -1 }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(descriptor); return -1 }
        return descriptor
    }

    /// True when the server has closed `descriptor` (recv reads end of file or a reset) within its timeout.
    static func closedByServer(_ descriptor: Int32) -> Bool {
        var byte: UInt8 = 0
        let count = recv(descriptor, &byte, 1, 0)
        return count == 0 || (count < 0 && errno == ECONNRESET)
    }

    /// Idle connections and ones whose request head never completes are closed after the idle timeout
    /// (10 s), while the server keeps answering; more connections than the cap (256) wait, and are served
    /// once the idle ones are gone.
    @Test func idleAndHalfSentConnectionsAreClosedAndTheCapHolds() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-limits")
        let (db, _) = try Self.database(dir, iterations: 200)
        let server = try UIServer(database: db)
        var idle: [Int32] = []
        var halfSent: [Int32] = []
        defer { for descriptor in idle + halfSent where descriptor >= 0 { close(descriptor) } }
        for _ in 0..<20 { idle.append(Self.connectSocket(port: server.port)) }
        for _ in 0..<20 {
            let descriptor = Self.connectSocket(port: server.port)
            let head = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
            _ = head.withCString { send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            halfSent.append(descriptor)
        }
        #expect(!idle.contains(-1) && !halfSent.contains(-1))
        let opened = Date()
        #expect(try server.get("/").status == 200, "served while 40 sockets hang")
        // Each recv waits at most 30 s; the server must close every one of them after about 10 s.
        let closed = (idle + halfSent).filter { Self.closedByServer($0) }.count
        let took = Date().timeIntervalSince(opened)
        #expect(closed == 40, "closed \(closed) of 40")
        #expect(took >= 8 && took < 25, "closed after \(took) s; the idle timeout is 10 s")

        // More idle connections than the cap: the one beyond waits, and is served once the idle ones close.
        var crowd: [Int32] = []
        defer { for descriptor in crowd where descriptor >= 0 { close(descriptor) } }
        for _ in 0..<300 { crowd.append(Self.connectSocket(port: server.port)) }
        #expect(crowd.filter { $0 >= 0 }.count == 300, "the kernel's queue takes them all")
        let started = Date()
        let waiting = Self.connectSocket(port: server.port, receiveTimeout: 30)
        defer { close(waiting) }
        let request = "GET /static/app.js HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(waiting, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 15)
        let count = recv(waiting, &buffer, buffer.count, Int32(MSG_WAITALL))
        #expect(count == 15 && String(decoding: buffer, as: UTF8.self) == "HTTP/1.1 200 OK")
        #expect(Date().timeIntervalSince(started) < 25, "served within the idle timeout and change")
        #expect(try server.get("/").status == 200)
        #expect(server.stop() == 0)
    }

    /// A request whose body arrives a byte at a time (each piece would reset the idle timeout) is cut off
    /// 10 s after its head: no route takes a body, and a request must arrive whole within that time.
    @Test func aRequestBodySentSlowlyIsCutOff() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-limits")
        let (db, _) = try Self.database(dir, iterations: 200)
        let server = try UIServer(database: db)
        let descriptor = Self.connectSocket(port: server.port, receiveTimeout: 1)
        defer { close(descriptor) }
        let head = "GET /static/app.js HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        _ = head.withCString { send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        let started = Date()
        var closedAfter: Double?
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date().timeIntervalSince(started) < 30 {
            let chunk = "1\r\na\r\n"
            let sent = chunk.withCString { send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            let count = recv(descriptor, &buffer, buffer.count, 0)  // waits at most 1 s
            if sent < 0 || count == 0 || (count < 0 && errno == ECONNRESET) {
                closedAfter = Date().timeIntervalSince(started)
                break
            }
        }
        let after = try #require(closedAfter, "still open after 30 s of a slow body")
        #expect(after >= 8 && after < 15, "closed after \(after) s; a request must arrive within 10 s of its head")
        #expect(try server.get("/").status == 200)
        #expect(server.stop() == 0)
    }

    /// A FIFO renamed over the database while the dashboard serves it: requests answer 503 at once
    /// (SQLite's open is non-blocking and refuses it, besides the path check), and SIGTERM stops the server.
    @Test func aFIFOSwappedInForTheDatabaseNeitherHangsNorKeepsTheServerAlive() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-limits")
        let (db, _) = try Self.database(dir, iterations: 200)
        let server = try UIServer(database: db)
        #expect(try server.get("/").status == 200)
        let fifo = dir.path("pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(rename(fifo, db) == 0)
        for path in ["/", "/api/runs", "/queries/runs_by_label"] {
            let started = Date()
            let response = try server.get(path)
            #expect(response.status == 503, "\(path): \(response.status) \(response.body.prefix(300))")
            #expect(Date().timeIntervalSince(started) < 5, "\(path)")
        }
        #expect(server.stop(SIGTERM) == 0)
    }

    /// A request held up in the database (here: a rollback-journal file whose exclusive lock the test
    /// holds, so the request waits out its 2 s busy timeout) delays a graceful stop; a second SIGTERM ends
    /// the process at once with exit 1 and one line, and a single SIGTERM still stops it with exit 0 once
    /// the request is answered.
    @Test func aSecondSignalStopsTheServerWhileARequestIsHeldUp() throws {
        let dir = try TemporaryDirectory(prefix: "tracker-ui-limits")
        let (db, _) = try Self.database(dir, iterations: 200)
        try Database(path: db).execute("PRAGMA journal_mode = DELETE")
        for signals in [1, 2] {
            let server = try UIServer(database: db)
            let holder = try Database(path: db)
            try holder.execute("BEGIN EXCLUSIVE")
            let port = server.port
            let answered = DispatchSemaphore(value: 0)
            // More held requests than there are cores: the pages still answer what needs no database.
            let held = max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)
            for _ in 0..<held {
                Thread.detachNewThread {
                    _ = try? UIServer.sendAndReceive(Data("GET /api/runs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8), port: port)
                    answered.signal()
                }
            }
            Thread.sleep(forTimeInterval: 0.5)
            let asked = Date()
            #expect(try server.get("/static/app.js").status == 200)
            #expect(Date().timeIntervalSince(asked) < 1, "answered while \(held) requests wait for the database")
            let started = Date()
            for _ in 0..<signals {
                kill(server.process.processIdentifier, SIGTERM)
                Thread.sleep(forTimeInterval: 0.2)
            }
            let exited = waitForExit(server.process, seconds: 30)
            let took = Date().timeIntervalSince(started)
            try holder.execute("ROLLBACK")
            for _ in 0..<held { _ = answered.wait(timeout: .now() + 15) }
            #expect(exited, "\(signals) SIGTERM: the server did not stop")
            if signals == 1 {
                #expect(server.process.terminationStatus == 0, "one SIGTERM: a graceful stop")
                #expect(took >= 1, "the graceful stop waited for the request (\(took) s)")
            } else {
                #expect(server.process.terminationStatus == 1, "a second SIGTERM: stopped at once")
                #expect(took < 1.2, "\(took) s")
                #expect(server.stderr.contains("Error: tracker ui stopped without waiting for its requests: a second SIGTERM while requests were still running"),
                        "\(server.stderr)")
            }
        }
    }
}
