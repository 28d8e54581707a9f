-- One run's metric history from the iteration_metrics view, every step-th iteration (and the last).
-- :run_id text              the run's id (or a unique prefix of it, as `tracker list` shows it)
-- :step integer = 1         keep iterations that are multiples of step, plus the final one
-- normalized_reward, objective, misses and mean_completion_s describe the greedy action after the
-- iteration; reward is the real action's reward in the run's reward form.
SELECT
    m.iteration,
    m.epsilon,
    m.action,
    m.reward,
    m.greedy_action,
    m.normalized_reward,
    m.objective,
    m.misses,
    m.mean_completion_s,
    m.distinct_actions
FROM iteration_metrics AS m
WHERE m.run = (SELECT id FROM runs WHERE run_id = :run_id)
  AND (m.iteration % max(:step, 1) = 0
       OR m.iteration = (SELECT done_iterations - 1 FROM runs WHERE run_id = :run_id))
ORDER BY m.iteration;
