"""Run the web server, the task worker and the scheduler together (what ``make run`` starts).

The worker is a child process; stopping the server (Ctrl-C) stops it too.
In production run them separately: a WSGI server and ``trefpunt db_worker``.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Start the web server and the background task worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = subprocess.Popen([sys.executable, "-m", "trefpunt", "db_worker", "--no-reload"])
        self.stdout.write(f"Task worker started (pid {worker.pid}).")
        try:
            call_command(
                "runserver",
                f"{options['host']}:{options['port']}",
                use_reloader=False,
                use_threading=True,
            )
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
