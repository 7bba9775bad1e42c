-- Links from broadcast vessel identities (MMSI) to listed entities, with why.
CREATE TABLE vessel_links (
    mmsi       INTEGER NOT NULL,
    entity_id  VARCHAR NOT NULL,           -- listed Vessel, or its owner/operator
    method     VARCHAR NOT NULL,           -- imo | registry_imo | mmsi | name_flag_type | owner | operator
    score      DOUBLE NOT NULL,            -- 0..1
    detail     VARCHAR NOT NULL,           -- why the link holds
    evidence   VARCHAR[] NOT NULL,         -- 'ais:<msg_id>', 'registry:shadow_fleet/...'
    linked_at  TIMESTAMPTZ NOT NULL
);
