"""The watch's configuration: a TOML file of sources and schedule.

```toml
[watch]
poll_seconds = 1.0          # how often drop folders are looked at
batch_bytes = 4194304       # at most this much input per batch (about 50k sentences)
lookback_hours = 6.0        # context the detectors see before the stretch they redo
max_reach_hours = 72.0      # never redo more than this before a vessel's new reports
health_host = "127.0.0.1"
health_port = 8765          # 0: any free port (logged); -1: no /healthz
fail_threshold = 5          # consecutive failures of a source before /healthz says 503
backoff_initial_seconds = 1.0
backoff_max_seconds = 300.0

[[source]]
kind = "ais_tcp"            # a receiver's NMEA port
name = "coast"
address = "127.0.0.1:10110"

[[source]]
kind = "ais_drop"           # NMEA or decoded CSV files appearing in a folder
name = "spool"
folder = "var/ais-in"

[[source]]
kind = "adsb_drop"          # ADS-B / Mode-S files appearing in a folder
folder = "var/adsb-in"

[[source]]
kind = "lists"              # `lists fetch` on a schedule
names = ["ofac_sdn", "un_sc"]
interval_hours = 24.0

[notify]                    # handed to watchkeeper.alerts.notify after each batch
config = "notify.toml"
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchkeeper.errors import InputError

KINDS = ("ais_tcp", "ais_drop", "adsb_drop", "lists")


@dataclass(frozen=True)
class SourceConfig:
    kind: str
    name: str
    address: str | None = None  # ais_tcp: HOST:PORT
    folder: Path | None = None  # *_drop
    names: tuple[str, ...] = ()  # lists: which lists (empty: every URL in settings)
    interval_s: float = 24 * 3600.0  # lists

    def host_port(self) -> tuple[str, int]:
        host, _, port = (self.address or "").rpartition(":")
        if not host or not port.isdigit():
            raise InputError(None, f"{self.address!r} is not HOST:PORT", field="address")
        return host, int(port)


@dataclass(frozen=True)
class WatchConfig:
    sources: tuple[SourceConfig, ...] = ()
    poll_s: float = 1.0
    batch_bytes: int = 4 << 20
    lookback_s: float = 6 * 3600.0
    max_reach_s: float = 72 * 3600.0
    health_host: str = "127.0.0.1"
    health_port: int = 8765
    fail_threshold: int = 5
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 300.0
    # Seconds to wait inside each batch after its input is stored and before it commits:
    # only for the crash test, which kills the watch there.
    pause_in_batch_s: float = 0.0
    notify_config: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _number(path: Path, table: dict[str, Any], key: str, default: float, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InputError(path, f"{key} must be a number >= 0, not {value!r}", field=where + key)
    return float(value)


def _source(path: Path, i: int, raw: Any) -> SourceConfig:
    where = f"source[{i}]."
    if not isinstance(raw, dict):
        raise InputError(path, "each [[source]] must be a table", field=f"source[{i}]")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise InputError(
            path, f"kind {kind!r} is not one of {', '.join(KINDS)}", field=where + "kind"
        )
    unknown = set(raw) - {"kind", "name", "address", "folder", "names", "interval_hours"}
    if unknown:
        raise InputError(path, f"unknown key {sorted(unknown)[0]!r}", field=where[:-1])
    base = path.parent
    if kind == "ais_tcp":
        address = raw.get("address")
        if not isinstance(address, str):
            raise InputError(path, "an ais_tcp source needs address = HOST:PORT", field=where)
        cfg = SourceConfig(kind, str(raw.get("name") or f"tcp://{address}"), address=address)
        try:
            cfg.host_port()
        except InputError as exc:
            raise InputError(path, exc.message, field=where + "address") from exc
        return cfg
    if kind in ("ais_drop", "adsb_drop"):
        folder = raw.get("folder")
        if not isinstance(folder, str):
            raise InputError(path, f"an {kind} source needs folder = PATH", field=where + "folder")
        resolved = (base / folder).resolve()
        return SourceConfig(kind, str(raw.get("name") or f"{kind}:{resolved}"), folder=resolved)
    names = raw.get("names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InputError(path, "names must be a list of list names", field=where + "names")
    hours = _number(path, raw, "interval_hours", 24.0, where)
    if hours <= 0:
        raise InputError(path, "interval_hours must be > 0", field=where + "interval_hours")
    return SourceConfig(
        kind, str(raw.get("name") or "lists"), names=tuple(names), interval_s=hours * 3600.0
    )


def parse_config(text: str, path: Path) -> WatchConfig:
    """The configuration in ``text`` (read from ``path``; relative folders are taken
    from the file's folder). Bad input raises ``InputError`` naming the key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"not TOML: {exc}") from exc
    unknown = set(raw) - {"watch", "source", "notify"}
    if unknown:
        raise InputError(path, f"unknown table {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    watch = raw.get("watch", {})
    if not isinstance(watch, dict):
        raise InputError(path, "[watch] must be a table", field="watch")
    sources_raw = raw.get("source", [])
    if not isinstance(sources_raw, list):
        raise InputError(path, "sources are written [[source]]", field="source")
    sources = tuple(_source(path, i, s) for i, s in enumerate(sources_raw))
    names = [s.name for s in sources]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise InputError(path, f"two sources are named {dup!r}", field="source.name")
    notify = raw.get("notify")
    notify_config: Path | None = None
    if notify is not None:
        target = notify.get("config") if isinstance(notify, dict) else None
        if not isinstance(target, str):
            raise InputError(path, "[notify] needs config = PATH", field="notify.config")
        notify_config = (path.parent / target).resolve()
    port = watch.get("health_port", 8765)
    if isinstance(port, bool) or not isinstance(port, int) or not -1 <= port <= 65535:
        raise InputError(path, f"health_port {port!r} is not a port", field="watch.health_port")
    w = "watch."
    return WatchConfig(
        sources=sources,
        poll_s=_number(path, watch, "poll_seconds", 1.0, w),
        batch_bytes=int(_number(path, watch, "batch_bytes", 4 << 20, w)) or 4 << 20,
        lookback_s=_number(path, watch, "lookback_hours", 6.0, w) * 3600.0,
        max_reach_s=_number(path, watch, "max_reach_hours", 72.0, w) * 3600.0,
        health_host=str(watch.get("health_host", "127.0.0.1")),
        health_port=port,
        fail_threshold=int(_number(path, watch, "fail_threshold", 5, w)) or 1,
        backoff_initial_s=_number(path, watch, "backoff_initial_seconds", 1.0, w),
        backoff_max_s=_number(path, watch, "backoff_max_seconds", 300.0, w),
        pause_in_batch_s=_number(path, watch, "pause_in_batch_seconds", 0.0, w),
        notify_config=notify_config,
    )


def load_config(path: str | Path) -> WatchConfig:
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from exc
    return parse_config(text, path)
