"""One local Spark session for the whole test session (starting one costs seconds).
pyspark and a Java 17 runtime are needed: no skip, CI must run these tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from watchkeeper.scale.spark import build_session

    # Spark's Python workers import what the broadcast references by module: the
    # tests' own helpers too (a detector defined under tests/).
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    session = build_session(
        "local[2]",
        conf={
            "spark.sql.shuffle.partitions": "2",
            # A short-lived JVM: the quick JIT tier starts faster than it loses.
            "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        },
    )
    try:
        yield session
    finally:
        session.stop()
