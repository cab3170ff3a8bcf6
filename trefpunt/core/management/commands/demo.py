"""``trefpunt demo``: demo data for every app, idempotently (running it twice adds nothing).

Each app may have a ``demo.py`` with ``load(stdout) -> list[tuple[str, str, str]]``
returning demo logins (role, email, password) to print.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db.models.signals import m2m_changed, post_delete, post_save

from trefpunt.accounts.models import User

DEMO_APPS = ["accounts", "ledger", "contests", "microtasks", "ideas", "projects"]


@contextmanager
def search_index_at_end() -> Iterator[None]:
    """Load without keeping the search index current on every save (hundreds of small
    refreshes), then rebuild it once: the same index (``discovery/tests`` compares the demo's
    kept-current index with a rebuild), in a fraction of the time."""
    try:
        from trefpunt.core.models import Event
        from trefpunt.discovery import indexing, registry
    except ImportError:  # discovery not installed
        yield
        return
    models = set()
    for kind in registry.kinds():
        models.add(kind.model)
        models.update(kind.follows)
    for model in models:
        uid = f"discovery:{model._meta.label}"
        for signal in (post_save, post_delete, m2m_changed):
            signal.disconnect(sender=model, dispatch_uid=uid)
    post_save.disconnect(sender=Event, dispatch_uid="discovery:event")
    try:
        yield
    finally:
        indexing.connect()
    for kind in registry.kinds():
        indexing.index_rebuild(kind)


class Command(BaseCommand):
    help = "Load demo organisations, clients, crowd members and work into the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="only load when the database has no users yet"
        )
        parser.add_argument(
            "--index-at-end",
            action="store_true",
            help="build the search index once after loading instead of on every save (faster)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from trefpunt.accounts.demo import demo_logins

        extra: list[tuple[str, str, str]] = []
        if options["if_empty"] and User.objects.exists():
            self.stdout.write("Demo data already present; nothing loaded.")
        elif options["index_at_end"]:
            with search_index_at_end():
                extra = self._load()
        else:
            extra = self._load()
        # One login per role, read from the data now there; then whatever an app added.
        logins = demo_logins()
        seen = {email for _role, email, _password in logins}
        logins += [login for login in extra if login[1] not in seen]
        if logins:
            self.stdout.write("")
            self.stdout.write(self.style.SUCCESS(f"Demo logins ({settings.SITE_URL}/):"))
            for role, email, password in logins:
                self.stdout.write(f"  {role:<22} {email:<34} {password}")
            self.stdout.write(
                f"Every demo account and what it can show: {settings.SITE_URL}/en/demo/"
            )

    def _load(self) -> list[tuple[str, str, str]]:
        from trefpunt.core.files import quick_encoding

        extra: list[tuple[str, str, str]] = []
        with quick_encoding():  # a few hundred pictures: speed over the smallest files
            for app in DEMO_APPS:
                try:
                    module = importlib.import_module(f"trefpunt.{app}.demo")
                except ModuleNotFoundError:
                    continue
                extra += module.load(self.stdout) or []
        return extra
