-- Per value of one setting and configuration of the others: finished runs and the plain means of their summaries (`tracker compare --by KEY` in plain SQL).
-- :by text                the setting whose values make the rows: n, iterations, rate, cpu_hz, zeta, delta, lr, gamma, eps_start, eps_min, beta, reward, twin_rate, twin_cpu_hz, twin_zeta, twin_noise, twin_noise_seed or aggregation
-- :n integer = NULL       only runs with N tasks (NULL: every N)
-- :label text = NULL      only runs with this label (one of their labels: run_labels)
--
-- `value` is the run's value of :by; `configuration` holds every other setting (N included): with
-- algorithm and phi, the columns of `tracker compare --by`. Runs are averaged only with runs equal in
-- everything but the frame's tasks and the learner seed, as in queries/configuration_summary.sql.
-- The key in :by is a bound value used as a JSON path into the settings object, never part of the SQL
-- text; a key that is no setting gives NULL values (`tracker compare --by` refuses it, naming the known keys).
-- delta is NULL outside DTAQL, the one algorithm it changes.
WITH finished AS (
    SELECT
        r.algorithm,
        r.phi,
        json_object('n', r.n, 'iterations', r.planned_iterations, 'rate', f.uplink_rate, 'cpu_hz', f.cpu_hz,
                    'zeta', f.zeta, 'delta', CASE WHEN r.algorithm = 'dtaql' THEN p.delta END,
                    'lr', p.learning_rate, 'gamma', p.discount, 'eps_start', p.epsilon_start,
                    'eps_min', p.epsilon_min, 'beta', p.epsilon_decay, 'reward', p.reward,
                    'twin_rate', p.twin_uplink_rate, 'twin_cpu_hz', p.twin_cpu_hz, 'twin_zeta', p.twin_zeta,
                    'twin_noise', p.twin_noise, 'twin_noise_seed', p.twin_noise_seed,
                    'aggregation', p.aggregation) AS settings,
        r.n,
        s.normalized_reward,
        s.misses,
        s.mean_completion_s,
        s.iterations_to_optimal,
        s.optimality_ratio
    FROM runs AS r
    JOIN run_summaries AS s ON s.run = r.id
    JOIN run_params AS p ON p.run = r.id
    JOIN frames AS f ON f.frame_id = r.frame_id
    WHERE r.status = 'finished'
      AND (:n IS NULL OR r.n = :n)
      AND (:label IS NULL OR EXISTS (SELECT 1 FROM run_labels AS l WHERE l.run = r.id AND l.label = :label))
)
SELECT
    json_extract(settings, '$.' || :by) AS value,
    algorithm,
    phi,
    json_remove(settings, '$.' || :by) AS configuration,
    count(*) AS runs,
    avg(normalized_reward) AS normalized_reward,
    avg(CAST(misses AS REAL) / n) AS deadline_miss_ratio,
    avg(mean_completion_s) AS mean_completion_s,
    count(iterations_to_optimal) AS converged,
    avg(optimality_ratio) AS optimality_ratio
FROM finished
GROUP BY value, algorithm, phi, configuration
ORDER BY value, CASE algorithm WHEN 'dteql' THEN 0 WHEN 'dtaql' THEN 1 ELSE 2 END, phi DESC, configuration;
