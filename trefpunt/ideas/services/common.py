"""Helpers the idea-call services share: text checks against the model's limits, the call's
funded work, access checks that raise, and notices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.db.models import Model
from django.utils.translation import gettext as _

from trefpunt.community.notifications import notify
from trefpunt.core.exceptions import ErrorCode, PermissionDenied, ValidationFailed
from trefpunt.ledger.funded import Work

from ..models import Follow, Idea, IdeaAuthor, IdeaCall, limit

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

MAX_ATTACHMENTS = 5
MAX_TAGS = 20


def text_clean(
    errors: dict[str, str],
    model: type[Model],
    name: str,
    value: Any,
    *,
    required: bool = True,
) -> str:
    """``value`` stripped; records a message in ``errors`` when it is missing or longer than
    the model allows (the one place the limit is defined)."""
    text = str(value or "").strip()
    most = limit(model, name)
    if required and not text:
        errors[name] = _("This field is required.")
    elif most and len(text) > most:
        errors[name] = _("At most %(n)d characters.") % {"n": most}
    return text


def raise_if(errors: Mapping[str, str]) -> None:
    if errors:
        raise ValidationFailed(fields=dict(errors))


def call_work(call: IdeaCall) -> Work:
    """What the ledger knows of the call: its escrow and who pays for it."""
    return Work(
        reference=f"ideacall:{call.pk}",
        currency=call.currency,
        poster_id=call.created_by_id,
        organisation_id=call.organisation_id,
    )


def require_verified(user: User) -> None:
    """One vote per verified account: an unverified address cannot vote."""
    from allauth.account.models import EmailAddress

    if not EmailAddress.objects.filter(user=user, verified=True).exists():
        raise PermissionDenied(
            _("Confirm your email address first: only verified accounts can vote."),
            code=ErrorCode.NOT_VERIFIED,
        )


def idea_followers(idea: Idea) -> list[int]:
    """Who hears about an idea: its credited authors and its followers."""
    credited = IdeaAuthor.objects.filter(idea=idea).values_list("user_id", flat=True)
    following = Follow.objects.filter(idea=idea).values_list("user_id", flat=True)
    return sorted({idea.author_id, *credited, *following})


def tell(
    users: Iterable[int], kind: str, *, idea: Idea, skip: int | None = None, **extra: Any
) -> None:
    """Notify ``users`` (minus ``skip``, the person who acted) about ``idea``."""
    recipients = [u for u in users if u != skip]
    notify(
        users=recipients,
        kind=kind,
        context={"idea_id": idea.pk, **extra},
        path=idea.get_absolute_url(),
    )
