-- Convergence curves (the paper's Fig. 2): the greedy action's metrics averaged per configuration (algorithm, phi) at sampled iterations, over finished runs with N tasks.
-- :n integer              number of tasks
-- :label text = NULL      only runs with this label
-- :points integer = 200   about how many iterations to sample per curve; each run's last iteration is always included
-- :log_x integer = 0      1: sample geometrically in iteration + 1 (for a log x axis); 0: every k-th iteration
--
-- Fast on any number of metric rows: the sampled iteration numbers are generated first and each
-- (run, iteration) pair is looked up through metrics' primary key, so no run is scanned.
-- Rows come in legend order: DTEQL by phi descending, then DTAQL by phi descending, then QL.
WITH RECURSIVE
selected AS (
    SELECT id, algorithm, phi, frame_id, done_iterations
    FROM runs
    WHERE n = :n AND status = 'finished' AND done_iterations > 0 AND (:label IS NULL OR label = :label)
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
GROUP BY s.algorithm, s.phi, p.iteration
ORDER BY CASE s.algorithm WHEN 'dteql' THEN 0 WHEN 'dtaql' THEN 1 ELSE 2 END, s.phi DESC, p.iteration
