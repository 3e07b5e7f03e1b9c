-- MixLab store, version 4: what the coordinator tracks about workers (quarantine after repeated
-- failures, slots, drain) and per-attempt details the CLI shows (GPU ids, process id).

ALTER TABLE workers ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN gpu_ids TEXT NOT NULL DEFAULT '';
ALTER TABLE workers ADD COLUMN version TEXT NOT NULL DEFAULT '';
ALTER TABLE workers ADD COLUMN first_seen DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE run_attempts ADD COLUMN gpu_ids TEXT;
ALTER TABLE run_attempts ADD COLUMN pid INTEGER;
