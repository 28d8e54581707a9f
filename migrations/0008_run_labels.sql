-- A run belongs to every study that asked for it. A database holds one run per configuration (0007), so
-- when a sweep or `reproduce` with label L finds its configuration already recorded (by hand, by another
-- study, by a merged shard), it adopts that run instead of running it again: the run becomes a member of L
-- as well. `runs.label` stays the label the run was created with; `run_labels` holds every label the run
-- belongs to, that one included, and is what every filter by label reads (`list`, `compare`, `delete`,
-- `plot`, the saved queries).

CREATE TABLE run_labels (
    run   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    label TEXT    NOT NULL,
    PRIMARY KEY (run, label)
) STRICT, WITHOUT ROWID;

CREATE INDEX run_labels_by_label ON run_labels (label, run);

INSERT INTO run_labels (run, label) SELECT id, label FROM runs WHERE label IS NOT NULL;

-- The label a run is created with (or given later) is always one of its memberships, whoever writes the
-- row: `run`, a sweep's worker, `merge`, an older tool.
CREATE TRIGGER run_labels_from_insert AFTER INSERT ON runs WHEN NEW.label IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO run_labels (run, label) VALUES (NEW.id, NEW.label);
END;

CREATE TRIGGER run_labels_from_update AFTER UPDATE OF label ON runs WHEN NEW.label IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO run_labels (run, label) VALUES (NEW.id, NEW.label);
END;
