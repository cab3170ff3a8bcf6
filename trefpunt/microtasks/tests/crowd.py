"""A simulated crowd for quality tests: a batch with a planted truth and test questions, and
workers of known accuracy (or answering at random) working through it by the real services."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trefpunt.accounts.models import User
from trefpunt.accounts.tests.factories import UserFactory
from trefpunt.core.exceptions import PermissionDenied
from trefpunt.ledger.services import wallet_for_user
from trefpunt.ledger.tests.factories import fund_wallet
from trefpunt.microtasks.models import Batch, Item
from trefpunt.microtasks.selectors import batch_funding
from trefpunt.microtasks.services import batch_publish, items_upload, lease_answer, lease_claim

from .factories import BatchFactory

LABELS = ["pos", "neg", "neu"]


@dataclass
class CrowdBatch:
    batch: Batch
    owner: User
    # position -> true label (gold items included)
    truth: dict[int, str]
    gold_positions: set[int]


def crowd_csv(truth: dict[int, str], gold: set[int]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["text", "_gold.sentiment"])
    for position in sorted(truth):
        writer.writerow(
            [
                f"Review {position}: {truth[position]}-ish text",
                truth[position] if position in gold else "",
            ]
        )
    return out.getvalue().encode()


def crowd_batch(
    *, items: int, gold: int, seed: int = 7, owner: User | None = None, **kwargs: Any
) -> CrowdBatch:
    """A published batch of ``items`` items whose last-drawn ``gold`` positions (spread over
    the batch) are test questions with their true label."""
    rng = random.Random(seed)
    owner = owner or UserFactory.create()
    truth = {p: rng.choice(LABELS) for p in range(1, items + 1)}
    gold_positions = set(rng.sample(sorted(truth), gold))
    batch = BatchFactory.create(user=owner, **kwargs)
    items_upload(
        batch_id=batch.pk,
        user=owner,
        content=crowd_csv(truth, gold_positions),
        filename="crowd.csv",
    )
    fund_wallet(wallet_for_user(user=owner), owner, max(500, batch_funding(batch=batch).total))
    batch = batch_publish(batch_id=batch.pk, user=owner)
    return CrowdBatch(batch=batch, owner=owner, truth=truth, gold_positions=gold_positions)


@dataclass
class SimWorker:
    user: User
    answer: Callable[[Item], str]
    answered: int = 0
    stopped: str = ""
    items: list[int] = field(default_factory=list)


def accurate(truth: dict[int, str], accuracy: float, rng: random.Random) -> Callable[[Item], str]:
    def answer(item: Item) -> str:
        right = truth[item.position]
        if rng.random() < accuracy:
            return right
        return rng.choice([label for label in LABELS if label != right])

    return answer


def at_random(rng: random.Random) -> Callable[[Item], str]:
    return lambda item: rng.choice(LABELS)


def work(batch: Batch, workers: list[SimWorker], each: Callable[[], Any] | None = None) -> int:
    """Workers take turns claiming and answering until nothing is left for any of them.
    ``each`` wraps every answer (e.g. to run the on-commit tasks). Returns answers given."""
    given = 0
    active = list(workers)
    while active:
        for worker in list(active):
            try:
                lease = lease_claim(batch_id=batch.pk, worker=worker.user)
            except PermissionDenied as exc:
                worker.stopped = exc.message
                lease = None
            if lease is None:
                active.remove(worker)
                continue
            label = worker.answer(lease.item)
            if each is not None:
                with each():
                    lease_answer(lease_id=lease.pk, worker=worker.user, answer={"sentiment": label})
            else:
                lease_answer(lease_id=lease.pk, worker=worker.user, answer={"sentiment": label})
            worker.answered += 1
            worker.items.append(lease.item_id)
            given += 1
    return given
