"""Near-duplicate detection with perceptual hashes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from trefpunt.contests.models import EntryFlag
from trefpunt.contests.services import contest_award, contest_close_entries
from trefpunt.core.originality import (
    PHASH_SOFT_THRESHOLD,
    dhash,
    hamming,
    is_near_duplicate,
    phash,
)

from .factories import enter, image_bytes, make_user, near_copy, published, structured_image


def _upload(image: Image.Image, name: str = "x.png", fmt: str = "PNG") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(image, fmt))


def test_hamming_counts_differing_bits_of_signed_hashes():
    assert hamming(0, 0) == 0
    assert hamming(-1, 0) == 64
    assert hamming(0b1011, 0b0001) == 2


def test_phash_of_a_reencoded_resized_cropped_copy_is_near():
    for seed in range(10):
        original = structured_image(seed)
        copy = near_copy(original)
        assert (
            is_near_duplicate(phash(original), dhash(original), phash(copy), dhash(copy))
            is not None
        )


def test_phash_of_different_images_is_far():
    hashes = [(phash(structured_image(s)), dhash(structured_image(s))) for s in range(100, 130)]
    for i, (pa, da) in enumerate(hashes):
        for pb, db in hashes[i + 1 :]:
            assert is_near_duplicate(pa, da, pb, db) is None
            assert hamming(pa, pb) > PHASH_SOFT_THRESHOLD - 4


@pytest.mark.django_db
def test_entry_submit_flags_a_near_duplicate_of_another_entrants_image():
    contest = published(make_user())
    original = structured_image(42)
    first = enter(contest, files=[_upload(original)])
    copy = enter(contest, files=[_upload(near_copy(original), "mine.jpg", "JPEG")])
    different = enter(contest, files=[_upload(structured_image(43))])
    flag = EntryFlag.objects.get(entry=copy)
    assert flag.kind == EntryFlag.Kind.NEAR_DUPLICATE
    assert flag.other_entry == first
    assert flag.distance is not None and flag.distance <= PHASH_SOFT_THRESHOLD
    copy.refresh_from_db()
    different.refresh_from_db()
    first.refresh_from_db()
    assert copy.is_flagged is True
    assert different.is_flagged is False
    assert not EntryFlag.objects.filter(entry=different).exists()
    # The earlier entry is not accused of copying the later one.
    assert first.is_flagged is False


@pytest.mark.django_db
def test_entry_submit_does_not_flag_an_entrants_own_variations():
    contest = published(make_user(), max_entries_per_entrant=2)
    entrant = make_user()
    original = structured_image(7)
    enter(contest, entrant, files=[_upload(original)])
    second = enter(contest, entrant, files=[_upload(near_copy(original), "v2.jpg", "JPEG")])
    assert not EntryFlag.objects.filter(entry=second).exists()


@pytest.mark.django_db
def test_entry_submit_flags_a_copy_of_a_past_winning_entry():
    client = make_user()
    old = published(client)
    original = structured_image(99)
    winner = enter(old, files=[_upload(original)])
    with time_machine.travel(old.entry_deadline + timedelta(minutes=1), tick=False):
        contest_close_entries(contest_id=old.pk)
    contest_award(contest_id=old.pk, user=client, awards={1: winner.pk})
    new = published(make_user())
    copy = enter(new, files=[_upload(near_copy(original, crop=0.02), "c.jpg", "JPEG")])
    flag = EntryFlag.objects.get(entry=copy)
    assert flag.other_entry == winner
