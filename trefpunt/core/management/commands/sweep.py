from typing import Any

from django.core.management.base import BaseCommand

from trefpunt.core.scheduling import periodic_enqueue_all


class Command(BaseCommand):
    help = "Enqueue every periodic sweep once (deadlines, judging ends, auto-approvals)."

    def handle(self, *args: Any, **options: Any) -> None:
        for name in periodic_enqueue_all():
            self.stdout.write(f"enqueued {name}")
