-- A `tracker tune` study's trials, best first, each at the highest rung it reached (docs/tune.md).
-- :study text               the study's name
-- :top integer = 20         at most this many rows (not `limit`: the dashboard pages results with `limit` and `offset`)
--
-- Each row: the trial, its highest rung and budget there, its objective (NULL: beyond the budget, ranked
-- last), its runs, the iterations its rungs charged and its searched settings (JSON, canonical names).
-- Deeper rungs rank first (a trial that survived more halvings beat the others), then the objective in the
-- study's direction, then the trial index.
WITH s AS (SELECT id, direction FROM studies WHERE name = :study),
top AS (
    SELECT r.trial, max(r.rung) AS rung FROM study_rungs AS r JOIN s ON r.study = s.id GROUP BY r.trial
)
SELECT
    t.trial,
    r.rung,
    r.budget,
    r.objective,
    r.runs,
    (SELECT sum(x.iterations) FROM study_rungs AS x WHERE x.study = s.id AND x.trial = t.trial) AS iterations,
    t.settings
FROM s
JOIN study_trials AS t ON t.study = s.id
JOIN top ON top.trial = t.trial
JOIN study_rungs AS r ON r.study = s.id AND r.trial = t.trial AND r.rung = top.rung
ORDER BY r.rung DESC,
    r.objective IS NULL,
    CASE WHEN s.direction = 'minimize' THEN r.objective ELSE -r.objective END,
    t.trial
LIMIT :top;
