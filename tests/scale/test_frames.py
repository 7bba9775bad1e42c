"""The engine-independent parts of the Spark path, without Spark: times as DuckDB
gives them, events through their row form, settings of the session."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import numpy as np
import pytest

from watchkeeper.errors import InputError
from watchkeeper.events import Event
from watchkeeper.scale.frames import (
    EVENT_SCHEMA,
    epoch_seconds,
    event_from_record,
    event_record,
    events_table,
    from_us,
    to_us,
)
from watchkeeper.scale.spark import _components, session_conf, spark_master


def test_epoch_seconds_bit_for_bit_as_duckdb() -> None:
    """The local engine reads times through DuckDB's epoch(); the Spark path gets
    microseconds and must make the same doubles (us / 1e6 does not, for ~1/4)."""
    rng = np.random.default_rng(5)
    us = np.r_[
        rng.integers(-(10**15), 4 * 10**15, 100_000),  # 1938..2096, before 1970 too
        [0, 1, -1, 999, -999, 1000, -1001, 1_700_000_000_123_457],
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest(?) AS us", [us.tolist()])
    rows = con.execute("SELECT us, epoch(make_timestamptz(us)) FROM t ORDER BY us").fetchnumpy()
    expected = np.asarray(rows["epoch(make_timestamptz(us))"], dtype=np.float64)
    got = epoch_seconds(np.asarray(rows["us"], dtype=np.int64))
    assert np.array_equal(got, expected)
    assert not np.array_equal(np.asarray(rows["us"]) / 1e6, expected)  # why it exists


def test_event_row_round_trip_is_exact() -> None:
    when = datetime(2024, 3, 1, 12, 0, 0, 123457, tzinfo=UTC)
    event = Event(
        type="encounter",
        subjects=("mmsi:273123456", "imo:9187629", "ofac-1"),
        start=when,
        end=when.replace(hour=14),
        score=0.9,
        detail="hand-made",
        evidence=("ais:1", "ais:2"),
        lat=30.000000000000004,
        lon=None,
        params={"max_distance_km": 0.5, "vessels": [1, 2], "listed": None, "ok": True},
    )
    back = event_from_record(events_table([event]).to_pylist()[0])
    assert back == event and back.to_dict() == event.to_dict()
    assert event_record(event)["start_us"] == to_us(when) and from_us(to_us(when)) == when
    assert events_table([]).schema == EVENT_SCHEMA


def test_components_join_pairs_that_share_a_vessel() -> None:
    groups = _components([(3, 1), (5, 4), (1, 2), (9, 9)])
    assert groups == {1: 1, 2: 1, 3: 1, 4: 4, 5: 4, 9: 9}


def test_session_settings_offline() -> None:
    conf = session_conf("local[2]")
    assert conf["spark.ui.enabled"] == "false"
    assert conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert "spark.driver.host" not in session_conf("spark://cluster:7077")
    with pytest.raises(InputError, match="download"):
        session_conf("local[2]", {"spark.jars.packages": "org.example:x:1"})


def test_master_from_settings_env_or_default() -> None:
    assert spark_master(environ={}) == "local[2]"
    assert spark_master(environ={"WATCHKEEPER_SPARK_MASTER": "local[4]"}) == "local[4]"
