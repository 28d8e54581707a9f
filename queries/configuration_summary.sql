-- Per N and configuration (algorithm, phi): finished runs and the plain means of their summaries.
-- :n integer = NULL         only runs with N tasks (NULL: every N)
-- :label text = NULL        only runs with this label
-- Plain SQL means, without the spreads and the convergence-time rule of `tracker compare`: a quick look
-- from the sqlite3 shell's point of view. converged counts runs whose final greedy order is optimal.
SELECT
    r.n,
    r.algorithm,
    r.phi,
    count(*) AS runs,
    avg(s.normalized_reward) AS normalized_reward,
    CAST(sum(s.misses) AS REAL) / (count(*) * r.n) AS deadline_miss_ratio,
    avg(s.mean_completion_s) AS mean_completion_s,
    count(s.iterations_to_optimal) AS converged,
    avg(s.optimality_ratio) AS optimality_ratio,
    min(r.planned_iterations) AS min_planned_iterations,
    max(r.planned_iterations) AS max_planned_iterations
FROM runs AS r
JOIN run_summaries AS s ON s.run = r.id
WHERE r.status = 'finished'
  AND (:n IS NULL OR r.n = :n)
  AND (:label IS NULL OR r.label = :label)
GROUP BY r.n, r.algorithm, r.phi
ORDER BY r.n, CASE r.algorithm WHEN 'dteql' THEN 0 WHEN 'dtaql' THEN 1 ELSE 2 END, r.phi DESC;
