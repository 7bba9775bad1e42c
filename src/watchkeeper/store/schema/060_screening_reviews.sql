-- Screening around the engine: reviewed decisions, the audit log, stored subjects.

-- A reviewer's decision that one query (by fingerprint) is not one list entity.
-- Revoking sets revoked_*: the decision and who took it back both stay on record.
CREATE SEQUENCE IF NOT EXISTS screening_decision_seq START 1;

CREATE TABLE screening_decisions (
    decision_id   INTEGER PRIMARY KEY DEFAULT nextval('screening_decision_seq'),
    fingerprint   VARCHAR NOT NULL,          -- watchkeeper.screening.decisions.fingerprint
    entity_id     VARCHAR NOT NULL,          -- the list entity, e.g. ofac-12927
    decision      VARCHAR NOT NULL,          -- 'not_a_match'
    decided_by    VARCHAR NOT NULL,
    decided_at    TIMESTAMPTZ NOT NULL,
    reason        VARCHAR NOT NULL,
    query         JSON NOT NULL,             -- the normalised query the fingerprint hashes
    revoked_by    VARCHAR,
    revoked_at    TIMESTAMPTZ,
    revoke_reason VARCHAR
);

-- Every screening request and its results, one row per query. Append-only: no code
-- path updates or deletes a row; row_hash chains each row to the one before it.
-- JSON is kept as VARCHAR: DuckDB's JSON type re-validates every row on insert (~70 us a
-- row here, most of a batch's cost); json_extract() reads VARCHAR all the same.
CREATE TABLE screening_audit (
    audit_id      BIGINT PRIMARY KEY,        -- 1, 2, 3... with no gaps: the chain's order
    logged_at     TIMESTAMPTZ NOT NULL,
    request_id    VARCHAR NOT NULL,          -- shared by the queries of one batch request
    channel       VARCHAR NOT NULL,          -- 'api /match/default', 'cli rescreen', ...
    actor         VARCHAR NOT NULL,          -- who asked (client address, user, token holder)
    query_key     VARCHAR NOT NULL,          -- the caller's key or subject id for this query
    fingerprint   VARCHAR NOT NULL,
    query         VARCHAR NOT NULL,          -- JSON text (canonical: sorted keys, compact)
    params        VARCHAR NOT NULL,          -- JSON: threshold, limit, algorithm, dataset filters
    results       VARCHAR NOT NULL,          -- JSON: [{id, caption, score, match, decision_id}]
    list_versions VARCHAR NOT NULL,          -- JSON: [{source, version, version_id}] screened against
    prev_hash     VARCHAR NOT NULL,
    row_hash      VARCHAR NOT NULL
);

-- The subjects a user re-screens when lists change (customers, counterparties, vessels).
CREATE TABLE screening_subjects (
    subject_id  VARCHAR PRIMARY KEY,         -- the user's own id for the subject
    schema      VARCHAR NOT NULL,
    properties  JSON NOT NULL,
    fingerprint VARCHAR NOT NULL,
    added_at    TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    last_run_id INTEGER,                     -- NULL: never screened yet
    last_screened_at TIMESTAMPTZ
);

-- One row per re-screening run.
CREATE SEQUENCE IF NOT EXISTS screening_run_seq START 1;

CREATE TABLE screening_runs (
    run_id        INTEGER PRIMARY KEY DEFAULT nextval('screening_run_seq'),
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ NOT NULL,
    actor         VARCHAR NOT NULL,
    since         JSON NOT NULL,             -- [{source, from_version, to_version}]
    counts        JSON NOT NULL              -- subjects, screened, candidates, new hits
);

-- Every hit a subject has had: what "seen in a previous screening" means.
CREATE TABLE screening_subject_hits (
    subject_id    VARCHAR NOT NULL,
    entity_id     VARCHAR NOT NULL,
    first_run_id  INTEGER NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_run_id   INTEGER NOT NULL,
    last_score    DOUBLE NOT NULL,
    PRIMARY KEY (subject_id, entity_id)
);
