"""Batches are built through the real services: create, upload, fund, publish."""

from __future__ import annotations

from typing import Any

import factory
import numpy as np

from trefpunt.accounts.models import Organisation, User
from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.ledger.models import AccountKind, LedgerAccount
from trefpunt.ledger.services import wallet_for_organisation, wallet_for_user
from trefpunt.ledger.tests.factories import fund_wallet
from trefpunt.microtasks.models import Batch, Lease
from trefpunt.microtasks.quality import MODEL_VERSION
from trefpunt.microtasks.selectors import batch_funding
from trefpunt.microtasks.services import batch_create, batch_publish, items_upload, lease_claim

SENTIMENT_FORM: list[dict[str, Any]] = [
    {
        "name": "sentiment",
        "label": "Sentiment",
        "type": "single",
        "choices": [
            {"value": "pos", "label": "Positive"},
            {"value": "neg", "label": "Negative"},
            {"value": "neu", "label": "Neutral"},
        ],
    }
]
TEXT_DISPLAY: list[dict[str, Any]] = [{"column": "text", "widget": "text", "label": "Review"}]


def items_csv(n: int, *, column: str = "text") -> bytes:
    lines = [column] + [f'"Review number {i}, quite good"' for i in range(1, n + 1)]
    return ("\n".join(lines) + "\n").encode()


class BatchFactory(factory.Factory):
    """A draft batch made by ``batch_create``; pass ``items=n`` to upload n items."""

    class Meta:
        model = Batch

    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Sentiment of reviews {n}")
    instructions = "Read the review and pick its **sentiment**."
    form = factory.LazyFunction(lambda: [dict(f) for f in SENTIMENT_FORM])
    display = factory.LazyFunction(lambda: [dict(d) for d in TEXT_DISPLAY])
    reward = 10
    min_answers = 3
    max_answers = 3
    estimated_seconds = 20

    @classmethod
    def _create(cls, model_class: type[Batch], *args: Any, **kwargs: Any) -> Batch:
        items = kwargs.pop("items", 0)
        user = kwargs.pop("user")
        batch = batch_create(user=user, **kwargs)
        if items:
            items_upload(batch_id=batch.pk, user=user, content=items_csv(items), filename="i.csv")
        return batch


def published_batch(
    *, items: int = 5, owner: User | None = None, extra_funds: int = 0, **kwargs: Any
) -> Batch:
    """A published batch whose owner deposited exactly what publishing costs (+ extra)."""
    owner = owner or UserFactory.create()
    batch = BatchFactory.create(user=owner, items=items, **kwargs)
    funding = batch_funding(batch=batch)
    fund_wallet(wallet_for_user(user=owner), owner, max(500, funding.total + extra_funds))
    return batch_publish(batch_id=batch.pk, user=owner)


def organisation_batch(owner: User, organisation: Organisation, **kwargs: Any) -> Batch:
    """A published batch posted (and paid) in the organisation's name."""
    batch = BatchFactory.create(user=owner, items=6, organisation_slug=organisation.slug, **kwargs)
    fund_wallet(wallet_for_organisation(organisation=organisation), owner, 10_000)
    return batch_publish(batch_id=batch.pk, user=owner)


def claim(batch: Batch, worker: User) -> Lease:
    lease = lease_claim(batch_id=batch.pk, worker=worker)
    assert lease is not None
    return lease


def revenue_balance() -> int:
    account = LedgerAccount.objects.filter(kind=AccountKind.PLATFORM_REVENUE).first()
    return account.balance if account else 0


def fits_enqueued(callbacks: list[Any]) -> int:
    """How many of the on-commit callbacks enqueue the batch's full fit (others tell
    webhooks and people about completed items)."""
    return sum("aggregate_on_commit" in getattr(c, "__qualname__", "") for c in callbacks)


def trust_workers(batch: Batch, *, right: float = 0.9) -> Batch:
    """Store, as the batch's last fit, a model in which every worker is right ``right`` of
    the time and the stopping rule is calibrated (the confidence taken as it is), as a fit
    of a large, calibrated batch would leave it: three agreeing answers from distinct
    workers then stop an item, two do not (``services.stopping``)."""
    fields = {}
    for spec in batch.form:
        if spec["type"] != "single":
            continue
        classes = [c["value"] for c in spec["choices"]]
        k = len(classes)
        pooled = np.full((k, k), (1.0 - right) / (k - 1))
        np.fill_diagonal(pooled, right)
        fields[spec["name"]] = {
            "classes": classes,
            "prior": [1.0 / k] * k,
            "pooled": pooled.tolist(),
            "pooled_weight": 1.0,
        }
    model = {
        "version": MODEL_VERSION,
        "method": batch.aggregation_method,
        "fields": fields,
        "stop": {"temperature": 1.0, "edges": [0.0], "levels": [1.0], "flagged": []},
    }
    Batch.objects.filter(pk=batch.pk).update(quality_model=model)
    batch.refresh_from_db()
    return batch
