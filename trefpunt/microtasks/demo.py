"""Demo microtask batches for ``trefpunt demo``, made through the real services.

Runs after the accounts demo and picks its people from the database rather than relying on
exact addresses: **clients** are people with ``client`` in their email or more than €1,000 in
their wallet (the first organisation, when there is one, pays for the receipts batch); the
**crowd** is everyone else with a profile (not staff, not in an organisation). Missing people
are created through the accounts service. Money arrives as signed sandbox deposits.

The batches: product matching (open, with gold questions, reviews and an appeal waiting for
the client), review sentiment (paused by the fair-pay rule: workers needed longer than the
client estimated), receipt transcription (closed: reviewed, an appeal overturned, the unused
money refunded) and a draft. Working times are realistic because each demo lease is
back-dated before it is answered (the services bound reported time by the lease).

Idempotent: each demo batch has a fixed title and is skipped when it exists.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from trefpunt.accounts.demo import DOMAIN, demo_people, demo_people_ensure, wallet_top_up
from trefpunt.accounts.demo.showcase import Showcase
from trefpunt.accounts.models import Membership, Organisation, Role, User
from trefpunt.core.exceptions import ApplicationError
from trefpunt.ledger.services import (
    wallet_for_organisation,
    wallet_for_user,
)

from .models import Answer, Batch, Lease
from .selectors import batch_funding
from .services import (
    answer_appeal,
    answer_approve,
    answer_reject,
    appeal_decide,
    batch_close,
    batch_create,
    batch_publish,
    items_upload,
    lease_answer,
    lease_claim,
)

PRODUCTS = [
    ("Philips Hue White E27 9W bulb", "Hue White 9 W E27 LED lamp (Philips)"),
    ("Bosch PSR 1200 cordless drill", "Bosch PSR 1800 LI-2 drill driver"),
    ("Nespresso Vertuo Next, black", "Vertuo Next coffee machine black (Nespresso)"),
    ("IKEA KALLAX shelf 77x147 white", "KALLAX open shelving unit, white, 77 × 147 cm"),
    ("Sony WH-1000XM4 headphones", "Sony WH-1000XM5 wireless headphones"),
    ("Tefal Ingenio 3-piece pan set", "Tefal Ingenio Essential pans, set of 3"),
    ("Brabantia 30L pedal bin, steel", "Brabantia NewIcon pedal bin 20 litre"),
    ("LEGO Creator 31120 Medieval Castle", "Medieval Castle 3-in-1 (LEGO 31120)"),
]
REVIEWS = [
    "Arrived a day early and works exactly as described. Very happy.",
    "Stopped working after a week. Customer service never answered.",
    "Does the job. Nothing special, nothing wrong.",
    "Great sound for the price, but the case feels cheap.",
    "Absolutely love it — my kids use it every day.",
    "Smaller than the photos suggest; returned it.",
]
SHOPS = ["Albert Heijn", "Jumbo", "HEMA", "Gamma", "Bakkerij de Korenbloem"]


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _publish(batch: Batch, user: User, organisation: Organisation | None) -> Batch:
    funding = batch_funding(batch=batch)
    wallet = (
        wallet_for_organisation(organisation=organisation)
        if organisation
        else wallet_for_user(user=user)
    )
    wallet_top_up(wallet, user, funding.total, f"demo:microtasks-fund:{batch.pk}")
    return batch_publish(batch_id=batch.pk, user=user)


def _work(
    batch: Batch,
    workers: list[User],
    per_worker: int,
    answer: Callable[[random.Random, dict[str, Any]], dict[str, Any]],
    seconds: tuple[int, int],
    seed: int,
) -> list[Answer]:
    """Each worker answers up to ``per_worker`` items; each lease is back-dated by the
    working time so the batch's median time is realistic. Stops when the batch pauses."""
    rnd = random.Random(seed)
    answers: list[Answer] = []
    for worker in workers:
        for _turn in range(per_worker):
            try:
                lease = lease_claim(batch_id=batch.pk, worker=worker)
            except ApplicationError:
                return answers
            if lease is None:
                break
            took = rnd.randint(*seconds)
            start = timezone.now() - timedelta(seconds=took + 1)
            Lease.objects.filter(pk=lease.pk).update(
                created_at=start, expires_at=start + timedelta(seconds=batch.lease_seconds)
            )
            answers.append(
                lease_answer(
                    lease_id=lease.pk,
                    worker=worker,
                    answer=answer(rnd, lease.item.data),
                    seconds=took,
                )
            )
    return answers


@dataclass(frozen=True)
class _People:
    """Who the demo batches belong to and who works on them."""

    a: User
    b: User
    crowd: list[User]
    receipts_client: User
    receipts_org: Organisation | None


def _products(title: str, people: _People) -> None:
    a, crowd = people.a, people.crowd
    batch = batch_create(
        user=a,
        title=title,
        instructions=(
            "Two shops list a product. Decide whether both listings are **the same "
            "product** (same brand, model and size).\n\n"
            "- A different model number means *different*.\n"
            "- Choose *unsure* only when the listing does not say enough."
        ),
        display=[
            {"column": "shop_a", "widget": "text", "label": "Shop A"},
            {"column": "shop_b", "widget": "text", "label": "Shop B"},
            {"column": "listing", "widget": "link", "label": "Listing at shop B"},
        ],
        form=[
            {
                "name": "same",
                "label": "Same product?",
                "type": "single",
                "choices": [
                    {"value": "same", "label": "Same product"},
                    {"value": "different", "label": "Different products"},
                    {"value": "unsure", "label": "Cannot tell"},
                ],
            }
        ],
        reward=6,
        estimated_seconds=12,
        min_answers=3,
        max_answers=3,
        max_answers_per_worker=40,
    )
    rows = []
    for i in range(24):
        left, right = PRODUCTS[i % len(PRODUCTS)]
        truth = "different" if any(k in right for k in ("1800", "XM5", "20 litre")) else "same"
        gold = truth if i in (0, 9, 17) else ""
        rows.append([left, right, f"https://shop.example.com/p/{1000 + i}", gold])
    items_upload(
        batch_id=batch.pk,
        user=a,
        content=_csv(["shop_a", "shop_b", "listing", "_gold.same"], rows),
        filename="products.csv",
    )
    _publish(batch, a, None)

    def match(rnd: random.Random, data: dict[str, Any]) -> dict[str, Any]:
        different = any(k in data["shop_b"] for k in ("1800", "XM5", "20 litre"))
        right = "different" if different else "same"
        return {"same": right if rnd.random() < 0.85 else rnd.choice(["same", "unsure"])}

    answers = _work(batch, crowd[:6], 6, match, (6, 14), seed=11)
    for answer in answers[:15]:
        answer_approve(answer_id=answer.pk, user=a)
    wrong = [x for x in answers[15:] if x.data["same"] == "unsure"][:2] or answers[15:17]
    for answer in wrong:
        answer_reject(
            answer_id=answer.pk,
            user=a,
            reason="The model numbers differ, so these are different products.",
        )
    if wrong:
        answer_appeal(
            answer_id=wrong[0].pk,
            worker=wrong[0].worker,
            message="Shop B's listing does not show the model number, so I could not tell.",
        )


def _sentiment(title: str, people: _People) -> None:
    b, crowd = people.b, people.crowd
    batch = batch_create(
        user=b,
        title=title,
        instructions="Read the customer review and choose its overall sentiment. "
        "Tick the topics it talks about.",
        display=[{"column": "review", "widget": "text", "label": "Review"}],
        form=[
            {
                "name": "sentiment",
                "label": "Overall sentiment",
                "type": "single",
                "choices": [
                    {"value": "positive", "label": "Positive"},
                    {"value": "neutral", "label": "Neutral"},
                    {"value": "negative", "label": "Negative"},
                ],
            },
            {
                "name": "topics",
                "label": "Topics",
                "type": "multiple",
                "required": False,
                "choices": ["delivery", "quality", "price", "service"],
            },
        ],
        reward=8,
        estimated_seconds=20,
        min_answers=2,
        max_answers=3,
    )
    rows = [[f"{REVIEWS[i % len(REVIEWS)]} (order {4100 + i})"] for i in range(30)]
    items_upload(batch_id=batch.pk, user=b, content=_csv(["review"], rows), filename="r.csv")
    _publish(batch, b, None)

    def feel(rnd: random.Random, data: dict[str, Any]) -> dict[str, Any]:
        text = data["review"]
        mood = (
            "positive"
            if any(w in text for w in ("happy", "love", "Great"))
            else "negative"
            if any(w in text for w in ("Stopped", "returned"))
            else "neutral"
        )
        return {"sentiment": mood, "topics": rnd.sample(["delivery", "quality", "price"], 1)}

    # Workers need about 40 s, not the 20 s the client estimated: after 20 answers the
    # batch pays € 7.20 an hour and the fair-pay rule pauses it.
    _work(batch, crowd[2:8], 5, feel, (32, 50), seed=23)


def _receipts(title: str, people: _People) -> None:
    crowd = people.crowd
    user, org = people.receipts_client, people.receipts_org
    batch = batch_create(
        user=user,
        organisation_slug=org.slug if org else None,
        title=title,
        instructions="Copy the **total** of the receipt, the shop and how it was paid.",
        display=[{"column": "receipt", "widget": "text", "label": "Receipt"}],
        form=[
            {"name": "total", "label": "Total (€)", "type": "number", "min": 0, "max": 10000},
            {"name": "shop", "label": "Shop", "type": "text", "max_length": 80},
            {
                "name": "paid",
                "label": "Paid by",
                "type": "single",
                "choices": [
                    {"value": "card", "label": "Card"},
                    {"value": "cash", "label": "Cash"},
                    {"value": "other", "label": "Other"},
                ],
            },
        ],
        reward=25,
        estimated_seconds=45,
        min_answers=2,
        max_answers=2,
    )
    rnd = random.Random(5)
    lines = []
    for i in range(8):
        shop = SHOPS[i % len(SHOPS)]
        amounts = [rnd.randint(89, 1299) for _ in range(rnd.randint(2, 5))]
        body = "\n".join(f"item {n + 1:<12} {c / 100:>8.2f}" for n, c in enumerate(amounts))
        paid = "PIN" if i % 3 else "CONTANT"
        lines.append(
            json.dumps(
                {
                    "receipt": f"{shop.upper()}\n{body}\nTOTAAL {sum(amounts) / 100:>10.2f}\n"
                    f"{paid}",
                    "shop": shop,
                    "total": sum(amounts) / 100,
                    "paid": "cash" if paid == "CONTANT" else "card",
                }
            )
        )
    items_upload(
        batch_id=batch.pk,
        user=user,
        content=("\n".join(lines) + "\n").encode(),
        filename="receipts.jsonl",
    )
    _publish(batch, user, org)

    def transcribe(rnd: random.Random, data: dict[str, Any]) -> dict[str, Any]:
        total = data["total"] if rnd.random() < 0.9 else round(data["total"] + 1, 2)
        return {"total": total, "shop": data["shop"], "paid": data["paid"]}

    answers = _work(batch, crowd[:4], 4, transcribe, (35, 70), seed=31)
    for answer in answers[1:]:
        answer_approve(answer_id=answer.pk, user=user)
    if answers:
        first = answers[0]
        answer_reject(answer_id=first.pk, user=user, reason="The total is off by one euro.")
        answer_appeal(
            answer_id=first.pk,
            worker=first.worker,
            message="The receipt is faded; the last line really reads as I typed it.",
        )
        appeal_decide(answer_id=first.pk, user=user, overturn=True, note="You are right.")
    batch_close(batch_id=batch.pk, user=user)


def _draft(title: str, people: _People) -> None:
    a = people.a
    batch = batch_create(
        user=a,
        title=title,
        instructions="Which team should handle this support ticket?",
        display=[{"column": "ticket", "widget": "text", "label": "Ticket"}],
        form=[
            {
                "name": "team",
                "label": "Team",
                "type": "single",
                "choices": ["billing", "shipping", "returns", "technical"],
            }
        ],
        reward=5,
        estimated_seconds=10,
        min_answers=3,
        max_answers=5,
    )
    rows = [
        ["I was charged twice for order 5512."],
        ["My parcel says delivered but it is not here."],
        ["How do I send back a jacket that does not fit?"],
        ["The app crashes when I open my orders."],
    ]
    items_upload(batch_id=batch.pk, user=a, content=_csv(["ticket"], rows), filename="t.csv")


def load(stdout: IO[str]) -> list[tuple[str, str, str]]:
    clients, organisations, crowd = demo_people()
    demo_people_ensure(clients, crowd)
    a, b = clients[0], clients[1]
    organisation = organisations[0] if organisations else None
    owner_membership = (
        Membership.objects.filter(organisation=organisation, role=Role.OWNER)
        .select_related("user")
        .first()
        if organisation
        else None
    )
    people = _People(
        a=a,
        b=b,
        crowd=crowd,
        receipts_client=owner_membership.user if owner_membership else b,
        receipts_org=organisation if owner_membership else None,
    )

    steps: list[tuple[str, Callable[[str, _People], None]]] = [
        ("Same product? Match shop listings", _products),
        ("Sentiment of customer reviews", _sentiment),
        ("Transcribe shop receipts", _receipts),
        ("Route support tickets to the right team", _draft),
    ]
    created = 0
    for title, build in steps:
        if Batch.objects.filter(title=title).exists():
            continue
        build(title, people)
        created += 1
    counts = (
        Batch.objects.filter(title__in=[t for t, _build in steps])
        .values_list("status")
        .order_by("status")
        .annotate(n=Count("pk"))
    )
    states = ", ".join(f"{n} {status}" for status, n in counts)
    answers = Answer.objects.filter(batch__title__in=[t for t, _build in steps]).count()
    stdout.write(f"microtasks: {created} new demo batches ({states}; {answers} answers).\n")
    return []


def showcase() -> list[Showcase]:
    """What the demo's microtask people can show (the demo accounts page, ``make run``)."""
    rows: list[Showcase] = []
    batches = Batch.objects.filter(owner__email__iendswith=f"@{DOMAIN}").select_related("owner")
    for batch in batches.order_by("pk"):
        rows.append(
            Showcase(
                batch.owner.email,
                "client",
                _("Runs the microtask batch “%(title)s” (%(status)s): review, results, workers.")
                % {"title": batch.title, "status": batch.get_status_display()},
                url=reverse("microtasks:manage", kwargs={"pk": batch.pk}),
            )
        )
    workers = (
        Answer.objects.filter(batch__in=batches)
        .values("worker__email")
        .annotate(n=Count("pk"))
        .order_by("-n", "worker__email")
    )
    for n, row in enumerate(workers[:6]):
        rows.append(
            Showcase(
                row["worker__email"],
                "worker",
                ngettext(
                    "Gave %(count)d microtask answer: the work page, answers, pay, appeals.",
                    "Gave %(count)d microtask answers: the work page, answers, pay, appeals.",
                    row["n"],
                )
                % {"count": row["n"]},
                url=reverse("microtasks:answer_history"),
                lead=n == 0,
            )
        )
    return rows
