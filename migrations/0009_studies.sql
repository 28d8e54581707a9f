-- `tracker tune` (docs/tune.md): a study searches settings with successive halving. Its canonical spec is
-- stored with its hash, so a spec edited between invocations is refused; its trials are the sampler's
-- points; a rung result is a trial's objective at one budget, over the runs listed in study_rung_runs.
-- Runs are referred to by run_id, not by key: a run outlives a study's interest in it (`delete`, `gc`
-- never trip over these rows) and is extended from rung to rung, so one run row serves several rungs.

CREATE TABLE studies (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    spec       TEXT    NOT NULL,               -- the canonical spec: JSON, keys sorted, defaults filled in
    spec_hash  TEXT    NOT NULL,               -- SHA-256 of spec
    objective  TEXT    NOT NULL,
    direction  TEXT    NOT NULL CHECK (direction IN ('minimize', 'maximize')),
    created_at TEXT    NOT NULL
) STRICT;

CREATE TABLE study_trials (
    study    INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    trial    INTEGER NOT NULL CHECK (trial >= 0),  -- 0-based, the sampler's point index
    bracket  INTEGER NOT NULL,                     -- the rung its bracket starts at
    settings TEXT    NOT NULL,                     -- JSON object of the searched settings by canonical name
    PRIMARY KEY (study, trial)
) STRICT, WITHOUT ROWID;

CREATE TABLE study_rungs (
    study       INTEGER NOT NULL,
    trial       INTEGER NOT NULL,
    rung        INTEGER NOT NULL CHECK (rung >= 0),
    budget      INTEGER NOT NULL CHECK (budget >= 1),
    objective   REAL,                              -- NULL: beyond the budget (no median convergence) or unknown
    runs        INTEGER NOT NULL,
    iterations  INTEGER NOT NULL,                  -- what this rung charges: runs x (budget - previous rung's budget)
    recorded_at TEXT    NOT NULL,
    PRIMARY KEY (study, trial, rung),
    FOREIGN KEY (study, trial) REFERENCES study_trials (study, trial) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE TABLE study_rung_runs (
    study    INTEGER NOT NULL,
    trial    INTEGER NOT NULL,
    rung     INTEGER NOT NULL,
    position INTEGER NOT NULL,                     -- the run's (N, frame seed, seed) in the spec's order
    run_id   TEXT    NOT NULL,
    value    REAL,                                 -- the run's own value (iterations to optimal, J*/J, ...)
    PRIMARY KEY (study, trial, rung, position),
    FOREIGN KEY (study, trial, rung) REFERENCES study_rungs (study, trial, rung) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX study_rung_runs_by_run ON study_rung_runs (run_id);
