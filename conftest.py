"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os

import pytest

from trefpunt.accounts.tests.factories import UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API + live_server


@pytest.fixture(autouse=True)
def _default_language():  # type: ignore[no-untyped-def]
    """Each test starts in English: a request to /nl/… leaves Dutch active in the thread."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def _empty_cache():  # type: ignore[no-untyped-def]
    """Each test starts with an empty cache: counters kept there (rate limits) are keyed by
    ids that the next test's rows may reuse."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _quick_image_encoding(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Uploaded pictures are encoded with the least effort, as the demo loader does: the
    effort changes file sizes, not what the tests check, and was a sixth of the contest
    tests' time. Tests of the encoding itself are marked ``full_encoding``."""
    from trefpunt.core.files import quick_encoding

    if request.node.get_closest_marker("full_encoding"):
        yield
        return
    with quick_encoding():
        yield


@pytest.fixture
def user(db):  # type: ignore[no-untyped-def]
    return UserFactory()


@pytest.fixture
def staff_user(db):  # type: ignore[no-untyped-def]
    return UserFactory(is_staff=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="race test: needs PostgreSQL row locks (set DATABASE_URL)")
    for item in items:
        if "race" in item.keywords:
            item.add_marker(skip)


CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium keeps calling home and this machine's closed network refuses it.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Debian's Chromium driven by Playwright (``make test`` installs it when missing)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


# Stories run on a wide desktop, where every header link is in view; the layout tests try
# laptop (1280 px: the wallet moves into the user menu) and phone widths themselves.
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
def page(browser, live_server):  # type: ignore[no-untyped-def]
    """A fresh browser tab (own cookies) pointed at the live server."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport=DESKTOP)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


@pytest.fixture
def new_page(browser, live_server):  # type: ignore[no-untyped-def]
    """A factory of further independent tabs (a second user in the same test)."""
    contexts = []

    def make():  # type: ignore[no-untyped-def]
        context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport=DESKTOP)
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        return tab

    yield make
    for context in contexts:
        context.close()
