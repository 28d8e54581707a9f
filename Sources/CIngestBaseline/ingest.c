#include "CIngestBaseline.h"

#include <sqlite3.h>
#include <stdio.h>

static int fail(sqlite3 *db, int rc, const char *what, char *error, size_t error_size) {
    snprintf(error, error_size, "%s: %s (code %d)", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
    if (db) sqlite3_close_v2(db);
    return rc;
}

int ingest_baseline(const char *path, int64_t run, int64_t rows, char *error, size_t error_size) {
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) return fail(db, rc, "open", error, error_size);
    rc = sqlite3_exec(db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    if (rc != SQLITE_OK) return fail(db, rc, "pragmas", error, error_size);

    sqlite3_stmt *insert = NULL;
    rc = sqlite3_prepare_v2(db,
        "INSERT INTO metrics (run, iteration, action, reward, greedy_action, distinct_actions) VALUES (?, ?, ?, ?, ?, ?)",
        -1, &insert, NULL);
    if (rc != SQLITE_OK) return fail(db, rc, "prepare", error, error_size);
    rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) { sqlite3_finalize(insert); return fail(db, rc, "begin", error, error_size); }

    // The same values the Swift side inserts (see StoreBenchmarks.swift, ingestValues).
    for (int64_t i = 0; i < rows; i++) {
        sqlite3_bind_int64(insert, 1, run);
        sqlite3_bind_int64(insert, 2, i);
        sqlite3_bind_int64(insert, 3, (i * 7919) % 40320);
        sqlite3_bind_double(insert, 4, 1.0 + (double)(i % 1000) * 1e-3);
        sqlite3_bind_int64(insert, 5, (i / 64) % 40320);
        sqlite3_bind_int64(insert, 6, i < 40320 ? i + 1 : 40320);
        rc = sqlite3_step(insert);
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(insert);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return fail(db, rc, "insert", error, error_size);
        }
        sqlite3_reset(insert);
    }
    rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_finalize(insert);
    if (rc != SQLITE_OK) return fail(db, rc, "commit", error, error_size);
    sqlite3_close_v2(db);
    return 0;
}
