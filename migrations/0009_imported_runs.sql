-- migrator: foreign_keys off
-- Imported runs (`tracker import`, docs/import.md): runs a learner outside the tracker made, recorded from a
-- JSONL file beside the built-in ones. Such a run has its own algorithm name, which the CHECK of 0002 refused,
-- so `runs` is rebuilt (SQLite's table change: create, copy, drop, rename) with a new column `origin` and a
-- CHECK that ties the algorithm to it. The first line makes the migrator turn foreign keys off around this
-- file (with them on, dropping `runs` would delete every row that references it) and run
-- `PRAGMA foreign_key_check` before it commits. Every run keeps its id, so nothing that references one changes.

-- 'tracker': trained by `tracker run`/`sweep` (algorithm ql, dteql or dtaql, every run before this migration).
-- 'imported': recorded by `tracker import` (any other algorithm name, never one of the built-in ones in any case).
CREATE TABLE runs_0009 (
    id                 INTEGER PRIMARY KEY,
    run_id             TEXT    NOT NULL UNIQUE,
    algorithm          TEXT    NOT NULL,
    n                  INTEGER NOT NULL CHECK (n >= 2),
    phi                INTEGER NOT NULL CHECK (phi >= 0),
    seed               INTEGER NOT NULL,
    frame_id           INTEGER NOT NULL REFERENCES frames (frame_id),
    status             TEXT    NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
    created_at         TEXT    NOT NULL,
    started_at         TEXT,
    finished_at        TEXT,
    heartbeat_at       TEXT,
    planned_iterations INTEGER NOT NULL CHECK (planned_iterations >= 1),
    done_iterations    INTEGER NOT NULL DEFAULT 0 CHECK (done_iterations >= 0),
    elapsed_seconds    REAL    NOT NULL DEFAULT 0,
    tracker_version    TEXT    NOT NULL,
    host               TEXT    NOT NULL,
    pid                INTEGER,
    label              TEXT,
    error              TEXT,
    config_hash        TEXT    NOT NULL,
    origin             TEXT    NOT NULL DEFAULT 'tracker' CHECK (origin IN ('tracker', 'imported')),
    CHECK ((origin = 'tracker' AND algorithm IN ('ql', 'dteql', 'dtaql'))
        OR (origin = 'imported' AND algorithm <> '' AND lower(algorithm) NOT IN ('ql', 'dteql', 'dtaql')))
) STRICT;

INSERT INTO runs_0009 (id, run_id, algorithm, n, phi, seed, frame_id, status, created_at, started_at, finished_at,
    heartbeat_at, planned_iterations, done_iterations, elapsed_seconds, tracker_version, host, pid, label, error,
    config_hash, origin)
SELECT id, run_id, algorithm, n, phi, seed, frame_id, status, created_at, started_at, finished_at,
    heartbeat_at, planned_iterations, done_iterations, elapsed_seconds, tracker_version, host, pid, label, error,
    config_hash, 'tracker'
FROM runs;

-- The view reads run_params, which an imported run has none of: recreated below with a LEFT JOIN.
DROP VIEW iteration_metrics;
DROP TABLE runs;
-- Legacy renaming leaves every other reference to `runs` (foreign keys, views, triggers of later tables) as
-- written, which is right: they name `runs`, and `runs` is what the new table becomes.
PRAGMA legacy_alter_table = ON;
ALTER TABLE runs_0009 RENAME TO runs;
PRAGMA legacy_alter_table = OFF;

CREATE INDEX runs_by_configuration ON runs (n, algorithm, phi, status);
CREATE INDEX runs_by_label ON runs (label);
CREATE INDEX runs_by_config_hash ON runs (config_hash);
CREATE INDEX runs_by_frame ON runs (frame_id);

-- The triggers of 0007 and 0008 went with the old table.
CREATE TRIGGER runs_one_per_configuration_insert BEFORE INSERT ON runs
WHEN EXISTS (SELECT 1 FROM runs WHERE config_hash = NEW.config_hash)
BEGIN
    SELECT RAISE(ABORT, 'this configuration is already claimed by another run (runs.config_hash)');
END;

CREATE TRIGGER runs_one_per_configuration_update BEFORE UPDATE OF config_hash ON runs
WHEN EXISTS (SELECT 1 FROM runs WHERE config_hash = NEW.config_hash AND id <> NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'this configuration is already claimed by another run (runs.config_hash)');
END;

CREATE TRIGGER run_labels_from_insert AFTER INSERT ON runs WHEN NEW.label IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO run_labels (run, label) VALUES (NEW.id, NEW.label);
END;

CREATE TRIGGER run_labels_from_update AFTER UPDATE OF label ON runs WHEN NEW.label IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO run_labels (run, label) VALUES (NEW.id, NEW.label);
END;

-- As 0002's, but an imported run (no run_params row) keeps its rows, with a NULL epsilon.
CREATE VIEW iteration_metrics AS
SELECT
    m.run,
    r.run_id,
    m.iteration,
    p.epsilon_min + (p.epsilon_start - p.epsilon_min) * exp(-m.iteration / p.epsilon_decay) AS epsilon,
    m.action,
    m.reward,
    m.greedy_action,
    f.edf_objective / g.objective AS normalized_reward,
    g.objective,
    g.misses,
    g.mean_completion_s,
    m.distinct_actions
FROM metrics AS m
JOIN runs AS r ON r.id = m.run
LEFT JOIN run_params AS p ON p.run = m.run
JOIN frames AS f ON f.frame_id = r.frame_id
JOIN frame_actions AS g ON g.frame_id = r.frame_id AND g.action = m.greedy_action;

-- What an imported run's file said about it besides its metrics: one row per imported run.
CREATE TABLE run_imports (
    run        INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    -- The file's format, e.g. 'tracker-import/1'.
    format     TEXT    NOT NULL,
    -- The file as `tracker import` was given it (a path, or '-' for standard input).
    source     TEXT    NOT NULL,
    -- The header's "provenance" object as JSON text (how the run was made elsewhere: command, host, code
    -- version...); '{}' when the header has none. The import itself is in run_provenance like any run's.
    provenance TEXT    NOT NULL CHECK (json_valid(provenance))
) STRICT;

-- An imported run's settings (the header's "settings"), one row each: a setting the tracker knows under its
-- canonical name (`lr`, `gamma`, `beta`, ...), any other under the key the file gives. Part of the run's
-- configuration: `compare` and `plot` split columns and lines by them as by run_params.
CREATE TABLE run_import_settings (
    run   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key   TEXT    NOT NULL CHECK (key <> ''),
    value ANY     NOT NULL CHECK (typeof(value) IN ('integer', 'real', 'text')),
    PRIMARY KEY (run, key)
) STRICT, WITHOUT ROWID;
