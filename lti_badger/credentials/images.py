"""Badge images: uploaded PNG and SVG files are checked and sanitised before we store them,
and badge images are generated from a few accessible templates (shape, icon, palette colour,
short text) as SVG and PNG from one geometry.

Why: badge images end up inside credentials, on public pages and in LMS iframes. An SVG is a
document that can run script, load remote resources or expand entities until the parser
dies; a PNG can declare gigantic dimensions in a few bytes (decompression bomb). So:
- PNG: size and dimension limits checked from the header before decoding, then decoded and
  re-encoded (dropping every ancillary chunk: text, EXIF, ICC profiles, APNG frames).
- SVG: cleaned by the allow-list in `svg.py` (elements, attributes, CSS properties read after
  CSS unescaping); anything that could run or fetch refuses the file with the reason, editor
  metadata and unknown elements are dropped, the result is re-serialised from the parsed tree.
No Flask here: the web layer passes the uploaded bytes in."""

from __future__ import annotations

import base64
import io
import math
import re
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from ..errors import BadInput, PayloadTooLarge
from .svg import MAX_SVG_ELEMENTS, SVG_NS, clean_svg

PNG = "image/png"
SVG = "image/svg+xml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

MAX_UPLOAD_BYTES = 1024 * 1024
MAX_DIMENSION = 2048
MIN_DIMENSION = 16

__all__ = ["MAX_SVG_ELEMENTS", "PNG", "PNG_MAGIC", "SVG", "BadgeImage", "sanitise_upload", "sanitise_png", "sanitise_svg",
           "generate_svg", "generate_png", "TEMPLATES", "ICONS", "PALETTE", "Design", "design", "art", "preview_svg",
           "contrast"]


@dataclass(frozen=True)
class BadgeImage:
    media_type: str
    data: bytes

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


def sanitise_upload(data: bytes, filename: str | None = None) -> BadgeImage:
    """Sniff the bytes (never trust the name or the browser's type) and sanitise them."""
    if not data:
        raise BadInput("the image file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the image is larger than {MAX_UPLOAD_BYTES // 1024} KiB")
    if data.startswith(PNG_MAGIC):
        return sanitise_png(data)
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype")):
        return sanitise_svg(data)
    raise BadInput("the image must be a PNG or an SVG file", detail={"filename": filename or ""})


def sanitise_png(data: bytes) -> BadgeImage:
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the image is larger than {MAX_UPLOAD_BYTES // 1024} KiB")
    if not data.startswith(PNG_MAGIC):
        raise BadInput("this is not a PNG file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as im:
                # Only the header has been read so far: refuse before decoding any pixels.
                width, height = im.size
                if width > MAX_DIMENSION or height > MAX_DIMENSION:
                    raise BadInput(f"the image is {width}×{height} pixels; the limit is {MAX_DIMENSION}×{MAX_DIMENSION}")
                if width < MIN_DIMENSION or height < MIN_DIMENSION:
                    raise BadInput(f"the image is {width}×{height} pixels; it must be at least {MIN_DIMENSION}×{MIN_DIMENSION}")
                im.load()
                clean = im.convert("RGBA")
    except BadInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise BadInput("the PNG declares more pixels than it is safe to decode") from e
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise BadInput(f"the PNG file is damaged or not a PNG: {e}") from e
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return BadgeImage(PNG, out.getvalue())


def sanitise_svg(data: bytes) -> BadgeImage:
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the image is larger than {MAX_UPLOAD_BYTES // 1024} KiB")
    return BadgeImage(SVG, clean_svg(data))


# --- generated images -------------------------------------------------------------------
# One geometry drives the server's SVG, the server's PNG (Pillow) and the designer's live
# preview (app.js builds the same SVG from `art()`): shapes and icons are circles and polygons
# only, which all three draw alike. Icons live in a 100×100 box placed by `_layout`.

TEMPLATES = ("circle", "shield", "hexagon", "ribbon")
ICONS = ("none", "star", "check", "book", "cap", "trophy", "bulb", "heart")
# Colours a teacher picks from: each carries white or black text at WCAG AA (4.5:1) and its
# darker edge stands out from a white page (3:1). Other #rrggbb colours stay accepted from
# code (older badges), the designer offers these.
PALETTE = {"#0a4f8f": "blue", "#00695c": "teal", "#2e7d32": "green", "#6a1b9a": "purple",
           "#b3261e": "red", "#ad1457": "pink", "#8a4b00": "brown", "#37474f": "slate", "#f2c94c": "gold"}
DEFAULT_COLOUR = "#0a4f8f"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_TEXT = 24
FONT_FAMILY = "Arial, Helvetica, sans-serif"
EDGE_WIDTH = 8
WRAP = 12


def _circle(cx: float, cy: float, r: float, paint: str, outline: bool = False) -> dict:
    return {"el": "circle", "cx": cx, "cy": cy, "r": r, "paint": paint, "outline": outline}


def _polygon(points, paint: str, outline: bool = False) -> dict:
    return {"el": "polygon", "points": [[round(x, 1), round(y, 1)] for x, y in points], "paint": paint,
            "outline": outline}


def _bezier(p0, p1, p2, p3, steps: int = 8) -> list[tuple[float, float]]:
    return [tuple((1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t ** 2 * c + t ** 3 * d
                  for a, b, c, d in zip(p0, p1, p2, p3))
            for t in (i / steps for i in range(1, steps + 1))]


def _star(cx: float, cy: float, outer: float, inner: float) -> list[tuple[float, float]]:
    return [(cx + (outer if i % 2 == 0 else inner) * math.sin(i * math.pi / 5),
             cy - (outer if i % 2 == 0 else inner) * math.cos(i * math.pi / 5)) for i in range(10)]


_SHIELD = [(128, 8), (232, 44), (232, 124), *_bezier((232, 124), (232, 184), (188, 228), (128, 248)),
           *_bezier((128, 248), (68, 228), (24, 184), (24, 124)), (24, 44)]
SHAPES = {
    "circle": [_circle(128, 128, 120, "fill", True)],
    "shield": [_polygon(_SHIELD, "fill", True)],
    "hexagon": [_polygon([(128, 8), (232, 68), (232, 188), (128, 248), (24, 188), (24, 68)], "fill", True)],
    "ribbon": [_polygon([(84, 170), (60, 250), (100, 228), (124, 252), (128, 180)], "edge"),
               _polygon([(172, 170), (196, 250), (156, 228), (132, 252), (128, 180)], "edge"),
               _circle(128, 104, 96, "fill", True)],
}
ICON_SHAPES = {
    "none": [],
    "star": [_polygon(_star(50, 54, 48, 20), "ink")],
    "check": [_polygon([(8, 52), (24, 36), (40, 52), (78, 14), (94, 30), (40, 84)], "ink")],
    "book": [_polygon([(4, 18), (46, 26), (46, 88), (4, 80)], "ink"),
             _polygon([(54, 26), (96, 18), (96, 80), (54, 88)], "ink")],
    "cap": [_polygon([(50, 14), (98, 36), (50, 58), (2, 36)], "ink"),
            _polygon([(24, 50), (50, 62), (76, 50), (76, 74), (50, 86), (24, 74)], "ink"),
            _polygon([(88, 40), (92, 40), (92, 78), (88, 78)], "ink")],
    "trophy": [_polygon([(18, 6), (82, 6), (78, 38), (58, 58), (56, 72), (70, 80), (70, 94), (30, 94), (30, 80),
                         (44, 72), (42, 58), (22, 38)], "ink"),
               _polygon([(4, 12), (18, 12), (20, 22), (12, 22), (16, 34), (10, 34), (4, 20)], "ink"),
               _polygon([(96, 12), (82, 12), (80, 22), (88, 22), (84, 34), (90, 34), (96, 20)], "ink")],
    "bulb": [_circle(50, 38, 32, "ink"), _polygon([(32, 60), (68, 60), (64, 80), (36, 80)], "ink"),
             _polygon([(38, 84), (62, 84), (58, 96), (42, 96)], "ink")],
    "heart": [_circle(30, 34, 24, "ink"), _circle(70, 34, 24, "ink"),
              _polygon([(8, 44), (92, 44), (50, 92)], "ink")],
}


def art() -> dict:
    """What the designer's live preview needs to draw exactly what the server will render."""
    return {"shapes": SHAPES, "icons": ICON_SHAPES, "edgeWidth": EDGE_WIDTH, "font": FONT_FAMILY,
            "wrap": WRAP, "maxText": MAX_TEXT,
            "colours": {c: {"edge": _darker(c), "ink": _text_colour(c)} for c in PALETTE}}


@dataclass(frozen=True)
class Design:
    """Validated parameters of a generated image."""
    template: str
    colour: str
    lines: tuple[str, ...]
    icon: str

    def as_details(self) -> dict:
        return {"template": self.template, "colour": self.colour, "text": " ".join(self.lines), "icon": self.icon}


def design(template: str, colour: str, text: str, icon: str = "none", *, palette_only: bool = False) -> Design:
    """Check the parameters (BadInput naming the wrong one); `palette_only` is the designer's rule."""
    if template not in TEMPLATES:
        raise BadInput(f"unknown image template {template!r}; choose one of {', '.join(TEMPLATES)}")
    icon = icon or "none"
    if icon not in ICONS:
        raise BadInput(f"unknown image icon {icon!r}; choose one of {', '.join(ICONS)}")
    colour = (colour or "").strip().lower()
    if not _COLOUR.match(colour):
        raise BadInput("the colour must look like #1a2b3c")
    if palette_only and colour not in PALETTE:
        raise BadInput(f"choose one of the colours offered ({', '.join(PALETTE)})")
    text = " ".join((text or "").split())
    if not text and icon == "none":
        raise BadInput("the image needs a short text (for example the badge's initials) or an icon")
    if len(text) > MAX_TEXT:
        raise BadInput(f"the image text is longer than {MAX_TEXT} characters")
    return Design(template, colour, tuple(_wrap(text, WRAP)) if text else (), icon)


def _wrap(text: str, width: int) -> list[str]:
    """One line if it fits `width`, else the two-line split whose longer line is shortest (no
    word is cut, nothing is dropped). app.js mirrors this."""
    words = text.split()
    if len(text) <= width or len(words) == 1:
        return [text]
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    return list(min(splits, key=lambda pair: max(len(pair[0]), len(pair[1]))))


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of #rrggbb."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _text_colour(fill: str) -> str:
    """Black or white, whichever contrasts more with the fill."""
    return "#000000" if contrast(fill, "#000000") >= contrast(fill, "#ffffff") else "#ffffff"


def _darker(colour: str, factor: float = 0.6) -> str:
    return "#" + "".join(f"{int(c * factor):02x}" for c in _rgb(colour))


def _num(x: float) -> str:
    """Numbers as the preview script writes them (String() of a value rounded to 0.01)."""
    return f"{round(x, 2):g}"


def _layout(d: Design) -> tuple[tuple[float, float, float] | None, float, list[float]]:
    """(icon box (left, top, scale of the 100-unit box) or None, font size, each line's baseline).
    app.js mirrors this for the live preview."""
    cy = 104 if d.template == "ribbon" else 128
    longest = max((len(line) for line in d.lines), default=0)
    if d.icon == "none":
        icon, size, centre = None, min(40, 316 // longest), cy
    elif not d.lines:
        return (72, cy - 56, 1.12), 0, []
    else:
        icon, size, centre = (92, cy - 88, 0.72), min(30, 264 // longest), cy + 36
    y0 = centre + size * 0.35 - (len(d.lines) - 1) * size * 0.6
    return icon, size, [y0 + i * size * 1.2 for i in range(len(d.lines))]


def _paint(d: Design, paint: str) -> str:
    return {"fill": d.colour, "edge": _darker(d.colour), "ink": _text_colour(d.colour)}[paint]


def _svg_element(d: Design, item: dict) -> str:
    outline = f' stroke="{_darker(d.colour)}" stroke-width="{EDGE_WIDTH}"' if item["outline"] else ""
    if item["el"] == "circle":
        geometry = f'cx="{_num(item["cx"])}" cy="{_num(item["cy"])}" r="{_num(item["r"])}"'
    else:
        geometry = 'points="' + " ".join(f"{_num(x)},{_num(y)}" for x, y in item["points"]) + '"'
    return f'<{item["el"]} {geometry} fill="{_paint(d, item["paint"])}"{outline}/>'


def _svg(d: Design) -> str:
    icon, size, baselines = _layout(d)
    body = "".join(_svg_element(d, item) for item in SHAPES[d.template])
    if icon is not None:
        x, y, scale = icon
        body += (f'<g transform="translate({_num(x)} {_num(y)}) scale({_num(scale)})">'
                 + "".join(_svg_element(d, item) for item in ICON_SHAPES[d.icon]) + "</g>")
    body += "".join(
        f'<text x="128" y="{_num(y)}" text-anchor="middle" font-family="{FONT_FAMILY}" font-weight="700" '
        f'font-size="{_num(size)}" fill="{_text_colour(d.colour)}">{_xml_escape(line)}</text>'
        for line, y in zip(d.lines, baselines))
    title = _xml_escape(" ".join(d.lines) or d.icon)
    return (f'<svg xmlns="{SVG_NS}" width="256" height="256" viewBox="0 0 256 256" role="img">'
            f"<title>{title}</title>{body}</svg>")


def preview_svg(d: Design) -> str:
    """The SVG element alone, to show inline in the designer before the script takes over."""
    return _svg(d)


def generate_svg(template: str, colour: str, text: str, icon: str = "none") -> BadgeImage:
    """A 256×256 badge: the template's shape in `colour`, an optional icon, up to two lines of text."""
    svg = _svg(design(template, colour, text, icon))
    return BadgeImage(SVG, ('<?xml version="1.0" encoding="UTF-8"?>\n' + svg).encode("utf-8"))


def generate_png(template: str, colour: str, text: str, icon: str = "none") -> BadgeImage:
    """The same badge drawn with Pillow (supersampled twice, then reduced), for PNG baking
    and for places that cannot show SVG."""
    from PIL import ImageDraw, ImageFont

    d = design(template, colour, text, icon)
    scale = 2
    im = Image.new("RGBA", (256 * scale, 256 * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)

    def draw_items(items: list[dict], x0: float = 0, y0: float = 0, k: float = 1) -> None:
        for item in items:
            fill = _rgb(_paint(d, item["paint"]))
            outline = dict(outline=_rgb(_darker(d.colour)), width=EDGE_WIDTH * scale) if item["outline"] else {}
            if item["el"] == "circle":
                cx, cy, r = (x0 + item["cx"] * k) * scale, (y0 + item["cy"] * k) * scale, item["r"] * k * scale
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill, **outline)
            else:
                draw.polygon([((x0 + x * k) * scale, (y0 + y * k) * scale) for x, y in item["points"]],
                             fill=fill, **outline)

    draw_items(SHAPES[d.template])
    icon, size, baselines = _layout(d)
    if icon is not None:
        draw_items(ICON_SHAPES[d.icon], *icon)
    if d.lines:
        font = ImageFont.load_default(size=size * scale)
        ink = _rgb(_text_colour(d.colour))
        for line, y in zip(d.lines, baselines):
            draw.text((128 * scale, y * scale), line, fill=ink, font=font, anchor="ms")
    im = im.resize((256, 256), Image.LANCZOS)
    out = io.BytesIO()
    im.save(out, format="PNG", optimize=True)
    return BadgeImage(PNG, out.getvalue())


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
