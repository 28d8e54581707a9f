#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H

#include <sqlite3.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

// ---- Opening only regular files (see Database.guardOpens) ----
//
// SQLite's unix VFS opens every file (database, -journal, -wal, -shm, the directory it fsyncs, and
// /dev/urandom for its seed) through one replaceable system call, "open". This replacement opens with
// O_NONBLOCK, so that a FIFO (or a socket, a tty) put at the path between any check of ours and the open
// cannot block the thread in open(2) forever; looks at what it opened with fstat(2); and refuses anything
// but a regular file or a directory (SQLite opens directories to fsync them) with ENXIO, which SQLite
// reports as SQLITE_CANTOPEN. /dev/urandom, SQLite's own source of randomness, is let through. For what it
// lets through, O_NONBLOCK is cleared again before SQLite sees the descriptor, so a regular file is opened
// exactly as before. The real open(2) is called directly (SQLite's default is a plain call to it), so the
// replacement keeps no state.
static inline int csqlite_open_regular_files_only(const char *path, int flags, int mode) {
    int fd = open(path, flags | O_NONBLOCK, (mode_t)mode);
    if (fd < 0) return fd;
    struct stat status;
    if (fstat(fd, &status) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    int allowed = S_ISREG(status.st_mode) || S_ISDIR(status.st_mode)
        || (S_ISCHR(status.st_mode) && strcmp(path, "/dev/urandom") == 0);
    if (!allowed) {
        close(fd);
        errno = ENXIO;
        return -1;
    }
    if (!(flags & O_NONBLOCK)) {
        int current = fcntl(fd, F_GETFL);
        if (current == -1 || fcntl(fd, F_SETFL, current & ~O_NONBLOCK) == -1) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
    }
    return fd;
}

// Installs the replacement in the default VFS (process-wide, for every connection opened after it);
// SQLITE_OK, SQLITE_NOTFOUND when the default VFS is not one with replaceable system calls.
static inline int csqlite_install_regular_file_open(void) {
    sqlite3_vfs *vfs = sqlite3_vfs_find(0);
    if (!vfs || vfs->iVersion < 3 || !vfs->xSetSystemCall || !vfs->xGetSystemCall) return SQLITE_NOTFOUND;
    if (vfs->xGetSystemCall(vfs, "open") == (sqlite3_syscall_ptr)csqlite_open_regular_files_only) return SQLITE_OK;
    return vfs->xSetSystemCall(vfs, "open", (sqlite3_syscall_ptr)csqlite_open_regular_files_only);
}

// True when the default VFS's "open" is the replacement above (for the tests).
static inline int csqlite_regular_file_open_installed(void) {
    sqlite3_vfs *vfs = sqlite3_vfs_find(0);
    return vfs && vfs->iVersion >= 3 && vfs->xGetSystemCall
        && vfs->xGetSystemCall(vfs, "open") == (sqlite3_syscall_ptr)csqlite_open_regular_files_only;
}

// ---- A deadline for a connection's statements (see Database.limitTime) ----
//
// A progress handler, called every 1,000 virtual-machine instructions, that interrupts the running
// statement (SQLITE_INTERRUPT) once CLOCK_MONOTONIC passes the deadline its context points to, in
// nanoseconds; a deadline of 0 never interrupts.
static inline long long csqlite_monotonic_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000000LL + (long long)now.tv_nsec;
}

static inline int csqlite_past_deadline(void *context) {
    long long deadline = *(const long long *)context;
    return deadline != 0 && csqlite_monotonic_nanoseconds() >= deadline;
}

static inline void csqlite_install_deadline(sqlite3 *db, long long *deadline) {
    sqlite3_progress_handler(db, deadline ? 1000 : 0, deadline ? csqlite_past_deadline : 0, deadline);
}

#endif
