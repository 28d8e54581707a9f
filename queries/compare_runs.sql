-- One row per run with its configuration, budget and final summary: the input of `tracker compare`.
-- :n integer = NULL                 only runs with N tasks (NULL: every N)
-- :label text = NULL                only runs with this label (one of their labels: run_labels)
-- :algo text = NULL                 only this algorithm: ql, dteql or dtaql
-- :since text = NULL                only runs created at or after this UTC time, e.g. 2026-11-29 or 2026-11-29T04:00:00Z
-- :iterations integer = NULL        only runs with this planned iteration budget
-- :include_unfinished integer = 0   1: also runs that have not finished (running, interrupted, failed)
--
-- Finished runs only by default. An unfinished run has no summary, so its summary columns
-- (normalized_reward ... optimality_ratio) are NULL: `tracker compare --include-unfinished` counts such
-- runs per configuration but leaves them out of every aggregate.
-- iterations_to_optimal is NULL for a finished run whose final greedy order is not optimal (it did not
-- converge within planned_iterations) or whose frame has no known optimum.
-- Reads runs, run_summaries and frames only (never metrics), so it stays fast on large databases.
SELECT
    r.run_id,
    r.algorithm,
    r.phi,
    r.n,
    r.label,
    r.status,
    r.planned_iterations,
    r.done_iterations,
    s.normalized_reward,
    s.misses,
    s.mean_completion_s,
    s.iterations_to_optimal,
    s.optimality_ratio,
    -- (D_rand - D) / (D_rand - D*): 0 = a uniformly random order, 1 = the optimum's mean completion time
    -- (docs/model.md); NULL without a summary or where D_rand or D* is unknown.
    (f.random_mean_completion_s - s.mean_completion_s)
        / (f.random_mean_completion_s - f.optimal_mean_completion_s) AS delay_score,
    s.objective,
    r.seed,
    r.frame_id,
    r.created_at
FROM runs AS r
LEFT JOIN run_summaries AS s ON s.run = r.id
LEFT JOIN frames AS f ON f.frame_id = r.frame_id
WHERE (:n IS NULL OR r.n = :n)
  AND (:label IS NULL OR EXISTS (SELECT 1 FROM run_labels AS l WHERE l.run = r.id AND l.label = :label))
  AND (:algo IS NULL OR r.algorithm = lower(:algo))
  AND (:since IS NULL OR r.created_at >= :since)
  AND (:iterations IS NULL OR r.planned_iterations = :iterations)
  AND (:include_unfinished = 1 OR (r.status = 'finished' AND s.run IS NOT NULL))
ORDER BY r.n, r.algorithm, r.phi DESC, r.id;
