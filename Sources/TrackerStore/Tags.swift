import Foundation
import SQLite

/// Tags (`key=value`) and a note put on a run after it was recorded (`run_tags`, `run_notes`). They
/// describe a run without determining its results: they filter (`--where tag.K=V`) and group (`--by
/// tag.K`) only when asked to.
public enum RunTags {
    /// `--where` and `--by` name a tag as `tag.KEY`.
    public static let settingPrefix = "tag."

    /// The one form a tag key is stored and compared in: Unicode NFC (composed), the form most keyboards
    /// type. `é` typed composed (U+00E9) and decomposed (`e` U+0301, as macOS file names and some
    /// keyboards produce it) are one key: Swift's `String` already calls them equal, SQLite's bytes do not,
    /// so unnormalized they were two rows that trapped `show` (a duplicate dictionary key). Keys are
    /// normalized when tagged, when given to `--where tag.K`, `--by tag.K` and `list --tag`, when read, and
    /// once in the file (``TrackerStore/normalizeTagKeys()``). Values are kept as typed.
    public static func normalizedKey(_ key: String) -> String {
        key.precomposedStringWithCanonicalMapping
    }

    /// A `--where`/`--by` key: `tag.KEY` with KEY in NFC; any other setting key by its canonical name
    /// (``SettingVocabulary``: `learning_rate` is `lr`), or as it is when the vocabulary has no such name.
    public static func normalizedSettingKey(_ key: String) -> String {
        key.hasPrefix(settingPrefix) ? settingPrefix + normalizedKey(String(key.dropFirst(settingPrefix.count)))
            : SettingVocabulary.canonical(key)
    }

    /// Whether `key`'s bytes are already NFC (`==` on `String` cannot tell: it compares canonically).
    static func isNormalized(_ key: String) -> Bool {
        key.utf8.elementsEqual(normalizedKey(key).utf8)
    }

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
        let key = normalizedKey(String(text[..<equals]))
        try checkKey(key)
        return (key, String(text[text.index(after: equals)...]))
    }
}

extension TrackerStore {
    /// Sets these tags on the run (replacing a tag's old value) and removes the keys in `removing`, in one
    /// transaction: either all of it happens or none.
    /// Keys are stored in NFC (``RunTags/normalizedKey(_:)``). A tag set replaces its row (a new rowid), so
    /// the rowid orders tags by when they were last set: what ``normalizeTagKeys()`` keeps on a collision.
    public func updateTags(ofRun key: Int64, setting tags: [(key: String, value: String)], removing: [String]) throws {
        let tags = tags.map { (key: RunTags.normalizedKey($0.key), value: $0.value) }
        let removing = removing.map(RunTags.normalizedKey)
        for tag in tags { try RunTags.checkKey(tag.key) }
        for removed in removing { try RunTags.checkKey(removed) }
        try runOperation("tagging run", key: key) {
            try database.transaction(.immediate) {
                let upsert = try database.cachedStatement("INSERT OR REPLACE INTO run_tags (run, key, value) VALUES (?, ?, ?)")
                for tag in tags { try upsert.run([.integer(key), .text(tag.key), .text(tag.value)]) }
                let delete = try database.cachedStatement("DELETE FROM run_tags WHERE run = ? AND key = ?")
                for removed in removing { try delete.run([.integer(key), .text(removed)]) }
            }
        }
    }

    /// The run's tags by key (NFC). Built from stored rows without trusting them to be unique as Swift
    /// sees keys: a file not yet repaired (read-only, or from an older tracker) may hold one key in two
    /// normal forms; the value set last (the higher rowid) wins, as ``normalizeTagKeys()`` decides.
    public func tags(ofRun key: Int64) throws -> [String: String] {
        try runOperation("reading the tags of run", key: key) {
            let statement = try database.cachedStatement("SELECT key, value FROM run_tags WHERE run = ? ORDER BY rowid")
            var tags: [String: String] = [:]
            for (tagKey, value) in try statement.rows([.integer(key)], { ($0.text(0), $0.text(1)) }) {
                tags[RunTags.normalizedKey(tagKey)] = value
            }
            return tags
        }
    }

    /// Every run's tags, by run id (runs without tags are absent).
    public func tagsByRunID() throws -> [String: [String: String]] {
        try storeOperation("reading tags") {
            let statement = try database.cachedStatement(
                "SELECT r.run_id, t.key, t.value FROM run_tags AS t JOIN runs AS r ON r.id = t.run ORDER BY t.rowid")
            var tags: [String: [String: String]] = [:]
            for (runID, key, value) in try statement.rows([], { ($0.text(0), $0.text(1), $0.text(2)) }) {
                tags[runID, default: [:]][RunTags.normalizedKey(key)] = value  // the newest of one key's forms wins
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

extension TrackerStore {
    /// The one-time repair of tag keys stored before keys were normalized (earlier trackers stored them
    /// as typed; the schema did not change): every key not in NFC is rewritten to NFC. Where the run already
    /// has that key in another form, the value set last (the higher rowid; a tag set replaces its row)
    /// is kept and the other row dropped. SQLite has no NFC function, so this is Swift, run after the
    /// migrations on every read-write open; it writes only when a key needs it (a key with non-ASCII
    /// characters that is not NFC), so an ordinary open costs one read of the keys that are not ASCII.
    /// docs/schema.md describes it.
    func normalizeTagKeys() throws {
        let select = "SELECT rowid, run, key FROM run_tags WHERE length(CAST(key AS BLOB)) <> length(key) ORDER BY rowid"
        let needsRepair = try storeOperation("reading tag keys") {
            try database.cachedStatement(select).rows([]) { $0.text(2) }.contains { !RunTags.isNormalized($0) }
        }
        guard needsRepair else { return }
        try storeOperation("normalizing tag keys to NFC") {
            try database.transaction(.immediate) {
                // Read again inside the write transaction: another process may have repaired them already.
                let rows = try database.cachedStatement(select).rows([]) { ($0.int64(0), $0.int64(1), $0.text(2)) }
                let existing = try database.cachedStatement("SELECT rowid FROM run_tags WHERE run = ? AND key = ?")
                let delete = try database.cachedStatement("DELETE FROM run_tags WHERE rowid = ?")
                let rename = try database.cachedStatement("UPDATE run_tags SET key = ? WHERE rowid = ?")
                for (rowid, run, key) in rows where !RunTags.isNormalized(key) {
                    let normalized = RunTags.normalizedKey(key)
                    if let other = try existing.rows([.integer(run), .text(normalized)], { $0.int64(0) }).first {
                        if other > rowid {
                            try delete.run([.integer(rowid)])  // the NFC row was set later: it stays
                            continue
                        }
                        try delete.run([.integer(other)])  // this row was set later: it takes the key
                    }
                    try rename.run([.text(normalized), .integer(rowid)])
                }
            }
        }
    }
}
