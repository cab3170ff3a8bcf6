"""Schemathesis over the whole OpenAPI document, against the WSGI app, with a token.

Every operation gets a fixed number of generated requests that fit the document (positive)
and that do not (negative), with path parameters naming real objects of the test world so
that requests reach the services. Each answer must be no server error, a status the document
declares for that operation, with a body that fits the declared schema; data that does not
fit must be refused with a 4xx.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from trefpunt.api import api

from .api_world import World, build_world

pytestmark = pytest.mark.django_db

# Generated requests per operation and mode: bounded, so the whole run takes well under two
# minutes on a small machine.
EXAMPLES_PER_OPERATION = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _path_choices(world: World, path: str) -> list[dict[str, Any]]:
    """Every combination of the world's objects for the operation's path parameters."""
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    combos: list[dict[str, Any]] = [{}]
    for name in names:
        values = world.path_values.get(name) or [1]
        combos = [{**combo, name: value} for combo in combos for value in values]
    return combos


def _exercise(operation: Any, world: World, mode: GenerationMode, statuses: Counter[str]) -> None:
    combos = _path_choices(world, operation.path)
    strategy = st.sampled_from(combos).flatmap(
        lambda params: operation.as_strategy(generation_mode=mode, path_parameters=params)
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(headers=world.headers)
        statuses[f"{response.status_code // 100}xx"] += 1
        statuses["requests"] += 1
        case.validate_response(response, checks=CHECKS)

    run()


@pytest.fixture
def wsgi_app() -> Any:
    """Django's WSGI app, keeping the test's database connection open between requests
    (as Django's test client does: the handler would close it after each one)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_schemathesis_whole_document_no_server_error_no_undocumented_status(
    wsgi_app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build_world()
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    schema.app = wsgi_app
    statuses: Counter[str] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    for operation in operations:
        _exercise(operation, world, GenerationMode.POSITIVE, statuses)
        # Path parameters are the world's objects, so only a query or a body can be invalid.
        if operation.body or operation.query:
            _exercise(operation, world, GenerationMode.NEGATIVE, statuses)
    with capsys.disabled():
        print(
            f"\nschemathesis: {len(operations)} operations, {statuses['requests']} requests, "
            f"answers {dict(sorted((k, v) for k, v in statuses.items() if k != 'requests'))}, "
            "0 server errors, 0 undocumented status codes"
        )


def test_ids_past_any_row_name_nothing_not_a_server_error(wsgi_app: Any) -> None:
    """Every id in an address set past PostgreSQL's ``bigint`` (2**64): such an id names no
    object, and a statement that took it as a ``bigint`` parameter answered 500 (a lease's
    answer did, on SQLite and PostgreSQL)."""
    world = build_world()
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    schema.app = wsgi_app
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    names = {
        part[1:-1]
        for operation in operations
        for part in operation.path.split("/")
        if part.startswith("{") and part.endswith("_id}")
    }
    past = World(me=world.me, token=world.token, path_values={n: [2**64] for n in names})
    statuses: Counter[str] = Counter()
    for operation in operations:
        if any(f"{{{name}}}" in operation.path for name in names):
            _exercise(operation, past, GenerationMode.POSITIVE, statuses)
    assert statuses["requests"] and not statuses["5xx"]
