"""``trefpunt search_reindex``: rebuild the search index from the public things (after loading
data with raw SQL, or on a database that existed before discovery was installed). Normal
changes keep it current by themselves."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from trefpunt.discovery import registry
from trefpunt.discovery.indexing import index_rebuild


class Command(BaseCommand):
    help = "Rebuild the search index of every registered kind."

    def handle(self, *args: Any, **options: Any) -> None:
        for kind in registry.kinds():
            count = index_rebuild(kind)
            self.stdout.write(f"{kind.name}: {count} indexed")
