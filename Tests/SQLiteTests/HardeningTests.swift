import CSQLite
import SQLite
import Testing

/// What the wrapper refuses whatever SQL a user hands it (`tracker sql` passes ad-hoc text through).
@Suite struct HardeningTests {
    /// fts3_tokenizer() reads and replaces tokenizers' C function pointers. Every connection refuses it
    /// at prepare time, in both forms and with bound arguments (SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER
    /// alone still lets bound arguments through).
    @Test func fts3TokenizerIsNotAuthorized() throws {
        let db = try Database(path: ":memory:")
        for sql in ["SELECT fts3_tokenizer('simple')", "SELECT hex(FTS3_TOKENIZER(?1))",
                    "SELECT fts3_tokenizer(?1, ?2)", "SELECT 1 WHERE fts3_tokenizer('porter') IS NULL"] {
            let error = #expect(throws: SQLiteError.self, "\(sql)") { try db.prepare(sql) }
            #expect(error?.primaryCode == SQLITE_ERROR, "\(sql): \(String(describing: error))")
            #expect(error?.message.contains("not authorized") == true)
        }
        // Other functions, FTS itself included, still work.
        try db.execute("CREATE VIRTUAL TABLE notes USING fts4(body); INSERT INTO notes VALUES ('hello world')")
        #expect(try db.scalar("SELECT count(*) FROM notes WHERE notes MATCH 'hello'") == .integer(1))
        #expect(try db.scalar("SELECT upper('x')") == .text("X"))
    }

    /// SQLite stops at a NUL: "SELECT 1\0; DROP TABLE t" would prepare as "SELECT 1" and the rest
    /// would vanish silently. prepare and execute refuse such text.
    @Test func sqlWithANulCharacterIsRefused() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t(x)")
        let prepareError = #expect(throws: SQLiteError.self) { try db.prepare("SELECT 1\u{0}; DROP TABLE t") }
        #expect(prepareError?.misuse == .nulCharacter)
        let cachedError = #expect(throws: SQLiteError.self) { try db.cachedStatement("SELECT 2\u{0}") }
        #expect(cachedError?.misuse == .nulCharacter)
        let executeError = #expect(throws: SQLiteError.self) { try db.execute("INSERT INTO t VALUES (1);\u{0}DROP TABLE t") }
        #expect(executeError?.misuse == .nulCharacter)
        // Nothing ran: the table is there and empty.
        #expect(try db.scalar("SELECT count(*) FROM t") == .integer(0))
        // A NUL inside a bound value is data, not SQL.
        #expect(try db.prepare("SELECT length(CAST(? AS BLOB))").rows([.text("a\u{0}b")]) { $0.int(0) } == [3])
    }
}
