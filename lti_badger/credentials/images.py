"""Badge images: uploaded PNG and SVG files are checked and sanitised before we store them,
and simple images can be generated from a few templates with a colour and a short text.

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
           "generate_svg", "generate_png", "TEMPLATES"]


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

TEMPLATES = ("circle", "shield", "hexagon", "ribbon")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_TEXT = 24

_SHAPES = {
    "circle": '<circle cx="128" cy="128" r="120" fill="{fill}" stroke="{edge}" stroke-width="8"/>',
    "shield": '<path d="M128 8 L232 44 V124 C232 184 188 228 128 248 C68 228 24 184 24 124 V44 Z" '
              'fill="{fill}" stroke="{edge}" stroke-width="8"/>',
    "hexagon": '<polygon points="128,8 232,68 232,188 128,248 24,188 24,68" fill="{fill}" stroke="{edge}" stroke-width="8"/>',
    "ribbon": '<path d="M84 170 L60 250 L100 228 L124 252 L128 180 Z M172 170 L196 250 L156 228 L132 252 L128 180 Z" fill="{edge}"/>'
              '<circle cx="128" cy="104" r="96" fill="{fill}" stroke="{edge}" stroke-width="8"/>',
}


def _validate_generation(template: str, colour: str, text: str) -> tuple[str, str, list[str]]:
    if template not in TEMPLATES:
        raise BadInput(f"unknown image template {template!r}; choose one of {', '.join(TEMPLATES)}")
    if not _COLOUR.match(colour or ""):
        raise BadInput("the colour must look like #1a2b3c")
    text = " ".join((text or "").split())
    if not text:
        raise BadInput("the image needs a short text (for example the badge's initials)")
    if len(text) > MAX_TEXT:
        raise BadInput(f"the image text is longer than {MAX_TEXT} characters")
    lines = _wrap(text, 12)
    return template, colour.lower(), lines


def _wrap(text: str, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if len(candidate) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines[:2] if len(lines) <= 2 else [lines[0], " ".join(lines[1:])[:width]]


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _luminance(colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _text_colour(fill: str) -> str:
    """Black or white, whichever contrasts more with the fill (WCAG relative luminance)."""
    lum = _luminance(fill)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def _darker(colour: str, factor: float = 0.6) -> str:
    return "#" + "".join(f"{int(c * factor):02x}" for c in _rgb(colour))


def generate_svg(template: str, colour: str, text: str) -> BadgeImage:
    """A 256×256 badge: the template's shape in `colour`, with up to two lines of text."""
    template, colour, lines = _validate_generation(template, colour, text)
    shape = _SHAPES[template].format(fill=colour, edge=_darker(colour))
    ink = _text_colour(colour)
    size = 40 if max(len(line) for line in lines) <= 6 else 26
    cy = 104 if template == "ribbon" else 128
    y0 = cy + size * 0.35 - (len(lines) - 1) * size * 0.6
    spans = "".join(
        f'<text x="128" y="{y0 + i * size * 1.2:.0f}" text-anchor="middle" font-family="Arial, Helvetica, sans-serif" '
        f'font-weight="700" font-size="{size}" fill="{ink}">{_xml_escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    title = _xml_escape(" ".join(lines))
    svg = (f'<svg xmlns="{SVG_NS}" width="256" height="256" viewBox="0 0 256 256" role="img">'
           f"<title>{title}</title>{shape}{spans}</svg>")
    return BadgeImage(SVG, ('<?xml version="1.0" encoding="UTF-8"?>\n' + svg).encode("utf-8"))


def generate_png(template: str, colour: str, text: str) -> BadgeImage:
    """The same badge drawn with Pillow, for PNG baking and for places that cannot show SVG."""
    from PIL import ImageDraw, ImageFont

    template, colour, lines = _validate_generation(template, colour, text)
    scale = 2
    im = Image.new("RGBA", (256 * scale, 256 * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    fill, edge = _rgb(colour), _rgb(_darker(colour))

    def pts(*xy: float) -> list[tuple[float, float]]:
        return [(xy[i] * scale, xy[i + 1] * scale) for i in range(0, len(xy), 2)]

    if template == "circle":
        draw.ellipse(pts(8, 8, 248, 248), fill=fill, outline=edge, width=8 * scale)
    elif template == "hexagon":
        draw.polygon(pts(128, 8, 232, 68, 232, 188, 128, 248, 24, 188, 24, 68), fill=fill, outline=edge, width=8 * scale)
    elif template == "shield":
        draw.polygon(pts(128, 8, 232, 44, 232, 124, 216, 180, 180, 224, 128, 248, 76, 224, 40, 180, 24, 124, 24, 44),
                     fill=fill, outline=edge, width=8 * scale)
    else:
        draw.polygon(pts(84, 170, 60, 250, 100, 228, 124, 252, 128, 180), fill=edge)
        draw.polygon(pts(172, 170, 196, 250, 156, 228, 132, 252, 128, 180), fill=edge)
        draw.ellipse(pts(32, 8, 224, 200), fill=fill, outline=edge, width=8 * scale)
    size = (40 if max(len(line) for line in lines) <= 6 else 26) * scale
    font = ImageFont.load_default(size=size)
    ink = _rgb(_text_colour(colour))
    cy = (104 if template == "ribbon" else 128) * scale
    total = len(lines) * size * 1.2
    for i, line in enumerate(lines):
        y = cy - total / 2 + i * size * 1.2 + size * 0.6
        draw.text((128 * scale, y), line, fill=ink, font=font, anchor="mm")
    im = im.resize((256, 256), Image.LANCZOS)
    out = io.BytesIO()
    im.save(out, format="PNG", optimize=True)
    return BadgeImage(PNG, out.getvalue())


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
