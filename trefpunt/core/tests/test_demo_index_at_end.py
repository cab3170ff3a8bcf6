"""``trefpunt demo --index-at-end`` (what ``make run`` uses): the search index is built once
after loading, equals a rebuild, and the hooks keep it current again afterwards."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models.signals import post_save

from trefpunt.discovery.models import SearchDocument

pytestmark = pytest.mark.django_db


def _index() -> set[tuple[str, int, str]]:
    return set(SearchDocument.objects.values_list("kind", "object_id", "title"))


def test_demo_with_the_index_at_the_end_builds_the_same_index() -> None:
    receivers = len(post_save.receivers)
    call_command("demo", index_at_end=True, stdout=io.StringIO())
    indexed = _index()
    assert {kind for kind, _id, _title in indexed} >= {"contest", "person", "batch"}
    call_command("search_reindex", stdout=io.StringIO())
    assert _index() == indexed
    # The per-save hooks are connected again.
    assert len(post_save.receivers) == receivers
    from trefpunt.contests.models import Contest

    contest = Contest.objects.filter(
        pk__in=[i for kind, i, _t in indexed if kind == "contest"]
    ).first()
    assert contest is not None
    contest.title = "Een heel nieuwe titel"
    contest.save()
    assert SearchDocument.objects.get(kind="contest", object_id=contest.pk).title == contest.title


@pytest.mark.full_encoding
def test_quick_encoding_is_undone_after_the_block() -> None:
    from trefpunt.core import files

    before = dict(files._EFFORT)
    with files.quick_encoding():
        assert files._EFFORT["webp"] == {"method": 0}
    assert before == files._EFFORT == {"png": {"optimize": True}, "webp": {"method": 4}}
