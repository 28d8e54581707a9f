-- Table II in plain SQL: per N and configuration, the median iterations-to-optimal with the runs that did not converge ranked beyond their budget, as `tracker compare` computes it.
-- :n integer = NULL         only runs with N tasks (NULL: every N)
-- :label text = NULL        only runs with this label (one of their labels: run_labels)
-- A run that did not converge has no iterations_to_optimal: it needs more than its budget. avg() would
-- skip it and report the mean of the runs that did converge, flattering the configuration; here it ranks
-- above every converged run (as +inf: 9e999 is SQLite's infinity) and the median is the middle value, or
-- the mean of the two middle ones (infinite if either is). An infinite median is NULL in median_iterations,
-- exceeds_budget = 1 and cell '>B', B = the budget (a configuration's runs share it). Over finished runs.
-- A configuration is the algorithm, phi and the `configuration` column, as in configuration_summary.
WITH finished AS (
    SELECT
        r.n,
        r.algorithm,
        r.phi,
        r.planned_iterations AS budget,
        json_object('iterations', r.planned_iterations, 'rate', f.uplink_rate, 'cpu_hz', f.cpu_hz, 'zeta', f.zeta,
               'delta', CASE WHEN r.algorithm = 'dtaql' THEN p.delta END, 'lr', p.learning_rate, 'gamma', p.discount, 'eps_start', p.epsilon_start,
               'eps_min', p.epsilon_min, 'beta', p.epsilon_decay, 'reward', p.reward,
               'twin_rate', p.twin_uplink_rate, 'twin_cpu_hz', p.twin_cpu_hz, 'twin_zeta', p.twin_zeta,
               'twin_noise', p.twin_noise, 'twin_noise_seed', p.twin_noise_seed, 'aggregation', p.aggregation) AS configuration,
        s.iterations_to_optimal,
        coalesce(s.iterations_to_optimal, 9e999) AS ranked_iterations
    FROM runs AS r
    JOIN run_summaries AS s ON s.run = r.id
    JOIN run_params AS p ON p.run = r.id
    JOIN frames AS f ON f.frame_id = r.frame_id
    WHERE r.status = 'finished'
      AND (:n IS NULL OR r.n = :n)
      AND (:label IS NULL OR EXISTS (SELECT 1 FROM run_labels AS l WHERE l.run = r.id AND l.label = :label))
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY n, algorithm, phi, configuration ORDER BY ranked_iterations) AS k,
           count(*) OVER (PARTITION BY n, algorithm, phi, configuration) AS runs,
           count(iterations_to_optimal) OVER (PARTITION BY n, algorithm, phi, configuration) AS converged
    FROM finished
),
medians AS (
    SELECT n, algorithm, phi, configuration, runs, converged, budget, avg(ranked_iterations) AS median
    FROM ranked
    WHERE k IN ((runs + 1) / 2, (runs + 2) / 2)
    GROUP BY n, algorithm, phi, configuration
)
SELECT
    n,
    algorithm,
    phi,
    configuration,
    runs,
    converged,
    budget,
    CASE WHEN median < 9e999 THEN median END AS median_iterations,
    median >= 9e999 AS exceeds_budget,
    CASE WHEN median >= 9e999 THEN '>' || budget
         WHEN median = CAST(median AS INTEGER) THEN CAST(CAST(median AS INTEGER) AS TEXT)
         ELSE CAST(median AS TEXT) END AS cell
FROM medians
ORDER BY n, CASE algorithm WHEN 'dteql' THEN 0 WHEN 'dtaql' THEN 1 ELSE 2 END, phi DESC, configuration;
