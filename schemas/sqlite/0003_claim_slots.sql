-- MixLab store, version 3. Claims without counting: a sweep with a concurrency cap keeps the number
-- of its leased runs in its own row (leased_runs, changed by every claim, completion and expiry;
-- always 0 for uncapped sweeps, whose claims then never touch the sweep row), and a sweep's next
-- queued run is found through a partial index of queued runs.

ALTER TABLE sweeps ADD COLUMN leased_runs INTEGER NOT NULL DEFAULT 0;
UPDATE sweeps SET leased_runs = (
    SELECT COUNT(*) FROM runs r WHERE r.sweep_id = sweeps.id AND r.state IN ('assigned', 'running'))
WHERE max_concurrent IS NOT NULL;
CREATE INDEX runs_queued_by_sweep ON runs (sweep_id, run_index) WHERE state = 'queued';
