-- Runs per label: how many, by status, their algorithms and N values, and when the first and last were created.
-- :label text = NULL        only this label (NULL: every label; runs without a label form the NULL row)
SELECT
    r.label,
    count(*) AS runs,
    sum(r.status = 'finished') AS finished,
    sum(r.status <> 'finished') AS unfinished,
    group_concat(DISTINCT r.algorithm) AS algorithms,
    group_concat(DISTINCT r.n) AS n_values,
    sum(r.done_iterations) AS iterations,
    min(r.created_at) AS first_created_at,
    max(r.created_at) AS last_created_at
FROM runs AS r
WHERE (:label IS NULL OR r.label = :label)
GROUP BY r.label
ORDER BY r.label;
