-- Finished runs that share a config_hash but ended with different Q-tables: should return nothing.
-- Equal config hashes mean equal frame, algorithm, hyperparameters and budget, so the final Q-tables
-- must be bit-identical; a row here points at nondeterminism (or a changed learner under an unchanged
-- hash). One row per run of each such group.
SELECT
    r.config_hash,
    r.run_id,
    r.algorithm,
    r.n,
    r.phi,
    r.seed,
    r.tracker_version,
    s.qtable_sha256,
    r.created_at
FROM runs AS r
JOIN run_summaries AS s ON s.run = r.id
WHERE r.config_hash IN (
    SELECT r2.config_hash
    FROM runs AS r2
    JOIN run_summaries AS s2 ON s2.run = r2.id
    GROUP BY r2.config_hash
    HAVING count(DISTINCT s2.qtable_sha256) > 1
)
ORDER BY r.config_hash, r.id;
