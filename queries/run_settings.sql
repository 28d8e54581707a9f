-- Every setting of each run that determines its results besides its frame's tasks and its learner seed: what `compare` and `plot` group runs by.
-- :run_id text = NULL   only this run (NULL: every run)
-- :n integer = NULL   only runs with this N (NULL: every N)
--
-- After run_id come the settings: the algorithm, N, phi and budget, the frame's model constants (rate,
-- cpu_hz, zeta) and every column of run_params. `p.*` is deliberate: a column a later migration adds
-- to run_params becomes part of the configuration by itself. `tracker` leaves out run and
-- checkpoint_every (and keep_checkpoints), which do not change results.
-- An imported run (`tracker import`) has no run_params row: its p.* columns are NULL, and `tracker` reads
-- its settings from run_import_settings instead.
SELECT
    r.run_id,
    r.algorithm,
    r.n,
    r.phi,
    r.planned_iterations AS iterations,
    f.uplink_rate AS rate,
    f.cpu_hz,
    f.zeta,
    p.*
FROM runs AS r
LEFT JOIN run_params AS p ON p.run = r.id
JOIN frames AS f ON f.frame_id = r.frame_id
WHERE (:run_id IS NULL OR r.run_id = :run_id)
  AND (:n IS NULL OR r.n = :n)
ORDER BY r.id;
