import Testing
import SQLite
import TestSupport

private struct Boom: Error {}

@Suite struct TransactionTests {
    private func database() throws -> Database {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t(x INTEGER PRIMARY KEY)")
        return db
    }

    private func values(_ db: Database) throws -> [Int] {
        try db.prepare("SELECT x FROM t ORDER BY x").rows { $0.int(0) }
    }

    @Test func commitsAndReturnsTheBodyResult() throws {
        let db = try database()
        let result = try db.transaction {
            #expect(db.isInTransaction)
            try db.execute("INSERT INTO t VALUES (1)")
            return "done"
        }
        #expect(result == "done")
        #expect(!db.isInTransaction)
        #expect(try values(db) == [1])
    }

    @Test(arguments: [Database.TransactionKind.deferred, .immediate, .exclusive])
    func rollsBackWhenTheBodyThrows(_ kind: Database.TransactionKind) throws {
        let db = try database()
        #expect(throws: Boom.self) {
            try db.transaction(kind) {
                try db.execute("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        #expect(!db.isInTransaction)
        #expect(try values(db) == [])
        // The connection is still usable.
        try db.transaction { try db.execute("INSERT INTO t VALUES (2)") }
        #expect(try values(db) == [2])
    }

    @Test func bodyThatEndedTheTransactionItselfIsNotRolledBackTwice() throws {
        let db = try database()
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.execute("INSERT INTO t VALUES (1)")
                try db.execute("ROLLBACK")
                throw Boom()
            }
        }
        #expect(!db.isInTransaction)
    }

    @Test func nestedTransactionRollsBackOnlyTheInnerPart() throws {
        let db = try database()
        try db.transaction {
            try db.execute("INSERT INTO t VALUES (1)")
            #expect(throws: Boom.self) {
                try db.transaction {
                    try db.execute("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            #expect(db.isInTransaction)
            try db.transaction {
                try db.execute("INSERT INTO t VALUES (3)")
                try db.transaction { try db.execute("INSERT INTO t VALUES (4)") }
            }
        }
        #expect(!db.isInTransaction)
        #expect(try values(db) == [1, 3, 4])
    }

    @Test func innerSuccessIsUndoneWhenTheOuterFails() throws {
        let db = try database()
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.transaction { try db.execute("INSERT INTO t VALUES (1)") }
                throw Boom()
            }
        }
        #expect(try values(db) == [])
    }

    @Test func commitFailingWithBusyRollsBackAndThrows() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("busy.db")
        let writer = try Database(path: path, busyTimeoutMilliseconds: 50)
        try writer.execute("CREATE TABLE t(x)")
        let reader = try Database(path: path, busyTimeoutMilliseconds: 50)
        // Rollback-journal mode: a reader's SHARED lock blocks the writer's COMMIT.
        let read = try reader.prepare("SELECT x FROM t")
        try writer.execute("INSERT INTO t VALUES (0)")
        try reader.execute("BEGIN")
        _ = try read.step()
        let error = #expect(throws: SQLiteError.self) {
            try writer.transaction { try writer.execute("INSERT INTO t VALUES (1)") }
        }
        #expect(error?.isBusy == true)
        #expect(!writer.isInTransaction)
        read.reset()
        try reader.execute("COMMIT")
        #expect(try writer.scalar("SELECT count(*) FROM t") == .integer(1))
    }
}
