import Testing
import CSQLite
import SQLite

@Suite struct ErrorTests {
    @Test func uniqueViolationCarriesExtendedCodeMessageAndSQL() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t(x INTEGER UNIQUE)")
        let sql = "INSERT INTO t(x) VALUES (?)"
        let insert = try db.prepare(sql)
        try insert.run([1])
        let error = #expect(throws: SQLiteError.self) { try insert.run([1]) }
        #expect(error?.extendedCode == 2067)
        #expect(error?.primaryCode == SQLITE_CONSTRAINT)
        #expect(error?.isConstraint == true && error?.isUniqueViolation == true)
        #expect(error?.message.contains("UNIQUE") == true)
        #expect(error?.sql == sql)
        #expect(error?.description == "\(error?.message ?? "") (code 2067) in: \(sql)")
        // The failed step reset the statement: it runs again with new bindings.
        try insert.run([2])
        #expect(try db.scalar("SELECT count(*) FROM t") == .integer(2))
    }

    @Test func syntaxErrorCarriesSQL() throws {
        let db = try Database(path: ":memory:")
        let error = #expect(throws: SQLiteError.self) { try db.prepare("SELEKT 1") }
        #expect(error?.primaryCode == SQLITE_ERROR)
        #expect(error?.sql == "SELEKT 1")
        #expect(error?.description.contains("SELEKT 1") == true)
    }

    @Test func executeNamesTheFailingStatementOfAScript() throws {
        let db = try Database(path: ":memory:")
        let error = #expect(throws: SQLiteError.self) {
            try db.execute("""
                CREATE TABLE a(x);
                INSERT INTO a VALUES (1);
                INSERT INTO missing VALUES (2);
                CREATE TABLE b(y);
                """)
        }
        #expect(error?.sql == "INSERT INTO missing VALUES (2);")
        #expect(error?.message.contains("missing") == true)
        #expect(error?.description.contains("\n") == false)
        // Statements before the failure ran; the ones after did not.
        #expect(try db.scalar("SELECT count(*) FROM a") == .integer(1))
        #expect(try db.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'b'") == .integer(0))
    }

    @Test func stepErrorInScriptCarriesThatStatement() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t(x NOT NULL)")
        let error = #expect(throws: SQLiteError.self) {
            try db.execute("INSERT INTO t VALUES (1); -- ok\nINSERT INTO t VALUES (NULL);")
        }
        #expect(error?.extendedCode == SQLITE_CONSTRAINT | (5 << 8)) // SQLITE_CONSTRAINT_NOTNULL
        #expect(error?.sql == "INSERT INTO t VALUES (NULL);")
    }

    @Test func foreignKeysAreEnforced() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(p INTEGER REFERENCES p(id));")
        let error = #expect(throws: SQLiteError.self) { try db.execute("INSERT INTO c VALUES (1)") }
        #expect(error?.isForeignKeyViolation == true)
    }

    @Test func prepareRejectsScriptsAndEmptySQL() throws {
        let db = try Database(path: ":memory:")
        let two = #expect(throws: SQLiteError.self) { try db.prepare("SELECT 1; SELECT 2") }
        #expect(two?.primaryCode == SQLITE_MISUSE)
        #expect(two?.misuse == .severalStatements)
        let empty = #expect(throws: SQLiteError.self) { try db.prepare("  -- nothing\n") }
        #expect(empty?.primaryCode == SQLITE_MISUSE)
        #expect(empty?.misuse == .noStatement)
        // A trailing comment or semicolon is still one statement.
        _ = try db.prepare("SELECT 1; -- trailing comment\n")
    }
}
