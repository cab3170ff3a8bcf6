"""Migration 0004 copies the contest trail (ContestEvent) into core.Event and back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from .factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("contests", "0003_decline_code_labels")]
AFTER = [("contests", "0004_contest_events_to_core")]


def _migrate(targets: list[tuple[str, str]]) -> Apps:
    """Migrate contests to ``targets``; the models of every app as they are then."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    others = [n for n in executor.loader.graph.leaf_nodes() if n[0] != "contests"]
    return executor.loader.project_state(others + targets).apps


def _model(apps: Apps, label: str) -> Any:
    """A historical model (the model as the migration state has it)."""
    return apps.get_model(label)


@pytest.fixture(autouse=True)
def _back_to_the_newest() -> Iterator[None]:
    """Every app back at its newest migration (not only 0004: the later ones too), so the
    tests after this one find the tables they expect."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_contest_events_move_to_core_events_with_their_time_actor_key_and_data():
    old = _migrate(BEFORE)
    user = make_user()  # accounts keep their newest tables
    contest = _model(old, "contests.Contest").objects.create(
        title="Logo",
        summary="A logo",
        category="logo",
        created_by_id=user.pk,
        entry_deadline=datetime(2030, 1, 1, tzinfo=UTC),
    )
    ContestEvent = _model(old, "contests.ContestEvent")
    published = ContestEvent.objects.create(
        contest_id=contest.pk,
        kind="published",
        actor_id=user.pk,
        idempotency_key="k1",
        data={"funded": 33000},
    )
    when = datetime(2029, 6, 1, 12, tzinfo=UTC)
    ContestEvent.objects.filter(pk=published.pk).update(created_at=when)
    ContestEvent.objects.create(contest_id=contest.pk, kind="judging", data={})

    new = _migrate(AFTER)
    events = list(
        _model(new, "core.Event")
        .objects.filter(subject="contest", subject_id=contest.pk)
        .order_by("pk")
    )
    assert [(e.kind, e.actor_id, e.idempotency_key, e.data) for e in events] == [
        ("published", user.pk, "k1", {"funded": 33000}),
        ("judging", None, "", {}),
    ]
    assert events[0].created_at == when

    back = _migrate(BEFORE)
    restored = _model(back, "contests.ContestEvent").objects.order_by("pk")
    assert [(e.kind, e.idempotency_key, e.created_at) for e in restored] == [
        ("published", "k1", when),
        ("judging", "", events[1].created_at),
    ]
    assert not _model(back, "core.Event").objects.filter(subject="contest").exists()
