"""Run the web server, the task worker and the scheduler together (what ``make run`` starts).

The worker and the scheduler are child processes; stopping the server (Ctrl-C
or SIGTERM) stops them too. In production run them separately: a WSGI server,
any number of ``trefpunt db_worker`` and one ``trefpunt scheduler``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from trefpunt.core import fresh_schema

CHILDREN = (["db_worker", "--no-reload"], ["scheduler"])


class Command(BaseCommand):
    help = "Start the web server, the background task worker and the scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument(
            "--setup",
            action="store_true",
            help="migrate and load the demo data into an empty database first (make run)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # SIGTERM (e.g. from a process manager) must stop the children too: turn it into
        # SystemExit so the ``finally`` below runs.
        signal.signal(signal.SIGTERM, lambda *_args: sys.exit(0))
        if options["setup"]:
            # In this process rather than as commands of their own: Django starts once. An
            # empty SQLite database gets the current schema in one step (core.fresh_schema).
            fresh_schema.migrate_or_create()
            call_command("demo", if_empty=True, index_at_end=True)
        # The worker and the scheduler start after the migration: they need its tables.
        children = [
            subprocess.Popen([sys.executable, "-m", "trefpunt", *command])  # noqa: S603
            for command in CHILDREN
        ]
        pids = ", ".join(str(child.pid) for child in children)
        self.stdout.write(f"Task worker and scheduler started (pids {pids}).")
        self.stdout.write(
            f"Trefpunt: {settings.SITE_URL}/  ·  API documentation: {settings.SITE_URL}/api/v1/docs"
        )
        try:
            call_command(
                "runserver",
                f"{options['host']}:{options['port']}",
                use_reloader=False,
                use_threading=True,
                # migrate ran them a moment ago (with --setup); a plain start checks once here
                skip_checks=options["setup"],
            )
        finally:
            for child in children:
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
