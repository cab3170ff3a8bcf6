"""How deliveries are signed, and the reference verification (docs/webhooks.md).

Every delivery carries ``Trefpunt-Signature: t=<unix time>,v1=<hex>``, where ``<hex>`` is
HMAC-SHA256 with the endpoint's secret over ``"<t>." + body`` (the raw request body bytes).
A receiver recomputes it, compares in constant time, and refuses a timestamp further than
``TOLERANCE_SECONDS`` from its own clock, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Trefpunt-Signature"
TOLERANCE_SECONDS = 300


class SignatureInvalid(Exception):
    pass


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The value of the ``Trefpunt-Signature`` header for ``body``."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={webhook_signature(secret, ts, body)}"


def webhook_verify(
    secret: str,
    body: bytes,
    header: str,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check a delivery as a receiver would; returns its timestamp. Raises
    ``SignatureInvalid`` for a missing, wrong or stale signature."""
    parts = dict(p.strip().split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise SignatureInvalid("missing or malformed signature header") from None
    if not hmac.compare_digest(webhook_signature(secret, timestamp, body), given):
        raise SignatureInvalid("signature does not match")
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise SignatureInvalid("timestamp outside the replay window")
    return timestamp
