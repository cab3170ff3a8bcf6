"""Payment providers behind one interface.

A provider creates a hosted checkout for a deposit and later tells us the
outcome through a signed webhook. The built-in sandbox provider hosts its
checkout on our own ``/pay/sandbox/<id>/`` page; Mollie or Stripe plug in as
further ``PaymentProvider`` implementations registered in ``PROVIDERS``.
"""

from __future__ import annotations

from django.conf import settings

from .base import Checkout, PaymentProvider, WebhookNotice, WebhookRejected
from .mollie import MollieProvider
from .sandbox import SandboxProvider

PROVIDERS: dict[str, type[PaymentProvider]] = {"sandbox": SandboxProvider, "mollie": MollieProvider}


def provider_get(name: str | None = None) -> PaymentProvider:
    return PROVIDERS[name or settings.PAYMENT_PROVIDER]()


__all__ = ["Checkout", "PaymentProvider", "WebhookNotice", "WebhookRejected", "provider_get"]
