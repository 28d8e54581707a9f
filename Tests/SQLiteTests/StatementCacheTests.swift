import Testing
import SQLite

@Suite struct StatementCacheTests {
    @Test func sameSQLGivesTheSameStatementWithBindingsCleared() throws {
        let db = try Database(path: ":memory:")
        let first = try db.cachedStatement("SELECT ?")
        try first.bind(5, at: 1)
        #expect(try first.step())
        #expect(first.int(0) == 5)
        // Handed out again mid-row: reset and cleared.
        let second = try db.cachedStatement("SELECT ?")
        #expect(first === second)
        #expect(try second.step())
        #expect(second.isNull(0))
        #expect(try db.cachedStatement("SELECT ? ") !== first)
        #expect(try db.prepare("SELECT ?") !== first)
    }

    @Test func statementsOutlivingTheirDatabaseStayUsable() throws {
        var db: Database? = try Database(path: ":memory:")
        let statement = try db?.prepare("SELECT 1 + 1")
        db = nil
        #expect(try statement?.step() == true)
        #expect(statement?.int(0) == 2)
    }
}
