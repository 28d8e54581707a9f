-- Frames: the N tasks a run schedules and the model they are scheduled under, stored once and shared by
-- every run on the same frame, so a run can be reproduced from the database alone.

CREATE TABLE frames (
    frame_id               INTEGER PRIMARY KEY,
    -- SHA-256 (hex) of the tasks and model parameters as little-endian doubles: the frame's identity.
    fingerprint            TEXT    NOT NULL UNIQUE,
    n                      INTEGER NOT NULL CHECK (n >= 1),
    -- 'generated' (from `seed`) or 'file' (from a task file).
    source                 TEXT    NOT NULL CHECK (source IN ('generated', 'file')),
    seed                   INTEGER,
    uplink_rate            REAL    NOT NULL,
    cpu_hz                 REAL    NOT NULL,
    zeta                   REAL    NOT NULL,
    -- The exact optimum J* and one optimal order (JSON array of task indices); NULL when N is above
    -- what the exact solver supports.
    optimal_objective      REAL,
    optimal_order          TEXT,
    optimal_misses         INTEGER,
    optimal_mean_completion_s REAL,
    -- The reference orders' objectives J. The normalized reward divides by edf_objective.
    fifo_objective         REAL    NOT NULL,
    edf_objective          REAL    NOT NULL,
    spt_objective          REAL    NOT NULL,
    johnson_objective      REAL    NOT NULL,
    created_at             TEXT    NOT NULL
) STRICT;

CREATE TABLE frame_tasks (
    frame_id       INTEGER NOT NULL REFERENCES frames (frame_id) ON DELETE CASCADE,
    task           INTEGER NOT NULL CHECK (task >= 0),
    data_bits      REAL    NOT NULL CHECK (data_bits > 0),
    deadline_s     REAL    NOT NULL CHECK (deadline_s > 0),
    cycles_per_bit REAL    NOT NULL CHECK (cycles_per_bit > 0),
    PRIMARY KEY (frame_id, task)
) STRICT, WITHOUT ROWID;
