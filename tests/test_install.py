"""constraints.txt, what ``make`` installs from: every requirement of pyproject.toml pinned,
inside its range, and pinned to what this environment runs."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT


@cache
def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, pinned = line.partition("==")
        assert sep and pinned.strip(), f"not a == pin: {line!r}"
        key = canonicalize_name(name)
        assert key not in found, f"{name} pinned twice"
        found[key] = pinned.strip()
    return found


def requirements(*groups: str) -> list[Requirement]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        project = tomllib.load(fh)["project"]
    raw = list(project["dependencies"])
    for group in groups:
        raw += project["optional-dependencies"][group]
    return [Requirement(r) for r in raw]


def test_every_requirement_is_pinned_inside_its_range() -> None:
    for req in requirements("dev", "bench"):
        pinned = pins().get(canonicalize_name(req.name))
        assert pinned is not None, f"{req.name} is not in constraints.txt (run make lock)"
        assert req.specifier.contains(pinned, prereleases=True), (
            f"{req.name}=={pinned} is outside pyproject.toml's {req.specifier}"
        )


@pytest.mark.parametrize("req", requirements("dev"), ids=str)
def test_installed_as_pinned(req: Requirement) -> None:
    """`make` installs with -c constraints.txt: what runs is what the lock says."""
    try:
        installed = version(req.name)
    except PackageNotFoundError:
        pytest.fail(f"{req.name} is not installed: run make install")
    assert installed == pins()[canonicalize_name(req.name)], (
        f"{req.name} {installed} installed, {pins()[canonicalize_name(req.name)]} pinned"
    )
