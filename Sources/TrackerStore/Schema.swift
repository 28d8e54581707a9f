import SQLite

/// The schema, as the migrations/*.sql files say it. Those files are the only copy: the build plugin
/// embeds them (see Plugins/EmbedSQLPlugin), so nothing here repeats their SQL.
public enum Schema {
    public static let migrations: [Migration] = {
        do {
            return try EmbeddedSQL.migrations.map { try Migration(fileName: $0.name, sql: $0.sql) }
        } catch {
            // The files are checked by the tests; a malformed name is a build mistake, not user input.
            preconditionFailure("migrations/ holds a file that is not a migration: \(error)")
        }
    }()

    public static let migrator: Migrator = {
        do {
            return try Migrator(migrations)
        } catch {
            preconditionFailure("migrations/ is not a contiguous sequence 0001, 0002, ...: \(error)")
        }
    }()

    /// The schema version this binary writes.
    public static var latestVersion: Int { migrator.latestVersion }
}
