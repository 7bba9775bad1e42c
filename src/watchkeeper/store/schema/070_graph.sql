-- The ownership and control graph: versioned loads of relations (FtM, BODS, CSV
-- registers, the shadow-fleet history), like list versions. "Current" is the newest
-- version of each source.
CREATE SEQUENCE IF NOT EXISTS graph_version_seq START 1;

CREATE TABLE graph_versions (
    version_id     INTEGER PRIMARY KEY DEFAULT nextval('graph_version_seq'),
    source         VARCHAR NOT NULL,        -- shadow_fleet, a register's name, ...
    version        VARCHAR NOT NULL,        -- a label: the load's date unless given
    file_hash      VARCHAR NOT NULL,        -- sha256 over the files, in name order
    digest         VARCHAR NOT NULL,        -- sha256 over what was read (a new mapping is new)
    files          VARCHAR[] NOT NULL,
    node_count     INTEGER NOT NULL,
    relation_count INTEGER NOT NULL,
    counts         JSON NOT NULL,
    loaded_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE graph_nodes (
    version_id  INTEGER NOT NULL,
    id          VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    schema      VARCHAR NOT NULL,
    country     VARCHAR,
    identifiers JSON NOT NULL,              -- {"imo_company": ["5947073"], ...}
    unknown     BOOLEAN NOT NULL,
    source_ref  VARCHAR NOT NULL,
    PRIMARY KEY (version_id, id)
);

-- One row per identifier of a node, so sources join on them in SQL.
CREATE TABLE graph_node_identifiers (
    version_id  INTEGER NOT NULL,
    id          VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,           -- imo, imo_company, lei, registration, inn, ...
    value       VARCHAR NOT NULL            -- normalised: upper case, digits and letters
);

CREATE TABLE graph_relations (
    version_id            INTEGER NOT NULL,
    id                    VARCHAR NOT NULL,
    kind                  VARCHAR NOT NULL,
    holder                VARCHAR NOT NULL,
    held                  VARCHAR NOT NULL,
    share_low             DOUBLE,           -- NULL: no share stated
    share_high            DOUBLE,
    share_low_exclusive   BOOLEAN,
    share_high_exclusive  BOOLEAN,
    interests             VARCHAR[] NOT NULL,
    direct                BOOLEAN,
    start_date            DATE,
    end_date              DATE,
    role                  VARCHAR NOT NULL,
    source_ref            VARCHAR NOT NULL,
    PRIMARY KEY (version_id, id)
);

-- Statements of earlier loads that a load replaces (BODS replacesStatements).
CREATE TABLE graph_replaced (
    version_id    INTEGER NOT NULL,
    statement_id  VARCHAR NOT NULL
);

-- Nodes of a load matched to list entities, with why and how well.
CREATE TABLE graph_resolutions (
    version_id  INTEGER NOT NULL,
    node_id     VARCHAR NOT NULL,
    entity_id   VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,           -- imo, imo_company, lei, ..., name
    score       DOUBLE NOT NULL,
    detail      VARCHAR NOT NULL,
    PRIMARY KEY (version_id, node_id)
);
