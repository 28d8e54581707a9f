-- The runs of one sweep: those its spec started (provenance sweep_name, optionally only one version of the spec by its SHA-256), or those carrying a label (run_labels: a sweep's label, also on the runs it adopted).
-- :sweep text = NULL        the sweep spec's name as recorded (its path as given, e.g. sweeps/paper.json)
-- :sha256 text = NULL       only runs started by the spec with these bytes
-- :label text = NULL        or: the runs with this label
SELECT r.id AS run_key, r.run_id, r.status, p.sweep_name, p.sweep_sha256
FROM runs AS r
LEFT JOIN run_provenance AS p ON p.run = r.id
WHERE (:sweep IS NOT NULL AND p.sweep_name = :sweep AND (:sha256 IS NULL OR p.sweep_sha256 = :sha256))
   OR (:label IS NOT NULL AND EXISTS (SELECT 1 FROM run_labels AS l WHERE l.run = r.id AND l.label = :label))
ORDER BY r.id;
