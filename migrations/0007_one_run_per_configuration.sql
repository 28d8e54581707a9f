-- One run per configuration: a configuration (runs.config_hash, everything that determines the results)
-- is claimed by exactly one run per database, whatever the number of processes, threads or duplicate
-- lines in a sweep spec, so no aggregate counts a configuration twice. Every insert happens inside a
-- write transaction, so the check and the insert are one atomic step.
--
-- Triggers rather than a UNIQUE index: a database from an older tracker may already hold duplicates,
-- and a unique index on it would fail the upgrade. `tracker check` reports such duplicates and
-- `tracker check --fix` removes them, keeping the finished copy.

CREATE TRIGGER IF NOT EXISTS runs_one_per_configuration_insert BEFORE INSERT ON runs
WHEN EXISTS (SELECT 1 FROM runs WHERE config_hash = NEW.config_hash)
BEGIN
    SELECT RAISE(ABORT, 'this configuration is already claimed by another run (runs.config_hash)');
END;

CREATE TRIGGER IF NOT EXISTS runs_one_per_configuration_update BEFORE UPDATE OF config_hash ON runs
WHEN EXISTS (SELECT 1 FROM runs WHERE config_hash = NEW.config_hash AND id <> NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'this configuration is already claimed by another run (runs.config_hash)');
END;
