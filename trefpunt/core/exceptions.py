"""Domain errors. Services raise these; views and the API map them to HTTP in one place.

Every error has a stable machine ``code`` from ``ErrorCode`` (the one list of codes the
platform answers with, declared in the OpenAPI document), a human ``message`` (already
translated when raised inside a request) and optional per-field messages. A refusal of
an action (``Conflict``, ``PermissionDenied``) must name its code: a client program reacts
to the code, never to the English text.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _


class ErrorCode(StrEnum):
    """Every error code the platform answers with. A mode adds the codes it raises here,
    in its own section, so that the API documents one list."""

    # --- generic --------------------------------------------------------------------------
    BAD_REQUEST = "bad_request"
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNAUTHENTICATED = "unauthenticated"
    CSRF_FAILED = "csrf_failed"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    WRONG_STATE = "wrong_state"
    NOT_DUE = "not_due"
    ALREADY_DONE = "already_done"
    ALREADY_REPORTED = "already_reported"
    PRIVATE = "private"
    ESSENTIAL_NOTICE = "essential_notice"
    EDIT_WINDOW_CLOSED = "edit_window_closed"
    # --- idempotency ----------------------------------------------------------------------
    BAD_IDEMPOTENCY_KEY = "bad_idempotency_key"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    # --- accounts and organisations -------------------------------------------------------
    HANDLE_TAKEN = "handle_taken"
    NOT_A_MANAGER = "not_a_manager"
    LAST_OWNER = "last_owner"
    INVITATION_USED = "invitation_used"
    INVITATION_EXPIRED = "invitation_expired"
    INVITATION_FOR_OTHER = "invitation_for_other"
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 - an error code, not a secret
    # --- money ----------------------------------------------------------------------------
    INSUFFICIENT_FUNDS = "insufficient_funds"
    NO_SHORTFALL = "no_shortfall"
    ESCROW_FUNDER_MISMATCH = "escrow_funder_mismatch"
    NO_ESCROW = "no_escrow"
    AMOUNT_MISMATCH = "amount_mismatch"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    PAYOUT_HANDLED = "payout_handled"
    # --- contests -------------------------------------------------------------------------
    OWN_CONTEST = "own_contest"
    OWN_ENTRY = "own_entry"
    ENTRIES_OPEN = "entries_open"
    ENTRIES_CLOSED = "entries_closed"
    ENTRY_LIMIT = "entry_limit"
    HAS_ENTRIES = "has_entries"
    TOO_FEW_ENTRIES = "too_few_entries"
    NO_FINALISTS = "no_finalists"
    FINALISTS_FULL = "finalists_full"
    NOT_PRIVATE = "not_private"
    NO_NDA = "no_nda"
    # --- microtasks -----------------------------------------------------------------------
    OWN_BATCH = "own_batch"
    NOT_DRAFT = "not_draft"
    NO_ITEMS = "no_items"
    BATCH_NOT_OPEN = "batch_not_open"
    BATCH_CLOSED = "batch_closed"
    CAP_REACHED = "cap_reached"
    FAIR_PAY = "fair_pay"
    NOT_QUALIFIED = "not_qualified"
    NO_TEST = "no_test"
    TEST_PASSED = "test_passed"
    TEST_ATTEMPTS_USED = "test_attempts_used"
    TEST_NEEDS_GOLD = "test_needs_gold"
    LEASE_EXPIRED = "lease_expired"
    LEASE_INACTIVE = "lease_inactive"
    LEASE_SKIPPED = "lease_skipped"
    LEASE_USED = "lease_used"
    ALREADY_REVIEWED = "already_reviewed"
    NOT_REJECTED = "not_rejected"
    ALREADY_APPEALED = "already_appealed"
    APPEAL_CLOSED = "appeal_closed"
    NO_APPEAL = "no_appeal"
    # --- ideas ----------------------------------------------------------------------------
    NOT_VERIFIED = "not_verified"
    SUBMISSIONS_CLOSED = "submissions_closed"
    VOTING_CLOSED = "voting_closed"
    OWN_IDEA = "own_idea"
    BUDGET_EXCEEDED = "budget_exceeded"
    IDEA_LOCKED = "idea_locked"
    IDEA_MERGED = "idea_merged"
    MERGE_SAME = "merge_same"
    EDIT_WINDOW_PASSED = "edit_window_passed"
    UNDECIDED_IDEAS = "undecided_ideas"
    REWARDS_USED_UP = "rewards_used_up"
    SAME_STAGE = "same_stage"
    # --- webhooks and privacy -------------------------------------------------------------
    LIMIT_REACHED = "limit_reached"
    OPEN_MONEY = "open_money"
    # --- projects -------------------------------------------------------------------------
    OWN_JOB = "own_job"
    ALREADY_PROPOSED = "already_proposed"
    NOT_FUNDED = "not_funded"
    OWN_OFFER = "own_offer"
    NO_OFFER = "no_offer"
    NOTHING_IN_ESCROW = "nothing_in_escrow"
    # --- moderation -----------------------------------------------------------------------
    OWN_CONTENT = "own_content"
    NOT_MODERATABLE = "not_moderatable"


class ApplicationError(Exception):
    status = 400
    code: ErrorCode = ErrorCode.BAD_REQUEST
    default_message: Any = _("The request could not be processed.")

    def __init__(
        self,
        message: Any = None,
        *,
        code: ErrorCode | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = str(message if message is not None else self.default_message)
        if code is not None:
            self.code = ErrorCode(code)
        self.fields: dict[str, list[str]] = {}
        for name, value in (fields or {}).items():
            values = value if isinstance(value, list | tuple) else [value]
            self.fields[name] = [str(v) for v in values]
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class ValidationFailed(ApplicationError):
    status = 422
    code = ErrorCode.INVALID
    default_message = _("Some fields are not valid.")

    @classmethod
    def from_django(cls, exc: DjangoValidationError) -> ValidationFailed:
        if hasattr(exc, "error_dict"):
            fields = {
                name: [m for e in errs for m in e.messages] for name, errs in exc.error_dict.items()
            }
            if list(fields) == ["__all__"]:
                return cls(fields["__all__"][0])
            return cls(fields=fields)
        return cls(exc.messages[0] if exc.messages else None)


class NotFound(ApplicationError):
    status = 404
    code = ErrorCode.NOT_FOUND
    default_message = _("Not found.")


class TooLarge(ApplicationError):
    status = 413
    code = ErrorCode.TOO_LARGE
    default_message = _("The request is too large.")


class _Refusal(ApplicationError):
    """A refused action: the caller must say which rule refused it (``code``)."""

    def __init__(
        self,
        message: Any = None,
        *,
        code: ErrorCode,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, fields=fields)


class PermissionDenied(_Refusal):
    status = 403
    code = ErrorCode.FORBIDDEN
    default_message = _("You are not allowed to do this.")


class Conflict(_Refusal):
    """The object is not in a state that allows this action."""

    status = 409
    code = ErrorCode.WRONG_STATE
    default_message = _("This action is not possible in the current state.")


class InsufficientFunds(Conflict):
    code = ErrorCode.INSUFFICIENT_FUNDS
    default_message = _("There is not enough money in the account.")

    def __init__(self, message: Any = None, *, fields: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, code=ErrorCode.INSUFFICIENT_FUNDS, fields=fields)


class IdempotencyKeyReused(ApplicationError):
    status = 422
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED
    default_message = _("This Idempotency-Key was already used for a different request.")
