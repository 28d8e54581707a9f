-- Runs: one learner trained on one frame, with its settings, per-iteration metrics, checkpoints and
-- summary. docs/schema.md describes every column.

CREATE TABLE runs (
    id                 INTEGER PRIMARY KEY,
    -- Short text id for people and scripts (`tracker show 3fa9c2d1`).
    run_id             TEXT    NOT NULL UNIQUE,
    algorithm          TEXT    NOT NULL CHECK (algorithm IN ('ql', 'dteql', 'dtaql')),
    n                  INTEGER NOT NULL CHECK (n >= 2),
    -- Twin actions (dteql) or twin agents (dtaql) per iteration; 0 for ql.
    phi                INTEGER NOT NULL CHECK (phi >= 0),
    -- Seed of the learner's generator (the frame's seed is frames.seed).
    seed               INTEGER NOT NULL,
    frame_id           INTEGER NOT NULL REFERENCES frames (frame_id),
    status             TEXT    NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
    created_at         TEXT    NOT NULL,
    started_at         TEXT,
    finished_at        TEXT,
    -- Refreshed with every committed batch: a 'running' run whose heartbeat is old, or whose process is
    -- gone, was killed and can be resumed.
    heartbeat_at       TEXT,
    planned_iterations INTEGER NOT NULL CHECK (planned_iterations >= 1),
    done_iterations    INTEGER NOT NULL DEFAULT 0 CHECK (done_iterations >= 0),
    -- Seconds spent computing so far, summed over every session (run and resumes).
    elapsed_seconds    REAL    NOT NULL DEFAULT 0,
    tracker_version    TEXT    NOT NULL,
    host               TEXT    NOT NULL,
    pid                INTEGER,
    label              TEXT,
    -- Why a 'failed' run failed, one line.
    error              TEXT,
    -- SHA-256 of everything that determines the results (frame, algorithm, every hyperparameter,
    -- planned iterations): two runs with the same hash must end bit-identical. Sweeps and merges use
    -- it as the run's identity.
    config_hash        TEXT    NOT NULL
) STRICT;

CREATE INDEX runs_by_configuration ON runs (n, algorithm, phi, status);
CREATE INDEX runs_by_label ON runs (label);
CREATE INDEX runs_by_config_hash ON runs (config_hash);
CREATE INDEX runs_by_frame ON runs (frame_id);

-- Every hyperparameter that determines a run besides runs.algorithm, n, phi and seed, one typed
-- column each, so any of them can be filtered on.
CREATE TABLE run_params (
    run                INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    delta              INTEGER NOT NULL,
    learning_rate      REAL    NOT NULL,
    discount           REAL    NOT NULL,
    epsilon_start      REAL    NOT NULL,
    epsilon_min        REAL    NOT NULL,
    epsilon_decay      REAL    NOT NULL,
    reward             TEXT    NOT NULL CHECK (reward IN ('ratio', 'negative')),
    -- The twin's own model; NULL where it equals the real one (frames.uplink_rate, ...).
    twin_uplink_rate   REAL,
    twin_cpu_hz        REAL,
    twin_zeta          REAL,
    twin_noise         REAL    NOT NULL DEFAULT 0,
    twin_noise_seed    INTEGER NOT NULL DEFAULT 0,
    checkpoint_every   INTEGER NOT NULL
) STRICT;

-- The outcome of each action (order) of a frame that some run held as its greedy action. Actions are
-- lexicographic ranks of permutations of the frame's task indices.
CREATE TABLE frame_actions (
    frame_id           INTEGER NOT NULL REFERENCES frames (frame_id) ON DELETE CASCADE,
    action             INTEGER NOT NULL CHECK (action >= 0),
    objective          REAL    NOT NULL,
    misses             INTEGER NOT NULL,
    mean_completion_s  REAL    NOT NULL,
    PRIMARY KEY (frame_id, action)
) STRICT, WITHOUT ROWID;

-- One row per iteration, kept small: what follows from other tables (epsilon, the greedy action's
-- J and normalized reward) is in the iteration_metrics view.
CREATE TABLE metrics (
    run                INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    iteration          INTEGER NOT NULL CHECK (iteration >= 0),
    action             INTEGER NOT NULL,
    -- The real action's reward, in the run's reward form.
    reward             REAL    NOT NULL,
    greedy_action      INTEGER NOT NULL,
    distinct_actions   INTEGER NOT NULL,
    PRIMARY KEY (run, iteration)
) STRICT, WITHOUT ROWID;

-- Learner snapshots; `iteration` is the number of iterations done when it was taken. A checkpoint is
-- committed in the same transaction as the metrics up to it.
CREATE TABLE checkpoints (
    run                INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    iteration          INTEGER NOT NULL CHECK (iteration >= 0),
    layout_version     INTEGER NOT NULL,
    snapshot           BLOB    NOT NULL,
    bytes              INTEGER NOT NULL,
    sha256             TEXT    NOT NULL,
    created_at         TEXT    NOT NULL,
    PRIMARY KEY (run, iteration)
) STRICT;

-- Written when a run finishes.
CREATE TABLE run_summaries (
    run                   INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    iterations            INTEGER NOT NULL,
    greedy_action         INTEGER NOT NULL,
    greedy_order          TEXT    NOT NULL,
    objective             REAL    NOT NULL,
    normalized_reward     REAL    NOT NULL,
    misses                INTEGER NOT NULL,
    mean_completion_s     REAL    NOT NULL,
    -- J* / J of the greedy order; NULL where J* is unknown.
    optimality_ratio      REAL,
    -- First iteration from which the greedy order is optimal through the end; NULL where it is not
    -- optimal at the end (shown as "> budget") or J* is unknown.
    iterations_to_optimal INTEGER,
    -- First iteration after which the greedy action never changed.
    stable_iteration      INTEGER NOT NULL,
    distinct_actions      INTEGER NOT NULL,
    wall_seconds          REAL    NOT NULL,
    iterations_per_second REAL    NOT NULL,
    -- SHA-256 of the real agent's final Q-table as little-endian doubles in rank order.
    qtable_sha256         TEXT    NOT NULL
) STRICT;

-- The per-iteration observation with every derived field, for plain SQL.
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
JOIN run_params AS p ON p.run = m.run
JOIN frames AS f ON f.frame_id = r.frame_id
JOIN frame_actions AS g ON g.frame_id = r.frame_id AND g.action = m.greedy_action;
