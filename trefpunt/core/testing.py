"""Helpers for tests that need real concurrency (used with ``transactional_db``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection


def run_concurrently(fn: Callable[[int], Any], workers: int = 2, timeout: float = 60) -> list[Any]:
    """Run ``fn(i)`` in ``workers`` threads released together by a barrier.

    Each thread has its own database connection (and so its own transaction).
    Returns each call's result, or the exception it raised, in order.
    """
    barrier = threading.Barrier(workers, timeout=timeout)

    def run(i: int) -> Any:
        try:
            barrier.wait()
            return fn(i)
        except Exception as exc:  # the caller asserts on it
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers), timeout=timeout))
