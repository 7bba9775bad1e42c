"""The JSON-lines channel: whole lines, fsynced, and a torn tail from a crash repaired."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.alerts.test_notify_receivers import config, gap_and_call, store_with_alerts
from watchkeeper.alerts.engine import raise_alerts
from watchkeeper.alerts.notify import deliver_pending, enqueue, read_notifications
from watchkeeper.alerts.notify.jsonl import append_line

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_one_line_per_alert_revision_and_nothing_on_rerun(tmp_path: Path) -> None:
    store = store_with_alerts()
    cfg = config('[channels.archive]\nkind = "jsonl"\npath = "out/alerts.jsonl"\n', tmp_path)
    target = tmp_path / "out" / "alerts.jsonl"  # relative to the config file's folder
    enqueue(store, cfg, now=T0)
    assert len(deliver_pending(store, cfg, now=T0).sent) == 2
    enqueue(store, cfg, now=T0)
    assert not deliver_pending(store, cfg, now=T0).sent
    lines = read_notifications(target)
    assert sorted((n["alert_id"], n["revision"]) for n in lines) == sorted(
        store.con.execute("SELECT alert_id, revision FROM alerts").fetchall()
    )
    # new evidence on the gap alert: revision 2 is one more line, revision 1 stays
    store.write_events(gap_and_call(105.0)[:1])
    assert raise_alerts(store).updated
    assert enqueue(store, cfg, now=T0) == 1
    deliver_pending(store, cfg, now=T0 + timedelta(seconds=1))
    lines = read_notifications(target)
    assert [n["revision"] for n in lines].count(2) == 1 and len(lines) == 3
    assert target.read_bytes().endswith(b"\n")


def test_reader_skips_a_torn_last_line_and_writer_cuts_it(tmp_path: Path) -> None:
    target = tmp_path / "alerts.jsonl"
    append_line(target, json.dumps({"alert_id": "a", "revision": 1}))
    with target.open("ab") as f:
        f.write(b'{"alert_id": "b", "rev')  # a crash mid-write
    assert read_notifications(target) == [{"alert_id": "a", "revision": 1}]
    append_line(target, json.dumps({"alert_id": "b", "revision": 1}))
    assert target.read_text().splitlines() == [
        '{"alert_id": "a", "revision": 1}',
        '{"alert_id": "b", "revision": 1}',
    ]


def test_a_line_with_a_newline_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        append_line(tmp_path / "x.jsonl", '{"a":\n1}')
    assert not (tmp_path / "x.jsonl").exists()


def test_unwritable_path_is_retried(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a folder")
    store = store_with_alerts()
    cfg = config('[channels.archive]\nkind = "jsonl"\npath = "blocker/alerts.jsonl"\n', tmp_path)
    enqueue(store, cfg, now=T0)
    run = deliver_pending(store, cfg, now=T0)
    assert len(run.retrying) == 2 and all("cannot append" in e for e in run.errors.values())


_record = st.dictionaries(
    st.text(min_size=1, max_size=8), st.one_of(st.integers(), st.text(max_size=20)), max_size=4
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_record, min_size=1, max_size=6), st.data())
def test_a_crash_anywhere_leaves_only_whole_lines(
    tmp_path_factory: pytest.TempPathFactory, records: list[dict[str, object]], data: st.DataObject
) -> None:
    """Cut the file at any byte (a crash mid-write), append again: readers get the
    whole lines before the cut, then the new one, each one valid JSON."""
    target = tmp_path_factory.mktemp("jsonl") / "alerts.jsonl"
    for r in records:
        append_line(target, json.dumps(r, ensure_ascii=False))
    raw = target.read_bytes()
    cut = data.draw(st.integers(0, len(raw)))
    target.write_bytes(raw[:cut])
    whole = raw[:cut].count(b"\n")
    assert read_notifications(target) == records[:whole]
    append_line(target, json.dumps({"after": "crash"}))
    assert read_notifications(target) == [*records[:whole], {"after": "crash"}]
