"""Domain errors. Services raise these; views and the API map them to HTTP in one place.

Every error has a stable machine ``code``, a human ``message`` (already
translated when raised inside a request) and optional per-field messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    status = 400
    code = "bad_request"
    default_message: Any = _("The request could not be processed.")

    def __init__(
        self,
        message: Any = None,
        *,
        code: str | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = str(message if message is not None else self.default_message)
        if code:
            self.code = code
        self.fields: dict[str, list[str]] = {}
        for name, value in (fields or {}).items():
            values = value if isinstance(value, list | tuple) else [value]
            self.fields[name] = [str(v) for v in values]
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class ValidationFailed(ApplicationError):
    status = 422
    code = "invalid"
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
    code = "not_found"
    default_message = _("Not found.")


class PermissionDenied(ApplicationError):
    status = 403
    code = "forbidden"
    default_message = _("You are not allowed to do this.")


class Conflict(ApplicationError):
    """The object is not in a state that allows this action."""

    status = 409
    code = "conflict"
    default_message = _("This action is not possible in the current state.")


class InsufficientFunds(Conflict):
    code = "insufficient_funds"
    default_message = _("There is not enough money in the account.")


class IdempotencyKeyReused(ApplicationError):
    status = 422
    code = "idempotency_key_reused"
    default_message = _("This Idempotency-Key was already used for a different request.")
