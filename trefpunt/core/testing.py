"""Helpers for tests: real concurrency (used with ``transactional_db``) and logging in
through the browser."""

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


def log_in(page: Any, user: Any, lang: str = "en") -> None:
    """Log ``user`` in through the login form in a Playwright ``page``, as a person does,
    and wait until the form has let them in (the browser left the login page; where it
    lands depends on the page size and the next address)."""
    import re

    from playwright.sync_api import expect

    from trefpunt.accounts.tests.factories import PASSWORD

    page.goto(f"/{lang}/accounts/login/")
    page.locator("main form input[name=login]").fill(user.email)
    page.locator("main form input[name=password]").fill(PASSWORD)
    page.locator("main form input[name=password]").press("Enter")
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
