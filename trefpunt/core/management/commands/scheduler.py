import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from trefpunt.core.scheduling import periodic_enqueue_all


class Command(BaseCommand):
    help = "Enqueue the periodic sweeps every --interval seconds (run one per deployment)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=int, default=60)

    def handle(self, *args: Any, **options: Any) -> None:
        interval = max(5, options["interval"])
        self.stdout.write(f"Scheduler: enqueuing sweeps every {interval} s.")
        while True:
            close_old_connections()
            periodic_enqueue_all()
            time.sleep(interval)
