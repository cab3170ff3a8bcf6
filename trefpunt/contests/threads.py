"""What a conversation can attach to in contests (registered with ``community.threads``).

- ``entry``: one thread per entry between the entrant and the client (the poster, or the
  organisation's owners and admins). Nobody else takes part; in a blind contest nobody
  else even knows the entry. This is where an entrant answers the client's feedback.
- ``contest_qa``: the contest's questions and answers. The client's people take part; it
  is readable (and askable) by everyone who may read the brief — the public for a public
  contest, the invited for a private one (once they accepted its NDA, if it has one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trefpunt.accounts.selectors import clients_acting
from trefpunt.community.threads import ThreadKind, ThreadTarget, thread_kinds_register

from .access import contest_access
from .models import Contest, Entry


def _managers(contests: Iterable[Contest]) -> dict[int, frozenset[int]]:
    return clients_acting({c.pk: (c.organisation_id, c.created_by_id) for c in contests})


def _entry_targets(keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], ThreadTarget]:
    entries = {
        e.pk: e
        for e in Entry.objects.filter(pk__in={pk for pk, _key in keys}).select_related("contest")
    }
    managers = _managers({e.contest for e in entries.values()})
    return {
        (pk, key): ThreadTarget(
            title=_("Entry #%(n)d in “%(title)s”")
            % {"n": entries[pk].number, "title": entries[pk].contest.title},
            url=entries[pk].get_absolute_url(),
            participants=managers[entries[pk].contest_id] | {entries[pk].entrant_id},
        )
        for pk, key in keys
        if pk in entries and not key
    }


def _qa_targets(keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], ThreadTarget]:
    contests = {
        c.pk: c
        for c in Contest.objects.filter(pk__in={pk for pk, _key in keys}).exclude(
            status=Contest.Status.DRAFT
        )
    }
    managers = _managers(contests.values())

    def target(contest: Contest) -> ThreadTarget:
        return ThreadTarget(
            title=_("Questions about “%(title)s”") % {"title": contest.title},
            url=contest.get_absolute_url(),
            participants=managers[contest.pk],
            public=True,
            readers=lambda user: contest_access(contest, user).can_read_brief,
        )

    return {(pk, key): target(contests[pk]) for pk, key in keys if pk in contests and not key}


def register() -> None:
    thread_kinds_register(
        ThreadKind("entry", gettext_lazy("Entry"), _entry_targets),
        ThreadKind("contest_qa", gettext_lazy("Contest questions"), _qa_targets),
    )
