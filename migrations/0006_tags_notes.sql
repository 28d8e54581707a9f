-- Tags and a note added to a run after the fact (`tracker tag`, `tracker note`): what a person knows about
-- a run that its settings do not say. Neither changes results, so neither is part of a configuration.

-- One row per tag: `tracker tag RUN baseline=yes` sets (run, 'baseline', 'yes'). Queryable in plain SQL:
-- SELECT r.run_id FROM runs r JOIN run_tags t ON t.run = r.id WHERE t.key = 'baseline' AND t.value = 'yes'.
CREATE TABLE run_tags (
    run   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    -- Non-empty, without '=' (checked by the tracker and here).
    key   TEXT    NOT NULL CHECK (key <> '' AND instr(key, '=') = 0),
    value TEXT    NOT NULL,
    PRIMARY KEY (run, key)
) STRICT;

-- At most one note per run; a run without a note has no row.
CREATE TABLE run_notes (
    run  INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    note TEXT    NOT NULL
) STRICT;
