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
        from trefpunt.accounts.demo import demo_logins

        extra: list[tuple[str, str, str]] = []
        if options["if_empty"] and User.objects.exists():
            self.stdout.write("Demo data already present; nothing loaded.")
        else:
            for app in DEMO_APPS:
                try:
                    module = importlib.import_module(f"trefpunt.{app}.demo")
                except ModuleNotFoundError:
                    continue
                extra += module.load(self.stdout) or []
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
