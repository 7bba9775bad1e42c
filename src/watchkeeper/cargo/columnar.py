"""The fast path of a one-table CSV layout: the file read once, then each field read
column by column, once per distinct cell (or per distinct combination of the cells it
depends on), with the row path's own ``TableReader`` so every value reads exactly as it
would row by row.

``columnar_lines(path, layout)`` gives the stored columns of every line (the columns of
``shipment_lines``, parties as their JSON text) as an Arrow table, or None when it
cannot vouch for the result: a row of the wrong width, a value that does not read, a
line id twice, no shipment id. The caller then reads the file row by row, which names
the file, row and column of the first bad value; nothing is stored either way until
the whole file has been read.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchkeeper.cargo.ingest import _BAD_GZIP, BadValue, TableReader, _mode, read_csv
from watchkeeper.cargo.layouts import FIELD_KINDS, FieldSpec, Layout, Table
from watchkeeper.cargo.model import Party, ShipmentLine
from watchkeeper.errors import InputError
from watchkeeper.io import logical_name, open_binary, open_text

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

# Rows read into Python at a time before they become Arrow columns.
_CHUNK_ROWS = 100_000
# What Python's str.strip() removes from ASCII text.
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_DEFAULTS: dict[str, Any] = {
    f.name: (f.default if f.default is not dataclasses.MISSING else ())
    for f in dataclasses.fields(ShipmentLine)
    if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
}
_ARROW_TYPES = {
    "line_no": "int32",
    "quantity": "float64",
    "weight_kg": "float64",
    "value": "float64",
    "loading_date": "date32",
    "discharge_date": "date32",
    "declared_date": "date32",
}
_LISTS = ("transit_countries", "notes")


class _CannotVouch(Exception):
    """The fast path stops; the row path reads the file and names what is wrong."""


def _arrow_type(name: str) -> pa.DataType:
    import pyarrow as pa

    if name in _LISTS:
        return pa.list_(pa.string())
    return getattr(pa, _ARROW_TYPES.get(name, "string"))()


def _read_columns(path: Path, columns: list[str]) -> tuple[pa.Table, int]:
    """Every record of the CSV as string columns (by lower-case header name, the last
    of a repeated empty name winning, as the row path's dict does), and how many.
    Row numbers are those of the row path (header 1, each record one more) only when
    no record is blank: a blank one makes this give up."""
    import pyarrow as pa

    with open_text(path, encoding="utf-8-sig") as fh:
        head = fh.readline()
    delimiter = max(",;\t|", key=head.count) if head else ","
    width = len(columns)
    keep = {c: i for i, c in enumerate(columns)}  # last index of each name
    plain = _read_plain(path, delimiter, width)
    if plain is not None:
        return pa.table({c: plain.column(i) for c, i in keep.items()}), plain.num_rows
    chunks: list[pa.Table] = []
    total = 0
    with open_text(path, encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            next(reader, None)
            while True:
                rows = []
                for cells in reader:
                    if len(cells) != width:  # blank records and ragged rows: the row path
                        raise _CannotVouch
                    rows.append(cells)
                    if len(rows) == _CHUNK_ROWS:
                        break
                if not rows:
                    break
                total += len(rows)
                cols = list(zip(*rows, strict=True))
                del rows
                chunks.append(
                    pa.table({c: pa.array(cols[i], pa.string()) for c, i in keep.items()})
                )
        except (csv.Error, UnicodeDecodeError, *_BAD_GZIP) as exc:
            raise _CannotVouch from exc
    if not chunks:
        raise _CannotVouch
    return pa.concat_tables(chunks).combine_chunks(), total


def _read_plain(path: Path, delimiter: str, width: int) -> pa.Table | None:
    """The records of a CSV with one record per line (LF or CRLF; no NUL bytes, blank
    lines or lone carriage returns), read by Arrow, which splits a line at its
    delimiters as Python's csv module does; every line with a quote is read again by
    the csv module to be sure. None for any other file (or a ragged row)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open_binary(path) as fh:
        data = fh.read()
    data = data.removeprefix(b"\xef\xbb\xbf")
    end = data.find(b"\n")
    if end < 0 or any(b in data for b in (b"\x00", b"\n\n", b"\n\r\n")):
        return None
    if data.count(b"\r") != data.count(b"\r\n"):  # a lone carriage return
        return None
    if data[end + 1 :].strip(b"\n") == b"":
        return None  # no records
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(
                skip_rows=1, column_names=[f"c{i}" for i in range(width)]
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys([f"c{i}" for i in range(width)], pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        ).combine_chunks()
    except (pa.ArrowInvalid, ValueError):
        return None
    if b'"' in data and not _quotes_read_alike(data[end + 1 :], table, delimiter):
        return None
    return table


def _quotes_read_alike(body: bytes, table: pa.Table, delimiter: str) -> bool:
    """Whether Arrow read every line with a quote as Python's csv module reads it, one
    record per line (a quoted line break would shift the row numbers)."""
    lines = body.split(b"\n")
    quoted = [i for i, line in enumerate(lines) if b'"' in line]
    if len(lines) - (lines[-1] in (b"", b"\r")) != table.num_rows:
        return False
    if any(lines[i].count(b'"') % 2 for i in quoted):
        return False
    import pyarrow as pa

    ours = table.take(pa.array(quoted, pa.int64())).to_pylist()
    for i, row in zip(quoted, ours, strict=True):
        text = lines[i].removesuffix(b"\r").decode("utf-8")
        cells = next(csv.reader([text], delimiter=delimiter), [])
        if cells != [row[f"c{j}"] for j in range(len(row))]:
            return False
    return True


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[Any]]:
    """Each row's index into the distinct values (null one of them), and those values."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(column, null_encoding="encode")
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return (
        np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64),
        encoded.dictionary.to_pylist(),
    )


def _combined(parts: Sequence[tuple[np.ndarray, int]], n: int) -> np.ndarray:
    """One int64 key per row for a combination of codes (each with its number of
    distinct values), renumbered before the key would overflow."""
    import numpy as np

    key = np.zeros(n, dtype=np.int64)
    span = 1
    for codes, size in parts:
        size = max(size, 1)
        if span * size >= 1 << 62:
            _, key = np.unique(key, return_inverse=True)
            key = key.reshape(-1).astype(np.int64)
            span = int(key.max()) + 1 if n else 1
        key = key * size + codes
        span *= size
    return key


def _per_distinct(
    data: pa.Table, inputs: Sequence[str], read: Callable[[dict[str, Any]], Any]
) -> tuple[np.ndarray, list[Any]]:
    """``read`` applied once per distinct combination of the ``inputs`` columns (a row
    of just those cells; a column the file lacks is absent, as in the row path):
    each row's index into the results, and the results."""
    import numpy as np

    present = [c for c in dict.fromkeys(inputs) if c in data.column_names]
    n = data.num_rows
    if not present:
        return np.zeros(n, dtype=np.int64), [read({})]
    dicts = []
    parts = []
    for c in present:
        codes, values = _codes(data.column(c))
        parts.append((codes, len(values)))
        dicts.append(values)
    key = _combined(parts, n)
    if len(present) == 1:
        firsts, inverse = np.arange(len(dicts[0])), key
    else:
        _, firsts, inverse = np.unique(key, return_index=True, return_inverse=True)
    picked = [data.column(c).take(firsts).to_pylist() for c in present] if len(present) > 1 else [
        dicts[0]
    ]  # fmt: skip
    results = [read(dict(zip(present, cells, strict=True))) for cells in zip(*picked, strict=True)]
    return np.asarray(inverse, dtype=np.int64).reshape(-1), results


def _simple(spec: FieldSpec) -> str | None:
    """The one column a field is read from as it stands, if that is all there is to it."""
    if (
        spec.how == "column"
        and len(spec.columns) == 1
        and spec.value is None
        and spec.if_column is None
        and spec.unit_column is None
        and spec.take is None
    ):
        return spec.columns[0]
    return None


def _ascii_text(column: pa.Array, prefix: str) -> pa.Array | None:
    """A text field as the row path reads it (stripped, blank is absent), when every
    cell is ASCII (so Arrow's trim is Python's strip)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pc.all(pc.string_is_ascii(column)).as_py():
        return None
    text = pc.utf8_trim(column, characters=_ASCII_SPACE)
    if prefix:
        text = pc.binary_join_element_wise(pa.scalar(prefix), text, "")
    return pc.if_else(
        pc.equal(pc.utf8_length(text), len(prefix)), pa.scalar(None, pa.string()), text
    )


def _plain_numbers(column: pa.Array) -> pa.Array | None:
    """A float field as the row path reads it, when every non-blank cell is a plain
    decimal (digits, optional fraction, thousands commas or spaces): Arrow's cast then
    reads what Python's float() does. None otherwise."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pc.all(pc.string_is_ascii(column)).as_py():
        return None
    text = pc.utf8_trim(column, characters=_ASCII_SPACE)
    text = pc.replace_substring(pc.replace_substring(text, ",", ""), " ", "")
    blank = pc.equal(pc.utf8_length(pc.utf8_trim(column, characters=_ASCII_SPACE)), 0)
    plain = pc.match_substring_regex(text, r"^[0-9]+(\.[0-9]+)?$")
    if not pc.all(pc.or_(blank, plain)).as_py():
        return None
    return pc.cast(pc.if_else(blank, pa.scalar(None, pa.string()), text), "float64")


def columnar_lines(path: Path, layout: Layout) -> pa.Table | None:
    """The columns of ``shipment_lines`` (``line_id`` and every ``ShipmentLine`` field;
    parties as JSON text) for a one-table CSV layout's file, or None when the row path
    must read it (see the module docstring)."""
    if layout.joined or not logical_name(path).lower().endswith((".csv", ".txt")):
        return None
    columns, _ = read_csv(path)  # a bad header is the row path's own error
    table = layout.tables[0]
    if not table.matches(columns):
        return None
    try:
        data, n = _read_columns(path, columns)
        return _lines_table(path, layout, table, data, n)
    except (_CannotVouch, BadValue, InputError, ValueError):
        return None


def _lines_table(path: Path, layout: Layout, table: Table, data: pa.Table, n: int) -> pa.Table:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from watchkeeper.cargo.store import _FIELDS, _parties_json

    out: dict[str, pa.Array] = {}

    def one_field(name: str, spec: FieldSpec) -> Callable[[dict[str, Any]], Any]:
        reader = TableReader(dataclasses.replace(table, fields={name: spec}, parties={}), layout)
        absent = None if name == "mode" else _DEFAULTS.get(name)  # the layout's mode then

        def read(row: dict[str, Any]) -> Any:
            return reader.fields(row, path, 0).get(name, absent)

        return read

    for name, spec in table.fields.items():
        kind = FIELD_KINDS[name]
        column = _simple(spec)
        if column is not None and column in data.column_names and name not in ("mode", "notes"):
            cells = data.column(column).combine_chunks()
            fast = None
            if kind == "text":
                fast = _ascii_text(cells, spec.prefix)
                if fast is not None and name in _DEFAULTS and _DEFAULTS[name] is not None:
                    fast = pc.fill_null(fast, _DEFAULTS[name])
            elif kind == "float":
                fast = _plain_numbers(cells)
            if fast is not None:
                out[name] = fast
                continue
        inputs = [*spec.columns, *(c for c in (spec.unit_column, spec.if_column) if c)]
        inverse, values = _per_distinct(data, inputs, one_field(name, spec))
        if name == "mode":
            values = [_mode(v or layout.mode) for v in values]
        elif name == "notes":
            values = [[v] if isinstance(v, str) else list(v or ()) for v in values]
        elif name in _LISTS:
            values = [list(v) for v in values]
        out[name] = pa.array(values, _arrow_type(name)).take(pa.array(inverse))

    # Parties: one role at a time, once per distinct set of its cells; then the line's
    # parties, in the layout's role order, once per distinct combination.
    role_codes: list[np.ndarray] = []
    role_values: list[list[Party | None]] = []
    for role, specs in table.parties.items():
        reader = TableReader(dataclasses.replace(table, fields={}, parties={role: specs}), layout)
        inputs = [
            c
            for s in specs.values()
            for c in (*s.columns, *(x for x in (s.unit_column, s.if_column) if x))
        ]

        def read_party(row: dict[str, Any], reader: TableReader = reader) -> Party | None:
            found = reader.parties(row, path, 0)
            return found[0] if found else None

        codes, values = _per_distinct(data, inputs, read_party)
        role_codes.append(codes)
        role_values.append(values)
    cache: dict[tuple[Party, ...], str] = {}
    if role_codes:
        key = _combined([(c, len(v)) for c, v in zip(role_codes, role_values, strict=True)], n)
        _, firsts, inverse = np.unique(key, return_index=True, return_inverse=True)
        # Each party's JSON object once; a line's list is those objects joined as
        # json.dumps joins them (the text the row path stores, byte for byte).
        objects = [
            [None if p is None else _parties_json((p,), cache)[1:-1] for p in values]
            for values in role_values
        ]
        texts = [
            "[" + ", ".join(o for codes, objs in zip(role_codes, objects, strict=True)
                            if (o := objs[codes[i]]) is not None) + "]"
            for i in firsts.tolist()
        ]  # fmt: skip
        out["parties"] = pa.array(texts, pa.string()).take(pa.array(inverse.reshape(-1)))
    else:
        out["parties"] = pa.array([_parties_json((), cache)] * n, pa.string())

    shipment = out.get("shipment_id")
    if shipment is None or shipment.null_count:
        raise _CannotVouch  # the row path names the row without one
    # A line without its own number is counted within its shipment, in file order.
    codes, _ = _codes(shipment)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    run = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    counted = np.empty(n, dtype=np.int32)
    counted[order] = run + 1
    given = out.get("line_no")
    counted_arr = pa.array(counted, pa.int32())
    out["line_no"] = counted_arr if given is None else pc.coalesce(given, counted_arr)

    rows = pa.array(np.arange(2, n + 2), pa.int64()).cast(pa.string())
    out["source_ref"] = pc.binary_join_element_wise(logical_name(path) + ":", rows, "")
    out["layout"] = pa.array([layout.name] * n, pa.string())
    if "mode" not in out:
        out["mode"] = pa.array([_mode(layout.mode)] * n, pa.string())
    line_id = pc.binary_join_element_wise(shipment, out["line_no"].cast(pa.string()), "/")
    if pc.count_distinct(line_id).as_py() != n:
        raise _CannotVouch  # the row path names both rows of the repeated line
    result: dict[str, pa.Array] = {"line_id": line_id}
    for name in _FIELDS:
        if name in out:
            result[name] = out[name].cast(_arrow_type(name))
        else:
            default = _DEFAULTS.get(name)
            value = list(default or ()) if name in _LISTS else default
            result[name] = pa.array([value] * n, _arrow_type(name))
    return pa.table(result)
