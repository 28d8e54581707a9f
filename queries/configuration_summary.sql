-- Per N and configuration: finished runs and the plain means of their summaries.
-- :n integer = NULL         only runs with N tasks (NULL: every N)
-- :label text = NULL        only runs with this label (one of their labels: run_labels)
-- Plain SQL means, without the spreads and the convergence-time rule of `tracker compare`: a quick look
-- from the sqlite3 shell's point of view. converged counts runs whose final greedy order is optimal.
-- A configuration is the algorithm, phi and the `configuration` column: budget, model constants and every
-- results-determining run_params column (all but the frame's tasks and the learner seed), so runs with
-- another learning rate or budget get their own row and are never averaged together.
SELECT
    r.n,
    r.algorithm,
    r.phi,
    json_object('iterations', r.planned_iterations, 'rate', f.uplink_rate, 'cpu_hz', f.cpu_hz, 'zeta', f.zeta,
           'delta', CASE WHEN r.algorithm = 'dtaql' THEN p.delta END, 'lr', p.learning_rate, 'gamma', p.discount, 'eps_start', p.epsilon_start,
           'eps_min', p.epsilon_min, 'beta', p.epsilon_decay, 'reward', p.reward,
           'twin_rate', p.twin_uplink_rate, 'twin_cpu_hz', p.twin_cpu_hz, 'twin_zeta', p.twin_zeta,
           'twin_noise', p.twin_noise, 'twin_noise_seed', p.twin_noise_seed, 'aggregation', p.aggregation) AS configuration,
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
JOIN run_params AS p ON p.run = r.id
JOIN frames AS f ON f.frame_id = r.frame_id
WHERE r.status = 'finished'
  AND (:n IS NULL OR r.n = :n)
  AND (:label IS NULL OR EXISTS (SELECT 1 FROM run_labels AS l WHERE l.run = r.id AND l.label = :label))
GROUP BY r.n, r.algorithm, r.phi, configuration
ORDER BY r.n, CASE r.algorithm WHEN 'dteql' THEN 0 WHEN 'dtaql' THEN 1 ELSE 2 END, r.phi DESC, configuration;
