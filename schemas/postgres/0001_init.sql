-- MixLab store, version 1 (PostgreSQL). Times are seconds since the Unix epoch on the database
-- clock (double precision), the same representation as the SQLite schema, so the store's SQL is
-- shared between the two.

CREATE TABLE workers (
    id          TEXT PRIMARY KEY,
    host        TEXT NOT NULL,
    gpus        INTEGER NOT NULL DEFAULT 0,
    cpus        INTEGER NOT NULL DEFAULT 0,
    quarantined BOOLEAN NOT NULL DEFAULT FALSE,
    last_seen   DOUBLE PRECISION NOT NULL
);

CREATE TABLE sweeps (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    client_key       TEXT UNIQUE,
    spec_json        TEXT NOT NULL,
    spec_hash        TEXT NOT NULL,
    domains_json     TEXT NOT NULL,
    eval_domains_json TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('active', 'paused', 'completed', 'cancelled')),
    priority         INTEGER NOT NULL,
    max_attempts     INTEGER NOT NULL CHECK (max_attempts >= 1),
    max_concurrent   INTEGER CHECK (max_concurrent >= 1),
    created_at       DOUBLE PRECISION NOT NULL,
    updated_at       DOUBLE PRECISION NOT NULL
);

CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    sweep_id         TEXT NOT NULL REFERENCES sweeps (id),
    run_index        INTEGER NOT NULL,
    shares_json      TEXT NOT NULL,
    budget_json      TEXT NOT NULL,
    gpus             INTEGER NOT NULL,
    cpus             INTEGER NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'assigned', 'running', 'succeeded', 'failed', 'cancelled')),
    attempt          INTEGER NOT NULL,
    max_attempts     INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_token      BIGINT NOT NULL DEFAULT 0,
    lease_expires_at DOUBLE PRECISION,
    last_failure     TEXT,
    updated_at       DOUBLE PRECISION NOT NULL,
    UNIQUE (sweep_id, run_index)
);
CREATE INDEX runs_queued ON runs (state, sweep_id, run_index);
CREATE INDEX runs_leases ON runs (lease_expires_at) WHERE state IN ('assigned', 'running');

CREATE TABLE run_attempts (
    run_id      TEXT NOT NULL REFERENCES runs (id),
    attempt     INTEGER NOT NULL,
    lease_token BIGINT NOT NULL,
    worker_id   TEXT NOT NULL,
    host        TEXT NOT NULL,
    started_at  DOUBLE PRECISION NOT NULL,
    ended_at    DOUBLE PRECISION,
    outcome     TEXT,
    cause       TEXT,
    exit_code   INTEGER,
    signal      INTEGER,
    log_tail    TEXT,
    PRIMARY KEY (run_id, lease_token)
);

CREATE TABLE evals (
    run_id  TEXT NOT NULL REFERENCES runs (id),
    attempt INTEGER NOT NULL,
    step    BIGINT NOT NULL,
    tokens  BIGINT NOT NULL,
    domain  TEXT NOT NULL,
    loss    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run_id, attempt, step, domain)
);

CREATE TABLE fits (
    id          BIGSERIAL PRIMARY KEY,
    sweep_id    TEXT NOT NULL REFERENCES sweeps (id),
    law         TEXT NOT NULL,
    report_json TEXT NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL
);

CREATE TABLE recommendations (
    id             BIGSERIAL PRIMARY KEY,
    sweep_id       TEXT NOT NULL REFERENCES sweeps (id),
    law            TEXT NOT NULL,
    shares_json    TEXT NOT NULL,
    predicted_loss DOUBLE PRECISION NOT NULL,
    report_json    TEXT NOT NULL,
    created_at     DOUBLE PRECISION NOT NULL
);

CREATE TABLE events (
    id         BIGSERIAL PRIMARY KEY,
    sweep_id   TEXT,
    run_id     TEXT,
    kind       TEXT NOT NULL,
    detail     TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
