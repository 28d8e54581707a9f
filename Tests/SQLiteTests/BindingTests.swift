import Testing
import SQLite

/// Binds through a table column without declared type, so SQLite applies no affinity and the value
/// comes back exactly as stored.
private func roundTrip(_ value: SQLiteValue) throws -> SQLiteValue {
    let db = try Database(path: ":memory:")
    try db.execute("CREATE TABLE t(v)")
    try db.prepare("INSERT INTO t(v) VALUES (?)").run([value])
    let select = try db.prepare("SELECT v FROM t")
    #expect(try select.step())
    let result = select.value(0)
    #expect(try !select.step())
    return result
}

@Suite struct BindingTests {
    @Test(arguments: [Int64.min, -1, 0, 1, Int64(Int32.max) + 1, Int64.max])
    func integerRoundTrip(_ v: Int64) throws {
        #expect(try roundTrip(.integer(v)) == .integer(v))
    }

    @Test(arguments: [0.0, 1.5, -2.25, 1e300, -1e-300, Double.greatestFiniteMagnitude, .infinity, -.infinity])
    func realRoundTrip(_ v: Double) throws {
        #expect(try roundTrip(.real(v)) == .real(v))
    }

    @Test func negativeZeroKeepsItsSign() throws {
        guard case .real(let back) = try roundTrip(.real(-0.0)) else { Issue.record("not a real"); return }
        #expect(back == 0 && back.sign == .minus)
    }

    @Test func nanIsStoredAsNull() throws {
        // SQLite's documented behaviour; worth knowing before storing NaN rewards.
        #expect(try roundTrip(.real(.nan)) == .null)
    }

    @Test(arguments: ["", "plain", "héllo wörld ✓ 漢字 🚀", "with\u{0}embedded\u{0}nul", "it's; DROP TABLE t; --"])
    func textRoundTrip(_ v: String) throws {
        #expect(try roundTrip(.text(v)) == .text(v))
    }

    @Test func blobRoundTripIncludingEmpty() throws {
        #expect(try roundTrip(.blob([])) == .blob([]))
        #expect(try roundTrip(.blob([0, 1, 255, 0])) == .blob([0, 1, 255, 0]))
    }

    @Test func megabyteBlobRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<1_048_576).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(try roundTrip(.blob(bytes)) == .blob(bytes))
    }

    @Test func nullRoundTrip() throws {
        #expect(try roundTrip(.null) == .null)
    }

    @Test func emptyTextAndEmptyBlobAreNotNull() throws {
        let db = try Database(path: ":memory:")
        let s = try db.prepare("SELECT ? IS NULL, ? IS NULL, typeof(?), typeof(?)")
        try s.bind("", at: 1)
        try s.bind([UInt8](), at: 2)
        try s.bind("", at: 3)
        try s.bind([UInt8](), at: 4)
        #expect(try s.step())
        #expect(s.int(0) == 0 && s.int(1) == 0)
        #expect(s.text(2) == "text" && s.text(3) == "blob")
    }

    @Test func typedBindsAndAccessors() throws {
        let db = try Database(path: ":memory:")
        let s = try db.prepare("SELECT ?, ?, ?, ?, ?, ?")
        #expect(s.parameterCount == 6)
        #expect(s.isReadOnly)
        try s.bind(Int64(42), at: 1)
        try s.bind(7, at: 2)
        try s.bind(2.5, at: 3)
        try s.bind("x", at: 4)
        let raw: [UInt8] = [9, 8, 7]
        try raw.withUnsafeBytes { try s.bind($0, at: 5) }
        try s.bindNull(at: 6)
        #expect(try s.step())
        #expect(s.columnCount == 6)
        #expect(s.int64(0) == 42 && s.int(1) == 7 && s.double(2) == 2.5 && s.text(3) == "x")
        #expect(s.blob(4) == [9, 8, 7])
        #expect(s.isNull(5) && !s.isNull(0))
        #expect(s.value(5) == .null)
        #expect(try !s.step())
    }

    @Test func namedParameters() throws {
        let db = try Database(path: ":memory:")
        let s = try db.prepare("SELECT :a, @b, $c, :a")
        #expect(s.parameterCount == 3)
        #expect(s.parameterIndex(":a") == 1)
        #expect(s.parameterIndex("@b") == 2)
        #expect(s.parameterIndex("$c") == 3)
        #expect(s.parameterIndex(":missing") == nil)
        #expect(s.parameterName(2) == "@b")
        try s.bind(named: ["a": .integer(1), "@b": .text("two"), "$c": .real(3)])
        #expect(try s.step())
        #expect(s.value(0) == .integer(1) && s.value(1) == .text("two") && s.value(2) == .real(3) && s.value(3) == .integer(1))
        #expect(s.columnName(0) == ":a")
        #expect(s.parameterName(1) == ":a")

        let positional = try db.prepare("SELECT ?")
        #expect(positional.parameterName(1) == nil)
    }

    @Test func runAndRowsHelpers() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        let insert = try db.cachedStatement("INSERT INTO t(name) VALUES (?)")
        for name in ["a", "b", "c"] { try insert.run([.text(name)]) }
        #expect(db.changes == 1)
        #expect(db.lastInsertRowID == 3)
        let names = try db.prepare("SELECT name FROM t WHERE id >= ? ORDER BY id").rows([2]) { $0.text(0) }
        #expect(names == ["b", "c"])
        #expect(try db.scalar("SELECT count(*) FROM t") == .integer(3))
        #expect(try db.scalar("SELECT name FROM t WHERE id = ?", [99]) == nil)
        try db.execute("UPDATE t SET name = name || '!'")
        #expect(db.changes == 3)
    }

    @Test func hotLoopOnCachedStatement() throws {
        // The shape TrackerStore uses for metrics: one cached INSERT, bind/step/reset per row.
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE m(a INTEGER, b INTEGER, c INTEGER, d INTEGER, e INTEGER)")
        try db.transaction {
            let s = try db.cachedStatement("INSERT INTO m VALUES (?, ?, ?, ?, ?)")
            for i in Int64(0)..<20_000 {
                try s.bind(i, at: 1); try s.bind(i &* 2, at: 2); try s.bind(i &* 3, at: 3)
                try s.bind(i &* 4, at: 4); try s.bind(i &* 5, at: 5)
                _ = try s.step()
                s.reset()
            }
        }
        #expect(try db.scalar("SELECT count(*), sum(e) FROM m") == .integer(20_000))
        #expect(try db.scalar("SELECT sum(e) FROM m") == .integer(5 * (19_999 * 20_000 / 2)))
    }
}
