"""Webhook signatures: how a receiver knows a POST came from this Watchkeeper, unchanged.

The scheme (the same shape as Stripe's and Svix's):

* ``X-Watchkeeper-Timestamp``: the sending time, whole seconds since 1970-01-01 UTC;
* ``X-Watchkeeper-Signature``: ``sha256=`` and the lowercase hex of
  HMAC-SHA256(secret, ``<timestamp>`` + ``"."`` + the exact body bytes).

A receiver recomputes the HMAC over the raw body it read (before any JSON parsing),
compares in constant time, and refuses a timestamp older than a few minutes so a
captured request cannot be replayed later. ``verify_signature`` does all three.
Deduplicate on ``X-Watchkeeper-Alert-Id`` + ``X-Watchkeeper-Revision`` (also in the body
as ``alert_id`` and ``revision``): delivery is at least once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Watchkeeper-Signature"
TIMESTAMP_HEADER = "X-Watchkeeper-Timestamp"
ALERT_ID_HEADER = "X-Watchkeeper-Alert-Id"
REVISION_HEADER = "X-Watchkeeper-Revision"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, "<timestamp>." + body)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The timestamp and signature headers for one body."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: signature(secret, ts, body)}


def verify_signature(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    tolerance_seconds: float = 300.0,
    now: float | None = None,
) -> bool:
    """Whether ``body`` with these request headers (any letter case) was signed with
    ``secret`` within ``tolerance_seconds`` of ``now`` (Unix seconds; default: the clock)."""
    lower = {k.lower(): v for k, v in headers.items()}
    given = lower.get(SIGNATURE_HEADER.lower())
    stamp = lower.get(TIMESTAMP_HEADER.lower())
    if given is None or stamp is None or not stamp.isascii() or not stamp.isdigit():
        return False
    ts = int(stamp)
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_seconds:
        return False
    return hmac.compare_digest(given.encode("utf-8"), signature(secret, ts, body).encode("ascii"))
