"""The API's input rules and error documentation, in one place for every mode.

Every request shape (JSON body, query, form) derives from ``InSchema``, which gives each text
field an upper length and refuses, in any text or number it holds (nested lists and objects
included), what no database should receive: NUL characters and unpaired surrogates (SQLite
cannot encode them, PostgreSQL refuses NUL) and numbers beyond what a 64-bit column or a
JavaScript client holds. ``ApiParser`` does the same for query strings and form fields that
are not read through a schema. Refusals are 422 ``invalid`` naming the field.

``ApiDocument`` declares, for every operation, the error responses it can give, all with the
one error shape (``ErrorOut``), so that clients can see them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar, get_args

from django.conf import settings
from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext
from ninja import NinjaAPI, Schema
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation
from ninja.parser import Parser
from ninja.types import DictStrAny
from pydantic import (
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from .exceptions import ApplicationError, ErrorCode, TooLarge
from .text import FORBIDDEN_CHARACTER, NUMBER_TOO_LARGE, text_problem, value_problem

F = TypeVar("F", bound=Callable[..., Any])

# Any text field without a tighter limit of its own (the longest ones, a brief's description
# and a batch's instructions, hold 20,000 characters).
TEXT_MAX_LENGTH = 20_000
# Page numbers and offsets of list endpoints.
PAGE_MAX = 100_000
OFFSET_MAX = 1_000_000


def _error(kind: str) -> PydanticCustomError:
    # The English text is a fallback; the API answers with ``error_message``'s translation.
    if kind == FORBIDDEN_CHARACTER:
        return PydanticCustomError(kind, "Text may not contain NUL or unpaired surrogates.")
    return PydanticCustomError(kind, "The number is too large.")


class OutSchema(Schema):
    """Base of response shapes that endpoints fill from plain dicts: a dict is validated as
    it is, without ninja's ``DjangoGetter`` around it (a Python call per field, about a
    third of a list endpoint's CPU time). Anything else (a model instance, or a dict when
    the schema has ``resolve_…`` methods) goes through ninja as before. So a dict must hold
    the values themselves: no manager, queryset, callable or file (``DjangoGetter`` would
    have turned those into a list, a call's result or a URL; pydantic refuses them)."""

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if type(values) is dict and not cls._ninja_resolvers:
            return handler(values)
        return super()._run_root_validator(values, handler, info)  # type: ignore[operator]


class InSchema(Schema):
    """Base of every request shape: text has a maximum length and holds only characters a
    database stores; numbers are finite and bounded (see the module docstring)."""

    model_config = ConfigDict(str_max_length=TEXT_MAX_LENGTH)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        """``true`` is not a number: pydantic's lax mode would read it as 1."""
        if isinstance(value, bool) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            if bool not in _types(annotation) and {int, float} & _types(annotation):
                raise PydanticCustomError("int_type", "Input should be a valid number")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        problem = value_problem(value)
        if problem is not None:
            raise _error(problem)
        return value


def _types(annotation: Any) -> set[Any]:
    """The plain types an annotation admits (``int | None`` → {int, NoneType})."""
    args = get_args(annotation)
    if not args:
        return {annotation}
    return {t for arg in args for t in _types(arg)}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


class ApiParser(Parser):
    """JSON without ``NaN``/``Infinity``; query strings and form fields refused (422, per
    field) when they hold NUL characters or more than ``TEXT_MAX_LENGTH`` characters,
    whatever model reads them (a plain ``Form[str]`` parameter has no ``InSchema``)."""

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        data = json.loads(request.body, parse_constant=_reject_constant)
        if not isinstance(data, dict):
            # Every request body is a JSON object; ``null`` would read as "all defaults".
            raise ValueError("the request body must be a JSON object")
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> DictStrAny:
        result = super().parse_querydict(data, list_fields, request)
        errors: list[InitErrorDetails] = []
        for key, value in result.items():
            values = value if isinstance(value, list) else [value]
            texts = [
                t for t in [key, *(getattr(v, "name", v) for v in values)] if isinstance(t, str)
            ]
            if any(text_problem(t) for t in texts):
                errors.append(
                    InitErrorDetails(type=_error(FORBIDDEN_CHARACTER), loc=(key,), input=value)
                )
            elif any(len(t) > TEXT_MAX_LENGTH for t in texts):
                errors.append(
                    InitErrorDetails(
                        type="string_too_long",
                        loc=(key,),
                        input=value,
                        ctx={"max_length": TEXT_MAX_LENGTH},
                    )
                )
        if errors:
            raise ValidationError.from_exception_data("request", errors)
        return result


def request_too_large() -> TooLarge:
    return TooLarge(
        gettext("The request is too large: at most %(mb)d MB, and at most %(n)d fields.")
        % {
            "mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024),
            "n": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        }
    )


# --- the one error shape, and error messages people can read -------------------------------


class ErrorDetail(Schema):
    code: ErrorCode = Field(description="Stable machine code; react to this, not the message.")
    message: str = Field(description="A sentence for people, in the request's language.")
    fields: dict[str, list[str]] = Field(
        default_factory=dict, description="Messages per input field (dotted path for nesting)."
    )


class ErrorOut(Schema):
    """Every error the API answers with."""

    error: ErrorDetail


def error_message(error: DictStrAny) -> str:
    """A translated sentence for one pydantic validation error (its English text otherwise)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    messages: dict[str, Any] = {
        "missing": lambda: gettext("This field is required."),
        FORBIDDEN_CHARACTER: lambda: gettext(
            "Remove the NUL character or unpaired surrogate: text must be valid Unicode."
        ),
        "string_unicode": lambda: gettext(
            "Remove the NUL character or unpaired surrogate: text must be valid Unicode."
        ),
        NUMBER_TOO_LARGE: lambda: gettext("This number is too large."),
        "string_too_long": lambda: gettext("At most %(n)s characters.") % {"n": ctx["max_length"]},
        "string_too_short": lambda: (
            gettext("At least %(n)s characters.") % {"n": ctx["min_length"]}
        ),
        "too_long": lambda: gettext("At most %(n)s items.") % {"n": ctx["max_length"]},
        "too_short": lambda: gettext("At least %(n)s items.") % {"n": ctx["min_length"]},
        "less_than_equal": lambda: gettext("At most %(n)s.") % {"n": ctx["le"]},
        "less_than": lambda: gettext("Less than %(n)s.") % {"n": ctx["lt"]},
        "greater_than_equal": lambda: gettext("At least %(n)s.") % {"n": ctx["ge"]},
        "greater_than": lambda: gettext("More than %(n)s.") % {"n": ctx["gt"]},
        "int_parsing": lambda: gettext("Enter a whole number."),
        "int_type": lambda: gettext("Enter a whole number."),
        "int_from_float": lambda: gettext("Enter a whole number."),
        "float_parsing": lambda: gettext("Enter a number."),
        "float_type": lambda: gettext("Enter a number."),
        "bool_parsing": lambda: gettext("Enter true or false."),
        "bool_type": lambda: gettext("Enter true or false."),
        "string_type": lambda: gettext("Enter text."),
        "literal_error": lambda: (
            gettext("Choose one of: %(choices)s.") % {"choices": ctx["expected"]}
        ),
        "enum": lambda: gettext("Choose one of: %(choices)s.") % {"choices": ctx["expected"]},
        "list_type": lambda: gettext("Enter a list."),
        "dict_type": lambda: gettext("Enter an object."),
        "model_type": lambda: gettext("Enter an object."),
        "model_attributes_type": lambda: gettext("Enter an object."),
    }
    if kind.startswith("date_"):  # a date field (a datetime's errors start "datetime_")
        return gettext("Enter a date like 2030-01-31.")
    if kind.startswith(("datetime_", "timezone_")):
        return gettext("Enter a date and time, e.g. 2030-01-31T18:00:00+01:00.")
    try:
        return str(messages[kind]()) if kind in messages else str(error.get("msg", ""))
    except KeyError:  # a context value missing from an unusual error
        return str(error.get("msg", ""))


# --- error responses in the OpenAPI document ------------------------------------------------

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_DESCRIPTIONS = {
    400: "`bad_request`: the body is not JSON or the Idempotency-Key header is malformed.",
    401: "`unauthenticated`: missing, unknown or revoked token.",
    403: "`forbidden` or a refusal's own code; `csrf_failed` for a browser session without "
    "its CSRF token.",
    404: "`not_found`: the object does not exist or you may not see it.",
    409: "The object's state does not allow this (a code names the rule), or a request with "
    "the same Idempotency-Key is still running.",
    413: "`too_large`: the request body is larger than the API accepts.",
    422: "`invalid`: input errors per field in `fields`; `idempotency_key_reused`.",
    429: "`rate_limited`: too many requests; retry after the Retry-After header.",
}


_DECLARED = "_api_error_statuses"


def declares(*errors: type[ApplicationError]) -> Callable[[F], F]:
    """Declare in the OpenAPI document error statuses an endpoint's services raise beyond
    those that follow from its inputs (``error_statuses``), e.g. a service's own 429::

        @router.post("/threads/{thread_id}/messages", response=MessageOut)
        @declares(RateLimited)
        def message_create_api(...): ...
    """

    def mark(view: F) -> F:
        setattr(view, _DECLARED, {*getattr(view, _DECLARED, ()), *(e.status for e in errors)})
        return view

    return mark


def error_statuses(operation: Operation) -> list[int]:
    """The error statuses ``operation`` can answer with, by what it takes and how it runs,
    and those its view ``declares``."""
    unsafe = bool(UNSAFE_METHODS & set(operation.methods))
    has_input = bool(operation.models)
    statuses = set(getattr(operation.view_func, _DECLARED, ()))
    if unsafe:
        statuses |= {400, 409, 413, 422}
    if operation.auth_callbacks:
        statuses |= {401, 403}
    if has_input:
        statuses |= {404, 422}
    if operation.throttle_objects:
        statuses.add(429)
    return sorted(statuses)


class _ErrorResponse(Schema):
    response: ErrorOut


class ApiDocument(OpenAPISchema):
    """Ninja's OpenAPI document plus each operation's error responses."""

    def responses(self, operation: Operation) -> dict[int, DictStrAny]:
        result = super().responses(operation)
        schema = self._create_schema_from_model(
            _ErrorResponse,  # type: ignore[type-var]  # a plain Schema, as ninja's own responses
            mode="serialization",
        )[0]
        for status in error_statuses(operation):
            result.setdefault(
                status,
                {
                    "description": _DESCRIPTIONS[status],
                    "content": {self.api.renderer.media_type: {"schema": schema}},
                },
            )
        return result


class DocumentedNinjaAPI(NinjaAPI):
    """A NinjaAPI whose OpenAPI document declares the error responses (``ApiDocument``)."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: DictStrAny | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return ApiDocument(self, path_prefix)


def api_page(qs: Any, number: int, size: int, *, size_max: int = 100) -> tuple[Any, int, int, int]:
    """One page of ``qs`` for a list endpoint: (objects, count, page number, pages). A page
    past the last gives the last (the count is stated, so a client sees where it ends)."""
    from django.core.paginator import Paginator

    paginator = Paginator(qs, max(1, min(size, size_max)))
    page = paginator.get_page(number)
    return page.object_list, paginator.count, page.number, paginator.num_pages
