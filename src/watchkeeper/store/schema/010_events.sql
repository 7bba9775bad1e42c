-- Every analysis writes the same shape of event (see watchkeeper.events).
CREATE TABLE events (
    event_id   VARCHAR PRIMARY KEY,         -- deterministic: same input, same id
    type       VARCHAR NOT NULL,
    subjects   VARCHAR[] NOT NULL,          -- 'mmsi:273...', 'icao24:730a01', 'ofac-12927'
    start_time TIMESTAMPTZ NOT NULL,
    end_time   TIMESTAMPTZ NOT NULL,
    lat        DOUBLE,
    lon        DOUBLE,
    score      DOUBLE NOT NULL,
    detail     VARCHAR NOT NULL,
    params     JSON NOT NULL,
    evidence   VARCHAR[] NOT NULL,          -- 'ais:<msg_id>', 'list:ofac-12927', ...
    created_at TIMESTAMPTZ NOT NULL
);
