"""Alert rules as data: ``alerts/rules/*.toml``, each a list of ``[[rule]]`` tables.

A rule fires on one event of one of its ``types`` when every condition holds:

- ``listed = true``: one of the event's subjects is listed (a list entity id such as
  ``ofac-12927``) or blocked (a subject of a ``vessel_owner_blocked`` or
  ``owned_by_blocked`` event);
- ``min_score``: the event's score is at least this (0..1);
- ``[rule.params]``: each named parameter of the event is one of the values given;
- ``[rule.near]``: another event of ``type`` on a shared subject lies within
  ``within_hours`` of this one (hours between the two intervals; 0 when they overlap),
  its parameters matching ``[rule.near.params]``.

``title`` is a template filled from the event: ``{type}``, ``{detail}``, ``{subjects}``
and any top-level parameter; a missing field reads ``?``.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from watchkeeper.errors import InputError

SEVERITIES = ("low", "medium", "high", "critical")
RULES_DIR = Path(str(resources.files("watchkeeper.alerts") / "rules"))

_RULE_KEYS = {"id", "title", "severity", "types", "listed", "min_score", "params", "near"}
_NEAR_KEYS = {"type", "within_hours", "params"}


@dataclass(frozen=True)
class Near:
    """Another event on a shared subject within ``within_hours`` (hours)."""

    type: str
    within_hours: float
    params: dict[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    types: tuple[str, ...]
    source: str
    listed: bool = False
    min_score: float = 0.0
    params: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    near: Near | None = None


def load_rules(directory: Path | None = None) -> list[Rule]:
    """Every rule of the ``*.toml`` files in ``directory`` (default: the shipped rules),
    in file then file order. A bad file or rule raises InputError naming both."""
    folder = directory or RULES_DIR
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        for rule in load_rule_file(path):
            if rule.id in seen:
                raise InputError(
                    path, f"rule {rule.id!r}: id already used in {seen[rule.id]}", field="id"
                )
            seen[rule.id] = str(path)
            rules.append(rule)
    return rules


def load_rule_file(path: Path) -> list[Rule]:
    """The rules of one TOML file, validated."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"not valid TOML: {exc}") from exc
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from exc
    extra = set(data) - {"rule"}
    if extra:
        raise InputError(path, f"unknown top-level key(s) {sorted(extra)}; expected [[rule]]")
    raw = data.get("rule", [])
    if not isinstance(raw, list):
        raise InputError(path, "'rule' must be an array of tables ([[rule]])", field="rule")
    return [_rule(path, i, r) for i, r in enumerate(raw, start=1)]


def _rule(path: Path, index: int, raw: Any) -> Rule:
    name = f"rule #{index}"
    if not isinstance(raw, dict):
        raise InputError(path, f"{name}: not a table")
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise InputError(path, f"{name}: 'id' must be a non-empty string", field="id")
    name = f"rule {rid!r}"

    def bad(message: str, key: str) -> InputError:
        return InputError(path, f"{name}: {message}", field=key)

    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise bad(f"unknown key(s) {sorted(unknown)}", sorted(unknown)[0])
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad("'title' must be a non-empty string", "title")
    try:
        list(string.Formatter().parse(title))
    except ValueError as exc:
        raise bad(f"'title' is not a valid template: {exc}", "title") from exc
    severity = raw.get("severity")
    if severity not in SEVERITIES:
        raise bad(
            f"'severity' must be one of {', '.join(SEVERITIES)}, not {severity!r}", "severity"
        )
    types = raw.get("types")
    if not isinstance(types, list) or not types or not all(isinstance(t, str) and t for t in types):
        raise bad("'types' must be a non-empty list of event types", "types")
    listed = raw.get("listed", False)
    if not isinstance(listed, bool):
        raise bad("'listed' must be true or false", "listed")
    min_score = raw.get("min_score", 0.0)
    if isinstance(min_score, bool) or not isinstance(min_score, int | float):
        raise bad("'min_score' must be a number", "min_score")
    if not 0.0 <= float(min_score) <= 1.0:
        raise bad(f"'min_score' {min_score} is outside 0..1", "min_score")
    params = _params(raw.get("params", {}), bad, "params")
    near: Near | None = None
    if "near" in raw:
        near = _near(raw["near"], bad)
    return Rule(
        id=rid,
        title=title,
        severity=str(severity),
        types=tuple(types),
        source=str(path),
        listed=listed,
        min_score=float(min_score),
        params=params,
        near=near,
    )


def _params(raw: Any, bad: Any, key: str) -> dict[str, tuple[Any, ...]]:
    if not isinstance(raw, dict):
        raise bad(f"'{key}' must be a table of parameter = [allowed values]", key)
    out: dict[str, tuple[Any, ...]] = {}
    for k, v in raw.items():
        values = v if isinstance(v, list) else [v]
        if not values or any(isinstance(x, dict | list) for x in values):
            raise bad(f"'{key}.{k}' must be a value or a non-empty list of values", f"{key}.{k}")
        out[str(k)] = tuple(values)
    return out


def _near(raw: Any, bad: Any) -> Near:
    if not isinstance(raw, dict):
        raise bad("'near' must be a table", "near")
    unknown = set(raw) - _NEAR_KEYS
    if unknown:
        raise bad(f"unknown key(s) {sorted(unknown)} in 'near'", "near")
    etype = raw.get("type")
    if not isinstance(etype, str) or not etype:
        raise bad("'near.type' must be an event type", "near.type")
    hours = raw.get("within_hours")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours < 0:
        raise bad("'near.within_hours' must be a number of hours >= 0", "near.within_hours")
    return Near(etype, float(hours), _params(raw.get("params", {}), bad, "near.params"))


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def render_title(
    rule: Rule, etype: str, subjects: tuple[str, ...], detail: str, params: dict[str, Any]
) -> str:
    """The rule's title filled from one event; a field the event lacks reads ``?``."""
    values = _Missing({k: v for k, v in params.items() if not isinstance(v, dict | list)})
    values.update(type=etype, detail=detail, subjects=", ".join(subjects))
    try:
        return rule.title.format_map(values)
    except (ValueError, IndexError, AttributeError, KeyError):
        return rule.title
