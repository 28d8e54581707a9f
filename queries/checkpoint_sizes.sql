-- Checkpoints per run: how many, their total and largest size in bytes, and the newest one's iteration.
-- :run_id text = NULL       only this run (NULL: every run with a checkpoint)
-- Reads the bytes column, not the snapshot blobs. Runs without any checkpoint are left out.
SELECT
    r.run_id,
    r.algorithm,
    r.n,
    r.phi,
    r.status,
    count(*) AS checkpoints,
    sum(c.bytes) AS total_bytes,
    max(c.bytes) AS largest_bytes,
    max(c.iteration) AS newest_iteration
FROM checkpoints AS c
JOIN runs AS r ON r.id = c.run
WHERE (:run_id IS NULL OR r.run_id = :run_id)
GROUP BY c.run
ORDER BY total_bytes DESC, r.id;
