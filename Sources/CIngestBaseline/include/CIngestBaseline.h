#ifndef CINGEST_BASELINE_H
#define CINGEST_BASELINE_H

#include <stdint.h>
#include <stddef.h>

// The baseline tracker-bench's ingest section measures the Swift layer against: a plain C loop over
// libsqlite3 inserting `rows` rows into the tracker's `metrics` table for run `run`, through one prepared
// statement in one transaction. The file must already hold the schema and the run (the bench creates it
// with TrackerStore). Opens its own connection with the settings the tracker uses (WAL is in the file;
// synchronous = NORMAL, foreign keys on). Returns 0, or an SQLite result code with a message in `error`.
int ingest_baseline(const char *path, int64_t run, int64_t rows, char *error, size_t error_size);

#endif
