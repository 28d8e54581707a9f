// Module TrackerWeb: `tracker ui`'s read-only dashboard (Hummingbird 2): maps requests to TrackerApp's
// and TrackerStore's methods and renders HTML and JSON. Must not use the SQLite module or ArgumentParser, nor
// know of TrackerCommands; the `tracker` executable composes the two.

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import NIOPosix
import TrackerApp
import TrackerReports
import TrackerStore

/// `tracker ui`: a read-only web dashboard over one tracker database.
///
/// Every request borrows a read-only, query-only store kept open between requests (`StorePool`: checked
/// against the file at the path before each use, reopened when the file was replaced, deleted or
/// migrated) and reads in one read transaction that ends before it answers, all without suspending in
/// between, so a connection is only ever used by one thread at a time and each request sees the newest
/// committed data of writers in other processes (WAL).
public struct Dashboard: Sendable {
    public let databasePath: String
    public let busyTimeoutMilliseconds: Int32
    /// How long the database work of one request may run before SQLite stops it (503): 10 s.
    public let requestTimeLimit: Duration
    /// `--allow-edits`: the tag and note forms (EditPages.swift); false, every POST is 405.
    public let allowEdits: Bool
    /// The per-process token the edit forms carry (EditGuard).
    let editToken = EditGuard.newToken()
    let stores: StorePool

    /// The dashboard's limits on connections (docs/ui.md, "Limits").
    public enum Limits {
        /// A connection with nothing to answer (idle between requests, or a request whose head has not
        /// arrived in full) is closed after this long without a complete request part.
        public static let idleTimeoutSeconds: Int64 = 10
        /// At most this many connections are served at once; more wait in the kernel's accept queue until
        /// one closes.
        public static let maximumConnections = 256
    }

    public init(databasePath: String, busyTimeoutMilliseconds: Int32 = 2000, requestTimeLimit: Duration = .seconds(10),
                allowEdits: Bool = false) {
        self.databasePath = databasePath
        self.allowEdits = allowEdits
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.requestTimeLimit = requestTimeLimit
        stores = StorePool(path: databasePath, timeLimit: requestTimeLimit) {
            try TrackerStore(path: databasePath, access: .readOnly, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        }
    }

    /// Opens the database once the way every request will, so a missing file, a file that is not a
    /// tracker database or one from a newer tracker is a startup error rather than a page. The store
    /// stays open for the first requests.
    public func checkDatabase() throws {
        try stores.withStore { _ in }
    }

    /// Serves until SIGINT or SIGTERM, then stops gracefully (open requests finish). `onListening` gets
    /// the port actually bound (the chosen one when `port` is 0).
    public func serve(host: String, port: Int, onListening: @escaping @Sendable (Int) -> Void) async throws {
        try await makeApplication(host: host, port: port, onListening: onListening)
            .runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// The dashboard as a Hummingbird application: what `tracker ui` serves (``serve(host:port:onListening:)``)
    /// and what the in-process tests drive with HummingbirdTesting (`app.test(.router)` or `.live`). The
    /// routes, the middleware, the connection limits and the request deadline are all in it.
    public func makeApplication(
        host: String = "127.0.0.1", port: Int = 0, onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) -> some ApplicationProtocol {
        var logger = Logger(label: "tracker-ui")
        logger.logLevel = .error
        return Application(
            responder: makeResponder(),
            server: .http1(configuration: .init(
                additionalChannelHandlers: [RequestDeadline(seconds: Limits.idleTimeoutSeconds)],
                idleTimeout: .seconds(Limits.idleTimeoutSeconds))),
            configuration: .init(
                address: .hostname(host, port: port), serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(Limits.maximumConnections)),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// What the server answers with: the routes, behind what must happen before a route is chosen (the
    /// router matches the raw path and the method): percent-decoded path segments, and HEAD answered as
    /// GET with the same headers (Content-Length included) and no body (RFC 9110 9.3.2).
    func makeResponder() -> CallbackResponder<BasicRequestContext> {
        let routes = makeRouter().buildResponder()
        return CallbackResponder { request, context in
            var response: Response
            do {
                response = try await routes.respond(to: try DashboardMiddleware<BasicRequestContext>.normalized(request), context: context)
            } catch {
                response = DashboardMiddleware<BasicRequestContext>.errorResponse(WebError(error), for: request)
                DashboardMiddleware<BasicRequestContext>.addSecurityHeaders(&response.headers)
            }
            if request.method == .head {
                let length = response.body.contentLength
                response = Response(status: response.status, headers: response.headers, body: ResponseBody())
                if let length { response.headers[.contentLength] = String(length) }
            }
            return response
        }
    }

    /// The routes: pages, the JSON API and the embedded assets. Every one is GET only (HEAD reaches them
    /// as GET, see ``makeResponder()``).
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: DashboardMiddleware(allowEdits: allowEdits))
        let pages = Pages(dashboard: self)
        // Every page reads SQLite synchronously: on a thread of NIO's blocking pool, never on Swift's
        // cooperative threads (one per core), which the server itself, the other connections and the
        // graceful stop need. The whole body runs on that one thread without suspending, so a borrowed
        // store is still used by one request at a time (StorePool).
        let workers = NIOThreadPool.singleton
        @Sendable func blocking(_ body: @escaping @Sendable () throws -> Response) async throws -> Response {
            try await workers.runIfActive(body)
        }
        router.get("/") { request, _ in try await blocking { try pages.runs(Form(request)) } }
        router.get("/runs/:id") { request, context in
            let id = try context.parameters.require("id")
            return try await blocking { try pages.run(id: id, Form(request)) }
        }
        router.get("/runs/:id/convergence.svg") { _, context in
            let id = try context.parameters.require("id")
            return try await blocking { try pages.convergenceChart(id: id) }
        }
        router.get("/runs/:id/schedule.svg") { _, context in
            let id = try context.parameters.require("id")
            return try await blocking { try pages.scheduleChart(id: id) }
        }
        router.get("/api/runs") { request, _ in try await blocking { try pages.runsJSON(Form(request)) } }
        router.get("/api/runs/:id") { _, context in
            let id = try context.parameters.require("id")
            return try await blocking { try pages.runJSON(id: id) }
        }
        router.get("/api/runs/:id/progress") { _, context in
            let id = try context.parameters.require("id")
            return try await blocking { try pages.progressJSON(id: id) }
        }
        router.get("/compare") { request, _ in try await blocking { try pages.compare(Form(request)) } }
        router.get("/compare/fig2.svg") { request, _ in try await blocking { try pages.compareChart(Form(request)) } }
        router.get("/compare.csv") { request, _ in try await blocking { try pages.compareDownload(Form(request), format: .csv) } }
        router.get("/compare.json") { request, _ in try await blocking { try pages.compareDownload(Form(request), format: .json) } }
        router.get("/compare.md") { request, _ in try await blocking { try pages.compareDownload(Form(request), format: .markdown) } }
        router.get("/api/compare") { request, _ in try await blocking { try pages.compareJSON(Form(request)) } }
        router.get("/queries") { _, _ in pages.queries() }
        router.get("/queries/:name") { request, context in
            // /queries/NAME shows the form and result; /queries/NAME.csv downloads the result.
            let name = try context.parameters.require("name")
            if name.hasSuffix(".csv") {
                return try await blocking { try pages.queryResult(name: String(name.dropLast(4)), Form(request), format: .csv) }
            }
            return try await blocking { try pages.query(name: name, Form(request)) }
        }
        router.get("/api/queries") { _, _ in pages.queriesJSON() }
        router.get("/api/queries/:name") { request, context in
            let name = try context.parameters.require("name")
            return try await blocking { try pages.queryResult(name: name, Form(request), format: .json) }
        }
        router.get("/static/style.css") { _, _ in Assets.response(Assets.styleSheet, type: "text/css; charset=utf-8") }
        router.get("/static/app.js") { _, _ in
            Assets.response(Assets.script, type: "text/javascript; charset=utf-8")
        }
        // The interactive charts and the side-by-side page (ChartData.swift, SideBySidePage.swift).
        router.get("/static/charts.js") { _, _ in Assets.response(ChartScript.source, type: "text/javascript; charset=utf-8") }
        router.get("/api/runs/:id/chart") { request, context in
            let id = try context.parameters.require("id")
            return try await blocking { try pages.runChartData(id: id, Form(request)) }
        }
        router.get("/api/overlay") { request, _ in try await blocking { try pages.overlayChartData(Form(request)) } }
        router.get("/api/compare/fig2") { request, _ in try await blocking { try pages.compareChartData(Form(request)) } }
        router.get("/side-by-side") { request, _ in try await blocking { try pages.sideBySide(Form(request)) } }
        router.get("/sweeps") { _, _ in try await blocking { try pages.sweeps() } }
        router.get("/sweep") { request, _ in try await blocking { try pages.sweep(Form(request)) } }
        router.get("/api/sweep/parallel") { request, _ in try await blocking { try pages.sweepParallelData(Form(request)) } }
        // The tune studies' pages (StudyPages.swift).
        router.get("/studies") { _, _ in try await blocking { try pages.studies() } }
        router.get("/study") { request, _ in try await blocking { try pages.study(Form(request)) } }
        router.get("/api/studies") { _, _ in try await blocking { try pages.studiesJSON() } }
        router.get("/api/study") { request, _ in try await blocking { try pages.studyJSON(Form(request)) } }
        router.get("/api/study/parallel") { request, _ in try await blocking { try pages.studyParallelData(Form(request)) } }
        router.get("/api/study/budget") { request, _ in try await blocking { try pages.studyBudgetData(Form(request)) } }
        if allowEdits { addEditRoutes(to: router, pages: pages, blocking: blocking) }
        return router
    }
}

/// A failure shown to the user as an error page (HTML) or an `{"error": ...}` object (under /api/).
struct WebError: Error {
    let status: HTTPResponse.Status
    let message: String

    static func badRequest(_ message: String) -> WebError { WebError(status: .badRequest, message: message) }
    static func timeLimit(_ limit: Duration) -> WebError {
        WebError(status: .serviceUnavailable,
                 message: "the request was stopped at the dashboard's time limit of \(limit.seconds) s; ask for less (fewer rows, a larger step)")
    }
    static func notFound(_ message: String) -> WebError { WebError(status: .notFound, message: message) }

    /// The store's errors by kind: an unknown run is 404, a bad argument or a run-id prefix that names
    /// several runs 400 (the client must say more; the message lists them), a database that cannot be
    /// read (missing, newer, locked, corrupt) 503, with the store's one-line message.
    init(_ error: any Error) {
        switch error {
        case let error as WebError:
            self = error
        case let error as TimeLimitExceeded:
            self = .timeLimit(error.limit)
        case let error as StoreError where error.isTooBig:
            self.init(status: .badRequest, message: "a value of the result is larger than the dashboard's limit of "
                + "\(Pages.maximumValueBytes / 1024 / 1024) MiB per value")
        case let error as StoreError:
            switch error {
            case .runNotFound: self.init(status: .notFound, message: error.description)
            case .ambiguousRunID, .invalidArgument, .unknownSetting, .invalidSettingName:
                self.init(status: .badRequest, message: error.description)
            default: self.init(status: .serviceUnavailable, message: error.description)
            }
        case let error as HTTPError:
            self.init(status: error.status, message: error.body ?? error.status.reasonPhrase)
        default:
            self.init(status: .internalServerError, message: String(describing: error))
        }
    }

    init(status: HTTPResponse.Status, message: String) {
        self.status = status
        self.message = message
    }
}

/// Applied to every request, matched or not: refuses what no route accepts (other methods, bodies,
/// huge URLs), turns errors into pages, and adds the security headers to every response.
struct DashboardMiddleware<Context: RequestContext>: RouterMiddleware {
    static var maximumBodyBytes: Int { 64 * 1024 }
    static var maximumURIBytes: Int { 8 * 1024 }
    /// `--allow-edits`: POST reaches the two edit forms' paths (EditGuard); everything else stays GET only.
    var allowEdits = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        // HEAD arrives here as GET (see Dashboard.makeResponder).
        let isEdit = allowEdits && request.method == .post && EditGuard.isEditPath(request.uri.path)
        if request.method != .get && !isEdit {
            response = Self.errorResponse(
                WebError(status: .methodNotAllowed, message: allowEdits
                    ? "\(request.method.rawValue) is not allowed here; only the tag and note forms take POST"
                    : "\(request.method.rawValue) is not allowed; the dashboard is read-only (tracker ui --allow-edits takes tag and note forms)"),
                for: request)
            response.headers[.allow] = "GET, HEAD"
        } else if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > Self.maximumBodyBytes {
            response = Self.errorResponse(
                WebError(status: .contentTooLarge, message: "request body of \(length) bytes; the limit is \(Self.maximumBodyBytes)"),
                for: request)
            response.headers[.connection] = "close"
        } else if request.uri.string.utf8.count > Self.maximumURIBytes {
            response = Self.errorResponse(
                WebError(status: .uriTooLong, message: "the URL is longer than \(Self.maximumURIBytes) bytes"), for: request)
        } else {
            do {
                response = try await next(request, context)
            } catch {
                response = Self.errorResponse(WebError(error), for: request)
            }
        }
        Self.addSecurityHeaders(&response.headers)
        // Under `no-referrer` a browser sends `Origin: null` with a form's POST, which the edit guard must
        // refuse; `same-origin` sends the origin to this server only, and still nothing to any other.
        if allowEdits { response.headers[.init("Referrer-Policy")!] = "same-origin" }
        return response
    }

    /// The request as the routes see it: a HEAD as a GET, with its path's segments percent-decoded
    /// (`/queries/run%5Fhistory` is `/queries/run_history`, RFC 3986 6.2.2.2), so the router and the
    /// handlers get the decoded names. A segment that does not decode (bad `%`, not UTF-8), or that decodes
    /// to a character that would change the path's structure (`/`, `?`, `#`) or to a control character,
    /// is a 400. The query string is left alone (`Form` decodes it).
    static func normalized(_ request: Request) throws -> Request {
        let path = request.uri.path
        let isHead = request.method == .head
        guard isHead || path.contains("%") else { return request }
        var head = request.head
        if isHead { head.method = .get }
        if path.contains("%") {
            var segments: [String] = []
            for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
                guard let decoded = segment.removingPercentEncoding else {
                    throw WebError.badRequest("malformed percent-encoding in the path")
                }
                guard !decoded.unicodeScalars.contains(where: { "/?#".unicodeScalars.contains($0) || $0.value < 0x20 || $0.value == 0x7F }) else {
                    throw WebError.badRequest("the path's segment '\(segment)' decodes to a '/', '?', '#' or a control character")
                }
                segments.append(decoded)
            }
            let query = request.uri.query.map { "?" + $0 } ?? ""
            head.path = segments.joined(separator: "/") + query
        }
        return Request(head: head, body: request.body)
    }

    static func addSecurityHeaders(_ headers: inout HTTPFields) {
        // Scripts and styles only from this server's /static/ (no inline script, no CDN); charts are
        // same-origin images.
        headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.init("Referrer-Policy")!] = "no-referrer"
    }

    static func errorResponse(_ error: WebError, for request: Request) -> Response {
        if request.uri.path.hasPrefix("/api/") {
            return Pages.jsonResponse(.object([("error", .string(error.message))]), status: error.status)
        }
        let page = HTMLPage(
            title: "\(error.status.code) \(error.status.reasonPhrase)",
            body: "<p class=\"error\">\(escapeHTML(error.message))</p>\n<p><a href=\"/\">All runs</a></p>",
            section: .none)
        return Pages.htmlResponse(page.render(), status: error.status)
    }
}

/// A request's query string as form fields: repeated names keep every value, `+` is a space.
struct Form {
    private var fields: [(name: String, value: String)] = []

    init(_ request: Request) throws {
        try self.init(query: request.uri.query ?? "")
    }

    init(query: String) throws {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) throws -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                guard let decoded = spaced.removingPercentEncoding else {
                    throw WebError.badRequest("malformed percent-encoding in the query string")
                }
                return decoded
            }
            fields.append((try decode(parts[0]), parts.count > 1 ? try decode(parts[1]) : ""))
        }
    }

    /// The last non-empty value of `name`; empty values count as absent (an unfilled form field).
    func text(_ name: String) -> String? {
        fields.last { $0.name == name && !$0.value.isEmpty }?.value
    }

    func all(_ name: String) -> [String] {
        fields.filter { $0.name == name && !$0.value.isEmpty }.map(\.value)
    }

    var names: [String] { fields.map(\.name) }

    /// An integer in `range`, or a 400 naming the field.
    func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = text(name) else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw WebError.badRequest("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// One of an enumeration's raw values, or a 400 listing them.
    func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws -> T? where T.RawValue == String {
        guard let text = text(name) else { return nil }
        guard let value = T(rawValue: text) else {
            throw WebError.badRequest("\(name) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        return value
    }
}

/// Closes a connection whose request has not arrived whole `seconds` after its head. The idle timeout
/// (Hummingbird's) counts from the last complete request part, so a body sent a byte at a time would keep
/// a connection forever; only the edit forms take a body (64 KiB at most), and no request needs longer than this to arrive.
final class RequestDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let limit: TimeAmount
    private var scheduled: Scheduled<Void>?

    init(seconds: Int64) {
        limit = .seconds(seconds)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            scheduled?.cancel()
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            scheduled = context.eventLoop.scheduleTask(in: limit) { bound.value.close(promise: nil) }
        case .body:
            break
        case .end:
            scheduled?.cancel()
            scheduled = nil
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        scheduled?.cancel()
        scheduled = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        scheduled?.cancel()
        scheduled = nil
    }
}
