-- The `tracker tune` studies a run belongs to: those with a rung result whose runs name it (the dashboard's run page links them).
-- :run_id text               the run's full id
SELECT DISTINCT s.name AS study
FROM study_rung_runs AS r
JOIN studies AS s ON s.id = r.study
WHERE r.run_id = :run_id
ORDER BY s.name;
