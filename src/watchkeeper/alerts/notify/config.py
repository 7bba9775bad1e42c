"""The notify config (TOML): which channels get which alerts, and how each is reached.

```toml
link_base = "https://watchkeeper.example.org/alerts/"   # optional: link = link_base + alert id

[retry]                    # optional defaults for every channel
max_attempts = 8           # tries before a row is given up
backoff_seconds = 30       # delay after the first failure, doubled after each next one
backoff_max_seconds = 3600 # cap of that delay

[channels.ops]
kind = "webhook"           # "webhook" | "smtp" | "jsonl"
min_severity = "high"      # low | medium | high | critical (default low: everything)
rules = ["ais-gap-*", "prohibited-cargo"]   # rule id patterns (fnmatch); default: all
url = "https://hooks.example.org/watchkeeper"
secret_env = "OPS_WEBHOOK_SECRET"           # or secret = "..." (one of the two)
timeout_seconds = 10

[channels.desk]
kind = "smtp"
host = "mail.example.org"
port = 587
from = "watchkeeper@example.org"
to = ["desk@example.org"]
starttls = true
# ca_file = "relay-ca.pem"  # optional: trust this CA for STARTTLS (a private relay)
username = "watchkeeper"
password_env = "DESK_SMTP_PASSWORD"

[channels.archive]
kind = "jsonl"
path = "notifications.jsonl"   # relative to this file's folder
```

Every channel may also set ``max_attempts``, ``backoff_seconds`` and
``backoff_max_seconds``. Unknown keys are errors (a typo must not silently disable a
setting); every error names the file and the field.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from watchkeeper.alerts.rules import SEVERITIES
from watchkeeper.errors import InputError

KINDS = ("webhook", "smtp", "jsonl")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TOML_LINE = re.compile(r"at line (\d+)")


@dataclass(frozen=True)
class Retry:
    """When to try a failed notification again: after ``backoff_seconds``, doubled after
    each further failure up to ``backoff_max_seconds``; given up after ``max_attempts``."""

    max_attempts: int = 8
    backoff_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    secret: str = field(repr=False)
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: float = 10.0
    ca_file: Path | None = None  # trusted for STARTTLS instead of the system's CAs


@dataclass(frozen=True)
class JsonlSettings:
    path: Path


ChannelSettings = WebhookSettings | SmtpSettings | JsonlSettings


@dataclass(frozen=True)
class Channel:
    name: str
    kind: str
    settings: ChannelSettings
    min_severity: str = "low"
    rules: tuple[str, ...] = ()
    retry: Retry = Retry()

    def accepts(self, severity: str, rule_id: str) -> bool:
        """Whether an alert of this severity and rule goes to this channel."""
        rank = SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)
        if rank < SEVERITIES.index(self.min_severity):
            return False
        return not self.rules or any(fnmatchcase(rule_id, p) for p in self.rules)


@dataclass(frozen=True)
class NotifyConfig:
    channels: tuple[Channel, ...]
    link_base: str | None = None
    path: Path | None = None

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)


_COMMON = {"kind", "min_severity", "rules", "max_attempts", "backoff_seconds",
           "backoff_max_seconds"}  # fmt: skip
_KIND_KEYS = {
    "webhook": {"url", "secret", "secret_env", "timeout_seconds"},
    "smtp": {
        "host",
        "port",
        "from",
        "to",
        "starttls",
        "ca_file",
        "username",
        "password_env",
        "timeout_seconds",
    },
    "jsonl": {"path"},
}
_RETRY_KEYS = {"max_attempts", "backoff_seconds", "backoff_max_seconds"}


class _Reader:
    """Typed field access on one TOML table; every error names the file and the field."""

    def __init__(self, path: Path, prefix: str, table: Mapping[str, Any]) -> None:
        self.path, self.prefix, self.table = path, prefix, table

    def bad(self, key: str, message: str) -> InputError:
        return InputError(self.path, message, field=f"{self.prefix}{key}")

    def unknown(self, allowed: set[str]) -> None:
        for key in sorted(set(self.table) - allowed):
            raise self.bad(key, f"unknown setting; known: {', '.join(sorted(allowed))}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if value is None:
            raise self.bad(key, "required")
        if not isinstance(value, str) or not value.strip():
            raise self.bad(key, f"must be a non-empty string, not {value!r}")
        return value

    def optional_text(self, key: str) -> str | None:
        return None if key not in self.table else self.text(key)

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= minimum:
            raise self.bad(key, f"must be a number above {minimum:g}, not {value!r}")
        return float(value)

    def integer(self, key: str, default: int, *, minimum: int = 1, maximum: int = 1 << 31) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise self.bad(
                key, f"must be a whole number from {minimum} to {maximum}, not {value!r}"
            )
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.bad(key, f"must be true or false, not {value!r}")
        return value

    def texts(self, key: str, *, required: bool) -> tuple[str, ...]:
        value = self.table.get(key)
        if value is None:
            if required:
                raise self.bad(key, "required")
            return ()
        if isinstance(value, str):
            value = [value]
        if (
            not isinstance(value, list)
            or not all(isinstance(v, str) and v.strip() for v in value)
            or (required and not value)
        ):
            raise self.bad(key, f"must be a string or a list of non-empty strings, not {value!r}")
        return tuple(value)

    def secret(self, key: str, env: Mapping[str, str], *, required: bool) -> str | None:
        """``key`` inline or ``key_env`` naming an environment variable (not both)."""
        env_key = f"{key}_env"
        if key in self.table and env_key in self.table:
            raise self.bad(key, f"give {key!r} or {env_key!r}, not both")
        if env_key in self.table:
            var = self.text(env_key)
            value = env.get(var)
            if not value:
                raise self.bad(env_key, f"environment variable {var} is not set or is empty")
            return value
        if key in self.table:
            return self.text(key)
        if required:
            raise self.bad(key, f"required: give {key!r} or {env_key!r}")
        return None


def _relative(config_path: Path, value: str) -> Path:
    """A path from the config: relative ones start at the config file's folder."""
    target = Path(value)
    return target if target.is_absolute() else config_path.parent / target


def _retry(r: _Reader, base: Retry) -> Retry:
    retry = Retry(
        max_attempts=r.integer("max_attempts", base.max_attempts, maximum=1000),
        backoff_seconds=r.number("backoff_seconds", base.backoff_seconds),
        backoff_max_seconds=r.number("backoff_max_seconds", base.backoff_max_seconds),
    )
    if retry.backoff_max_seconds < retry.backoff_seconds:
        raise r.bad("backoff_max_seconds", "must be at least backoff_seconds")
    return retry


def _channel(path: Path, name: str, raw: Any, base: Retry, env: Mapping[str, str]) -> Channel:
    prefix = f"channels.{name}."
    if not _NAME.match(name):
        raise InputError(
            path, "a channel name is letters, digits, '_', '.', '-'", field=f"channels.{name}"
        )
    if not isinstance(raw, dict):
        raise InputError(path, "must be a table", field=f"channels.{name}")
    r = _Reader(path, prefix, raw)
    kind = r.text("kind")
    if kind not in KINDS:
        raise r.bad("kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
    r.unknown(_COMMON | _KIND_KEYS[kind])
    min_severity = r.text("min_severity", "low")
    if min_severity not in SEVERITIES:
        raise r.bad("min_severity", f"must be one of {', '.join(SEVERITIES)}, not {min_severity!r}")
    settings: ChannelSettings
    if kind == "webhook":
        url = r.text("url")
        if not re.match(r"^https?://[^/\s]+", url):
            raise r.bad("url", f"must be an http:// or https:// URL, not {url!r}")
        secret = r.secret("secret", env, required=True)
        assert secret is not None
        settings = WebhookSettings(url, secret, r.number("timeout_seconds", 10.0))
    elif kind == "smtp":
        to = r.texts("to", required=True)
        for address in (*to, r.text("from")):
            if "@" not in address:
                raise r.bad("to" if address in to else "from", f"{address!r} is not an address")
        ca_text = r.optional_text("ca_file")
        ca_file = None if ca_text is None else _relative(path, ca_text)
        if ca_file is not None and not ca_file.is_file():
            raise r.bad("ca_file", f"no file at {ca_file}")
        username = r.optional_text("username")
        password = r.secret("password", env, required=False)
        if username is not None and password is None:
            raise r.bad("password_env", "required when username is set")
        settings = SmtpSettings(
            host=r.text("host"),
            port=r.integer("port", 25, maximum=65535),
            sender=r.text("from"),
            to=to,
            starttls=r.flag("starttls", False),
            username=username,
            password=password,
            timeout_seconds=r.number("timeout_seconds", 10.0),
            ca_file=ca_file,
        )
    else:
        settings = JsonlSettings(_relative(path, r.text("path")))
    return Channel(
        name=name,
        kind=kind,
        settings=settings,
        min_severity=min_severity,
        rules=r.texts("rules", required=False),
        retry=_retry(r, base),
    )


def parse_notify_config(
    text: str, path: Path, env: Mapping[str, str] | None = None
) -> NotifyConfig:
    """The config in ``text`` (read from ``path``, which errors name and relative jsonl
    paths start from); secrets named by ``*_env`` are read from ``env`` (os.environ)."""
    env = os.environ if env is None else env
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        raise InputError(
            path, f"not valid TOML: {exc}", line=int(found.group(1)) if found else None
        ) from exc
    top = _Reader(path, "", raw)
    top.unknown({"link_base", "retry", "channels"})
    link_base = top.optional_text("link_base")
    retry_raw = raw.get("retry", {})
    if not isinstance(retry_raw, dict):
        raise InputError(path, "must be a table", field="retry")
    retry_reader = _Reader(path, "retry.", retry_raw)
    retry_reader.unknown(_RETRY_KEYS)
    base = _retry(retry_reader, Retry())
    channels_raw = raw.get("channels")
    if not isinstance(channels_raw, dict) or not channels_raw:
        raise InputError(path, "at least one [channels.<name>] table is required", field="channels")
    channels = tuple(_channel(path, name, value, base, env) for name, value in channels_raw.items())
    return NotifyConfig(channels=channels, link_base=link_base, path=path)


def load_notify_config(path: str | Path, env: Mapping[str, str] | None = None) -> NotifyConfig:
    """Read a notify config file; InputError naming the file (and line or field) if bad."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read the notify config: {exc}") from exc
    return parse_notify_config(text, path, env)
