import SQLite

/// Failures of the store, each a one-line message for a user.
public enum StoreError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case schemaTooNew(path: String, found: Int, supported: Int)
    case runNotFound(String)
    case ambiguousRunID(String, matches: [String])
    case notResumable(runID: String, reason: String)
    /// A run that a live process still records (`delete` refuses it).
    case runIsLive(runID: String, owner: String)
    /// Another process claimed the run (`resume --force`, `sweep --takeover`) while this one ran it.
    case takenOver(runID: String)
    case corruptCheckpoint(runID: String, iteration: Int, reason: String)
    /// A new run of a configuration the database already holds (one run per configuration).
    case configurationTaken(runID: String, status: String, resumable: Bool)
    /// A new budget for run `runID` would make it the configuration run `holder` already holds.
    case budgetTaken(runID: String, iterations: Int, holder: String, status: String)
    case invalidArgument(String)
    /// `--where`/`--by` named a key that is no recorded setting.
    /// Its exit code is the usage error's, 64, from every command (docs/settings.md).
    case unknownSetting(option: String, key: String, known: [String], aliases: [String] = [])
    /// `--where`/`--by` named a setting in a form no setting can have (`tag.` with an empty key); exit 64 too.
    case invalidSettingName(option: String, message: String)
    case database(SQLiteError, context: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "cannot open database \(path): \(reason)"
        case .schemaTooNew(let path, let found, let supported):
            return "database \(path) has schema version \(found), newer than this tracker supports (\(supported)); "
                + "upgrade tracker. The file was not changed."
        case .runNotFound(let id):
            return "no run with id '\(id)' (see `tracker list`)"
        case .ambiguousRunID(let id, let matches):
            return "run id '\(id)' matches several runs: \(Self.abbreviated(matches)); give more of it"
        case .runIsLive(let runID, let owner):
            return "run \(runID) is running in another process (\(owner)); nothing was deleted. "
                + "Stop it first; once its heartbeat is older than \(Int(Liveness.staleAfterSeconds)) s it counts as dead and may be deleted"
        case .notResumable(let runID, let reason):
            return "run \(runID) cannot be resumed: \(reason)"
        case .takenOver(let runID):
            return "run \(runID) was taken over by another process; this session stopped without writing more"
        case .corruptCheckpoint(let runID, let iteration, let reason):
            return "checkpoint of run \(runID) at iteration \(iteration) is unusable: \(reason)"
        case .configurationTaken(let runID, let status, let resumable):
            return "this configuration is already recorded as run \(runID) (\(status)); "
                + (resumable ? "continue it with `tracker resume \(runID)`" : "see `tracker show \(runID)`")
                + " (a database holds one run per configuration)"
        case .budgetTaken(let runID, let iterations, let holder, let status):
            return "run \(runID) cannot be given a budget of \(iterations) iterations: that configuration is already "
                + "recorded as run \(holder) (\(status)); nothing was changed (a database holds one run per configuration)"
        case .invalidArgument(let message):
            return message
        case .unknownSetting(let option, let key, let known, let aliases):
            return "\(option): unknown setting '\(key)'; known: \(known.joined(separator: ", "))"
                + (aliases.isEmpty ? "" : "; aliases: \(aliases.joined(separator: ", "))")
        case .invalidSettingName(let option, let message):
            return "\(option): \(message)"
        case .database(let error, let context):
            return "\(context): \(error.message) (SQLite code \(error.extendedCode))" + Self.waitLongerHint(for: error)
                + Self.racedWriterHint(for: error)
        }
    }

    /// SQLite stopped a statement at its connection's time limit (`Database.limitTime`).
    public var isInterrupted: Bool {
        if case .database(let error, _) = self { return error.isInterrupted }
        return false
    }

    /// Run ids in a one-line message: the first five, then "..." for the rest.
    static func abbreviated(_ runIDs: [String]) -> String {
        runIDs.prefix(5).joined(separator: ", ") + (runIDs.count > 5 ? ", ..." : "")
    }

    /// For "malformed" and "not a database": what a read without locks on a shared filesystem sees when a
    /// writer on another host changes the file under it. Nothing was written; say what to do instead.
    static func racedWriterHint(for error: SQLiteError) -> String {
        guard error.isCorrupt || error.isNotADatabase else { return "" }
        return "; nothing was changed. If the file is on a shared filesystem and another host writes it, this read "
            + "raced that writer: read it on the writer's host, or a copy it publishes (docs/sweeps.md#shared-filesystems)"
    }

    /// For "database is locked": another process held the lock for the whole busy timeout, and the one
    /// thing a user can do about it is wait longer. `TRACKER_BUSY_TIMEOUT_MS` is read by the tracker's
    /// commands (docs/errors.md); the store names it because every front end of this store is the tracker's.
    static func waitLongerHint(for error: SQLiteError) -> String {
        guard error.isBusy || error.isLocked else { return "" }
        return "; another process holds the database: wait for it, or set TRACKER_BUSY_TIMEOUT_MS "
            + "(milliseconds, up to 600000; default 10000) to wait longer"
    }
}

extension StoreError {
    /// Another process held the database past the busy timeout ("database is busy" or "locked").
    public var isBusyOrLocked: Bool {
        if case .database(let error, _) = self { return error.isBusy || error.isLocked }
        return false
    }

    /// A string or blob, or a query's result, went past SQLite's size limit.
    public var isTooBig: Bool {
        if case .database(let error, _) = self { return error.isTooBig }
        return false
    }

    /// The same error with `more` added to what the store was doing (a database error), else unchanged.
    public func addingContext(_ more: String) -> StoreError {
        if case .database(let error, let context) = self { return .database(error, context: context + more) }
        return self
    }
}

/// Runs `body`, turning SQLite's errors into a `StoreError` that says what the store was doing.
func storeOperation<T>(_ context: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as SQLiteError {
        throw StoreError.database(error, context: context)
    }
}

extension TrackerStore {
    /// `storeOperation` for work on one run known here by its row key (`runs.id`): the message names the
    /// run by the id people see (`deleting run 3fa9c2d1: ...`), never by the row key, which no command
    /// shows or takes. The id is looked up only when something failed.
    func runOperation<T>(_ doing: String, key: Int64, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SQLiteError {
            throw StoreError.database(error, context: "\(doing) \(publicRunID(ofKey: key))")
        }
    }

    /// The run id of row `key`, for messages; "(deleted)" when the run is gone or cannot be read.
    private func publicRunID(ofKey key: Int64) -> String {
        let found = try? database.prepare("SELECT run_id FROM runs WHERE id = ?").rows([.integer(key)]) { $0.text(0) }.first
        return found ?? "(deleted)"
    }
}
