import Foundation
import HTTPTypes
import Hummingbird
import TrackerStore

/// `tracker ui --allow-edits`: tags and notes from the run page (docs/ui.md, "Edits"). Two POST forms,
/// `/runs/ID/tags` (`key` and `value` sets a tag, `remove` drops one) and `/runs/ID/note` (`note`; empty
/// removes it), each refused with 403, changing nothing, unless
/// - its `token` field is this process's random token (printed into the run page's forms only), and
/// - it comes from the page's own origin: `Origin` (else `Referer`) is `http://` plus the request's `Host`,
///   and that host is an IP address or `localhost` (a name that resolves to this machine through someone
///   else's DNS, a rebinding attack, is refused).
/// Each edit is what `tracker tag` / `tracker note` do: the same store calls (`RunTags.parse`'s key rules,
/// NFC keys, one IMMEDIATE transaction) on a read-write store opened for the request and closed after, with
/// the store's busy timeout. Without `--allow-edits` no POST route exists and every POST stays 405.
enum EditGuard {
    /// The form paths a POST may reach: `/runs/ID/tags` and `/runs/ID/note`.
    static func isEditPath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0].isEmpty && parts[1] == "runs" && !parts[2].isEmpty
            && (parts[3] == "tags" || parts[3] == "note")
    }

    /// 32 random bytes as hex, from the system's generator, once per process.
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }

    /// Compares in time independent of where the texts differ.
    static func sameToken(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8), b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// The request's origin as the browser states it: `Origin`, else `Referer` cut to scheme, host and port.
    static func statedOrigin(_ headers: HTTPFields) -> String? {
        if let origin = headers[.origin], origin != "null" { return origin }
        guard let referer = headers[.referer], let url = URL(string: referer), let scheme = url.scheme, let host = url.host else {
            return nil
        }
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost)" + (url.port.map { ":\($0)" } ?? "")
    }

    /// Whether `authority` (the Host header) names this machine by address or as localhost.
    static func isAddressAuthority(_ authority: String) -> Bool {
        var host = Substring(authority)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            return host[host.index(after: host.startIndex)..<close].allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        }
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        if host == "localhost" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && UInt8(part) != nil }
    }

    /// Throws 403 unless the token and the origin are right.
    static func check(_ request: Request, form: Form, token: String) throws {
        guard let authority = request.head.authority, isAddressAuthority(authority) else {
            throw WebError(status: .forbidden, message: "edits are accepted only at the dashboard's address (http://127.0.0.1:PORT/), not through a host name")
        }
        guard let origin = statedOrigin(request.headers), origin == "http://" + authority else {
            throw WebError(status: .forbidden, message: "cross-origin edit refused: the form must be sent from the dashboard's own pages")
        }
        guard let given = form.text("token"), sameToken(given, token) else {
            throw WebError(status: .forbidden, message: "edit refused: the form's token is missing or stale; reload the run page")
        }
    }
}

extension Pages {
    /// Opens the file read-write for one edit, as `tracker tag` does (an existing tracker database only).
    func withWritableStore<T>(_ body: (TrackerStore) throws -> T) throws -> T {
        let store = try TrackerStore(path: dashboard.databasePath, access: .readWriteExisting,
                                     busyTimeoutMilliseconds: dashboard.busyTimeoutMilliseconds)
        return try body(store)
    }

    static func seeOther(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// `POST /runs/ID/tags`: `key`+`value` sets a tag (as `tracker tag ID KEY=VALUE`), `remove` drops one
    /// (`--remove KEY`); then back to the run page.
    func editTags(id: String, _ form: Form) throws -> Response {
        var setting: [(key: String, value: String)] = []
        if let key = form.text("key") {
            setting.append(try RunTags.parse(key + "=" + (form.all("value").last ?? "")))
            if key.contains("=") { throw WebError.badRequest("tag key '\(key)' must be non-empty and contain no '='") }
        }
        let removing = form.all("remove")
        for key in removing { try RunTags.checkKey(key) }
        guard !setting.isEmpty || !removing.isEmpty else { throw WebError.badRequest("give a key (and value) to set, or remove") }
        let runID = try withWritableStore { store in
            let record = try store.run(id)
            try store.updateTags(ofRun: record.id, setting: setting, removing: removing)
            return record.runID
        }
        return Self.seeOther("/runs/\(escapeQueryValue(runID))")
    }

    /// `POST /runs/ID/note`: sets the note (an empty one removes it), as `tracker note ID TEXT`.
    func editNote(id: String, _ form: Form) throws -> Response {
        let runID = try withWritableStore { store in
            let record = try store.run(id)
            try store.setNote(ofRun: record.id, to: form.all("note").last ?? "")
            return record.runID
        }
        return Self.seeOther("/runs/\(escapeQueryValue(runID))")
    }
}

extension Dashboard {
    /// The POST routes of `--allow-edits`: the form body read (at most 64 KiB), the guard checked, then the
    /// edit on NIO's blocking pool like every page.
    func addEditRoutes(to router: Router<BasicRequestContext>, pages: Pages,
                       blocking: @escaping @Sendable (@escaping @Sendable () throws -> Response) async throws -> Response) {
        let token = editToken
        @Sendable func form(_ request: Request) async throws -> Form {
            let body = try await request.body.collect(upTo: DashboardMiddleware<BasicRequestContext>.maximumBodyBytes)
            let form = try Form(query: String(buffer: body))
            try EditGuard.check(request, form: form, token: token)
            return form
        }
        router.post("/runs/:id/tags") { request, context in
            let id = try context.parameters.require("id")
            let fields = try await form(request)
            return try await blocking { try pages.editTags(id: id, fields) }
        }
        router.post("/runs/:id/note") { request, context in
            let id = try context.parameters.require("id")
            let fields = try await form(request)
            return try await blocking { try pages.editNote(id: id, fields) }
        }
    }
}

extension RunPage {
    /// With `--allow-edits`: forms to set or remove a tag and to replace the note, each carrying the token.
    func editForms() -> String {
        guard let token = editToken else { return "" }
        let action = "/runs/" + escapeQueryValue(details.record.runID)
        let hidden = "<input type=\"hidden\" name=\"token\" value=\"\(escapeHTML(token))\">"
        var markup = "<form class=\"edit\" id=\"tag-form\" method=\"post\" action=\"\(action)/tags\">" + hidden
            + "<label>key <input name=\"key\" required maxlength=\"200\"></label> "
            + "<label>value <input name=\"value\" maxlength=\"2000\"></label> <button type=\"submit\">Set tag</button></form>"
        for tag in details.tags {
            markup += "<form class=\"edit remove\" method=\"post\" action=\"\(action)/tags\">" + hidden
                + "<input type=\"hidden\" name=\"remove\" value=\"\(escapeHTML(tag.key))\">"
                + "<button type=\"submit\">Remove tag \(escapeHTML(tag.key))</button></form>"
        }
        markup += "<form class=\"edit\" id=\"note-form\" method=\"post\" action=\"\(action)/note\">" + hidden
            + "<label>note <textarea name=\"note\" rows=\"3\" cols=\"50\" maxlength=\"20000\">\(escapeHTML(details.note ?? ""))</textarea></label> "
            + "<button type=\"submit\">Save note</button></form>"
        return markup
    }
}
