"""Bad input never reaches the database or a 500 (issue 9, point 7), and the OpenAPI document
declares every error response with the one error shape (point 5).

The first tests are the regressions the issue lists: a lone surrogate or NUL in a contest's
text (500 on create and PATCH), a payout of 2^63 cents, offsets past 2^63, a 6 MB body, and a
403 "CSRF check Failed" where a script without a valid token must get 401.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from trefpunt.accounts.models import User
from trefpunt.accounts.services import api_token_create, api_token_revoke
from trefpunt.api import api
from trefpunt.contests.models import Contest
from trefpunt.contests.tests.factories import deadline, draft, make_user
from trefpunt.core.exceptions import ErrorCode
from trefpunt.core.models import IdempotencyRecord
from trefpunt.ledger.models import Payout
from trefpunt.ledger.services import wallet_for_user
from trefpunt.ledger.tests.factories import fund_wallet

from .api_world import row_counts

pytestmark = pytest.mark.django_db

SURROGATE = "\ud800"
NUL = "\x00"
CONTEST_TEXT_FIELDS = ["title", "summary", "description", "nda_text", "organisation"]


def token_headers(user: User) -> dict[str, str]:
    _token, raw = api_token_create(user=user, name="script")
    return {"Authorization": f"Bearer {raw}"}


def send(method: str, path: str, body: Any = None, **headers: str) -> Any:
    """A request with a JSON body as a script sends it (lone surrogates as \\u escapes)."""
    data = "" if body is None else json.dumps(body)
    return Client().generic(
        method, f"/api/v1{path}", data, content_type="application/json", headers=headers
    )


def brief(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Name our cargo bike",
        "summary": "A short, friendly name.",
        "category": "naming",
        "prizes": [20000],
        "entry_deadline": deadline(4).isoformat(),
        **overrides,
    }


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


# --- text: lone surrogates, NUL, length ----------------------------------------------------


@pytest.mark.parametrize("bad", [SURROGATE, NUL, f"ok{SURROGATE}ok", f"ok{NUL}"])
@pytest.mark.parametrize("field", CONTEST_TEXT_FIELDS)
def test_contest_create_api_refuses_lone_surrogate_and_nul_naming_the_field(
    field: str, bad: str
) -> None:
    headers = token_headers(make_user())
    before = row_counts()
    response = send("POST", "/contests", brief(**{field: bad}), **headers)
    error = error_of(response, 422)
    assert error["code"] == ErrorCode.INVALID
    assert list(error["fields"]) == [field]
    assert row_counts() == before


@pytest.mark.parametrize("bad", [SURROGATE, NUL])
@pytest.mark.parametrize("field", CONTEST_TEXT_FIELDS)
def test_contest_update_api_refuses_lone_surrogate_and_nul(field: str, bad: str) -> None:
    user = make_user()
    contest = draft(user)
    response = send("PATCH", f"/contests/{contest.pk}", {field: bad}, **token_headers(user))
    assert error_of(response, 422)["fields"].keys() == {field}
    contest.refresh_from_db()
    assert contest.title == "A logo for a bakery"


def test_contest_create_api_refuses_a_megabyte_of_text_and_saves_nothing() -> None:
    user = make_user()
    response = send("POST", "/contests", brief(description="x" * 1_000_000), **token_headers(user))
    assert error_of(response, 422)["fields"].keys() == {"description"}
    assert not Contest.objects.exists()


def test_surrogates_nested_in_free_form_json_are_refused_at_their_field() -> None:
    user = make_user()
    body = {
        "title": "Sentiment",
        "form": [{"name": "s", "label": f"Sent{SURROGATE}iment", "type": "text"}],
        "display": [{"column": "text", "widget": "text"}],
        "reward": 10,
    }
    response = send("POST", "/batches", body, **token_headers(user))
    assert error_of(response, 422)["fields"].keys() == {"form"}


def test_nul_in_a_query_string_answers_422_naming_the_parameter() -> None:
    response = send("GET", "/contests?q=bike%00", **token_headers(make_user()))
    assert error_of(response, 422)["fields"].keys() == {"q"}


def test_nul_in_a_path_answers_404_in_the_error_shape() -> None:
    response = send("GET", "/profiles/someone%00", **token_headers(make_user()))
    assert error_of(response, 404)["code"] == ErrorCode.NOT_FOUND


def test_nul_in_a_multipart_form_field_answers_422() -> None:
    user = make_user()
    contest = draft(user)
    response = Client().post(
        f"/api/v1/contests/{contest.pk}/entries",
        {"title": f"Entry{NUL}"},
        headers=token_headers(make_user()),
    )
    assert error_of(response, 422)["fields"].keys() == {"title"}


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\udfff"])
def test_items_upload_api_refuses_json_lines_that_no_database_stores(escape: str) -> None:
    """500 on PostgreSQL (jsonb refuses both), silently stored on SQLite."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from trefpunt.microtasks.models import Item
    from trefpunt.microtasks.tests.factories import BatchFactory

    user = make_user()
    batch = BatchFactory.create(user=user)
    lines = '{"text": "fine"}\n{"text": "a' + escape + 'b"}\n'
    upload = SimpleUploadedFile("items.jsonl", lines.encode(), content_type="application/x-ndjson")
    response = Client().post(
        f"/api/v1/batches/{batch.pk}/items", {"file": upload}, headers=token_headers(user)
    )
    error = error_of(response, 422)
    assert "line 2" in " ".join(error["fields"]["file"])
    assert not Item.objects.filter(batch=batch).exists()


# --- numbers: amounts, pages, offsets ------------------------------------------------------


@pytest.mark.parametrize("amount", [2**63, 10**30, -(2**63) - 1, True])
def test_payout_create_api_refuses_amounts_past_the_bound_with_422(amount: int) -> None:
    user = make_user()
    fund_wallet(wallet_for_user(user=user), user, 50_000)
    body = {"amount": amount, "iban": "NL91ABNA0417164300", "account_holder": "A. Person"}
    response = send("POST", "/wallet/payouts", body, **token_headers(user))
    assert error_of(response, 422)["fields"].keys() == {"amount"}
    assert not Payout.objects.exists()


@pytest.mark.parametrize("path", ["/wallet/transactions", "/wallet/payouts"])
@pytest.mark.parametrize("offset", ["9223372036854775808", str(10**30), "1000001"])
def test_wallet_lists_refuse_offsets_past_the_bound_with_422(path: str, offset: str) -> None:
    response = send("GET", f"{path}?offset={offset}", **token_headers(make_user()))
    assert error_of(response, 422)["fields"].keys() == {"offset"}


@pytest.mark.parametrize(
    "path", ["/contests?page=100001", "/answers?page=100001", "/contests?page_size=101"]
)
def test_page_numbers_and_sizes_past_the_bound_answer_422(path: str) -> None:
    assert error_of(send("GET", path, **token_headers(make_user())), 422)["code"] == "invalid"


def test_not_a_number_and_infinity_in_json_answer_400_not_500() -> None:
    user = make_user()
    for raw in ('{"amount": NaN}', '{"amount": Infinity}', '{"amount": 1e400}'):
        response = Client().post(
            "/api/v1/wallet/deposits",
            raw,
            content_type="application/json",
            headers=token_headers(user),
        )
        assert response.status_code in (400, 422), raw
        assert error_of(response, response.status_code)["code"] in ("bad_request", "invalid")


@pytest.mark.parametrize("body", [b"{not json", b"null", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_a_json_object_answers_400_bad_request(body: bytes) -> None:
    response = Client().post(
        "/api/v1/contests",
        body,
        content_type="application/json",
        headers=token_headers(make_user()),
    )
    assert error_of(response, 400)["code"] == ErrorCode.BAD_REQUEST


# --- oversized bodies ----------------------------------------------------------------------


@pytest.mark.parametrize("idempotency_key", [None, "big-body-1"])
def test_a_six_megabyte_body_answers_413_too_large(idempotency_key: str | None) -> None:
    user = make_user()
    headers = token_headers(user)
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    body = brief(description="x" * (6 * 1024 * 1024))
    before = row_counts()
    response = send("POST", "/contests", body, **headers)
    assert error_of(response, 413)["code"] == ErrorCode.TOO_LARGE
    assert row_counts() == before
    assert not IdempotencyRecord.objects.exists()


def test_a_large_multipart_upload_with_an_idempotency_key_is_fingerprinted_from_its_parts(
    settings: Any,
) -> None:
    """Files stream to disk; the key's fingerprint must not need the whole body in memory."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    user = make_user()
    contest = draft(user)
    upload = {"title": "An entry", "files": _big_file()}
    response = Client().post(
        f"/api/v1/contests/{contest.pk}/entries",
        upload,
        headers={**token_headers(make_user()), "Idempotency-Key": "upload-1"},
    )
    # A draft takes no entries: the request reached the endpoint instead of failing on size.
    assert error_of(response, 404)["code"] == ErrorCode.NOT_FOUND


def _big_file() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("big.txt", b"x" * 4096, content_type="text/plain")


# --- 401 for every unauthenticated write, CSRF for sessions ---------------------------------


def _write_operations() -> list[tuple[str, str]]:
    document = api.get_openapi_schema()
    return [
        (method.upper(), path)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if method in {"post", "put", "patch", "delete"} and operation.get("security")
    ]


WRITE_OPERATIONS = _write_operations()


def _concrete(path: str) -> str:
    return "/".join("1" if part.startswith("{") else part for part in path.split("/"))


@pytest.mark.parametrize("credentials", ["missing", "unknown", "revoked"])
def test_every_unauthenticated_write_answers_401_unauthenticated(credentials: str) -> None:
    headers: dict[str, str] = {}
    if credentials == "unknown":
        headers = {"Authorization": "Bearer tp_not-a-real-token"}
    elif credentials == "revoked":
        user = make_user()
        token, raw = api_token_create(user=user, name="old")
        api_token_revoke(user=user, token_id=token.pk)
        headers = {"Authorization": f"Bearer {raw}"}
    assert len(WRITE_OPERATIONS) > 30
    client = Client(enforce_csrf_checks=True)
    for method, path in WRITE_OPERATIONS:
        response = client.generic(
            method, _concrete(path), "{}", content_type="application/json", headers=headers
        )
        assert error_of(response, 401)["code"] == ErrorCode.UNAUTHENTICATED, (method, path)


def test_a_session_write_without_the_csrf_token_answers_403_csrf_failed() -> None:
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/v1/contests", json.dumps(brief()), content_type="application/json")
    assert error_of(response, 403)["code"] == ErrorCode.CSRF_FAILED
    assert not Contest.objects.exists()


def test_a_session_write_with_the_csrf_token_goes_through() -> None:
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/en/")  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/contests",
        json.dumps(brief()),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201, response.content
    assert Contest.objects.filter(created_by=user).exists()


# --- the OpenAPI document -------------------------------------------------------------------


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_openapi_declares_error_responses_of_every_operation_with_the_one_error_schema() -> None:
    document = api.get_openapi_schema()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            responses = {int(s): r for s, r in operation["responses"].items()}
            errors = {s for s in responses if s >= 400}
            if operation.get("security"):
                assert {401, 403} <= errors, (method, path)
            if method in {"post", "put", "patch", "delete"}:
                assert {400, 409, 413, 422} <= errors, (method, path)
            if operation.get("parameters") or operation.get("requestBody"):
                assert {404, 422} <= errors, (method, path)
            for status in errors:
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path)


def test_openapi_error_codes_are_the_error_code_enum() -> None:
    document = api.get_openapi_schema()
    code = _resolve(
        document, document["components"]["schemas"]["ErrorDetail"]["properties"]["code"]
    )
    assert set(code["enum"]) == {c.value for c in ErrorCode}


def test_openapi_every_text_input_has_a_maximum_length_and_pages_a_maximum() -> None:
    document = api.get_openapi_schema()
    missing = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                missing += [(method, path, name) for name in _unbounded_parameter(parameter)]
            body = operation.get("requestBody", {}).get("content", {})
            for content in body.values():
                missing += [
                    (method, path, name) for name in _unbounded(document, content["schema"])
                ]
    assert missing == []


def _unbounded_parameter(parameter: dict[str, Any]) -> list[str]:
    schema, name = parameter["schema"], parameter["name"]
    text = parameter["in"] == "query" and schema.get("type") == "string"
    if text and "maxLength" not in schema and "enum" not in schema:
        return [name]
    if name in {"page", "page_size", "offset", "limit"} and "maximum" not in schema:
        return [name]
    return []


def _unbounded(document: dict[str, Any], schema: dict[str, Any], prefix: str = "") -> list[str]:
    schema = _resolve(document, schema)
    if "anyOf" in schema:
        return [n for option in schema["anyOf"] for n in _unbounded(document, option, prefix)]
    bounded_formats = {"date-time", "date", "binary"}
    if schema.get("type") == "string" and schema.get("format") not in bounded_formats:
        return [] if "maxLength" in schema or "enum" in schema else [prefix or "body"]
    if schema.get("type") == "array":
        return _unbounded(document, schema.get("items", {}), prefix + "[]")
    names = []
    for name, sub in schema.get("properties", {}).items():
        names += _unbounded(document, sub, f"{prefix}.{name}" if prefix else name)
    return names


def test_openapi_declares_the_errors_a_view_declares_it_raises() -> None:
    """``declares``: a service's own status (the message rate limit) is in the document."""
    document = api.get_openapi_schema()
    responses = document["paths"]["/api/v1/threads/{thread_id}/messages"]["post"]["responses"]
    assert 429 in {int(status) for status in responses}
    assert 429 not in {int(s) for s in document["paths"]["/api/v1/me"]["get"]["responses"]}
