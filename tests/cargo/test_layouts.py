"""Layouts as data: the shipped mappings, and bad mappings refused with where."""

from __future__ import annotations

import dataclasses

import pytest

from watchkeeper.cargo.layouts import (
    FIELD_KINDS,
    builtin_layouts,
    detect_layout,
    get_layout,
    parse_layout,
)
from watchkeeper.cargo.model import ShipmentLine
from watchkeeper.errors import InputError
from watchkeeper.store import Store

# The CBP AMS public extract's own column names, per file.
AMS_COLUMNS = {
    "header": ["identifier", "carrier_code", "vessel_country_code", "vessel_name",
               "port_of_unlading", "estimated_arrival_date", "foreign_port_of_lading",
               "mode_of_transportation", "actual_arrival_date", "conveyance_id_qualifier",
               "conveyance_id"],
    "shipper": ["identifier", "shipper_party_name", "shipper_party_address_1", "city",
                "country_code"],
    "consignee": ["identifier", "consignee_name", "consignee_address_1", "country_code"],
    "notifyparty": ["identifier", "notify_party_name", "notify_party_address_1", "country_code"],
    "cargodesc": ["identifier", "container_number", "description_sequence_number",
                  "piece_count", "description_text"],
    "tariff": ["identifier", "container_number", "description_sequence_number",
               "harmonized_number", "harmonized_value", "harmonized_weight",
               "harmonized_weight_unit"],
    "billgen": ["identifier", "master_bol_number", "house_bol_number", "voyage_number"],
}  # fmt: skip


def test_the_shipped_layouts_load() -> None:
    assert {"cbp_ams", "customs_declaration", "bill_of_lading"} <= set(builtin_layouts())


def test_every_mappable_field_is_a_shipment_line_field_and_the_reverse() -> None:
    line_fields = {f.name for f in dataclasses.fields(ShipmentLine)}
    structural = {"source_ref", "layout", "parties"}  # set by the reader, not a column
    assert set(FIELD_KINDS) == line_fields - structural


@pytest.mark.parametrize("table", sorted(AMS_COLUMNS))
def test_each_ams_file_is_recognised_by_its_real_columns(table: str) -> None:
    ams = get_layout("cbp_ams")
    found = ams.table_for(AMS_COLUMNS[table])
    assert found is not None and found.name == table
    for spec in found.fields.values():  # every column the mapping reads is a real one
        for column in spec.columns:
            assert column in AMS_COLUMNS[table] or spec.value is not None, column


def test_detect_layout_by_columns() -> None:
    ams = detect_layout(AMS_COLUMNS["cargodesc"])
    assert ams is not None and ams.name == "cbp_ams"
    declaration = detect_layout(["declaration_number", "item_number", "goods_description"])
    assert declaration is not None and declaration.name == "customs_declaration"
    assert detect_layout(["a", "b"]) is None


def test_the_store_has_a_column_for_every_shipment_line_field(store: Store) -> None:
    columns = {r[0] for r in store.con.execute("DESCRIBE shipment_lines").fetchall()}
    assert {f.name for f in dataclasses.fields(ShipmentLine)} <= columns


def test_an_unknown_layout_name_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="known: .*cbp_ams"):
        get_layout("no_such_layout")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = 'x'\n[tables.a]\nmatch=['a']\n[tables.a.fields]\ncolour = 'c'", "not a ShipmentLine field"),
        ("name = 'x'\n[tables.a]\nmatch=['a']\n[tables.a.fields]\ngoods = 'g'", "no table maps shipment_id"),
        ("name = 'x'\n[tables.a]\nrole='header'\nmatch=['a']\n", "exactly one lines table"),
        ("name = 'x'\n[tables.a]\nmatch=['a']\n[tables.a.fields]\nshipment_id = {take='x', column='a'}", "take must be"),
        ("name = 'x'\n[tables.a]\nmatch=['a']\n[tables.b]\nmatch=['b']\n", "exactly one lines table"),
        ("name = 'x\n", "not TOML"),
    ],
)  # fmt: skip
def test_a_bad_layout_is_refused_saying_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        parse_layout(text, "my_layout.toml")
    assert "my_layout.toml" in str(info.value)
