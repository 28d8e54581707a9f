-- How each run came to be, so a result can be traced long after: written once, in the transaction that
-- records the run. Runs recorded before this migration have no row. docs/schema.md describes every column.

CREATE TABLE run_provenance (
    run               INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    -- The process's arguments, each shell-quoted where it needs it: `tracker run --algo dteql ...`.
    command_line      TEXT    NOT NULL,
    working_directory TEXT    NOT NULL,
    -- HEAD of the git work tree holding the working directory; NULL outside one (or without git).
    git_commit        TEXT,
    -- 1 when that work tree had changes not committed (tracked or untracked files); NULL outside one.
    git_dirty         INTEGER CHECK (git_dirty IN (0, 1)),
    host              TEXT    NOT NULL,
    user              TEXT    NOT NULL,
    -- Kernel name, release and machine, as uname(2) reports them: `Linux 6.1.0-18-amd64 x86_64`.
    os                TEXT    NOT NULL,
    tracker_version   TEXT    NOT NULL,
    -- sqlite_version() of the library that recorded the run.
    sqlite_version    TEXT    NOT NULL,
    -- The sweep spec that started the run (its path as given, or sweeps/paper.json for reproduce) and the
    -- SHA-256 of its bytes; NULL for a run started by `tracker run`.
    sweep_name        TEXT,
    sweep_sha256      TEXT
) STRICT;
