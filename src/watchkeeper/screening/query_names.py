"""Full names made from a query's name parts.

Clients send yente queries that give a person's name only in parts (``firstName``,
``fatherName``, ``lastName``..., as OpenSanctions' documentation shows); the matcher
screens full names, so such a query gets the full names its parts make: the given
parts in FtM's order (as ``followthemoney.helpers.combine_names`` joins them), one name
per last name. A query that gives any full name is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from watchkeeper.errors import InputError
from watchkeeper.screening.normalize import MAX_NAME_CHARS

# Properties that hold a whole name: when any is given, nothing is composed.
FULL_NAME_PROPS = ("name", "alias", "previousName", "weakAlias")
# Given parts, in the order they are written in a full name (FtM's combine_names).
GIVEN_NAME_PROPS = ("firstName", "secondName", "middleName", "fatherName", "motherName")
LAST_NAME_PROP = "lastName"
NAME_PART_PROPS = (*GIVEN_NAME_PROPS, LAST_NAME_PROP)


def composed_names(properties: Mapping[str, Sequence[str]]) -> list[str]:
    """The full names a query's name parts make, or [] when it gives a full name or no
    parts. ``properties`` holds cleaned values (each part already checked on its own);
    a name the parts make that is too long or too short to screen is an ``InputError``.
    """
    if any(properties.get(p) for p in FULL_NAME_PROPS):
        return []
    given = [v.strip() for p in GIVEN_NAME_PROPS for v in properties.get(p, ()) if v.strip()]
    lasts = [v.strip() for v in properties.get(LAST_NAME_PROP, ()) if v.strip()]
    if lasts:
        candidates = [" ".join([*given, last]) for last in lasts]
    elif given:
        candidates = [" ".join(given)]
    else:
        return []
    names: list[str] = []
    for name in candidates:
        name = " ".join(name.split())
        if name not in names:
            names.append(name)
    for name in names:
        _check_composed(name)
    return names


def _check_composed(name: str) -> None:
    if len(name) > MAX_NAME_CHARS:
        raise InputError(
            None,
            f"the name parts make a name {len(name)} characters long (at most {MAX_NAME_CHARS})",
            field="properties",
        )
    if sum(1 for c in name if c.isalnum()) < 2:
        raise InputError(
            None, f"the name parts make {name!r}, too short to screen", field="properties"
        )


def with_composed_names(properties: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """``properties`` with ``name`` set to the names its parts make (a copy), or as they
    are when there is nothing to compose."""
    names = composed_names(properties)
    if not names:
        return dict(properties)
    return {**properties, "name": names}


# A possessive ('s, s') after a word: what follows is the possessor's, not its name.
_POSSESSIVE = re.compile(r"(?<=\w)['\u2019](?:s\b|(?<=s['\u2019]))")


def possessor(name: str) -> str:
    """The name before a possessive, as text the reader meets writes it: 'Nicolás
    Maduro's government' -> 'Nicolás Maduro'; '' when there is none, or when a single
    word would be left of words that follow ('People's Bank' is a name of its own)."""
    found = _POSSESSIVE.search(name)
    if found is None:
        return ""
    head = name[: found.start()].strip()
    after = name[found.end() :].strip()
    if sum(1 for c in head if c.isalnum()) < 2 or (after and len(head.split()) < 2):
        return ""
    return head


def with_possessor(names: Iterable[str]) -> list[str]:
    """The query's names, each followed by the name before its possessive (if any)."""
    found: list[str] = []
    for name in names:
        found.append(name)
        head = possessor(name)
        if head and head not in found:
            found.append(head)
    return found
