-- One tidy row per run: its settings (one column each, by the names compare and --where use), its frame and its final summary; for pandas, R, DuckDB, spreadsheets.
-- :n integer = NULL                 only runs with N tasks (NULL: every N)
-- :label text = NULL                only runs with this label (one of their labels: run_labels)
-- :include_unfinished integer = 0   1: also runs that have not finished (their summary columns are NULL)
--
-- `tracker query runs_tidy --format csv > runs.csv` is the table docs/python.md loads into one DataFrame.
-- Columns: the run (run_id, label, status, created_at, seed = the learner's seed), its configuration
-- (algorithm, n, phi, then the settings under the keys of `compare --format json`'s "settings":
-- iterations = the planned budget, rate, cpu_hz, zeta, delta (NULL outside DTAQL, which alone uses it),
-- lr, gamma, eps_start, eps_min, beta, reward, twin_rate, twin_cpu_hz, twin_zeta, twin_noise,
-- twin_noise_seed, aggregation), its frame (frame_id, frame_seed: NULL for a task file, optimal_objective
-- J*, edf_objective), and its summary (done_iterations, objective J, normalized_reward, misses,
-- deadline_miss_ratio = misses / n, mean_completion_s, optimality_ratio, delay_score as in compare_runs,
-- converged, iterations_to_optimal).
-- converged is 1 when the final greedy order is optimal. iterations_to_optimal is NULL for a run that did
-- not converge (or whose J* is unknown): it needs more than its budget `iterations`. Never average it;
-- take the median with such runs ranked above every converged one (as +inf), the way `tracker compare`
-- does, and report a median that lands on them as ">iterations" (docs/python.md, docs/queries.md).
-- A column a later migration adds to run_params is not listed here by itself: add it under its key.
SELECT
    r.run_id,
    r.label,
    r.status,
    r.created_at,
    r.algorithm,
    r.n,
    r.phi,
    r.seed,
    r.planned_iterations AS iterations,
    f.uplink_rate AS rate,
    f.cpu_hz,
    f.zeta,
    CASE WHEN r.algorithm = 'dtaql' THEN p.delta END AS delta,
    p.learning_rate AS lr,
    p.discount AS gamma,
    p.epsilon_start AS eps_start,
    p.epsilon_min AS eps_min,
    p.epsilon_decay AS beta,
    p.reward,
    p.twin_uplink_rate AS twin_rate,
    p.twin_cpu_hz,
    p.twin_zeta,
    p.twin_noise,
    p.twin_noise_seed,
    p.aggregation,
    r.frame_id,
    f.seed AS frame_seed,
    f.optimal_objective,
    f.edf_objective,
    r.done_iterations,
    s.objective,
    s.normalized_reward,
    s.misses,
    CAST(s.misses AS REAL) / r.n AS deadline_miss_ratio,
    s.mean_completion_s,
    s.optimality_ratio,
    (f.random_mean_completion_s - s.mean_completion_s)
        / (f.random_mean_completion_s - f.optimal_mean_completion_s) AS delay_score,
    CASE WHEN s.run IS NULL THEN NULL WHEN s.iterations_to_optimal IS NULL THEN 0 ELSE 1 END AS converged,
    s.iterations_to_optimal
FROM runs AS r
JOIN run_params AS p ON p.run = r.id
JOIN frames AS f ON f.frame_id = r.frame_id
LEFT JOIN run_summaries AS s ON s.run = r.id
WHERE (:n IS NULL OR r.n = :n)
  AND (:label IS NULL OR EXISTS (SELECT 1 FROM run_labels AS l WHERE l.run = r.id AND l.label = :label))
  AND (:include_unfinished = 1 OR (r.status = 'finished' AND s.run IS NOT NULL))
ORDER BY r.n, CASE r.algorithm WHEN 'dteql' THEN 0 WHEN 'dtaql' THEN 1 ELSE 2 END, r.phi DESC, r.id;
