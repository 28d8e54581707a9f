#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H

#include <sqlite3.h>

// Swift cannot import the SQLITE_TRANSIENT macro (a cast of -1 to a function pointer), so it is defined
// once here. It tells SQLite to copy a bound text or blob before sqlite3_bind_* returns.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return (sqlite3_destructor_type)-1;
}

// sqlite3_db_config is variadic, which Swift cannot call; these wrappers fix the argument list.
static inline int csqlite_db_config_int(sqlite3 *db, int op, int value, int *result) {
    return sqlite3_db_config(db, op, value, result);
}

// The authorizer that refuses fts3_tokenizer() in every statement (see Database.init): with
// SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER off, SQLite still lets the function read or replace a tokenizer's
// C pointer when its arguments are bound parameters, so the function is refused outright at prepare time.
static inline int csqlite_refuse_fts3_tokenizer(void *context, int action, const char *first,
                                                const char *second, const char *database, const char *trigger) {
    (void)context; (void)first; (void)database; (void)trigger;
    if (action == SQLITE_FUNCTION && second && sqlite3_stricmp(second, "fts3_tokenizer") == 0) {
        return SQLITE_DENY;
    }
    return SQLITE_OK;
}

static inline int csqlite_install_fts3_tokenizer_refusal(sqlite3 *db) {
    return sqlite3_set_authorizer(db, csqlite_refuse_fts3_tokenizer, 0);
}

// A WAL hook that only records, in the int its context points to, how many frames the WAL holds after
// each commit. Installing it replaces the connection's automatic checkpoints (they are a WAL hook too),
// which is the point: the caller checkpoints from elsewhere (see Database.leaveCheckpointsToCaller).
static inline int csqlite_count_wal_frames(void *context, sqlite3 *db, const char *name, int frames) {
    (void)db; (void)name;
    *(int *)context = frames;
    return SQLITE_OK;
}

static inline void csqlite_install_wal_frame_counter(sqlite3 *db, int *frames) {
    sqlite3_wal_hook(db, frames ? csqlite_count_wal_frames : 0, frames);
}

#endif
