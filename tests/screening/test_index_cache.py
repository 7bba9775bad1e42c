"""The saved candidate index: plain data that runs no code, and never trusted when damaged."""

from __future__ import annotations

import pickle
import shutil
import zlib
from pathlib import Path

import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.screening import Query, Screener
from watchkeeper.screening.index import _MAGIC, INDEX_FORMAT, INDEX_SUFFIX, CandidateIndex
from watchkeeper.store import Store


class _Planted:
    """Unpickling this creates ``marker``: the proof that a loader ran planted code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def _cache_file(sdn_store_path: Path, sdn_screener: Screener) -> Path:
    assert len(sdn_screener) > 0  # the session's index is built and saved
    files = list((sdn_store_path.parent / f"{sdn_store_path.name}.screening").glob("index-*"))
    assert len(files) == 1 and files[0].suffix == INDEX_SUFFIX
    return files[0]


def _with_header(payload: bytes) -> bytes:
    return _MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload


def test_saved_index_loads_as_built(sdn_store_path: Path, sdn_screener: Screener) -> None:
    loaded = CandidateIndex.load(_cache_file(sdn_store_path, sdn_screener))
    built = sdn_screener.index
    assert loaded is not None
    assert loaded.entity_ids == built.entity_ids and loaded.versions == built.versions
    assert loaded.names == built.names and loaded.facts == built.facts
    assert loaded.vocab == built.vocab and loaded.idf == built.idf
    assert loaded.identifiers == built.identifiers and loaded.by_id == built.by_id
    for name in ("key_hashes", "key_tokens", "post_names", "like_tokens", "like_sims"):
        assert np.array_equal(getattr(loaded, name), getattr(built, name)), name
    q = Query.from_yente({"schema": "Person", "properties": {"name": ["Nicolas Maduro"]}})
    fresh = Screener(loaded).screen(q)
    assert [(h.entity.id, h.score) for h in fresh] == [
        (h.entity.id, h.score) for h in sdn_screener.screen(q)
    ]


def test_planted_pickle_never_runs(
    tmp_path: Path, sdn_store_path: Path, sdn_screener: Screener
) -> None:
    """A pickle planted under the cache's name (and the old .pkl name) is neither
    unpickled nor used: the index is built again and replaces it."""
    name = _cache_file(sdn_store_path, sdn_screener).name
    db = tmp_path / "copy.duckdb"
    shutil.copy(sdn_store_path, db)
    cache = tmp_path / "copy.duckdb.screening"
    cache.mkdir()
    marker = tmp_path / "planted-code-ran"
    planted = pickle.dumps(_Planted(marker))
    (cache / name).write_bytes(planted)
    (cache / name.replace(INDEX_SUFFIX, ".pkl")).write_bytes(planted)
    assert not marker.exists()
    try:
        with Store(db, read_only=True) as store:
            screener = Screener.from_store(store)
    finally:
        Screener._memory.pop((str(cache), name[len("index-") : -len(INDEX_SUFFIX)]), None)
    assert not marker.exists()
    assert screener.index.entity_ids == sdn_screener.index.entity_ids
    assert [p.name for p in cache.iterdir()] == [name]  # rebuilt; the old pickle removed
    assert CandidateIndex.load(cache / name) is not None


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[: len(b) // 2], id="cut-in-half"),
        pytest.param(lambda b: b[:-1], id="last-byte-missing"),
        pytest.param(lambda b: b[:-1000] + bytes([b[-1000] ^ 0x40]) + b[-999:], id="bit-flipped"),
        pytest.param(lambda b: b"", id="empty"),
        pytest.param(lambda b: b"not an index", id="text"),
        pytest.param(lambda b: b + b"\x00", id="trailing-byte"),
    ],
)
def test_damaged_cache_is_ignored(
    tmp_path: Path, sdn_store_path: Path, sdn_screener: Screener, damage: object
) -> None:
    good = _cache_file(sdn_store_path, sdn_screener).read_bytes()
    path = tmp_path / "index-x.msgpack"
    assert callable(damage)
    path.write_bytes(damage(good))
    assert CandidateIndex.load(path) is None


def test_well_formed_file_of_other_content_is_ignored(
    tmp_path: Path, sdn_store_path: Path, sdn_screener: Screener
) -> None:
    """Right header and checksum, wrong insides: an out-of-range posting, another format."""
    plain = sdn_screener.index._to_plain()
    path = tmp_path / "index-x.msgpack"
    bad_names = np.array([0, 10**8], dtype=np.int32)
    dtype, raw = plain["arrays"]["post_names"]
    plain["arrays"]["post_names"] = (dtype, bad_names.tobytes() + raw[8:])
    path.write_bytes(_with_header(msgpack.packb(plain, use_bin_type=True)))
    assert CandidateIndex.load(path) is None
    plain = sdn_screener.index._to_plain()
    plain["arrays"]["post_names"] = ("|O", raw)
    path.write_bytes(_with_header(msgpack.packb(plain, use_bin_type=True)))
    assert CandidateIndex.load(path) is None
    plain["format"] = 1
    path.write_bytes(_with_header(msgpack.packb(plain, use_bin_type=True)))
    assert CandidateIndex.load(path) is None


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300), st.booleans())
def test_any_bytes_are_ignored_not_a_crash(tmp_path: Path, data: bytes, headed: bool) -> None:
    path = tmp_path / "index-x.msgpack"
    path.write_bytes(_with_header(data) if headed else data)
    assert CandidateIndex.load(path) is None


_plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats()
    | st.text()
    | st.binary(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["format", "arrays", "names", "facts", "x"]), inner)
    ),
    max_leaves=20,
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_plain, st.booleans())
def test_any_msgpack_data_is_ignored_not_a_crash(
    tmp_path: Path, plain: object, our_format: bool
) -> None:
    if our_format and isinstance(plain, dict):
        plain["format"] = INDEX_FORMAT
    path = tmp_path / "index-x.msgpack"
    path.write_bytes(_with_header(msgpack.packb(plain, use_bin_type=True)))
    assert CandidateIndex.load(path) is None
