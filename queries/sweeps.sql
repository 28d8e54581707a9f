-- The sweeps the database holds: per sweep spec that started runs (provenance sweep_name, with the SHA-256 of the spec's bytes), how many runs and in which status, and when.
-- The dashboard's /sweeps lists these; `tracker sweep SPEC --status` tells started from not started
-- (only the spec knows its whole grid).
SELECT
    p.sweep_name,
    p.sweep_sha256,
    count(*) AS runs,
    sum(r.status = 'finished') AS finished,
    sum(r.status = 'running') AS running,
    sum(r.status = 'interrupted') AS interrupted,
    sum(r.status = 'failed') AS failed,
    min(r.created_at) AS first_created,
    max(r.created_at) AS last_created
FROM run_provenance AS p
JOIN runs AS r ON r.id = p.run
WHERE p.sweep_name IS NOT NULL
GROUP BY p.sweep_name, p.sweep_sha256
ORDER BY max(r.created_at) DESC;
