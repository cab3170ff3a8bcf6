"""What a ledger line was for, in the reader's language.

Journal entries and escrows carry a ``reference`` such as ``contest:12`` or
``batch:7``. Each app registers a resolver for its prefix that turns a batch
of ids into a readable label and a link, so the wallet history says
"Contest: Logo for a bakery" (linked) instead of a stored English sentence, at
a constant number of queries per page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ReferenceLabel:
    label: str
    url: str | None = None


Resolver = Callable[[Sequence[int]], dict[int, ReferenceLabel]]
_RESOLVERS: dict[str, Resolver] = {}


def reference_register(prefix: str, resolver: Resolver) -> None:
    """Register the resolver of ``<prefix>:<id>`` references (call from ``AppConfig.ready``)."""
    _RESOLVERS[prefix] = resolver


def references_describe(references: Iterable[str]) -> dict[str, ReferenceLabel]:
    """Labels for the references that have a resolver; one resolver call per prefix."""
    ids: dict[str, set[int]] = defaultdict(set)
    for reference in references:
        prefix, _sep, raw_id = (reference or "").partition(":")
        if prefix in _RESOLVERS and raw_id.isdigit():
            ids[prefix].add(int(raw_id))
    described: dict[str, ReferenceLabel] = {}
    for prefix, wanted in ids.items():
        for pk, label in _RESOLVERS[prefix](sorted(wanted)).items():
            described[f"{prefix}:{pk}"] = label
    return described


# Payment providers as the wallet names them; others by their own name.
PROVIDER_NAMES: dict[str, Callable[[], str]] = {}


def deposit_labels(ids: Sequence[int]) -> dict[int, ReferenceLabel]:
    """``deposit:<id>``: "Via the sandbox" in the reader's language (the journal entry's
    stored description is English, written when the provider's webhook arrived)."""
    from django.utils.translation import gettext as _

    from .models import Deposit

    names = {"sandbox": lambda: _("the sandbox (test payments)")} | PROVIDER_NAMES
    labels = {}
    for pk, provider in Deposit.objects.filter(pk__in=ids).values_list("pk", "provider"):
        name = names[provider]() if provider in names else provider.title()
        labels[pk] = ReferenceLabel(_("Via %(provider)s") % {"provider": name})
    return labels
