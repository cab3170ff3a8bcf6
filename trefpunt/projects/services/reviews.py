"""Reviews after a contract ends: each side rates the other (1–5) and writes a review.
Reviews are revealed when both are in, or when the window ends — neither side can answer
the other's review with a retaliation — and are never edited. A late review (after the
window) is refused: it could be written with the other's review in view."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, PermissionDenied

from ..models import Contract, Review
from ..selectors import contract_get_for_user
from ..states import CONTRACT_STATES
from .common import client_people, int_clean, raise_if, tell, text_clean

if TYPE_CHECKING:
    from trefpunt.accounts.models import User


def review_create(*, contract_id: int, user: User, rating: Any, text: str) -> Review:
    access = contract_get_for_user(contract_id=contract_id, user=user)
    if not access.is_party:
        raise PermissionDenied(
            _("Only the two sides of the contract review it."), code=ErrorCode.FORBIDDEN
        )
    contract = access.contract
    if contract.status != Contract.Status.ENDED:
        raise CONTRACT_STATES.wrong_state(contract, _("write a review"))
    window = access.review_window_ends
    if window is not None and timezone.now() >= window:
        raise Conflict(_("The review window has closed."), code=ErrorCode.EDIT_WINDOW_CLOSED)
    errors: dict[str, str] = {}
    stars = int_clean(errors, "rating", rating, 1, 5)
    text = text_clean(errors, Review, "text", text)
    raise_if(errors)
    of_freelancer = not access.is_freelancer
    try:
        with transaction.atomic(durable=True):
            review = Review.objects.create(
                contract=contract,
                author=user,
                subject_id=contract.freelancer_id if of_freelancer else contract.client_id,
                of_freelancer=of_freelancer,
                rating=stars,
                text=text,
            )
            other = client_people(contract) if not of_freelancer else [contract.freelancer_id]
            tell(
                other,
                "projects.review",
                path=contract.get_absolute_url(),
                contract_id=contract.pk,
            )
    except IntegrityError:
        raise Conflict(
            _("Your side has already reviewed this contract."), code=ErrorCode.ALREADY_REVIEWED
        ) from None
    return review
