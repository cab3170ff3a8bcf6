"""``trefpunt demo``: demo data for every app, idempotently (running it twice adds nothing).

Each app may have a ``demo.py`` with ``load(stdout) -> list[tuple[str, str, str]]``
returning demo logins (role, email, password) to print.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from trefpunt.accounts.models import User

DEMO_APPS = ["accounts", "ledger", "contests", "microtasks", "ideas", "projects"]


class Command(BaseCommand):
    help = "Load demo organisations, clients, crowd members and work into the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="only load when the database has no users yet"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        logins: list[tuple[str, str, str]] = []
        if options["if_empty"] and User.objects.exists():
            self.stdout.write("Demo data already present; nothing loaded.")
            from trefpunt.accounts.demo import demo_logins

            logins = demo_logins()
        else:
            for app in DEMO_APPS:
                try:
                    module = importlib.import_module(f"trefpunt.{app}.demo")
                except ModuleNotFoundError:
                    continue
                logins += module.load(self.stdout) or []
        if logins:
            self.stdout.write("")
            self.stdout.write(self.style.SUCCESS(f"Demo logins ({settings.SITE_URL}/):"))
            for role, email, password in logins:
                self.stdout.write(f"  {role:<22} {email:<34} {password}")
