-- MixLab store, version 2. Every claim carries a random id, written with its attempt row, so a
-- claimer whose connection dropped before it heard the outcome can ask whether its claim committed
-- instead of claiming a second run.

ALTER TABLE run_attempts ADD COLUMN claim_id TEXT;
CREATE UNIQUE INDEX run_attempts_claim ON run_attempts (claim_id);
