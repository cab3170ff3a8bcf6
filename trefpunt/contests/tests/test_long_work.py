"""Slow work outside row locks: processing, storing and the originality scan of entries,
revisions and handovers run before any transaction (so before any row lock), and images
that arrive while a scan runs are still compared under the contest lock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from trefpunt.contests.models import Entry, EntryFile, EntryFlag, private_storage
from trefpunt.contests.services import (
    contest_award,
    contest_close_entries,
    entry_revise,
    handover_deliver,
)
from trefpunt.contests.services import entries as entry_services
from trefpunt.contests.services.common import Stored
from trefpunt.core.exceptions import Conflict, ErrorCode

from .factories import (
    enter,
    image_bytes,
    make_user,
    near_copy,
    pdf_bytes,
    png_upload,
    published,
    structured_image,
)

# No test-wide transaction: ``in_atomic_block`` then says whether a service holds one.
pytestmark = pytest.mark.django_db(transaction=True)


def _upload(image: Image.Image, name: str = "x.png", fmt: str = "PNG") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(image, fmt))


def _watch(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Record, for every scan and every file written, whether a transaction was open."""
    seen: list[tuple[str, bool]] = []
    scan = entry_services._originality_scan
    put = Stored.put

    def scan_watched(*args: Any) -> Any:
        seen.append(("scan", connection.in_atomic_block))
        return scan(*args)

    def put_watched(self: Stored, *args: Any) -> None:
        seen.append(("store", connection.in_atomic_block))
        put(self, *args)

    monkeypatch.setattr(entry_services, "_originality_scan", scan_watched)
    monkeypatch.setattr(Stored, "put", put_watched)
    return seen


def test_entry_submit_and_revise_scan_and_store_outside_any_transaction(monkeypatch):
    contest = published(make_user())
    seen = _watch(monkeypatch)
    entry = enter(contest)
    entry_revise(entry_id=entry.pk, user=entry.entrant, files=[png_upload(3)])
    assert {kind for kind, _open in seen} == {"scan", "store"}
    assert [kind for kind, in_transaction in seen if in_transaction] == []
    assert EntryFile.objects.filter(version__entry=entry).count() == 2


def test_handover_deliver_stores_outside_any_transaction(monkeypatch):
    client = make_user()
    contest = published(client)
    winner = enter(contest)
    with time_machine.travel(contest.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=contest.pk)
    contest_award(contest_id=contest.pk, user=client, awards={1: winner.pk})
    seen = _watch(monkeypatch)
    final = SimpleUploadedFile("final.pdf", pdf_bytes(), content_type="application/pdf")
    handover_deliver(entry_id=winner.pk, user=winner.entrant, files=[final])
    assert seen == [("store", False)]


def test_an_entry_refused_under_the_lock_leaves_no_stored_file_behind(monkeypatch):
    contest = published(make_user(), max_entries_per_entrant=1)
    entrant = make_user()
    enter(contest, entrant, seed=1)
    stored: list[str] = []
    put = Stored.put

    def put_watched(self: Stored, *args: Any) -> None:
        put(self, *args)
        stored.append(self.saved[-1].name or "")

    monkeypatch.setattr(Stored, "put", put_watched)
    # The limit is counted under the contest lock, after the files were written.
    with pytest.raises(Conflict) as refused:
        enter(contest, entrant, seed=2)
    assert refused.value.code == ErrorCode.ENTRY_LIMIT
    assert stored
    assert not [name for name in stored if private_storage().exists(name)]
    assert Entry.objects.filter(entrant=entrant).count() == 1


def test_two_near_copies_entered_at_the_same_moment_still_flag_each_other(monkeypatch):
    contest = published(make_user())
    first_user, second_user = make_user(), make_user()
    original = structured_image(77)
    scan = entry_services._originality_scan

    def scan_then_someone_else_enters(prepared: Any, contest_: Any, entrant_id: int) -> Any:
        result = scan(prepared, contest_, entrant_id)
        if entrant_id == first_user.pk:
            # The near-copy arrives after the first scan ran and before the first entry is
            # recorded: it cannot see the first, the first must catch it under the lock.
            enter(contest, second_user, files=[_upload(near_copy(original), "c.jpg", "JPEG")])
        return result

    monkeypatch.setattr(entry_services, "_originality_scan", scan_then_someone_else_enters)
    first = enter(contest, first_user, files=[_upload(original)])
    second = Entry.objects.get(entrant=second_user)
    assert not EntryFlag.objects.filter(entry=second).exists()
    flag = EntryFlag.objects.get(entry=first)
    assert flag.other_entry_id == second.pk
    assert Entry.objects.get(pk=first.pk).is_flagged
