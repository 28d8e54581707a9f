import Testing
import SQLite

/// Reading result columns by name: the alias or the column's own name, exact; a missing or ambiguous
/// name throws an error that carries the SQL, and a re-prepare that moves the columns is followed.
@Suite struct ColumnNameTests {
    private func database() throws -> Database {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB, note TEXT)")
        try db.prepare("INSERT INTO t(id, name, score, data, note) VALUES (?, ?, ?, ?, NULL)")
            .run([.integer(7), .text("héllo"), .real(2.5), .blob([1, 2, 3])])
        return db
    }

    @Test func readsEveryTypeByNameWhateverTheColumnOrder() throws {
        let db = try database()
        let select = try db.prepare("SELECT note, data, score, name, id FROM t")
        #expect(try select.step())
        #expect(try select.int64("id") == 7)
        #expect(try select.int("id") == 7)
        #expect(try select.text("name") == "héllo")
        #expect(try select.double("score") == 2.5)
        #expect(try select.blob("data") == [1, 2, 3])
        #expect(try select.isNull("note"))
        #expect(try select.value("score") == .real(2.5))
        #expect(try select.optionalText("note") == nil)
        #expect(try select.optionalText("name") == "héllo")
        #expect(try select.optionalInt("note") == nil)
        #expect(try select.optionalDouble("score") == 2.5)
        #expect(try select.columnIndex("id") == 4)
    }

    @Test func anAliasIsTheName() throws {
        let db = try database()
        let select = try db.prepare("SELECT t.id AS run_key, name || '!' AS shout FROM t AS t")
        #expect(try select.step())
        #expect(try select.int("run_key") == 7)
        #expect(try select.text("shout") == "héllo!")
        #expect(throws: SQLiteError.self) { try select.int("id") }
    }

    @Test func aMissingNameThrowsWithTheSQLAndTheColumnsThere() throws {
        let db = try database()
        let sql = "SELECT id, name FROM t"
        let select = try db.prepare(sql)
        #expect(try select.step())
        do {
            _ = try select.text("nmae")
            Issue.record("a missing column read without an error")
        } catch {
            #expect(error.sql == sql)
            #expect(error.message.contains("\"nmae\""))
            #expect(error.message.contains("id, name"))
        }
    }

    @Test func namesAreExactAndCaseSensitive() throws {
        let db = try database()
        let select = try db.prepare("SELECT id FROM t")
        #expect(try select.step())
        #expect(throws: SQLiteError.self) { try select.int("ID") }
        #expect(throws: SQLiteError.self) { try select.int(" id") }
        #expect(throws: SQLiteError.self) { try select.int("") }
    }

    @Test func anAmbiguousNameThrows() throws {
        let db = try database()
        let select = try db.prepare("SELECT a.id, b.id FROM t AS a JOIN t AS b")
        #expect(try select.step())
        do {
            _ = try select.int("id")
            Issue.record("an ambiguous column read without an error")
        } catch {
            #expect(error.message.contains("more than one"))
        }
    }

    @Test func followsAReprepareThatMovesTheColumns() throws {
        let db = try database()
        let select = try db.prepare("SELECT * FROM t")
        #expect(try select.step())
        #expect(try select.text("name") == "héllo")
        select.reset()
        // A schema change re-prepares `SELECT *` on its next step, with another column first.
        try db.execute("CREATE TABLE u(extra TEXT, id INTEGER PRIMARY KEY, name TEXT); INSERT INTO u VALUES ('x', 1, 'moved');"
            + "DROP TABLE t; ALTER TABLE u RENAME TO t")
        #expect(try select.step())
        #expect(try select.text("name") == "moved")
        #expect(try select.text("extra") == "x")
        #expect(throws: SQLiteError.self) { try select.double("score") }
    }

    @Test func manyRowsReuseTheLookup() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE n(i INTEGER)")
        let insert = try db.prepare("INSERT INTO n(i) VALUES (?)")
        for i in 0..<1000 { try insert.run([.integer(Int64(i))]) }
        let sum = try db.prepare("SELECT i AS value FROM n").rows { try $0.int("value") }.reduce(0, +)
        #expect(sum == 999 * 1000 / 2)
    }
}
