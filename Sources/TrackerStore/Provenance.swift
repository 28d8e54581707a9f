import Foundation
import SQLite

/// How a run came to be: the command, where it ran, which code (git commit) and which sweep. Recorded
/// once with the run (`run_provenance`), shown by `tracker show`.
public struct Provenance: Sendable, Equatable {
    public var commandLine: String
    public var workingDirectory: String
    /// HEAD of the git work tree around the working directory; nil outside one.
    public var gitCommit: String?
    /// Whether that work tree had uncommitted changes; nil outside one.
    public var gitDirty: Bool?
    public var host: String
    public var user: String
    public var operatingSystem: String
    public var trackerVersion: String
    /// Filled in by the database when the run is recorded (`sqlite_version()`); empty before.
    public var sqliteVersion: String
    public var sweepName: String?
    public var sweepSHA256: String?

    public init(commandLine: String, workingDirectory: String, gitCommit: String?, gitDirty: Bool?, host: String,
                user: String, operatingSystem: String, trackerVersion: String, sqliteVersion: String = "",
                sweepName: String? = nil, sweepSHA256: String? = nil) {
        self.commandLine = commandLine
        self.workingDirectory = workingDirectory
        self.gitCommit = gitCommit
        self.gitDirty = gitDirty
        self.host = host
        self.user = user
        self.operatingSystem = operatingSystem
        self.trackerVersion = trackerVersion
        self.sqliteVersion = sqliteVersion
        self.sweepName = sweepName
        self.sweepSHA256 = sweepSHA256
    }
}

extension TrackerStore {
    /// Records `provenance` for the run with this key; called inside the transaction that inserts the run.
    func insertProvenance(_ provenance: Provenance, runKey: Int64) throws {
        let statement = try database.cachedStatement("""
            INSERT INTO run_provenance (run, command_line, working_directory, git_commit, git_dirty, host, user, os,
                tracker_version, sqlite_version, sweep_name, sweep_sha256)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, sqlite_version(), ?, ?)
            """)
        try statement.run([
            .integer(runKey), .text(provenance.commandLine), .text(provenance.workingDirectory),
            provenance.gitCommit.map { .text($0) } ?? .null, provenance.gitDirty.map { .integer($0 ? 1 : 0) } ?? .null,
            .text(provenance.host), .text(provenance.user), .text(provenance.operatingSystem),
            .text(provenance.trackerVersion), provenance.sweepName.map { .text($0) } ?? .null,
            provenance.sweepSHA256.map { .text($0) } ?? .null,
        ])
    }

    /// The provenance of a run; nil for a run recorded before provenance was (schema version 3 or older).
    public func provenance(ofRun key: Int64) throws -> Provenance? {
        try runOperation("reading the provenance of run", key: key) {
            let statement = try database.cachedStatement("""
                SELECT command_line, working_directory, git_commit, git_dirty, host, user, os, tracker_version,
                       sqlite_version, sweep_name, sweep_sha256
                FROM run_provenance WHERE run = ?
                """)
            return try statement.rows([.integer(key)]) { row in
                Provenance(
                    commandLine: row.text(0), workingDirectory: row.text(1), gitCommit: row.isNull(2) ? nil : row.text(2),
                    gitDirty: row.isNull(3) ? nil : row.int(3) != 0, host: row.text(4), user: row.text(5),
                    operatingSystem: row.text(6), trackerVersion: row.text(7), sqliteVersion: row.text(8),
                    sweepName: row.isNull(9) ? nil : row.text(9), sweepSHA256: row.isNull(10) ? nil : row.text(10))
            }.first
        }
    }
}
