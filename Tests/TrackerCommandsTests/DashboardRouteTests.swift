import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SQLite
import Testing
import TestSupport
import TrackerWeb

/// The dashboard's routes in process (HummingbirdTesting's `.router` mode: no socket, no process), built by
/// the same `Dashboard.makeApplication` that `tracker ui` serves: every page's and API answer's status and
/// content type, the security headers, HTML escaping of hostile labels, tags and notes, the refusals
/// (405, 404, 400), HEAD and paging. One `.live` check goes through a real socket. UICommandTests and
/// UILimitsTests cover the real server process (signals, limits, slow clients); the browser test the script.
@Suite(.serialized) struct DashboardRouteTests {
    static let hostile = "<img src=x onerror=alert(1)> \"q\" 'a' & </td>"

    struct Fixture {
        let dir: TemporaryDirectory
        let db: String
        /// A DTEQL run with a hostile label, tag and note; a QL run; a DTAQL run; more QL runs until two ids
        /// share their first character (an ambiguous prefix).
        let hostileRun: String
        let ql: String
        let dtaql: String
        let ambiguousPrefix: String
        let total: Int
    }

    static func makeFixture() throws -> Fixture {
        let dir = try TemporaryDirectory(prefix: "tracker-routes")
        let db = dir.path("routes.db")
        func record(_ arguments: [String]) throws -> String {
            let result = try CLI.run(["run", "--db", db, "--quiet", "--format", "json", "--n", "4", "--iterations", "60",
                                      "--checkpoint-every", "20"] + arguments)
            #expect(result.status == 0, "\(result.stderr)")
            return try #require((try CLI.json(result) as? [String: Any])?["run_id"] as? String)
        }
        let hostileRun = try record(["--algo", "dteql", "--phi", "5", "--label", hostile])
        #expect(try CLI.run(["tag", hostileRun, "--db", db, "k<i>=\(hostile)"]).status == 0)
        #expect(try CLI.run(["note", hostileRun, "--db", db, hostile]).status == 0)
        let ql = try record(["--algo", "ql", "--seed", "2"])
        let dtaql = try record(["--algo", "dtaql", "--phi", "2", "--delta", "16"])
        var ids = [hostileRun, ql, dtaql]
        // Pigeonhole: 17 ids share a first hex digit; a few usually do.
        var seed = 3
        while Set(ids.map(\.first)).count == ids.count && ids.count <= 17 {
            ids.append(try record(["--algo", "ql", "--seed", String(seed)]))
            seed += 1
        }
        let shared: Character? = Dictionary(grouping: ids, by: { $0.first }).first { $0.value.count > 1 }?.key ?? nil
        let first = try #require(shared)
        return Fixture(dir: dir, db: db, hostileRun: hostileRun, ql: ql, dtaql: dtaql, ambiguousPrefix: String(first),
                       total: ids.count)
    }

    struct Answer {
        let status: Int
        let headers: HTTPFields
        let body: String
        var contentType: String? { headers[.contentType] }
    }

    /// Sends each request to the application in process and returns the answers in order.
    static func answers(_ db: String, _ requests: [(HTTPRequest.Method, String)], mode: TestingSetup = .router) async throws -> [Answer] {
        let app = Dashboard(databasePath: db).makeApplication()
        return try await app.test(mode) { client in
            var answers: [Answer] = []
            for (method, uri) in requests {
                let response = try await client.execute(uri: uri, method: method)
                answers.append(Answer(status: response.status.code, headers: response.headers, body: String(buffer: response.body)))
            }
            return answers
        }
    }

    static func get(_ db: String, _ uris: [String]) async throws -> [Answer] {
        try await answers(db, uris.map { (.get, $0) })
    }

    static func expectSecurityHeaders(_ answer: Answer, _ what: String) {
        let policy = answer.headers[.contentSecurityPolicy] ?? ""
        #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self'") && !policy.contains("unsafe-inline")
                && policy.contains("frame-ancestors 'none'"), "\(what): CSP \(policy)")
        #expect(answer.headers[.xContentTypeOptions] == "nosniff", "\(what)")
        #expect(answer.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(what)")
    }

    @Test func everyRouteAnswersWithItsStatusContentTypeAndSecurityHeaders() async throws {
        let f = try Self.makeFixture()
        let pair = "run=\(f.ql)&run=\(f.dtaql)"
        let routes: [(String, String)] = [
            ("/", "text/html; charset=utf-8"),
            ("/?page=2&size=2&sort=n&dir=asc", "text/html; charset=utf-8"),
            ("/runs/\(f.ql)", "text/html; charset=utf-8"),
            ("/runs/\(f.ql.prefix(6))", "text/html; charset=utf-8"),
            ("/runs/\(f.dtaql)/convergence.svg", "image/svg+xml"),
            ("/runs/\(f.dtaql)/schedule.svg", "image/svg+xml"),
            ("/api/runs", "application/json"),
            ("/api/runs/\(f.hostileRun)", "application/json"),
            ("/api/runs/\(f.ql)/progress", "application/json"),
            ("/compare?\(pair)", "text/html; charset=utf-8"),
            ("/compare?n=4", "text/html; charset=utf-8"),
            ("/compare/fig2.svg?n=4", "image/svg+xml"),
            ("/compare.csv?n=4", "text/csv; charset=utf-8"),
            ("/compare.json?n=4", "application/json"),
            ("/compare.md?n=4", "text/markdown; charset=utf-8"),
            ("/api/compare?n=4", "application/json"),
            ("/queries", "text/html; charset=utf-8"),
            ("/queries/run_history?run_id=\(f.ql)", "text/html; charset=utf-8"),
            ("/queries/run_history.csv?run_id=\(f.ql)", "text/csv; charset=utf-8"),
            ("/api/queries", "application/json"),
            ("/api/queries/run_history?run_id=\(f.ql.prefix(5))", "application/json"),
            ("/queries/run%5Fhistory?run_id=\(f.ql)", "text/html; charset=utf-8"),
            // The study pages (StudyPageTests has a database with studies): empty, but answered.
            ("/studies", "text/html; charset=utf-8"),
            ("/api/studies", "application/json"),
            ("/static/style.css", "text/css; charset=utf-8"),
            ("/static/app.js", "text/javascript; charset=utf-8"),
        ]
        let answers = try await Self.get(f.db, routes.map(\.0))
        for ((uri, type), answer) in zip(routes, answers) {
            #expect(answer.status == 200, "\(uri): \(answer.status) \(answer.body.prefix(300))")
            #expect(answer.contentType == type, "\(uri): \(answer.contentType ?? "no content type")")
            Self.expectSecurityHeaders(answer, uri)
            #expect(!answer.body.isEmpty, "\(uri)")
            if type == "application/json" {
                #expect((try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) != nil, "\(uri): not JSON")
            }
        }
        // Data is never cached; the embedded assets are, briefly.
        #expect(answers[0].headers[.cacheControl] == "no-store" && answers.last?.headers[.cacheControl] == "max-age=300")
        // A saved query's prefix resolves to the CLI's rows.
        let history = try #require(try JSONSerialization.jsonObject(with: Data(answers[20].body.utf8)) as? [String: Any])
        #expect(history["query"] as? String == "run_history")
        #expect((history["rows"] as? [Any])?.isEmpty == false, "run_history by prefix: \(answers[20].body.prefix(300))")
    }

    @Test func refusalsAreStatusCodesWithOneMessage() async throws {
        let f = try Self.makeFixture()
        let requests: [(HTTPRequest.Method, String, Int, String)] = [
            (.post, "/", 405, "not allowed"),
            (.put, "/api/runs", 405, "not allowed"),
            (.delete, "/runs/\(f.ql)", 405, "not allowed"),
            (.get, "/nowhere", 404, ""),
            (.get, "/runs/ffffffff0", 404, "ffffffff0"),
            (.get, "/api/runs/ffffffff0", 404, "ffffffff0"),
            (.get, "/runs/\(f.ambiguousPrefix)", 400, f.ambiguousPrefix),
            (.get, "/api/runs/\(f.ambiguousPrefix)", 400, f.ambiguousPrefix),
            (.get, "/api/queries/run_history?run_id=ffffffff0", 400, "ffffffff0"),
            (.get, "/api/queries/run_history?run_id=\(f.ambiguousPrefix)", 400, f.ambiguousPrefix),
            (.get, "/api/queries/run_history", 400, "run_id"),
            (.get, "/api/queries/run_history?run_id=\(f.ql)&step=abc", 400, "step"),
            (.get, "/api/queries/run_history?run_id=\(f.ql)&nonsense=1", 400, "nonsense"),
            (.get, "/queries/run_history?run_id=ffffffff0", 400, "ffffffff0"),
            (.get, "/api/queries/no_such_query", 404, "no_such_query"),
            (.get, "/study?name=no_such_study", 404, "no_such_study"),
            (.get, "/api/study?name=no_such_study", 404, "no_such_study"),
            (.get, "/api/study/budget?name=no_such_study", 404, "no_such_study"),
            (.get, "/api/study/parallel?name=no_such_study", 404, "no_such_study"),
            (.get, "/study", 400, "name"),
            (.get, "/api/runs?page=0", 400, "page"),
            (.get, "/api/runs?size=100000", 400, "size"),
            (.get, "/api/runs?algo=sarsa", 400, "algo"),
            (.get, "/?status=sleeping", 400, "status"),
            (.get, "/api/compare?n=4&by=nonsense", 400, "nonsense"),
            (.get, "/compare/fig2.svg", 400, "n"),
            (.get, "/api/runs/%ZZ", 400, "percent"),
            (.get, "/runs/a%2Fb", 400, ""),
        ]
        let answers = try await Self.answers(f.db, requests.map { ($0.0, $0.1) })
        for (request, answer) in zip(requests, answers) {
            let (method, uri, status, mention) = request
            #expect(answer.status == status, "\(method) \(uri): \(answer.status) \(answer.body.prefix(300))")
            #expect(mention.isEmpty || answer.body.contains(mention), "\(method) \(uri): \(answer.body.prefix(300))")
            Self.expectSecurityHeaders(answer, "\(method) \(uri)")
            if uri.hasPrefix("/api/") {
                #expect(answer.contentType == "application/json", "\(uri)")
                let error = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["error"] as? String
                #expect(error.map { !$0.isEmpty && !$0.contains("\n") } == true, "\(uri): one-line {\"error\"}: \(answer.body)")
            } else {
                #expect(answer.contentType == "text/html; charset=utf-8", "\(uri)")
            }
            if status == 405 { #expect(answer.headers[.allow] == "GET, HEAD", "\(uri)") }
        }
    }

    @Test func hostileLabelsTagsAndNotesAreEscapedInEveryPage() async throws {
        let f = try Self.makeFixture()
        let uris = ["/", "/?q=onerror", "/runs/\(f.hostileRun)", "/compare?run=\(f.hostileRun)&run=\(f.ql)",
                    "/queries/runs_by_label?label=\(escapedQuery(Self.hostile))"]
        let answers = try await Self.get(f.db, uris)
        for (uri, answer) in zip(uris, answers) {
            #expect(answer.status == 200, "\(uri): \(answer.body.prefix(300))")
            #expect(!answer.body.contains("<img src=x") && !answer.body.contains("k<i>") && !answer.body.contains("'a' & </td>"), "\(uri): markup from stored text reached the page")
            // Scripts come only from the app's own /static/ files (app.js, charts.js), none inline.
            let scripts = answer.body.components(separatedBy: "<script").dropFirst()
            #expect(!scripts.isEmpty && scripts.allSatisfy { $0.hasPrefix(" src=\"/static/") }, "\(uri): a script not from /static/")
        }
        let escaped = "&lt;img src=x onerror=alert(1)&gt; &quot;q&quot; &apos;a&apos; &amp; &lt;/td&gt;"
        let run = answers[2].body
        #expect(run.contains(escaped), "the label, the tag's value and the note, escaped")
        #expect(run.contains("k&lt;i&gt;"), "the tag's key, escaped")
        #expect(answers[0].body.contains(escaped) && answers[1].body.contains(escaped))
        // JSON carries the text as it was typed.
        let api = try await Self.get(f.db, ["/api/runs/\(f.hostileRun)"])[0]
        let object = try #require(try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [String: Any])
        #expect(object["label"] as? String == Self.hostile && object["note"] as? String == Self.hostile)
        #expect(object["tags"] as? [String: String] == ["k<i>": Self.hostile])
    }

    @Test func headAnswersLikeGetWithoutABody() async throws {
        let f = try Self.makeFixture()
        let uris = ["/", "/runs/\(f.ql)", "/api/runs/\(f.ql)", "/static/app.js", "/runs/ffffffff0", "/api/runs/ffffffff0"]
        let gets = try await Self.get(f.db, uris)
        let heads = try await Self.answers(f.db, uris.map { (.head, $0) })
        for (uri, (get, head)) in zip(uris, zip(gets, heads)) {
            #expect(head.status == get.status, "HEAD \(uri)")
            #expect(head.body.isEmpty, "HEAD \(uri) has a body")
            #expect(head.contentType == get.contentType, "HEAD \(uri)")
            #expect(head.headers[.contentLength] == String(get.body.utf8.count), "HEAD \(uri): \(head.headers[.contentLength] ?? "no length")")
            Self.expectSecurityHeaders(head, "HEAD \(uri)")
        }
    }

    @Test func pagesOfRunsCoverEveryRunOnceNewestFirst() async throws {
        let f = try Self.makeFixture()
        let size = 2
        let pages = (f.total + size - 1) / size
        let uris = (1...pages + 1).map { "/api/runs?size=\(size)&page=\($0)" } + ["/?size=\(size)&page=1", "/?size=\(size)&page=\(pages)"]
        let answers = try await Self.get(f.db, uris)
        var seen: [String] = []
        var created: [String] = []
        for (index, answer) in answers.prefix(pages + 1).enumerated() {
            let page = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
            #expect(page["total"] as? Int == f.total && page["page"] as? Int == index + 1 && page["page_size"] as? Int == size)
            let runs = page["runs"] as? [[String: Any]] ?? []
            #expect(runs.count == (index < pages ? min(size, f.total - index * size) : 0), "page \(index + 1)")
            seen += runs.compactMap { $0["run_id"] as? String }
            created += runs.compactMap { $0["created_at"] as? String }
        }
        #expect(seen.count == f.total && Set(seen).count == f.total, "every run exactly once: \(seen)")
        #expect(created == created.sorted(by: >), "newest first")
        let first = answers[pages + 1].body, last = answers[pages + 2].body
        #expect(first.contains("rel=\"next\"") && !first.contains("rel=\"prev\"") && first.contains("page 1 of \(pages)"))
        #expect(last.contains("rel=\"prev\"") && !last.contains("rel=\"next\"") && last.contains("page \(pages) of \(pages)"))
    }

    /// The same application through a real socket (`.live`): routing, middleware and HEAD as `tracker ui`
    /// serves them, with the server's own connection handling.
    @Test func theLiveApplicationServesTheSameAnswers() async throws {
        let f = try Self.makeFixture()
        let requests: [(HTTPRequest.Method, String)] = [(.get, "/"), (.get, "/api/runs/\(f.ql)"), (.head, "/api/runs/\(f.ql)"),
                                                        (.post, "/"), (.get, "/runs/\(f.ambiguousPrefix)")]
        let live = try await Self.answers(f.db, requests, mode: .live)
        let routed = try await Self.answers(f.db, requests)
        #expect(live.map(\.status) == [200, 200, 200, 405, 400])
        #expect(live.map(\.status) == routed.map(\.status))
        for (answer, request) in zip(live, requests) { Self.expectSecurityHeaders(answer, "live \(request.1)") }
        #expect(live[1].body == routed[1].body, "the run's JSON is the same over the socket")
        #expect(live[2].body.isEmpty && live[2].headers[.contentLength] == String(live[1].body.utf8.count))
    }
}

/// `text` percent-encoded for a query string value.
private func escapedQuery(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}
