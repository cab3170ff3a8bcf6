"""Property: every text field of every write operation survives hostile text.

The fields are discovered from the OpenAPI document (JSON bodies, nested lists and free-form
objects included, multipart form fields and text path parameters), so a new endpoint is
covered without touching this file. Each field gets lone surrogates, NUL characters, a
megabyte of text and mixed scripts, inside an otherwise plausible request from the test
world. Never a 5xx; a refusal changes no row; text no database can store or longer than the
field's stated limit is refused with 422 naming the field (404 for a path).
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from trefpunt.api import api
from trefpunt.contests.tests.factories import image_bytes, structured_image
from trefpunt.core.api_schema import TEXT_MAX_LENGTH
from trefpunt.core.text import text_problem
from trefpunt.microtasks.tests.factories import SENTIMENT_FORM, TEXT_DISPLAY

from .api_world import World, build_world, row_counts

pytestmark = pytest.mark.django_db

# Generated strings per field, on top of the four fixed ones below.
GENERATED_PER_FIELD = 4
SURROGATE = "a\ud800b"
NUL = "a\x00b"
MEGABYTE = "Ωx" * 524_288  # a megabyte of text: 1,048,576 characters
MIXED = "Café Ωμέγα Привет 中文 العربية עברית हिन्दी 🙂 e\u0301 \u200f!"
UNSAFE = {"post", "put", "patch", "delete"}

# Bodies that pass validation, so that the field under test reaches the service and the
# database; operations not named here get a body built from their schema's required fields.
GOOD_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/v1/contests"): {
        "title": "Name our cargo bike",
        "summary": "A short, friendly name.",
        "category": "naming",
        "prizes": [20000],
        "entry_deadline": "{deadline}",
    },
    ("post", "/api/v1/batches"): {
        "title": "Sentiment",
        "form": SENTIMENT_FORM,
        "display": TEXT_DISPLAY,
        "reward": 15,
    },
    ("put", "/api/v1/batches/{batch_id}"): {
        "title": "Sentiment",
        "form": SENTIMENT_FORM,
        "display": TEXT_DISPLAY,
        "reward": 15,
    },
    ("post", "/api/v1/wallet/payouts"): {
        "amount": 1000,
        "iban": "NL91ABNA0417164300",
        "account_holder": "A. Person",
    },
    ("post", "/api/v1/wallet/deposits"): {"amount": 2500},
    ("post", "/api/v1/entries/{entry_id}/decline"): {"reason": "Not quite what we need."},
    ("post", "/api/v1/entries/{entry_id}/report"): {"reason": "Copied from a stock site."},
    ("post", "/api/v1/answers/{answer_id}/reject"): {"reason": "Not what the item says."},
    ("post", "/api/v1/answers/{answer_id}/appeal"): {"message": "I read it twice, it is right."},
    ("post", "/api/v1/answers/{answer_id}/uphold"): {"note": "The review says otherwise."},
    ("post", "/api/v1/leases/{lease_id}/answer"): {"answer": {"sentiment": "pos"}},
    ("post", "/api/v1/contests/{contest_id}/entries"): {
        "title": "An entry",
        "originality_declared": "true",
    },
}


@dataclass(frozen=True)
class Slot:
    """One text field of one write operation."""

    method: str
    path: str
    where: str  # "json", "multipart" or "path"
    field: tuple[str | int, ...]
    max_length: int | None

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.where}:{'.'.join(map(str, self.field))}"


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _text_fields(
    document: dict[str, Any], schema: dict[str, Any], at: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], int | None]]:
    """Where text can go in a JSON value of ``schema``: (path, stated maximum length)."""
    schema = _resolve(document, schema)
    if "anyOf" in schema:
        return [f for option in schema["anyOf"] for f in _text_fields(document, option, at)]
    kind = schema.get("type")
    if kind == "string" and schema.get("format") not in {"binary", "date-time"}:
        return [(at, schema.get("maxLength"))]
    if kind == "array":
        return _text_fields(document, schema.get("items", {}), (*at, 0))
    if kind != "object":
        return []
    found = []
    for name, sub in schema.get("properties", {}).items():
        found += _text_fields(document, sub, (*at, name))
    extra = schema.get("additionalProperties")
    if extra is True or (isinstance(extra, dict) and extra.get("type") in {None, "string"}):
        found.append(((*at, "free"), None))  # a free-form object: text as a value
    return found


@functools.cache
def _document() -> dict[str, Any]:
    return dict(api.get_openapi_schema())


@functools.cache
def _png() -> bytes:
    return image_bytes(structured_image(3, (64, 64)))


def discover_slots() -> list[Slot]:
    document = _document()
    slots = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method not in UNSAFE:
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["schema"].get("type") == "string":
                    slots.append(Slot(method, path, "path", (parameter["name"],), None))
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                where = "multipart" if media == "multipart/form-data" else "json"
                for field, limit in _text_fields(document, content["schema"]):
                    slots.append(Slot(method, path, where, field, limit))
    return slots


SLOTS = discover_slots()


def _placeholder(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A plausible value for a required field the test does not care about."""
    schema = _resolve(document, schema)
    if "anyOf" in schema:
        return _placeholder(document, schema["anyOf"][0])
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "string":
        if schema.get("format") == "date-time":
            return (timezone.now() + timedelta(days=5)).isoformat()
        return "Plain text"
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return 0.5
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    return {
        name: _placeholder(document, sub)
        for name, sub in schema.get("properties", {}).items()
        if name in schema.get("required", [])
    }


def _baseline(slot: Slot) -> dict[str, Any]:
    good = GOOD_BODIES.get((slot.method, slot.path))
    if good is not None:
        body = json.loads(json.dumps(good))
        if body.get("entry_deadline") == "{deadline}":
            body["entry_deadline"] = (timezone.now() + timedelta(days=5)).isoformat()
        return body
    document = _document()
    operation = document["paths"][slot.path][slot.method]
    content = operation.get("requestBody", {}).get("content", {})
    schema = next(iter(content.values()))["schema"] if content else {}
    value = _placeholder(document, schema) if schema else {}
    return value if isinstance(value, dict) else {}


def _put(body: Any, field: tuple[str | int, ...], text: str) -> Any:
    """``body`` with ``text`` at ``field`` (lists and objects made on the way)."""
    if not field:
        return text
    head, rest = field[0], field[1:]
    if isinstance(head, int):
        items = list(body) if isinstance(body, list) and body else [{}]
        items[0] = _put(items[0], rest, text)
        return items
    container = dict(body) if isinstance(body, dict) else {}
    container[head] = _put(container.get(head), rest, text)
    return container


def _multipart(fields: dict[str, Any], boundary: str) -> bytes:
    """Form fields as a browser would send them, lone surrogates as their raw UTF-8 bytes
    (Django's test client cannot encode those)."""
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + str(value).encode("utf-8", "surrogatepass")
            + b"\r\n"
        )
    png = _png()
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n".encode()
        + png
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def send(slot: Slot, world: World, params: dict[str, Any], text: str) -> Any:
    client = Client()
    values = {**params}
    if slot.where == "path":
        values[str(slot.field[0])] = text
    url = slot.path
    for name, value in values.items():
        url = url.replace("{" + name + "}", quote(str(value), safe="", errors="surrogatepass"))
    if slot.where == "multipart":
        boundary = uuid.uuid4().hex
        body = _multipart(_put(_baseline(slot), slot.field, text), boundary)
        return client.generic(
            slot.method.upper(),
            url,
            body,
            content_type=f"multipart/form-data; boundary={boundary}",
            headers=world.headers,
        )
    data = _baseline(slot) if slot.where == "path" else _put(_baseline(slot), slot.field, text)
    return client.generic(
        slot.method.upper(),
        url,
        json.dumps(data),
        content_type="application/json",
        headers=world.headers,
    )


def _must_refuse(slot: Slot, text: str) -> bool:
    """Text the field may never take: not storable, or longer than its stated limit (a
    free-form object's services keep only the keys they know, so no limit is stated)."""
    if slot.where == "path":
        return "\x00" in text
    storable = not text_problem(text) if slot.where == "json" else "\x00" not in text
    if slot.field[-1] == "free":
        return not storable
    return not storable or len(text) > (slot.max_length or TEXT_MAX_LENGTH)


hostile_text = st.one_of(
    st.tuples(
        st.text(max_size=20),
        st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"]),
        st.text(max_size=20),
    ).map("".join),
    st.text(min_size=1, max_size=80),  # any valid text, of any script
)


def _check_slot(slot: Slot, world: World, counter: list[int]) -> None:
    combos: list[dict[str, Any]] = [{}]
    for name in [p[1:-1] for p in slot.path.split("/") if p.startswith("{")]:
        combos = [{**c, name: v} for c in combos for v in world.path_values.get(name) or [1]]

    @settings(
        max_examples=GENERATED_PER_FIELD,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @example(text=SURROGATE, choice=0)
    @example(text=NUL, choice=0)
    @example(text=MEGABYTE, choice=0)
    @example(text=MIXED, choice=0)
    @given(text=hostile_text, choice=st.integers(min_value=0, max_value=len(combos) - 1))
    def run(text: str, choice: int) -> None:
        counter[0] += 1
        before = row_counts()
        response = send(slot, world, combos[choice], text)
        assert response.status_code < 500, (str(slot), response.content[:300])
        if response.status_code >= 400:
            assert row_counts() == before, str(slot)
        if _must_refuse(slot, text):
            if slot.where == "path":
                assert response.status_code == 404, (str(slot), response.status_code)
            else:
                assert response.status_code == 422, (str(slot), response.content[:300])
                named = response.json()["error"]["fields"]
                top = str(slot.field[0])
                assert any(k == top or k.startswith(top + ".") for k in named), str(slot)

    run()


def test_every_text_field_of_every_write_operation_refuses_what_it_cannot_store(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert len(SLOTS) > 30
    world = build_world()
    counter = [0]
    for slot in SLOTS:
        _check_slot(slot, world, counter)
    operations = {(s.method, s.path) for s in SLOTS}
    with capsys.disabled():
        print(
            f"\nhypothesis: {len(SLOTS)} text fields of {len(operations)} write operations, "
            f"{counter[0]} requests, no 5xx, nothing saved on refusal"
        )
