"""Logos for the demo's contest entries, drawn with Pillow at load time.

Each entry gets a logo a designer might hand in: a mark (a wheat ear, a rising sun, a loaf, a
shop front or a monogram), framed in a disc, shield or tile or left bare, with the entry's
name as a wordmark, laid out beside, under or around the mark and presented on a board with
a tinted band or disc. The layout and colours follow the seed. :class:`LogoSet` makes sure no
two of a load's logos look like copies of each other to the originality check, so the only
copy the demo's judges see is the one it plants on purpose.
"""

from __future__ import annotations

import colorsys
import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from trefpunt.core.originality import dhash, is_near_duplicate, phash

Colour = tuple[int, int, int]
SIZE = (960, 720)
TAGLINE = "BAKERY · SINCE 1987"


def _rgb(hue: float, lightness: float, saturation: float) -> Colour:
    r, g, b = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return int(r * 255), int(g * 255), int(b * 255)


def _font(size: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, int(size)))


def _wheat(image: Image.Image, cx: float, cy: float, r: float, colour: Colour) -> None:
    """A wheat ear: a stem with pairs of grains up it."""
    draw = ImageDraw.Draw(image)
    draw.line([(cx, cy + r), (cx, cy - r)], fill=colour, width=max(4, int(r / 14)))
    gw, gh = r * 0.22, r * 0.12
    for i in range(5):
        y = cy + r * 0.45 - i * r * 0.3
        for side in (-1, 1):
            grain = Image.new("L", (int(gw * 2) + 2, int(gh * 2) + 2), 0)
            ImageDraw.Draw(grain).ellipse([0, 0, gw * 2, gh * 2], fill=255)
            grain = grain.rotate(side * -35, expand=True)
            x = cx + side * gw * 0.75
            image.paste(colour, (int(x - grain.width / 2), int(y - grain.height / 2)), grain)
    draw.ellipse([cx - r * 0.1, cy - r * 1.05, cx + r * 0.1, cy - r * 0.75], fill=colour)


def _sun(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, colour: Colour) -> None:
    """A sun rising over a horizon line."""
    width = max(4, int(r / 12))
    box = [cx - r * 0.55, cy - r * 0.35, cx + r * 0.55, cy + r * 0.75]
    draw.pieslice(box, 180, 360, fill=colour)
    for k in range(7):
        angle = math.pi + k * math.pi / 6
        inner, outer = r * 0.7, r * 0.95
        start = (cx + math.cos(angle) * inner, cy + 0.2 * r + math.sin(angle) * inner)
        end = (cx + math.cos(angle) * outer, cy + 0.2 * r + math.sin(angle) * outer)
        draw.line([start, end], fill=colour, width=width)
    draw.line(
        [(cx - r * 0.9, cy + r * 0.25), (cx + r * 0.9, cy + r * 0.25)], fill=colour, width=width
    )


def _loaf(
    draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, colour: Colour, cut: Colour
) -> None:
    """A loaf with three scores across its crust."""
    box = [cx - r * 0.85, cy - r * 0.45, cx + r * 0.85, cy + r * 0.45]
    draw.rounded_rectangle(box, radius=int(r * 0.42), fill=colour)
    for k in (-1, 0, 1):
        x = cx + k * r * 0.38
        score = [(x - r * 0.12, cy + r * 0.2), (x + r * 0.12, cy - r * 0.2)]
        draw.line(score, fill=cut, width=max(4, int(r / 12)))


def _shop(
    draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, colour: Colour, cut: Colour
) -> None:
    """A shop front: a roof over a wall with a door."""
    draw.polygon([(cx - r * 0.8, cy), (cx, cy - r * 0.8), (cx + r * 0.8, cy)], fill=colour)
    draw.rectangle([cx - r * 0.6, cy, cx + r * 0.6, cy + r * 0.75], fill=colour)
    draw.rectangle([cx - r * 0.15, cy + r * 0.3, cx + r * 0.15, cy + r * 0.75], fill=cut)


def _board(draw: ImageDraw.ImageDraw, rnd: random.Random, tint: Colour) -> None:
    """The presentation board behind the logo: a tinted band or a large disc, placed by seed,
    so that two logos do not share their light and dark areas."""
    w, h = SIZE
    cut_x, cut_y = int(w * rnd.uniform(0.25, 0.6)), int(h * rnd.uniform(0.25, 0.6))
    board = rnd.choice(["left", "right", "top", "bottom", "disc", "diagonal"])
    if board == "disc":
        x, y, radius = rnd.randint(0, w), rnd.randint(0, h), rnd.randint(h // 3, h)
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=tint)
    elif board == "diagonal":
        draw.polygon([(0, 0), (cut_x * 2, 0), (0, cut_y * 2)], fill=tint)
    else:
        boxes = {
            "left": [0, 0, cut_x, h],
            "right": [cut_x, 0, w, h],
            "top": [0, 0, w, cut_y],
            "bottom": [0, cut_y, w, h],
        }
        draw.rectangle(boxes[board], fill=tint)


def _frame(
    draw: ImageDraw.ImageDraw,
    frame: str,
    cx: float,
    cy: float,
    r: float,
    ink: Colour,
    paper: Colour,
) -> None:
    box = [cx - r, cy - r, cx + r, cy + r]
    if frame == "circle":
        draw.ellipse(box, fill=ink)
        ring = [cx - r * 0.88, cy - r * 0.88, cx + r * 0.88, cy + r * 0.88]
        draw.ellipse(ring, outline=paper, width=max(3, int(r / 25)))
    elif frame == "shield":
        points = [
            (cx - r, cy - r),
            (cx + r, cy - r),
            (cx + r, cy + r * 0.1),
            (cx, cy + r * 1.1),
            (cx - r, cy + r * 0.1),
        ]
        draw.polygon(points, fill=ink)
    else:
        draw.rounded_rectangle(box, radius=int(r * 0.25), fill=ink)


def _mark(
    image: Image.Image,
    mark: str,
    name: str,
    at: tuple[float, float, float],
    colours: tuple[Colour, Colour],
) -> None:
    cx, cy, r = at
    colour, cut = colours
    draw = ImageDraw.Draw(image)
    if mark == "wheat":
        _wheat(image, cx, cy, r, colour)
    elif mark == "sun":
        _sun(draw, cx, cy, r, colour)
    elif mark == "loaf":
        _loaf(draw, cx, cy, r, colour, cut)
    elif mark == "shop":
        _shop(draw, cx, cy, r, colour, cut)
    else:
        draw.text((cx, cy), name[:1].upper(), font=_font(r * 1.6), fill=colour, anchor="mm")


def _wordmark(
    draw: ImageDraw.ImageDraw, layout: str, words: str, ink: Colour, accent: Colour
) -> None:
    w, h = SIZE
    if layout == "beside":
        draw.text((w * 0.44, h * 0.46), words, font=_font(h * 0.11), fill=ink, anchor="lm")
        draw.text((w * 0.445, h * 0.57), TAGLINE, font=_font(h * 0.045), fill=accent, anchor="lm")
    elif layout == "under":
        draw.text((w / 2, h * 0.72), words, font=_font(h * 0.1), fill=ink, anchor="mm")
        draw.line([(w * 0.38, h * 0.82), (w * 0.62, h * 0.82)], fill=accent, width=6)
    else:
        draw.text((w / 2, h * 0.93), words, font=_font(h * 0.07), fill=ink, anchor="mm")


def logo_png(seed: int, name: str) -> bytes:
    """A logo named ``name`` on a presentation board, as a PNG; the same seed, the same logo."""
    rnd = random.Random(seed)
    w, h = SIZE
    hue = rnd.random()
    dark = rnd.random() < 0.3
    paper = _rgb(hue, 0.16, 0.35) if dark else _rgb(hue + 0.5, 0.95, 0.35)
    ink = _rgb(hue + 0.08, 0.8, 0.6) if dark else _rgb(hue, 0.38, 0.7)
    accent = _rgb(hue + rnd.choice([0.1, 0.45, 0.55]), 0.55, 0.75)
    image = Image.new("RGB", SIZE, paper)
    draw = ImageDraw.Draw(image)
    _board(draw, rnd, _rgb(hue + rnd.choice([0.0, 0.5]), 0.85 if dark else 0.3, 0.5))
    layout = rnd.choice(["beside", "under", "around"])
    mark = rnd.choice(["wheat", "sun", "loaf", "shop", "letter"])
    frame = rnd.choice(["circle", "shield", "tile", "none"])
    words = name.upper() if rnd.random() < 0.5 else name
    cx, cy, r = {
        "beside": (w * 0.24, h / 2, h * 0.2),
        "under": (w / 2, h * 0.36, h * 0.19),
        "around": (w / 2, h / 2, h * 0.36),
    }[layout]
    colours = (accent, paper)
    if frame != "none":
        _frame(draw, frame, cx, cy, r, ink, paper)
        colours = (paper, ink)
    _mark(image, mark, name, (cx, cy, r * (0.55 if layout == "around" else 0.62)), colours)
    _wordmark(draw, layout, words, ink, accent)
    out = io.BytesIO()
    image.filter(ImageFilter.SMOOTH).save(out, format="PNG", compress_level=1)
    return out.getvalue()


class LogoSet:
    """The logos of one demo load: each new one is drawn again with the next seed while the
    originality check would take it for a copy of one drawn before."""

    TRIES = 20

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.hashes: list[tuple[int, int]] = []

    def new(self, name: str) -> bytes:
        for _try in range(self.TRIES):
            self.seed += 1
            png = logo_png(self.seed, name)
            with Image.open(io.BytesIO(png)) as image:
                p, d = phash(image), dhash(image)
            if all(is_near_duplicate(p, d, q, e) is None for q, e in self.hashes):
                break
        self.hashes.append((p, d))
        return png
