"""Enqueue background work only once the transaction that asked for it has committed,
so a worker never sees ids of rows that were rolled back. Tasks take ids and must be
idempotent: an at-least-once queue may run them twice."""

from __future__ import annotations

from typing import Any

from django.db import transaction


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
