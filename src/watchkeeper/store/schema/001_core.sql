-- Official list versions and the FtM entities of each version.
CREATE SEQUENCE IF NOT EXISTS list_version_seq START 1;

CREATE TABLE list_versions (
    version_id   INTEGER PRIMARY KEY DEFAULT nextval('list_version_seq'),
    source       VARCHAR NOT NULL,          -- ofac_sdn, ofac_cons, un_sc, us_csl, ...
    version      VARCHAR NOT NULL,          -- publication date, or file date
    published    DATE,
    file_hash    VARCHAR NOT NULL,          -- sha256 over the files, in name order
    files        VARCHAR[] NOT NULL,
    entity_count INTEGER NOT NULL,          -- primary entities (list entries)
    counts       JSON NOT NULL,             -- per-schema and per-file counts
    loaded_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE entities (
    version_id  INTEGER NOT NULL,
    id          VARCHAR NOT NULL,           -- stable across versions: ofac-12927, unsc-6908...
    entry_id    VARCHAR NOT NULL,           -- the source's own entry id (ent_num, DATAID...)
    is_primary  BOOLEAN NOT NULL,
    schema      VARCHAR NOT NULL,
    caption     VARCHAR NOT NULL,
    properties  JSON NOT NULL,
    digest      VARCHAR NOT NULL,           -- sha1 of the canonical properties
    PRIMARY KEY (version_id, id)
);

CREATE TABLE entity_names (
    version_id  INTEGER NOT NULL,
    id          VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    norm        VARCHAR NOT NULL            -- lower case, ASCII, single spaces
);
