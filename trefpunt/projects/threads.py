"""What a conversation can attach to in projects (registered with ``community.threads``).

- ``proposal``: one thread per proposal between the freelancer and the client (the poster,
  or the organisation's owners and admins) — the client's questions before hiring. Nobody
  else takes part or can read it: another freelancer never learns a proposal exists.
- ``contract``: one thread per contract between the same two sides, for the work itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trefpunt.accounts.models import Membership, Role
from trefpunt.community.threads import ThreadKind, ThreadTarget, thread_kinds_register

from .models import Contract, Proposal


def _client_sides(
    pairs: Iterable[tuple[int, int | None]],
) -> dict[tuple[int, int | None], frozenset[int]]:
    """Who acts for each (poster, organisation), one query for all organisations."""
    pairs = set(pairs)
    org_ids = {org for _poster, org in pairs if org}
    admins: dict[int, set[int]] = {}
    for org_id, user_id in Membership.objects.filter(
        organisation_id__in=org_ids, role__in=[Role.OWNER, Role.ADMIN], user__is_active=True
    ).values_list("organisation_id", "user_id"):
        admins.setdefault(org_id, set()).add(user_id)
    return {
        (poster, org): frozenset(admins.get(org, set())) if org else frozenset({poster})
        for poster, org in pairs
    }


def _proposal_targets(keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], ThreadTarget]:
    proposals = {
        p.pk: p
        for p in Proposal.objects.filter(pk__in={pk for pk, _key in keys}).select_related("job")
    }
    sides = _client_sides((p.job.created_by_id, p.job.organisation_id) for p in proposals.values())
    return {
        (pk, key): ThreadTarget(
            title=_("Proposal on “%(title)s”") % {"title": proposals[pk].job.title},
            url=proposals[pk].get_absolute_url(),
            participants=sides[(proposals[pk].job.created_by_id, proposals[pk].job.organisation_id)]
            | {proposals[pk].freelancer_id},
        )
        for pk, key in keys
        if pk in proposals and not key
    }


def _contract_targets(keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], ThreadTarget]:
    contracts = {c.pk: c for c in Contract.objects.filter(pk__in={pk for pk, _key in keys})}
    sides = _client_sides((c.client_id, c.organisation_id) for c in contracts.values())
    return {
        (pk, key): ThreadTarget(
            title=_("Contract “%(title)s”") % {"title": contracts[pk].title},
            url=contracts[pk].get_absolute_url(),
            participants=sides[(contracts[pk].client_id, contracts[pk].organisation_id)]
            | {contracts[pk].freelancer_id},
        )
        for pk, key in keys
        if pk in contracts and not key
    }


def register() -> None:
    thread_kinds_register(
        ThreadKind("proposal", gettext_lazy("Proposal"), _proposal_targets),
        ThreadKind("contract", gettext_lazy("Contract"), _contract_targets),
    )
