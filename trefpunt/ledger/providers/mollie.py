"""Mollie (iDEAL, cards, SEPA) behind the provider interface, through ``mollie-api-python``.

Checkout: a Mollie payment for the deposit's amount, with our webhook and return URLs; the
person pays on Mollie's hosted page. Webhook: Mollie posts only ``id=tr_…`` and signs
nothing, so the notification itself is never trusted — the adapter fetches the payment from
Mollie's API with our key and reports what Mollie says. A forged or unknown id is refused
(Mollie answers 404), an id of a payment that is not final yet changes nothing, and every
(payment, status) pair is one event, so a replayed notification books nothing.

Settings: ``MOLLIE_API_KEY`` (``test_…`` or ``live_…``) and ``MOLLIE_API_ENDPOINT`` (empty:
Mollie's own; the tests point it at a local fake server).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from django.conf import settings
from django.urls import reverse
from mollie.api.client import Client
from mollie.api.error import Error as MollieError

from trefpunt.core.web import absolute_url

from .base import Checkout, WebhookNotice, WebhookRejected

if TYPE_CHECKING:
    from trefpunt.ledger.models import Deposit

# Mollie's final statuses and what they mean for a deposit; others ("open", "pending",
# "authorized") are not final and change nothing.
OUTCOMES = {"paid": "paid", "failed": "failed", "expired": "failed", "canceled": "cancelled"}


def _client() -> Client:
    client = Client(api_endpoint=getattr(settings, "MOLLIE_API_ENDPOINT", ""), retry=0)
    client.set_api_key(settings.MOLLIE_API_KEY)
    return client


def _value(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def _cents(value: Any) -> int:
    try:
        return int((Decimal(str(value)) * 100).to_integral_exact())
    except (InvalidOperation, ValueError):
        raise WebhookRejected("malformed amount") from None


class MollieProvider:
    name = "mollie"

    def checkout_create(self, deposit: Deposit) -> Checkout:
        payment = _client().payments.create(
            {
                "amount": {"currency": deposit.currency, "value": _value(deposit.amount)},
                "description": f"Trefpunt deposit {deposit.public_id}",
                "redirectUrl": absolute_url(
                    reverse("ledger:deposit_return", kwargs={"public_id": deposit.public_id})
                ),
                "webhookUrl": absolute_url(reverse("pay:webhook", kwargs={"provider": self.name})),
                "metadata": {"deposit": str(deposit.public_id)},
            },
            idempotency_key=f"deposit-{deposit.public_id}",
        )
        url = payment.checkout_url
        if not payment.id or not url:
            raise RuntimeError("Mollie returned a payment without id or checkout link")
        return Checkout(provider_ref=str(payment.id), url=str(url))

    def webhook_verify(self, body: bytes, headers: Mapping[str, str]) -> WebhookNotice:
        try:
            payment_id = parse_qs(body.decode("ascii"), strict_parsing=True)["id"][0]
        except (UnicodeDecodeError, ValueError, KeyError):
            raise WebhookRejected("expected id=tr_…") from None
        if not payment_id.startswith("tr_") or len(payment_id) > 60:
            raise WebhookRejected("not a payment id")
        try:
            payment = _client().payments.get(payment_id)
        except MollieError as exc:
            raise WebhookRejected(f"Mollie does not know this payment: {exc}") from None
        outcome = OUTCOMES.get(str(payment.status))
        if outcome is None:
            raise WebhookRejected(f"payment not final ({payment.status})")
        amount = payment.amount or {}
        return WebhookNotice(
            event_id=f"{payment.id}:{payment.status}",
            provider_ref=str(payment.id),
            outcome=outcome,  # type: ignore[arg-type]
            amount=_cents(amount.get("value")),
            currency=str(amount.get("currency", "")),
        )
