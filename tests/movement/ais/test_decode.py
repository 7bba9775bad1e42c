"""Decoder edge cases the real samples do not cover (hand-made from real messages)."""

from __future__ import annotations

import numpy as np
from pyais import encode_dict

from watchkeeper.movement.ais.decode import decode
from watchkeeper.movement.ais.nmea import NmeaFramer, nmea_checksum

ARMOUR = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"
# Real messages: a type 1 (libais test.aivdm) and a type 24 part A (pyais sample).
TYPE1 = "15B4FT5000JRP>PE6E68Nbkl0PS5"
TYPE24A = "H3`u5VA=VliDp@D000000000000"  # fill 2; MMSI 244270489, "SY-LUNDE"


def sentence(payload: str, fill: int = 0) -> bytes:
    body = f"AIVDM,1,1,,A,{payload},{fill}".encode()
    return b"!" + body + b"*%02X" % nmea_checksum(body)


def decoded(*payloads: tuple[str, int]):  # type: ignore[no-untyped-def]
    framer = NmeaFramer()
    fm = framer.feed(b"\n".join(sentence(p, f) for p, f in payloads) + b"\n")
    return decode(fm)


def with_bits(payload: str, start: int, width: int, value: int) -> str:
    """Set bits [start, start + width) of an armoured payload (hand-made variants)."""
    bits = "".join(format(ARMOUR.index(c), "06b") for c in payload)
    bits = bits[:start] + format(value, f"0{width}b") + bits[start + width :]
    return "".join(ARMOUR[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def test_invalid_armour_character_is_rejected() -> None:
    d = decoded((TYPE1, 0), (TYPE1[:10] + "x" + TYPE1[11:], 0))  # 'x' is outside the alphabet
    assert len(d.positions) == 1 and d.rejects == {"bad_payload_char": 1}
    assert d.first_reject_index == {"bad_payload_char": 1}


def test_truncated_position_is_rejected() -> None:
    d = decoded((TYPE1[:20], 0))  # 120 bits: lat and course are cut off
    assert len(d.positions) == 0 and d.rejects == {"truncated_payload": 1}


def test_type24_part_numbers() -> None:
    bad_part = with_bits(TYPE24A, 38, 2, 2)
    d = decoded((TYPE24A, 2), (bad_part, 2))
    assert d.rejects == {"bad_part_number": 1}
    assert d.statics.part.tolist() == [0] and d.statics.name.to_pylist() == ["SY-LUNDE"]


def test_auxiliary_craft_part_b_has_no_dimensions() -> None:
    # encoded with pyais: an auxiliary craft (MMSI 98...) gives its mothership, not dimensions
    payload = encode_dict(
        {
            "type": 24,
            "mmsi": 981234567,
            "partno": 1,
            "ship_type": 37,
            "callsign": "AUX1",
            "mothership_mmsi": 211000000,
        },
        radio_channel="A",
    )[0]
    fields = payload.split("*")[0].split(",")
    d = decoded((fields[5], int(fields[6])))
    st = d.statics
    assert st.mmsi.tolist() == [981234567] and st.ship_type.tolist() == [37]
    assert st.callsign.to_pylist() == ["AUX1"]
    assert (st.to_bow.tolist(), st.to_stern.tolist()) == ([-1], [-1])


def test_not_available_values_are_null() -> None:
    # the real type 1 with speed 1023, course 3600, heading 511 (hand-set)
    p = with_bits(with_bits(with_bits(TYPE1, 50, 10, 1023), 116, 12, 3600), 128, 9, 511)
    d = decoded((p, 0))
    assert np.isnan(d.positions.sog[0]) and np.isnan(d.positions.cog[0])
    assert np.isnan(d.positions.heading[0])
    lat91 = with_bits(TYPE1, 89, 27, 91 * 600000)
    assert decoded((lat91, 0)).rejects == {"position_not_available": 1}
