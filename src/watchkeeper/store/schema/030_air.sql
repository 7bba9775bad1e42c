-- Aircraft: ingests, state vectors, raw Mode-S frames, flights, aircraft identities.
-- One set of units for every source: time UTC; lat/lon degrees WGS84; altitudes feet;
-- ground speed knots; track degrees true; vertical rate feet per minute.
CREATE TABLE air_ingests (
    ingest_id   INTEGER PRIMARY KEY,
    source      VARCHAR NOT NULL,           -- file path
    format      VARCHAR NOT NULL,           -- json-records/traffic, csv/opensky, trace_full, frames-jsonl, beast...
    file_hash   VARCHAR NOT NULL,           -- sha256 of the file's bytes: the same file loads once
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    counts      JSON NOT NULL,              -- rows read, states, frames by DF, positions...
    rejects     JSON NOT NULL,              -- rows or frames dropped, by reason
    repaired    JSON NOT NULL,              -- kept after a fix (out_of_order, short_frame_padded...)
    notes       JSON NOT NULL
);

-- State vectors: one position of one aircraft at one time.
CREATE TABLE air_states (
    row_id            BIGINT PRIMARY KEY,   -- evidence id 'adsb:<row_id>'
    ingest_id         INTEGER NOT NULL,
    icao24            VARCHAR NOT NULL,     -- 6 lower-case hex digits
    time              TIMESTAMPTZ NOT NULL,
    lat               DOUBLE NOT NULL,
    lon               DOUBLE NOT NULL,
    altitude_ft       DOUBLE,               -- barometric
    geoaltitude_ft    DOUBLE,               -- GNSS
    groundspeed_kt    DOUBLE,
    track_deg         DOUBLE,
    vertical_rate_fpm DOUBLE,
    onground          BOOLEAN,              -- NULL when the source does not say
    callsign          VARCHAR,
    squawk            VARCHAR,
    frame_id          BIGINT                -- the raw frame it was decoded from, if any
);

-- Raw frames that passed their CRC/parity check (rejected ones are only counted).
CREATE TABLE air_frames (
    frame_id  BIGINT PRIMARY KEY,           -- evidence id 'modes:<frame_id>'
    ingest_id INTEGER NOT NULL,
    time      TIMESTAMPTZ NOT NULL,
    icao24    VARCHAR NOT NULL,
    df        SMALLINT NOT NULL,
    typecode  SMALLINT,                     -- ADS-B type code for DF17/18
    frame     VARCHAR NOT NULL              -- hex
);

-- Flights: rebuilt for an aircraft whenever its states change.
CREATE TABLE air_flights (
    flight_id       VARCHAR PRIMARY KEY,    -- '<icao24>-<start yyyymmddThhmmssZ>'
    icao24          VARCHAR NOT NULL,
    callsign        VARCHAR,
    callsigns       VARCHAR[] NOT NULL,
    start_time      TIMESTAMPTZ NOT NULL,   -- first seen (taxi included)
    end_time        TIMESTAMPTZ NOT NULL,   -- last seen
    takeoff         TIMESTAMPTZ,            -- NULL when first seen airborne
    landing         TIMESTAMPTZ,            -- NULL when last seen airborne
    departure       VARCHAR,                -- ICAO airport code, NULL when not seen
    arrival         VARCHAR,
    departure_detail VARCHAR,               -- why: which state, how far from the airport
    arrival_detail  VARCHAR,
    departure_row   BIGINT,
    arrival_row     BIGINT,
    first_row       BIGINT NOT NULL,
    last_row        BIGINT NOT NULL,
    n_points        INTEGER NOT NULL,
    first_lat       DOUBLE NOT NULL,
    first_lon       DOUBLE NOT NULL,
    last_lat        DOUBLE NOT NULL,
    last_lon        DOUBLE NOT NULL,
    max_altitude_ft DOUBLE,
    distance_km     DOUBLE NOT NULL,        -- along the track
    gc_km           DOUBLE NOT NULL,        -- great circle, first to last position
    path            JSON NOT NULL           -- [[lat, lon], ...] thinned to at most 200 points
);

-- What is known of each aircraft (address block, what sources stated, callsigns seen).
CREATE TABLE air_aircraft (
    icao24              VARCHAR PRIMARY KEY,
    country             VARCHAR,            -- of the address block (registers table)
    country_code        VARCHAR,            -- ISO 3166 alpha-2, lower case
    registration        VARCHAR,
    registration_source VARCHAR,            -- 'source' (stated by a file) or 'callsign <cs>'
    serial              VARCHAR,
    typecode            VARCHAR,
    description         VARCHAR,
    owner_operator      VARCHAR,            -- as a source states it (readsb ownOp)
    callsigns           VARCHAR[] NOT NULL,
    first_seen          TIMESTAMPTZ,
    last_seen           TIMESTAMPTZ,
    n_states            BIGINT NOT NULL
);
