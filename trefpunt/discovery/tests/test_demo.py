"""Search on the demo data, as a visitor would try it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from trefpunt.discovery.models import SearchDocument
from trefpunt.discovery.selectors import SearchQuery, search

pytestmark = pytest.mark.django_db


def test_demo_data_is_found_by_organisation_skill_instructions_and_stems() -> None:
    call_command("demo", stdout=io.StringIO())
    indexed = set(SearchDocument.objects.values_list("kind", "object_id", "title"))
    call_command("search_reindex", stdout=io.StringIO())
    # The demo went through the services: the index was already current.
    assert set(SearchDocument.objects.values_list("kind", "object_id", "title")) == indexed

    bakery = search(SearchQuery(q="bakkerij", kind="contest"))
    assert bakery.total >= 1
    assert all(h.by and "Bakkerij" in h.by.name for h in bakery.hits)
    people = search(SearchQuery(q="illustration", kind="person"))
    assert people.total >= 1
    assert search(SearchQuery(kind="batch")).total >= 1
    batch = search(SearchQuery(kind="batch")).hits[0]
    from trefpunt.microtasks.models import Batch

    word = next(w for w in Batch.objects.get(pk=batch.object_id).instructions.split() if len(w) > 6)
    assert batch.object_id in {h.object_id for h in search(SearchQuery(q=word, kind="batch")).hits}
    assert search(SearchQuery(q="logo")).total >= 1
