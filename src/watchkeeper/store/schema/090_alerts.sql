-- Alerts, cases, their review trail and the users who review (watchkeeper.alerts).
-- An alert is one rule firing on one set of subjects over one time window; the same
-- rule on the same subjects with an overlapping window updates the same alert
-- (revision + 1), so alert_id is deterministic and stable across re-runs.
CREATE TABLE alerts (
    alert_id    VARCHAR PRIMARY KEY,      -- '<rule_id>-<sha1(rule, sorted subjects, first window start)[:16]>'
    rule_id     VARCHAR NOT NULL,         -- alerts/rules/*.toml [[rule]] id
    severity    VARCHAR NOT NULL,         -- 'low' | 'medium' | 'high' | 'critical'
    title       VARCHAR NOT NULL,         -- plain language, filled from the events
    subjects    VARCHAR[] NOT NULL,       -- typed ids as in events: 'mmsi:..', 'imo:..', 'ofac-..'
    start_time  TIMESTAMPTZ NOT NULL,     -- the window the alert's events cover
    end_time    TIMESTAMPTZ NOT NULL,
    score       DOUBLE NOT NULL,          -- 0..1
    event_ids   VARCHAR[] NOT NULL,       -- events.event_id behind it (evidence step 1)
    why         VARCHAR NOT NULL,         -- JSON text: the conditions that held, per event
    state       VARCHAR NOT NULL,         -- 'new' | 'in_review' | 'escalated' | 'dismissed' | 'confirmed'
    assignee    VARCHAR,
    case_id     VARCHAR,                  -- cases.case_id, set by case building
    revision    INTEGER NOT NULL,         -- 1 on creation, +1 each time new evidence updates it
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Every review action, append-only (no code path updates or deletes a row). The same
-- action is also written to the hash-chained audit log (screening_audit, channel
-- 'alerts review'): audit_id points at that row. alerts.state/assignee are the result
-- of replaying these rows, kept on the alert for queries.
CREATE SEQUENCE IF NOT EXISTS alert_action_seq START 1;

CREATE TABLE alert_actions (
    action_id   BIGINT PRIMARY KEY DEFAULT nextval('alert_action_seq'),
    alert_id    VARCHAR NOT NULL,
    actor       VARCHAR NOT NULL,         -- a user name (users.name) or 'system'
    acted_at    TIMESTAMPTZ NOT NULL,
    action      VARCHAR NOT NULL,         -- 'state' | 'assign' | 'note' | 'link'
    state_from  VARCHAR,
    state_to    VARCHAR,
    assignee    VARCHAR,
    note        VARCHAR,                  -- the note, or the reason of a dismissal
    link        VARCHAR,                  -- an outside reference (URL, ticket id)
    audit_id    BIGINT                    -- screening_audit.audit_id of the same action
);

-- A case: alerts joined through their network (vessel identity, ownership and control,
-- operators, shipments, the parties named in the same reports). case_id is
-- deterministic: 'case-<sha1(sorted anchor subjects)[:12]>' so a rebuild keeps ids.
CREATE TABLE cases (
    case_id     VARCHAR PRIMARY KEY,
    title       VARCHAR NOT NULL,
    subjects    VARCHAR[] NOT NULL,       -- every subject in the network
    alert_ids   VARCHAR[] NOT NULL,
    score       DOUBLE NOT NULL,          -- 0..1, explained by score_parts
    score_parts VARCHAR NOT NULL,         -- JSON text: [{part, value, weight, why}]
    start_time  TIMESTAMPTZ NOT NULL,
    end_time    TIMESTAMPTZ NOT NULL,
    links       VARCHAR NOT NULL,         -- JSON text: [{from, to, kind, evidence}] why subjects are joined
    built_at    TIMESTAMPTZ NOT NULL
);

-- Users and roles for the API and the web UI. Tokens are never stored: token_hash is
-- sha256 of the bearer token. role: 'viewer' (read), 'analyst' (review), 'admin' (users).
CREATE TABLE users (
    name        VARCHAR PRIMARY KEY,
    role        VARCHAR NOT NULL,
    token_hash  VARCHAR NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    disabled_at TIMESTAMPTZ
);

-- What the watch and the notifiers have done, so a restart repeats nothing.
CREATE TABLE checkpoints (
    name        VARCHAR PRIMARY KEY,      -- 'watch:ais:<source>', 'watch:lists', 'notify:<channel>'
    position    VARCHAR NOT NULL,         -- JSON text: byte offset, file hash, last id...
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Notifications to send (the outbox): one row per alert revision and channel, sent
-- at least once; the receiver deduplicates on (alert_id, revision).
CREATE TABLE notifications (
    alert_id    VARCHAR NOT NULL,
    revision    INTEGER NOT NULL,
    channel     VARCHAR NOT NULL,         -- the channel's name in the notify config
    payload     VARCHAR NOT NULL,         -- JSON text as sent
    attempts    INTEGER NOT NULL,
    next_try_at TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ,
    last_error  VARCHAR,
    PRIMARY KEY (alert_id, revision, channel)
);
