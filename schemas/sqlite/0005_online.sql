-- MixLab store, version 5: online mixing (Aioli). Every answer a run's controller gives to its
-- trainer's `next` is stored, with the losses it used and the controller's state after it,
-- before the answer is sent: a restarted coordinator continues the same trajectory.

CREATE TABLE online_decisions (
    run_id          TEXT NOT NULL REFERENCES runs (id),
    attempt         INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    step            BIGINT NOT NULL,
    losses_json     TEXT NOT NULL,
    decision_json   TEXT NOT NULL,
    controller_json TEXT NOT NULL,
    decided_at      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run_id, attempt, seq)
);
