-- AIS: one row per decoded report. Units: UTC, knots, degrees, metres.
CREATE SEQUENCE IF NOT EXISTS ais_ingest_seq START 1;

CREATE TABLE ais_ingests (
    ingest_id   INTEGER PRIMARY KEY DEFAULT nextval('ais_ingest_seq'),
    source      VARCHAR NOT NULL,           -- file path, tcp://host:port or '-'
    format      VARCHAR,                    -- 'nmea', 'csv:<layout>' (noaa, dma, aisdb, ...)
    file_hash   VARCHAR,                    -- sha256 of the file as read; a file is ingested once
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    counts      JSON NOT NULL,              -- messages by type, positions, statics
    rejects     JSON NOT NULL               -- bad input counted by reason
);

-- Position reports: types 1, 2, 3 (class A), 18, 19 (class B), 27 (long range).
CREATE TABLE ais_positions (
    msg_id     BIGINT PRIMARY KEY,          -- evidence id 'ais:<msg_id>'
    ingest_id  INTEGER NOT NULL,
    mmsi       INTEGER NOT NULL,
    time       TIMESTAMPTZ NOT NULL,
    lat        DOUBLE NOT NULL,             -- degrees, WGS84
    lon        DOUBLE NOT NULL,
    sog        DOUBLE,                      -- knots; NULL when not available
    cog        DOUBLE,                      -- degrees true; NULL when not available
    heading    DOUBLE,                      -- degrees true; NULL when 511
    nav_status SMALLINT,                    -- ITU code 0-15 (15 = undefined)
    msg_type   SMALLINT NOT NULL,           -- 0 when a decoded CSV does not say
    accuracy   BOOLEAN,
    source     VARCHAR                      -- receiver/station (tag block s:) when known
);

-- Static and voyage data: types 5, 19, 24 A/B (and decoded CSV identity columns).
CREATE TABLE ais_static (
    msg_id      BIGINT PRIMARY KEY,
    ingest_id   INTEGER NOT NULL,
    mmsi        INTEGER NOT NULL,
    time        TIMESTAMPTZ,                -- NULL when the source gives no time
    msg_type    SMALLINT NOT NULL,          -- 5, 19, 24; 0 for a CSV's identity columns
    imo         INTEGER,
    name        VARCHAR,
    callsign    VARCHAR,
    ship_type   SMALLINT,                   -- ITU-R M.1371 code
    ship_type_text VARCHAR,                 -- text from decoded CSVs ('TANKER')
    to_bow      SMALLINT,                   -- metres (0 = not available, as broadcast)
    to_stern    SMALLINT,
    to_port     SMALLINT,
    to_starboard SMALLINT,
    draught     DOUBLE,                     -- metres
    destination VARCHAR,
    length      DOUBLE,                     -- metres: to_bow + to_stern, or a CSV's length
    width       DOUBLE,                     -- metres: to_port + to_starboard, or a CSV's width
    source      VARCHAR
);

-- Messages of other types, kept raw: nothing is dropped.
CREATE TABLE ais_other (
    msg_id    BIGINT PRIMARY KEY,
    ingest_id INTEGER NOT NULL,
    mmsi      INTEGER,
    time      TIMESTAMPTZ,
    msg_type  SMALLINT NOT NULL,
    payload   VARCHAR NOT NULL              -- armoured 6-bit payload
);

CREATE SEQUENCE IF NOT EXISTS ais_msg_seq START 1;
