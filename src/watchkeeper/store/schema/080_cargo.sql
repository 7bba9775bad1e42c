-- Shipments as the papers state them (watchkeeper.cargo): one row per goods line,
-- and the ingest batches they came in (one per file, or per set of files of a joined
-- layout). A file's SHA-256 is kept so the same file ingested twice is noticed.
CREATE TABLE cargo_batches (
    batch_id     INTEGER PRIMARY KEY,
    layout       VARCHAR NOT NULL,
    sources      VARCHAR[] NOT NULL,     -- the file paths as given
    source_hash  VARCHAR NOT NULL UNIQUE, -- sha256 of the file (of the sorted hashes of a set)
    lines        INTEGER NOT NULL,
    shipments    INTEGER NOT NULL,
    ingested_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE shipment_lines (
    line_id               VARCHAR PRIMARY KEY,  -- '<shipment_id>/<line_no>': evidence 'shipment:<line_id>'
    batch_id              INTEGER NOT NULL,
    shipment_id           VARCHAR NOT NULL,
    line_no               INTEGER NOT NULL,
    source_ref            VARCHAR NOT NULL,     -- 'file.csv:12'
    layout                VARCHAR NOT NULL,
    mode                  VARCHAR NOT NULL,
    parties               JSON NOT NULL,        -- [{role, name, country, address}]
    goods                 VARCHAR NOT NULL,
    hs_code               VARCHAR,
    quantity              DOUBLE,
    quantity_unit         VARCHAR NOT NULL,
    weight_kg             DOUBLE,
    value                 DOUBLE,
    currency              VARCHAR,
    vessel_name           VARCHAR,
    vessel_imo            VARCHAR,
    vessel_flag           VARCHAR,
    flight_number         VARCHAR,
    aircraft_registration VARCHAR,
    origin_country        VARCHAR,
    destination_country   VARCHAR,
    transit_countries     VARCHAR[] NOT NULL,
    port_of_loading       VARCHAR,
    port_of_discharge     VARCHAR,
    loading_date          DATE,
    discharge_date        DATE,
    declared_date         DATE,
    license_number        VARCHAR,
    end_use               VARCHAR NOT NULL,
    end_user              VARCHAR,
    notes                 VARCHAR[] NOT NULL
);
