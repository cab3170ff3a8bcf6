"""Image uploads checked by content (Pillow decodes them), size-limited, re-encoded.

Re-encoding drops metadata (EXIF with GPS positions, camera serials) and
anything hidden after the image data.
"""

from __future__ import annotations

import io
import warnings

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from trefpunt.core.exceptions import ValidationFailed

ACCEPTED_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000


def image_open_checked(upload: UploadedFile, *, field: str, max_bytes: int) -> Image.Image:
    """Decode an uploaded image or raise ``ValidationFailed`` naming ``field``."""
    if upload.size is not None and upload.size > max_bytes:
        raise ValidationFailed(
            fields={
                field: _("The file is too large: at most %(mb)d MB.")
                % {"mb": max_bytes // (1024 * 1024)}
            }
        )
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
            if image.format not in ACCEPTED_FORMATS:
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
            fields={field: _("This file is not a PNG, JPEG, WebP or GIF image we can read.")}
        ) from None
    return ImageOps.exif_transpose(image) or image


def image_square(image: Image.Image, size: int) -> ContentFile[bytes]:
    """Centre-crop to a square of ``size`` pixels, encode as WebP without metadata."""
    fitted = ImageOps.fit(image.convert("RGB"), (size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    fitted.save(out, format="WEBP", quality=85)
    return ContentFile(out.getvalue())


def image_bounded(image: Image.Image, max_side: int) -> tuple[ContentFile[bytes], int, int]:
    """Shrink to fit ``max_side`` (never enlarge), encode as WebP without metadata."""
    copy = image.convert("RGBA" if image.mode in {"RGBA", "LA", "P"} else "RGB")
    copy.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="WEBP", quality=85)
    return ContentFile(out.getvalue()), copy.width, copy.height
