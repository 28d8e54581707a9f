import SQLite

/// Tags (`key=value`) and a note put on a run after it was recorded (`run_tags`, `run_notes`). They
/// describe a run without determining its results: they filter (`--where tag.K=V`) and group (`--by
/// tag.K`) only when asked to.
public enum RunTags {
    /// `--where` and `--by` name a tag as `tag.KEY`.
    public static let settingPrefix = "tag."

    /// A tag key must be non-empty and free of '=' (so `KEY=VALUE` splits one way only).
    public static func checkKey(_ key: String) throws {
        guard !key.isEmpty, !key.contains("=") else {
            throw StoreError.invalidArgument("tag key '\(key)' must be non-empty and contain no '='")
        }
    }

    /// `KEY=VALUE`, split at the first '='; the value may be empty, the key may not.
    public static func parse(_ text: String) throws -> (key: String, value: String) {
        guard let equals = text.firstIndex(of: "=") else {
            throw StoreError.invalidArgument("'\(text)' is not KEY=VALUE (e.g. baseline=yes)")
        }
        let key = String(text[..<equals])
        try checkKey(key)
        return (key, String(text[text.index(after: equals)...]))
    }
}

extension TrackerStore {
    /// Sets these tags on the run (replacing a tag's old value) and removes the keys in `removing`, in one
    /// transaction: either all of it happens or none.
    public func updateTags(ofRun key: Int64, setting tags: [(key: String, value: String)], removing: [String]) throws {
        for tag in tags { try RunTags.checkKey(tag.key) }
        for removed in removing { try RunTags.checkKey(removed) }
        try runOperation("tagging run", key: key) {
            try database.transaction(.immediate) {
                let upsert = try database.cachedStatement("""
                    INSERT INTO run_tags (run, key, value) VALUES (?, ?, ?)
                    ON CONFLICT (run, key) DO UPDATE SET value = excluded.value
                    """)
                for tag in tags { try upsert.run([.integer(key), .text(tag.key), .text(tag.value)]) }
                let delete = try database.cachedStatement("DELETE FROM run_tags WHERE run = ? AND key = ?")
                for removed in removing { try delete.run([.integer(key), .text(removed)]) }
            }
        }
    }

    /// The run's tags by key.
    public func tags(ofRun key: Int64) throws -> [String: String] {
        try runOperation("reading the tags of run", key: key) {
            let statement = try database.cachedStatement("SELECT key, value FROM run_tags WHERE run = ?")
            return Dictionary(uniqueKeysWithValues: try statement.rows([.integer(key)]) { ($0.text(0), $0.text(1)) })
        }
    }

    /// Every run's tags, by run id (runs without tags are absent).
    public func tagsByRunID() throws -> [String: [String: String]] {
        try storeOperation("reading tags") {
            let statement = try database.cachedStatement(
                "SELECT r.run_id, t.key, t.value FROM run_tags AS t JOIN runs AS r ON r.id = t.run")
            var tags: [String: [String: String]] = [:]
            for (runID, key, value) in try statement.rows([], { ($0.text(0), $0.text(1), $0.text(2)) }) {
                tags[runID, default: [:]][key] = value
            }
            return tags
        }
    }

    /// Sets the run's note; nil (or `tracker note RUN ""`) removes it.
    public func setNote(ofRun key: Int64, to note: String?) throws {
        try runOperation("writing the note of run", key: key) {
            try database.transaction(.immediate) {
                if let note, !note.isEmpty {
                    let upsert = try database.cachedStatement("""
                        INSERT INTO run_notes (run, note) VALUES (?, ?) ON CONFLICT (run) DO UPDATE SET note = excluded.note
                        """)
                    try upsert.run([.integer(key), .text(note)])
                } else {
                    try database.cachedStatement("DELETE FROM run_notes WHERE run = ?").run([.integer(key)])
                }
            }
        }
    }

    public func note(ofRun key: Int64) throws -> String? {
        try runOperation("reading the note of run", key: key) {
            try database.cachedStatement("SELECT note FROM run_notes WHERE run = ?").rows([.integer(key)]) { $0.text(0) }.first
        }
    }
}
