"""What a conversation can attach to in microtasks (``community.threads``): ``batch``, one
thread per worker and published batch, between that worker and the people who run the
batch — to ask what an instruction means or why an answer was rejected. The key is the
worker's id. Only the worker starts it (the client sees workers under a pseudonym and
must not be able to reach them unasked); the client answers in it."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trefpunt.accounts.models import User
from trefpunt.accounts.selectors import clients_acting
from trefpunt.community.threads import ThreadKind, ThreadTarget, thread_kinds_register

from .models import Batch


def _worker_id(key: str) -> int | None:
    return int(key) if key.isdigit() and key[0] != "0" else None


def batch_thread_targets(
    wanted: Sequence[tuple[int, str]],
) -> dict[tuple[int, str], ThreadTarget]:
    """Targets of batch threads: three queries for any number of batches and workers."""
    batches = Batch.objects.exclude(status=Batch.Status.DRAFT).in_bulk(
        sorted({pk for pk, _key in wanted})
    )
    workers = set(
        User.objects.filter(
            pk__in={w for _pk, key in wanted if (w := _worker_id(key))}, is_active=True
        ).values_list("pk", flat=True)
    )
    managers = clients_acting({pk: (b.organisation_id, b.owner_id) for pk, b in batches.items()})
    targets = {}
    for pk, key in wanted:
        worker = _worker_id(key)
        if pk not in batches or worker not in workers or worker in managers[pk]:
            continue
        targets[(pk, key)] = ThreadTarget(
            title=_("Questions about “%(title)s”") % {"title": batches[pk].title},
            url=batches[pk].get_absolute_url(),
            participants=managers[pk] | {worker},
        )
    return targets


def _worker_starts(user: User, batch_id: int, key: str) -> bool:
    return _worker_id(key) == user.pk


def register() -> None:
    thread_kinds_register(
        ThreadKind("batch", gettext_lazy("Microtask batch"), batch_thread_targets, _worker_starts)
    )
