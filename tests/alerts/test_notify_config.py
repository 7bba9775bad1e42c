"""The notify config: a full file read back, and every bad field named with its file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.alerts.notify import (
    JsonlSettings,
    NotifyConfig,
    SmtpSettings,
    WebhookSettings,
    load_notify_config,
    parse_notify_config,
)
from watchkeeper.alerts.notify.config import __doc__ as CONFIG_DOC
from watchkeeper.errors import InputError

FULL = """
link_base = "https://wk.example.org/alerts/"

[retry]
max_attempts = 5
backoff_seconds = 10

[channels.ops]
kind = "webhook"
min_severity = "high"
rules = ["ais-gap-*", "prohibited-cargo"]
url = "https://hooks.example.org/wk"
secret_env = "OPS_SECRET"
max_attempts = 9

[channels.desk]
kind = "smtp"
host = "mail.example.org"
port = 587
from = "wk@example.org"
to = "desk@example.org"
starttls = true
username = "wk"
password_env = "DESK_PW"

[channels.archive]
kind = "jsonl"
path = "out/alerts.jsonl"
"""


def test_full_config_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "notify.toml"
    path.write_text(FULL)
    cfg = load_notify_config(path, env={"OPS_SECRET": "hook-key-123", "DESK_PW": "mail-pw-456"})
    ops, desk, archive = cfg.channels
    assert cfg.link_base == "https://wk.example.org/alerts/" and cfg.path == path
    assert ops.settings == WebhookSettings("https://hooks.example.org/wk", "hook-key-123", 10.0)
    assert (ops.retry.max_attempts, ops.retry.backoff_seconds) == (9, 10.0)
    assert desk.retry.max_attempts == 5  # from [retry]
    assert desk.settings == SmtpSettings(
        "mail.example.org", 587, "wk@example.org", ("desk@example.org",), True, "wk", "mail-pw-456"
    )
    assert archive.settings == JsonlSettings(tmp_path / "out" / "alerts.jsonl")
    assert ops.accepts("critical", "ais-gap-near-sanctioned-port")
    assert not ops.accepts("medium", "ais-gap-near-sanctioned-port")
    assert not ops.accepts("critical", "report-mention")
    assert archive.accepts("low", "report-mention")
    assert "hook-key-123" not in repr(ops) and "mail-pw-456" not in repr(
        desk
    )  # secrets stay out of logs


def test_the_documented_example_is_a_valid_config() -> None:
    assert CONFIG_DOC is not None
    example = CONFIG_DOC.split("```toml", 1)[1].split("```", 1)[0]
    cfg = parse_notify_config(
        example,
        Path("/etc/wk/notify.toml"),
        env={"OPS_WEBHOOK_SECRET": "s", "DESK_SMTP_PASSWORD": "p"},
    )
    assert [c.kind for c in cfg.channels] == ["webhook", "smtp", "jsonl"]


_CHANNEL = '[channels.c]\nkind = "webhook"\nurl = "https://h.example.org/"\nsecret = "k"\n'


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ('[channels.c]\nkind = "pager"\n', "channels.c.kind", "must be one of"),
        ('[channels.c]\nurl = "x"\n', "channels.c.kind", "required"),
        (_CHANNEL.replace("https://h.example.org/", "ftp://h"), "channels.c.url", "http"),
        (_CHANNEL.replace('secret = "k"\n', ""), "channels.c.secret", "required"),
        (
            _CHANNEL.replace('secret = "k"', 'secret_env = "NOPE_UNSET"'),
            "channels.c.secret_env",
            "NOPE_UNSET",
        ),
        (_CHANNEL + 'secret_env = "X"\n', "channels.c.secret", "not both"),
        (_CHANNEL + 'min_severity = "urgent"\n', "channels.c.min_severity", "urgent"),
        (_CHANNEL + 'min_severty = "high"\n', "channels.c.min_severty", "unknown setting"),
        (_CHANNEL + "rules = [1]\n", "channels.c.rules", "list of non-empty strings"),
        (_CHANNEL + "max_attempts = 0\n", "channels.c.max_attempts", "whole number"),
        (_CHANNEL + "timeout_seconds = -1\n", "channels.c.timeout_seconds", "above 0"),
        (
            _CHANNEL + "backoff_seconds = 100\nbackoff_max_seconds = 10\n",
            "channels.c.backoff_max_seconds",
            "at least",
        ),
        ('[channels.m]\nkind = "smtp"\nhost = "h"\nfrom = "a@b"\n', "channels.m.to", "required"),
        (
            '[channels.m]\nkind = "smtp"\nhost = "h"\nfrom = "a@b"\nto = ["a@b"]\nport = 70000\n',
            "channels.m.port",
            "65535",
        ),
        (
            '[channels.m]\nkind = "smtp"\nhost = "h"\nfrom = "nobody"\nto = ["a@b"]\n',
            "channels.m.from",
            "not an address",
        ),
        (
            '[channels.m]\nkind = "smtp"\nhost = "h"\nfrom = "a@b"\nto = ["a@b"]\nusername = "u"\n',
            "channels.m.password_env",
            "required",
        ),
        (
            '[channels.m]\nkind = "smtp"\nhost = "h"\nfrom = "a@b"\nto = ["a@b"]\nstarttls = "yes"\n',
            "channels.m.starttls",
            "true or false",
        ),
        ('[channels.j]\nkind = "jsonl"\n', "channels.j.path", "required"),
        (
            '[channels.j]\nkind = "jsonl"\npath = "x"\nurl = "y"\n',
            "channels.j.url",
            "unknown setting",
        ),
        (
            '[channels."bad name"]\nkind = "jsonl"\npath = "x"\n',
            "channels.bad name",
            "channel name",
        ),
        ("link_base = 3\n" + _CHANNEL, "link_base", "non-empty string"),
        ("[retry]\nmax_attemps = 3\n" + _CHANNEL, "retry.max_attemps", "unknown setting"),
        ("colour = 1\n" + _CHANNEL, "colour", "unknown setting"),
        ("", "channels", "at least one"),
    ],
)
def test_bad_field_is_named_with_the_file(text: str, field: str, message: str) -> None:
    path = Path("/cfg/notify.toml")
    with pytest.raises(InputError) as err:
        parse_notify_config(text, path, env={})
    assert err.value.path == str(path) and err.value.field == field
    assert message in err.value.message
    assert str(path) in str(err.value) and field in str(err.value)


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "notify.toml"
    path.write_text('[channels.a]\nkind = "jsonl"\npath = \n')
    with pytest.raises(InputError) as err:
        load_notify_config(path)
    assert err.value.path == str(path) and err.value.line == 3


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the notify config") as err:
        load_notify_config(tmp_path / "absent.toml")
    assert err.value.path == str(tmp_path / "absent.toml")


@given(st.text(max_size=300))
def test_any_text_is_a_config_or_an_input_error(text: str) -> None:
    try:
        cfg = parse_notify_config(text, Path("/cfg/n.toml"), env={})
    except InputError as exc:
        assert exc.path == "/cfg/n.toml"
    else:
        assert cfg.channels


_KEYS = [
    "kind", "min_severity", "rules", "url", "secret", "secret_env", "host", "port", "from",
    "to", "starttls", "username", "password_env", "path", "max_attempts", "backoff_seconds",
    "backoff_max_seconds", "timeout_seconds", "bogus",
]  # fmt: skip
_VALUES = st.one_of(
    st.sampled_from(["webhook", "smtp", "jsonl", "high", "low", "https://h.example.org/", "a@b"]),
    st.text(max_size=12),
    st.integers(-5, 100_000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(st.one_of(st.text(max_size=8), st.integers()), max_size=3),
)


@given(st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=8))
def test_any_channel_table_is_a_channel_or_names_a_field(table: dict[str, object]) -> None:
    lines = [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    text = "[channels.c]\n" + "\n".join(lines) + "\n"
    try:
        cfg = parse_notify_config(text, Path("/cfg/n.toml"), env={})
    except InputError as exc:
        assert exc.path == "/cfg/n.toml"
        assert exc.field is not None or exc.line is not None
    else:
        assert isinstance(cfg, NotifyConfig)
        (channel,) = cfg.channels
        assert channel.kind == table["kind"]
