"""Generated pictures for the demo: avatars and portfolio work, made with Pillow at load time."""

from __future__ import annotations

import colorsys
import hashlib
import io
import math

from PIL import Image, ImageDraw, ImageFont


def _hue(seed: str) -> float:
    return int(hashlib.sha256(seed.encode()).hexdigest()[:6], 16) / 0xFFFFFF


def _rgb(h: float, lightness: float, saturation: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, lightness, saturation)
    return int(r * 255), int(g * 255), int(b * 255)


def _gradient(
    size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]
) -> Image.Image:
    """A diagonal two-colour gradient (cheap: a 2×2 image scaled up smoothly)."""
    mid = tuple((a + b) // 2 for a, b in zip(top, bottom, strict=True))
    small = Image.new("RGB", (2, 2))
    small.putdata([top, mid, mid, bottom])
    return small.resize(size, Image.Resampling.BILINEAR)


def avatar_png(name: str) -> bytes:
    """A 512 px coloured gradient circle with the person's initials."""
    from ..templatetags.accounts import initials

    hue = _hue(name)
    size = 512
    canvas = Image.new("RGB", (size, size), _rgb(hue, 0.96, 0.4))
    disc = _gradient((size, size), _rgb(hue, 0.62, 0.55), _rgb(hue + 0.08, 0.38, 0.6))
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).ellipse((16, 16, size - 16, size - 16), fill=255)
    canvas.paste(disc, (0, 0), mask)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=200)
    draw.text((size / 2, size / 2), initials(name), font=font, fill="white", anchor="mm")
    out = io.BytesIO()
    canvas.save(out, format="PNG", compress_level=1)  # fast: the upload re-encodes it
    return out.getvalue()


def artwork_png(seed: str, width: int = 960, height: int = 720) -> bytes:
    """An abstract composition (gradient, circles, bands) standing in for a piece of work."""
    hue = _hue(seed)
    image = _gradient((width, height), _rgb(hue, 0.85, 0.5), _rgb(hue + 0.5, 0.55, 0.45))
    draw = ImageDraw.Draw(image, "RGBA")
    digest = hashlib.sha256(seed.encode()).digest()
    for i in range(6):
        x = digest[i] / 255 * width
        y = digest[i + 6] / 255 * height
        r = 40 + digest[i + 12] / 255 * 160
        colour = (*_rgb(hue + i * 0.13, 0.5, 0.65), 150)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    for i in range(3):
        y = height * (0.25 + i * 0.2)
        wave = [(x, y + 30 * math.sin(x / 80 + i)) for x in range(0, width + 20, 20)]
        draw.line(wave, fill=(255, 255, 255, 170), width=8)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()
