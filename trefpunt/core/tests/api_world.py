"""A small world for tests that walk the whole API (property test, schemathesis).

One person with a token owns or takes part in one object of every kind an operation can name
by id, so that generated requests reach the services instead of stopping at 404. Path
parameters are filled from ``World.path_values``, by name.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection

from trefpunt.accounts.models import User
from trefpunt.accounts.services import api_token_create
from trefpunt.contests.tests.factories import draft, enter, make_user, published
from trefpunt.ideas.tests.factories import draft_call, open_call, post
from trefpunt.ledger.services import deposit_create, wallet_for_user
from trefpunt.ledger.tests.factories import fund_wallet
from trefpunt.microtasks.selectors import worker_pseudonym
from trefpunt.microtasks.services import answer_reject, lease_answer
from trefpunt.microtasks.tests.factories import BatchFactory, claim, published_batch
from trefpunt.projects.tests import factories as projects

# The apps whose rows a refused request must leave alone.
OWN_APPS = (
    "core",
    "accounts",
    "ledger",
    "contests",
    "microtasks",
    "community",
    "ideas",
    "projects",
)


@dataclass
class World:
    me: User
    token: str
    path_values: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def path_value(self, name: str, rng: random.Random) -> Any:
        return rng.choice(self.path_values.get(name) or [1])


def _answered(batch_owner: User, worker: User, *, items: int = 3) -> tuple[Any, Any]:
    """A published batch of ``batch_owner`` and one answer of ``worker`` in it."""
    batch = published_batch(items=items, owner=batch_owner)
    lease = claim(batch, worker)
    answer = lease_answer(lease_id=lease.pk, worker=worker, answer={"sentiment": "pos"})
    return batch, answer


def build_world() -> World:
    me = make_user()
    other = make_user()
    _token, raw = api_token_create(user=me, name="walker")
    fund_wallet(wallet_for_user(user=me), me, 500_000)

    my_draft = draft(me)
    my_open = published(me)
    their_entry = enter(my_open, other)
    their_open = published(other)
    my_entry = enter(their_open, me)

    my_draft_batch = BatchFactory.create(user=me, items=3)
    my_batch, their_answer = _answered(me, other)
    their_batch, my_answer = _answered(other, me)
    answer_reject(answer_id=my_answer.pk, user=other, reason="Not what the item says.")
    my_lease = claim(their_batch, me)

    my_call = open_call(me, rewards=2)
    my_draft_call = draft_call(me)
    their_call = open_call(other)
    their_idea = post(my_call, other)
    my_idea = post(their_call, me)

    my_job = projects.open_job(me)
    my_draft_job = projects.draft_job(me)
    their_job = projects.open_job(other)
    their_proposal = projects.propose(my_job, other)
    my_proposal = projects.propose(their_job, me)
    my_contract = projects.hired(me, other)  # I am the client
    their_contract = projects.hired(other, me)  # I am the freelancer
    my_milestone = projects.funded(my_contract)
    projects.delivered(their_contract, projects.funded(their_contract))

    deposit = deposit_create(wallet=wallet_for_user(user=me), user=me, amount=2500)
    notification_model = apps.get_model("community", "Notification")
    notifications = list(
        notification_model.objects.filter(user=me).values_list("pk", flat=True)[:3]
    )
    return World(
        me=me,
        token=raw,
        path_values={
            "contest_id": [my_draft.pk, my_open.pk, their_open.pk],
            "entry_id": [their_entry.pk, my_entry.pk],
            "batch_id": [my_draft_batch.pk, my_batch.pk, their_batch.pk],
            "lease_id": [my_lease.pk],
            "answer_id": [their_answer.pk, my_answer.pk],
            "worker": [worker_pseudonym(batch_id=my_batch.pk, user_id=other.pk)],
            "deposit_id": [str(deposit.public_id)],
            "notification_id": notifications or [1],
            "handle": [me.profile.handle, other.profile.handle],
            "call_id": [my_call.pk, my_draft_call.pk, their_call.pk],
            "idea_id": [their_idea.pk, my_idea.pk],
            "job_id": [my_job.pk, my_draft_job.pk, their_job.pk],
            "proposal_id": [their_proposal.pk, my_proposal.pk],
            "contract_id": [my_contract.pk, their_contract.pk],
            "milestone_id": [
                my_milestone.pk,
                *their_contract.milestones.values_list("pk", flat=True),
            ],
        },
    )


def row_counts() -> dict[str, int]:
    """Rows per table of our apps (a refused request must change none of them), in one
    query: the property tests ask before and after every request."""
    tables = sorted(
        model._meta.db_table
        for label in OWN_APPS
        for model in apps.get_app_config(label).get_models()
    )
    # Table names come from our own models, quoted: nothing from a request.
    sql = "SELECT " + ", ".join(  # noqa: S608
        f"(SELECT COUNT(*) FROM {connection.ops.quote_name(t)})"  # noqa: S608
        for t in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone(), strict=True))
