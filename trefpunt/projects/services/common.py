"""Helpers the project services share: text and number checks against the model's limits,
a milestone's funded work, and notices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext as _

from trefpunt.accounts.models import Membership, Role
from trefpunt.community.notifications import notify
from trefpunt.core.exceptions import ValidationFailed
from trefpunt.core.money import format_cents
from trefpunt.ledger.funded import Work

from ..models import Contract, Milestone, limit
from ..rules import MAX_AMOUNT_CENTS


def text_clean(
    errors: dict[str, str],
    model: type[Model],
    name: str,
    value: Any,
    *,
    required: bool = True,
) -> str:
    text = str(value or "").strip()
    most = limit(model, name)
    if required and not text:
        errors[name] = _("This field is required.")
    elif most and len(text) > most:
        errors[name] = _("At most %(n)d characters.") % {"n": most}
    return text


def int_clean(
    errors: dict[str, str], name: str, value: Any, low: int, high: int = MAX_AMOUNT_CENTS
) -> int:
    if isinstance(value, bool):
        errors[name] = _("Enter a whole number.")
        return low
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[name] = _("Enter a whole number.")
        return low
    if not low <= number <= high:
        errors[name] = _("Between %(low)d and %(high)d.") % {"low": low, "high": high}
    return number


def money_clean(
    errors: dict[str, str],
    name: str,
    value: Any,
    low: int,
    high: int = MAX_AMOUNT_CENTS,
    *,
    currency: str = "EUR",
) -> int:
    """An amount in cents; out of range, the message names the bounds as money (people
    type euros: "between 100 and 100000000" read as a limit in euros)."""
    cents = int_clean(errors, name, value, low, high)
    if name in errors and isinstance(value, int | str) and str(value).lstrip("-").isdigit():
        errors[name] = _("Between %(low)s and %(high)s.") % {
            "low": format_cents(low, currency),
            "high": format_cents(high, currency),
        }
    return cents


def raise_if(errors: Mapping[str, str]) -> None:
    if errors:
        raise ValidationFailed(fields=dict(errors))


def milestone_work(milestone: Milestone, contract: Contract | None = None) -> Work:
    """What the ledger knows of a milestone: its escrow and who pays for it."""
    contract = contract or milestone.contract
    return Work(
        reference=f"milestone:{milestone.pk}",
        currency=contract.currency,
        poster_id=contract.client_id,
        organisation_id=contract.organisation_id,
    )


def client_people(contract: Contract) -> list[int]:
    """Who acts for the client: the poster, or the organisation's owners and admins."""
    if contract.organisation_id is None:
        return [contract.client_id]
    return list(
        Membership.objects.filter(
            organisation_id=contract.organisation_id,
            role__in=[Role.OWNER, Role.ADMIN],
            user__is_active=True,
        ).values_list("user_id", flat=True)
    )


def tell(
    users: Iterable[int], kind: str, *, path: str, skip: int | None = None, **context: Any
) -> None:
    """Notify ``users`` (minus ``skip``, the person who acted)."""
    notify(users=[u for u in users if u != skip], kind=kind, context=dict(context), path=path)
