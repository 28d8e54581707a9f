-- Runs per label: how many, by status, their algorithms and N values, and when the first and last were created.
-- A run belongs to every label in run_labels (the one it was created with, and those of the studies that
-- adopted it), so it is counted under each of them.
-- :label text = NULL        only this label (NULL: every label; runs without a label form the NULL row)
SELECT
    l.label,
    count(*) AS runs,
    sum(r.status = 'finished') AS finished,
    sum(r.status <> 'finished') AS unfinished,
    group_concat(DISTINCT r.algorithm) AS algorithms,
    group_concat(DISTINCT r.n) AS n_values,
    sum(r.done_iterations) AS iterations,
    min(r.created_at) AS first_created_at,
    max(r.created_at) AS last_created_at
FROM runs AS r LEFT JOIN run_labels AS l ON l.run = r.id
WHERE (:label IS NULL OR l.label = :label)
GROUP BY l.label
ORDER BY l.label;
