-- One run's greedy-action changes: its first iteration, every iteration whose greedy action differs from the iteration before, and its last, each with what that greedy action is worth.
-- :run_id text              the run's id (or a unique prefix of it, as `tracker list` shows it)
-- Between two rows the greedy action (and so J, J_EDF/J and J*/J) is the earlier row's: these rows are
-- the convergence curve exactly, every step kept, in far fewer rows than run_history's. One pass over
-- the run's metric rows in primary-key order; the frame's tables are read for the changed rows only.
WITH
selected AS (
    SELECT id, frame_id, done_iterations FROM runs WHERE run_id = :run_id
),
changes AS (
    SELECT iteration, greedy_action, previous
    FROM (
        SELECT m.iteration, m.greedy_action,
               lag(m.greedy_action) OVER (ORDER BY m.iteration) AS previous
        FROM metrics AS m
        WHERE m.run = (SELECT id FROM selected)
    )
    WHERE previous IS NULL OR previous <> greedy_action
       OR iteration = (SELECT done_iterations - 1 FROM selected)
)
SELECT
    c.iteration,
    c.greedy_action,
    g.objective,
    f.edf_objective / g.objective AS normalized_reward,
    f.optimal_objective / g.objective AS optimality_ratio,
    g.misses
FROM changes AS c
JOIN selected AS s
JOIN frames AS f ON f.frame_id = s.frame_id
JOIN frame_actions AS g ON g.frame_id = s.frame_id AND g.action = c.greedy_action
ORDER BY c.iteration;
