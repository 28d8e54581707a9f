-- Convergence curves (the paper's Fig. 2): the greedy action's metrics averaged per configuration at sampled iterations, over finished runs with N tasks.
-- :n integer              number of tasks
-- :label text = NULL      only runs with this label (one of their labels: run_labels)
-- :runs text = NULL       only these runs: a JSON array of run ids, e.g. ["3fa9c2d1","77b0e412"]
-- :points integer = 200   about how many iterations to sample per curve; each run's last iteration is always included
-- :log_x integer = 0      1: sample geometrically in iteration + 1 (for a log x axis); 0: every k-th iteration
-- :per_run integer = 0    1: one row per run and sampled iteration (runs = 1), the values a spread band is computed from
--
-- Fast on any number of metric rows: the sampled iteration numbers are generated first and each
-- (run, iteration) pair is looked up through metrics' primary key, so no run is scanned.
-- A configuration is everything that determines a run's results but its frame's tasks and its learner
-- seed: the algorithm, phi and the `configuration` column (budget, model constants, every results-
-- determining run_params column; `tracker plot` builds the same groups from queries/run_settings.sql).
-- Runs of different configurations are never averaged together.
-- Rows come in legend order: DTEQL by phi descending, then DTAQL by phi descending, then QL.
WITH RECURSIVE
selected AS (
    SELECT r.id, r.algorithm, r.phi, r.frame_id, r.done_iterations,
           json_object('iterations', r.planned_iterations, 'rate', f.uplink_rate, 'cpu_hz', f.cpu_hz, 'zeta', f.zeta,
                       'delta', CASE WHEN r.algorithm = 'dtaql' THEN p.delta END, 'lr', p.learning_rate, 'gamma', p.discount, 'eps_start', p.epsilon_start,
                       'eps_min', p.epsilon_min, 'beta', p.epsilon_decay, 'reward', p.reward,
                       'twin_rate', p.twin_uplink_rate, 'twin_cpu_hz', p.twin_cpu_hz, 'twin_zeta', p.twin_zeta,
                       'twin_noise', p.twin_noise, 'twin_noise_seed', p.twin_noise_seed, 'aggregation', p.aggregation) AS configuration
    FROM runs AS r
    -- LEFT: an imported run has no run_params row (its settings split its curve in `tracker plot`, which
    -- groups runs by queries/run_settings.sql and asks for each group's runs).
    LEFT JOIN run_params AS p ON p.run = r.id
    JOIN frames AS f ON f.frame_id = r.frame_id
    WHERE r.n = :n AND r.status = 'finished' AND r.done_iterations > 0 AND (:label IS NULL OR EXISTS (SELECT 1 FROM run_labels AS l WHERE l.run = r.id AND l.label = :label))
      AND (:runs IS NULL OR r.run_id IN (SELECT value FROM json_each(:runs)))
),
budget AS (
    SELECT max(done_iterations) AS iterations,
           max(1, (max(done_iterations) + :points - 1) / :points) AS step,
           pow(max(done_iterations), 1.0 / :points) AS growth
    FROM selected
),
-- 0, then every step-th iteration, or (log_x) iteration + 1 growing by a constant factor, at least by one.
sampled (iteration) AS (
    SELECT 0 FROM budget WHERE iterations IS NOT NULL
    UNION
    SELECT CASE WHEN :log_x THEN max(iteration + 1, CAST((iteration + 1) * growth AS INTEGER) - 1)
                ELSE iteration + step END
    FROM sampled, budget
    WHERE iteration < iterations - 1
),
sample_points (iteration) AS (
    SELECT iteration FROM sampled, budget WHERE iteration < iterations
    UNION
    SELECT done_iterations - 1 FROM selected
)
SELECT
    s.algorithm,
    s.phi,
    s.configuration,
    p.iteration,
    count(*) AS runs,
    avg(m.normalized_reward) AS normalized_reward,
    avg(m.objective) AS objective,
    avg(m.misses) AS misses,
    avg(m.mean_completion_s) AS mean_completion_s,
    avg(m.epsilon) AS epsilon,
    avg(m.distinct_actions) AS distinct_actions,
    avg(f.optimal_objective / m.objective) AS optimality_ratio
-- CROSS JOIN keeps this join order: runs x sampled iterations outside, metrics looked up by its key inside.
FROM selected AS s
CROSS JOIN sample_points AS p
CROSS JOIN iteration_metrics AS m ON m.run = s.id AND m.iteration = p.iteration
JOIN frames AS f ON f.frame_id = s.frame_id
WHERE p.iteration < s.done_iterations
GROUP BY s.algorithm, s.phi, s.configuration, p.iteration, CASE WHEN :per_run THEN s.id END
ORDER BY CASE s.algorithm WHEN 'dteql' THEN 0 WHEN 'dtaql' THEN 1 ELSE 2 END, s.phi DESC, s.configuration, p.iteration
