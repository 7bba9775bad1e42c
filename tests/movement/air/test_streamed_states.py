"""State vectors in JSON lines and CSV are read as a stream, in batches: the same result
as reading the whole text, for less memory (issue 11, item 7). Real samples."""

from __future__ import annotations

import csv
import gzip
import io
import json
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.lists._mutate import MUTATION_SETTINGS, mutations
from tests.movement.air._support import HANDMADE, QUICKSTART_PART
from watchkeeper.errors import InputError
from watchkeeper.movement.air import formats
from watchkeeper.movement.air.formats import ParsedFile, read_air_file
from watchkeeper.movement.air.states import (
    ParsedStates,
    StateVectors,
    read_csv_states,
    read_jsonl_states,
)

COLUMNS = ("timestamp", "icao24", "latitude", "longitude", "altitude", "groundspeed", "track")


def _lines(n: int) -> list[str]:
    with gzip.open(QUICKSTART_PART, "rt") as fh:
        return [line for _, line in zip(range(n), fh, strict=False)]


def _csv_text(lines: list[str]) -> str:
    """The real traffic records as a CSV of traffic's columns (times in seconds)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for line in lines:
        r = json.loads(line)
        r["timestamp"] = r["timestamp"] / 1000
        writer.writerow(["" if r.get(c) is None else r[c] for c in COLUMNS])
    return out.getvalue()


def assert_same_states(a: StateVectors, b: StateVectors) -> None:
    for name in StateVectors.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if x.dtype == object:
            assert x.tolist() == y.tolist(), name
        else:
            np.testing.assert_array_equal(x, y, err_msg=name)


def assert_same(a: ParsedStates | ParsedFile, b: ParsedStates | ParsedFile) -> None:
    assert (a.format, a.rows_read, a.rejects, a.repaired) == (
        b.format,
        b.rows_read,
        b.rejects,
        b.repaired,
    )
    assert {k: vars(v) for k, v in a.facts.items()} == {k: vars(v) for k, v in b.facts.items()}
    assert_same_states(a.states, b.states)


def read_whole(path: Path, monkeypatch: pytest.MonkeyPatch) -> ParsedFile:
    """The file read as before: all its text at once."""
    with monkeypatch.context() as m:
        m.setattr(formats, "_read_line_states", lambda _path: None)
        return read_air_file(path)


@pytest.mark.parametrize("path", [QUICKSTART_PART, HANDMADE], ids=["quickstart", "handmade"])
def test_streamed_file_equals_the_whole_read(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    streamed = read_air_file(path)
    whole = read_whole(path, monkeypatch)
    assert streamed.format.startswith("jsonl/")
    assert streamed.file_hash == whole.file_hash  # of the decompressed bytes, as before
    assert_same(streamed, whole)


def test_batches_equal_one_pass_json_lines_and_csv() -> None:
    lines = _lines(3000)
    lines[10] = "{not json\n"  # damage, counted the same whichever batch it falls in
    lines[2999] = "[1, 2]\n"
    lines.append("\n")
    one = read_jsonl_states(lines, Path("q.jsonl"), batch_rows=10**9)
    assert one.rejects["bad_json_line"] == 1 and one.rejects["bad_record"] == 1
    for batch in (1, 7, 1000, 2998):
        assert_same(read_jsonl_states(lines, Path("q.jsonl"), batch_rows=batch), one)

    text = _csv_text(_lines(3000)) + "1,2\r\n"  # a short last row, after a full batch
    one = read_csv_states(text, Path("q.csv"), batch_rows=10**9)
    assert one.format == "csv/traffic" and one.rejects["bad_csv_row"] == 1
    assert len(one.states) > 2500
    for batch in (1, 13, 3000):
        assert_same(read_csv_states(io.StringIO(text, newline=""), Path("q.csv"), batch), one)


def test_streaming_reads_in_a_fraction_of_the_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    def peak(action: object) -> int:
        tracemalloc.start()
        try:
            action()  # type: ignore[operator]
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    streamed = peak(lambda: read_air_file(QUICKSTART_PART))
    whole = peak(lambda: read_whole(QUICKSTART_PART, monkeypatch))
    assert streamed < whole / 2, (streamed, whole)


@MUTATION_SETTINGS
@given(
    data=mutations(_csv_text(_lines(40)).encode(), csv=True)
    | mutations("".join(_lines(40)).encode(), csv=True),
    batch=st.integers(1, 50),
)
def test_damaged_lines_read_in_batches_as_in_one_pass(data: bytes, batch: int) -> None:
    """Damaged real JSON lines or CSV: batches give what one pass gives, or the same
    InputError naming the file; never another exception."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "states.txt"
        path.write_bytes(data)
        outcomes = []
        for rows in (batch, 10**9):
            try:
                text = data.decode("utf-8-sig")
                if text.lstrip()[:1] == "{":
                    got: ParsedStates | str = read_jsonl_states(
                        io.StringIO(text, newline=""), path, rows
                    )
                else:
                    got = read_csv_states(io.StringIO(text, newline=""), path, rows)
            except InputError as exc:
                assert str(path) in str(exc)
                got = str(exc)
            except UnicodeDecodeError:
                return
            outcomes.append(got)
        if isinstance(outcomes[0], str) or isinstance(outcomes[1], str):
            assert outcomes[0] == outcomes[1]
        else:
            assert_same(outcomes[0], outcomes[1])
        try:
            read_air_file(path)  # the file reader: our error or a result, nothing else
        except InputError as exc:
            assert str(path) in str(exc)


def test_a_damaged_field_name_reads_in_batches_as_in_one_pass() -> None:
    """A record whose 'latitude' key lost a letter ('atitude'): read alone in a batch it
    names no layout, but the file does; batches give what one pass gives (found by the
    property test above on a full run)."""
    lines = _lines(40)
    damaged = [lines[0].replace('"latitude"', '"atitude"', 1), *lines[1:]]
    assert damaged[0] != lines[0]
    text = "".join(damaged)
    one = read_jsonl_states(io.StringIO(text, newline=""), Path("q.jsonl"), batch_rows=10**9)
    for batch in (1, 2, 7):
        got = read_jsonl_states(io.StringIO(text, newline=""), Path("q.jsonl"), batch_rows=batch)
        assert got.rows_read == one.rows_read
        assert got.rejects == one.rejects
        assert len(got.states) == len(one.states)
