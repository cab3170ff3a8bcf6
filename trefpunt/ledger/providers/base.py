from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from trefpunt.ledger.models import Deposit


class WebhookRejected(Exception):
    """The notification is not authentic or not understood; nothing may change."""


@dataclass(frozen=True)
class Checkout:
    provider_ref: str
    url: str


@dataclass(frozen=True)
class WebhookNotice:
    event_id: str
    provider_ref: str
    outcome: Literal["paid", "cancelled", "failed"]
    amount: int
    currency: str


class PaymentProvider(Protocol):
    name: str

    def checkout_create(self, deposit: Deposit) -> Checkout: ...

    def webhook_verify(self, body: bytes, headers: Mapping[str, str]) -> WebhookNotice: ...
