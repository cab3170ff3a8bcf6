"""Uploaded files of every mode (contest entries and briefs, idea and project attachments):
checked by content, size-limited, images re-encoded.

* The type is decided by the first bytes of the file (magic numbers), never by its
  name or the browser's content type: PNG, JPEG, WebP, PDF and ZIP are accepted.
* The size the upload reports (Django streams large uploads to a temporary file)
  is checked against ``settings.MAX_UPLOAD_BYTES`` before any content is read, so
  a 200 MB upload is refused without reading it into memory.
* Images are decoded (bounded pixel count against decompression bombs) and
  re-encoded, which drops EXIF/XMP metadata (GPS positions, camera serials) and
  anything hidden after the image data. From the clean image we make a small
  clean thumbnail and a mid-size clean preview (entrant and client: pages show
  these, the full original is only a download), and a small and a mid-size
  downscaled, watermarked preview (everyone else).
"""

from __future__ import annotations

import functools
import io
import secrets
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont, ImageOps

from trefpunt.core.exceptions import ValidationFailed

from .originality import dhash, phash

MAX_PIXELS = 40_000_000
THUMB_SIDE = 480
PREVIEW_SIDE = 1200
WATERMARK_TEXT = "Trefpunt preview"

# kind, content type, extension
_PNG = ("image", "image/png", "png")
_JPEG = ("image", "image/jpeg", "jpg")
_WEBP = ("image", "image/webp", "webp")
_PDF = ("pdf", "application/pdf", "pdf")
_ZIP = ("zip", "application/zip", "zip")
_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


def sniff(head: bytes) -> tuple[str, str, str] | None:
    """``(kind, content_type, extension)`` from the first bytes of a file, or ``None``."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _PNG
    if head.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _WEBP
    if head.startswith(b"%PDF-"):
        return _PDF
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _ZIP
    return None


def _mb(n: int) -> int:
    return max(1, n // (1024 * 1024))


def upload_size(upload: Any) -> int:
    """The size an upload reports, without reading it (``-1`` when unknown)."""
    size = getattr(upload, "size", None)
    if size is None:
        try:
            pos = upload.tell()
            upload.seek(0, io.SEEK_END)
            size = upload.tell()
            upload.seek(pos)
        except (AttributeError, OSError):
            return -1
    return int(size)


@dataclass
class Derived:
    """A file ready to store: bytes and metadata; nothing is saved yet."""

    kind: str
    content_type: str
    extension: str
    original_name: str
    content: bytes
    size: int
    width: int = 0
    height: int = 0
    thumb: bytes = b""
    thumb_public: bytes = b""
    preview: bytes = b""
    preview_clean: bytes = b""
    phash: int | None = None
    dhash: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def name(self, suffix: str = "", extension: str | None = None) -> str:
        """A random, unguessable storage name."""
        return f"{secrets.token_hex(16)}{suffix}.{extension or self.extension}"


def _original_name(upload: Any) -> str:
    name = str(getattr(upload, "name", "") or "file").replace("\\", "/").split("/")[-1]
    return name[:200] or "file"


def file_check(upload: Any, *, field: str, max_bytes: int | None = None) -> tuple[str, str, str]:
    """Check the size and the magic bytes of an upload; return its type or raise
    ``ValidationFailed`` naming ``field`` and the file."""
    limit = settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    name = _original_name(upload)
    size = upload_size(upload)
    if size > limit:
        raise ValidationFailed(
            fields={
                field: _("%(name)s is too large: at most %(mb)d MB per file.")
                % {"name": name, "mb": _mb(limit)}
            }
        )
    if size == 0:
        raise ValidationFailed(fields={field: _("%(name)s is empty.") % {"name": name}})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    found = sniff(head)
    if found is None:
        raise ValidationFailed(
            fields={
                field: _(
                    "%(name)s is not a PNG, JPEG, WebP, PDF or ZIP file (we check the content, "
                    "not the name)."
                )
                % {"name": name}
            }
        )
    return found


def _read_limited(upload: Any, limit: int) -> bytes:
    """Read at most ``limit`` bytes; a file that turns out longer than it reported is refused."""
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed(_("The file is larger than it claims to be."))
    return data


def _image_decode(data: bytes, fmt: str, *, field: str, name: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format != fmt:
                raise ValueError(image.format)
            if image.width * image.height > MAX_PIXELS:
                raise ValueError("too many pixels")
            image.load()
    except (
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise ValidationFailed(
            fields={field: _("%(name)s is not an image we can read.") % {"name": name}}
        ) from None
    return ImageOps.exif_transpose(image) or image


# Encoder effort. Uploads get the smallest files; ``quick_encoding`` (the demo loader) trades
# size for speed: a first ``make run`` encodes a few hundred demo pictures.
_EFFORT: dict[str, Any] = {"png": {"optimize": True}, "webp": {"method": 4}}


@contextmanager
def quick_encoding() -> Iterator[None]:
    """Within the block, PNG and WebP are encoded with the least effort (larger files)."""
    saved = dict(_EFFORT)
    _EFFORT.update(png={"compress_level": 1}, webp={"method": 0})
    try:
        yield
    finally:
        _EFFORT.update(saved)


def _encode(image: Image.Image, fmt: str) -> bytes:
    """Encode without any metadata (no exif, no icc, no text chunks)."""
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, format="JPEG", quality=92, optimize=True)
    elif fmt == "PNG":
        mode = image.mode if image.mode in {"RGB", "RGBA", "L", "LA", "P"} else "RGBA"
        image.convert(mode).save(out, format="PNG", **_EFFORT["png"])
    else:
        mode = "RGBA" if image.mode in {"RGBA", "LA", "P"} else "RGB"
        image.convert(mode).save(out, format="WEBP", quality=90, **_EFFORT["webp"])
    return out.getvalue()


def _webp(image: Image.Image, max_side: int) -> bytes:
    copy = image.convert("RGB")
    copy.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="WEBP", quality=82, **_EFFORT["webp"])
    return out.getvalue()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def watermark(image: Image.Image, max_side: int, text: str = WATERMARK_TEXT) -> bytes:
    """Downscale to ``max_side`` and lay a diagonal, repeated, semi-transparent text over it."""
    base = image.convert("RGBA")
    base.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    layer = _watermark_layer(base.size, text)
    marked = Image.alpha_composite(base, layer).convert("RGB")
    out = io.BytesIO()
    marked.save(out, format="WEBP", quality=78, **_EFFORT["webp"])
    return out.getvalue()


@functools.lru_cache(maxsize=8)
def _watermark_layer(size: tuple[int, int], text: str) -> Image.Image:
    """The text layer for one image size, kept for the next image of that size: rotating it is
    most of a watermark's cost, and uploads tend to share a few sizes. Callers must not
    change the image they get."""
    w, h = size
    font_size = max(12, min(w, h) // 12)
    font = _font(font_size)
    # Draw the text on a larger canvas, rotate it, then crop it to the image: the
    # rows then run diagonally across the whole picture without gaps at the corners.
    side = int((w**2 + h**2) ** 0.5) + int(font_size) * 2
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    step_x = int(right - left) + font_size * 2
    step_y = int(bottom - top) + font_size * 2
    for row, y in enumerate(range(0, side, step_y)):
        offset = (row % 2) * step_x // 2
        for x in range(-step_x + offset, side, step_x):
            draw.text((x + 1, y + 1), text, font=font, fill=(0, 0, 0, 70))
            draw.text((x, y), text, font=font, fill=(255, 255, 255, 110))
    layer = layer.rotate(30, resample=Image.Resampling.BICUBIC)
    cx, cy = (side - w) // 2, (side - h) // 2
    return layer.crop((cx, cy, cx + w, cy + h))


def file_prepare(
    upload: Any,
    *,
    field: str = "files",
    kinds: frozenset[str] = frozenset({"image", "pdf", "zip"}),
    derive: bool = True,
) -> Derived:
    """Check and process one upload; return the bytes to store. Raises ``ValidationFailed``
    naming ``field`` for a file too large, of another type than allowed, or unreadable."""
    kind, content_type, extension = file_check(upload, field=field)
    name = _original_name(upload)
    if kind not in kinds:
        raise ValidationFailed(
            fields={field: _("%(name)s: this kind of file is not accepted here.") % {"name": name}}
        )
    data = _read_limited(upload, settings.MAX_UPLOAD_BYTES)
    if kind == "zip":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            raise ValidationFailed(
                fields={field: _("%(name)s is not a ZIP archive we can open.") % {"name": name}}
            ) from None
        return Derived(kind, content_type, extension, name, data, len(data))
    if kind == "pdf":
        if b"%%EOF" not in data[-2048:]:
            raise ValidationFailed(
                fields={field: _("%(name)s is not a complete PDF file.") % {"name": name}}
            )
        return Derived(kind, content_type, extension, name, data, len(data))
    fmt = _PIL_FORMATS[content_type]
    image = _image_decode(data, fmt, field=field, name=name)
    clean = _encode(image, fmt)
    derived = Derived(
        kind,
        content_type,
        extension,
        name,
        clean,
        len(clean),
        width=image.width,
        height=image.height,
    )
    if derive:
        derived.thumb = _webp(image, THUMB_SIDE)
        derived.thumb_public = watermark(image, THUMB_SIDE)
        derived.preview = watermark(image, PREVIEW_SIDE)
        derived.preview_clean = _webp(image, PREVIEW_SIDE)
        derived.phash = phash(image)
        derived.dhash = dhash(image)
    return derived


def file_open(field_file: Any) -> IO[bytes]:
    """Open a stored file for streaming."""
    return field_file.storage.open(field_file.name, "rb")  # type: ignore[no-any-return,unused-ignore]
