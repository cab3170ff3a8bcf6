"""The sandbox provider: a checkout page of our own and HMAC-signed webhooks.

It behaves like a real provider on the wire: the checkout page only produces a
signed notification, and money is booked only when that notification passes
the same verification path a real provider's webhook does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse

from .base import Checkout, WebhookNotice, WebhookRejected

if TYPE_CHECKING:
    from trefpunt.ledger.models import Deposit

SIGNATURE_HEADER = "X-Sandbox-Signature"
# A notification older than this is refused, so a captured one cannot be
# replayed later (a replay inside the window is deduplicated by event id).
TOLERANCE_SECONDS = 300


def _signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sandbox_sign(
    body: bytes, *, timestamp: int | None = None, secret: str | None = None
) -> dict[str, str]:
    """Headers for a signed sandbox notification (what the provider would send)."""
    ts = int(time.time()) if timestamp is None else timestamp
    sig = _signature(secret or settings.SANDBOX_WEBHOOK_SECRET, ts, body)
    return {SIGNATURE_HEADER: f"t={ts},v1={sig}", "Content-Type": "application/json"}


def sandbox_notification(deposit: Deposit, outcome: str) -> bytes:
    payload: dict[str, Any] = {
        "id": f"evt_{deposit.provider_ref}_{outcome}",
        "type": f"payment.{outcome}",
        "payment": {
            "ref": deposit.provider_ref,
            "amount": deposit.amount,
            "currency": deposit.currency,
        },
    }
    return json.dumps(payload, separators=(",", ":")).encode()


class SandboxProvider:
    name = "sandbox"

    def checkout_create(self, deposit: Deposit) -> Checkout:
        ref = "sbx_" + secrets.token_hex(12)
        url = reverse("pay:sandbox_checkout", kwargs={"public_id": deposit.public_id})
        return Checkout(provider_ref=ref, url=url)

    def webhook_verify(self, body: bytes, headers: Mapping[str, str]) -> WebhookNotice:
        header = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower()) or ""
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        try:
            timestamp = int(parts["t"])
            given = parts["v1"]
        except (KeyError, ValueError):
            raise WebhookRejected("missing or malformed signature header") from None
        expected = _signature(settings.SANDBOX_WEBHOOK_SECRET, timestamp, body)
        if not hmac.compare_digest(expected, given):
            raise WebhookRejected("bad signature")
        if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
            raise WebhookRejected("signature timestamp outside the tolerance")
        try:
            data = json.loads(body)
            outcome = data["type"].removeprefix("payment.")
            payment = data["payment"]
            notice = WebhookNotice(
                event_id=str(data["id"]),
                provider_ref=str(payment["ref"]),
                outcome=outcome,
                amount=int(payment["amount"]),
                currency=str(payment["currency"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookRejected("malformed payload") from None
        if notice.outcome not in {"paid", "cancelled", "failed"}:
            raise WebhookRejected("unknown event type")
        return notice
