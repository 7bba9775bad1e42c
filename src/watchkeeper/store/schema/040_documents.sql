-- Reports read: the cleaned text, its blocks (with what was set aside and why),
-- mentions (linked or not) and attributed claims.
CREATE TABLE documents (
    doc_id       VARCHAR PRIMARY KEY,       -- 'doc-' + sha1 of the text, first 16 hex
    source       VARCHAR NOT NULL,          -- path, URL or '-'
    media_type   VARCHAR NOT NULL,
    title        VARCHAR,
    published    VARCHAR,
    read_at      TIMESTAMPTZ NOT NULL,
    text         VARCHAR NOT NULL,
    blocks       JSON NOT NULL,
    list_versions INTEGER[] NOT NULL,       -- the list versions mentions were linked against
    entity       JSON NOT NULL              -- the FtM Article entity
);

CREATE TABLE document_mentions (
    doc_id     VARCHAR NOT NULL,
    mention_id VARCHAR NOT NULL,            -- '<doc_id>#<start>-<end>': evidence id 'doc:<mention_id>'
    start_pos  INTEGER NOT NULL,
    end_pos    INTEGER NOT NULL,
    text       VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL,
    entity_id  VARCHAR,
    score      DOUBLE NOT NULL,
    reason     VARCHAR NOT NULL,
    detail     JSON NOT NULL,               -- the whole mention, and its FtM Mention entity
    PRIMARY KEY (doc_id, mention_id)
);

CREATE TABLE document_claims (
    doc_id     VARCHAR NOT NULL,
    claim_no   INTEGER NOT NULL,
    source     VARCHAR NOT NULL,
    source_key VARCHAR NOT NULL,
    form       VARCHAR NOT NULL,
    content    VARCHAR NOT NULL,
    detail     JSON NOT NULL,
    PRIMARY KEY (doc_id, claim_no)
);
