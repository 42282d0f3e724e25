"""Badge image sanitising: hostile SVG and PNG files are refused with BadInput, harmless
ones come back re-encoded without anything that could run or phone home."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from lti_badger.credentials import images
from lti_badger.credentials.images import BadgeImage, generate_png, generate_svg, sanitise_png, sanitise_svg, sanitise_upload
from lti_badger.errors import BadInput, PayloadTooLarge

SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'


def png_bytes(width: int = 64, height: int = 64, **info) -> bytes:
    out = io.BytesIO()
    im = Image.new("RGB", (width, height), (200, 30, 30))
    from PIL.PngImagePlugin import PngInfo

    meta = PngInfo()
    for k, v in info.items():
        meta.add_text(k, v)
    im.save(out, format="PNG", pnginfo=meta)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int, height: int) -> bytes:
    """A small file that claims an enormous canvas: zeros compress to almost nothing."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    raw = b"".join(compressor.compress(row) for _ in range(min(height, 2000))) + compressor.flush()
    return images.PNG_MAGIC + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", raw) + _chunk(b"IEND", b"")


# --- SVG ---------------------------------------------------------------------------------

def test_clean_svg_is_kept_and_reserialised():
    svg = (SVG_HEAD + '<title>Star</title><metadata><rdf/></metadata><circle cx="5" cy="5" r="4" fill="url(#g)"/>'
           '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs></svg>')
    out = sanitise_svg(svg.encode())
    assert out.media_type == images.SVG
    text = out.data.decode()
    assert "<circle" in text and "linearGradient" in text
    assert "metadata" not in text
    # it parses again as SVG in the default namespace
    assert sanitise_svg(out.data).data == out.data


@pytest.mark.parametrize("body, reason", [
    ('<script>alert(1)</script>', "script"),
    ('<g><script xlink:href="https://evil.example/x.js"/></g>', "script"),
    ('<circle r="4" onload="alert(1)"/>', "event handler"),
    ('<rect width="1" height="1" ONCLICK="x()"/>', "event handler"),
    ('<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>', "foreignObject"),
    ('<image xlink:href="https://tracker.example/p.png" width="1" height="1"/>', "outside"),
    ('<image href="file:///etc/passwd" width="1" height="1"/>', "outside"),
    ('<use href="https://evil.example/sprite.svg#a"/>', "outside"),
    ('<image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" width="1" height="1"/>', "outside"),
    ('<rect style="fill:url(https://evil.example/a)" width="1" height="1"/>', "outside"),
    ('<style>@import url(https://evil.example/a.css);</style>', "CSS"),
    ('<rect fill="url(http://evil.example/#p)" width="1" height="1"/>', "outside"),
    ('<a href="javascript:alert(1)"><rect width="1" height="1"/></a>', "link"),
    ('<animate attributeName="href" to="javascript:alert(1)"/>', "animation"),
    ('<set attributeName="onmouseover" to="alert(1)"/>', "animation"),
])
def test_hostile_svg_is_rejected(body, reason):
    with pytest.raises(BadInput) as err:
        sanitise_svg((SVG_HEAD + body + "</svg>").encode())
    assert reason.lower() in err.value.message.lower()


def test_svg_with_xxe_is_rejected():
    xxe = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           b'<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>')
    with pytest.raises(BadInput, match="DTD"):
        sanitise_svg(xxe)


def test_billion_laughs_is_rejected_quickly():
    lol = ['<!ENTITY lol "lol">'] + [f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)]
    doc = ('<?xml version="1.0"?><!DOCTYPE svg [' + "".join(lol) + ']>'
           '<svg xmlns="http://www.w3.org/2000/svg"><text>&lol9;</text></svg>').encode()
    with pytest.raises(BadInput):
        sanitise_upload(doc)


def test_external_dtd_is_rejected():
    doc = (b'<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
           b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg"/>')
    with pytest.raises(BadInput):
        sanitise_svg(doc)


def test_non_svg_xml_and_broken_xml_are_rejected():
    with pytest.raises(BadInput, match="not an SVG"):
        sanitise_svg(b'<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>')
    with pytest.raises(BadInput, match="well-formed"):
        sanitise_svg(b'<svg xmlns="http://www.w3.org/2000/svg"><g></svg>')


def test_svg_with_too_many_elements_is_rejected():
    body = "<g/>" * (images.MAX_SVG_ELEMENTS + 1)
    with pytest.raises(BadInput, match="elements"):
        sanitise_svg((SVG_HEAD + body + "</svg>").encode())


def test_editor_attributes_and_comments_are_dropped():
    svg = (SVG_HEAD.replace("<svg ", '<svg xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" ')
           + '<!-- secret --><g inkscape:label="Layer 1"><rect width="2" height="2"/></g></svg>')
    text = sanitise_svg(svg.encode()).data.decode()
    assert "inkscape" not in text and "secret" not in text and "<rect" in text


# --- PNG ---------------------------------------------------------------------------------

def test_png_is_reencoded_without_text_chunks():
    data = png_bytes(Comment="<script>alert(1)</script>", Author="someone")
    out = sanitise_png(data)
    assert out.media_type == images.PNG
    assert b"tEXt" not in out.data and b"alert" not in out.data
    with Image.open(io.BytesIO(out.data)) as im:
        assert im.size == (64, 64) and im.mode == "RGBA"


def test_png_bomb_is_rejected_before_decoding():
    bomb = png_bomb(100_000, 100_000)
    assert len(bomb) < images.MAX_UPLOAD_BYTES
    with pytest.raises(BadInput, match="pixels"):
        sanitise_upload(bomb)


def test_png_too_wide_and_too_small_are_rejected():
    with pytest.raises(BadInput, match="limit"):
        sanitise_png(png_bytes(images.MAX_DIMENSION + 1, 20))
    with pytest.raises(BadInput, match="at least"):
        sanitise_png(png_bytes(4, 4))


def test_truncated_png_is_rejected():
    data = png_bytes()
    with pytest.raises(BadInput, match="damaged"):
        sanitise_png(data[: len(data) // 2])


def test_oversized_upload_and_unknown_types_are_rejected():
    with pytest.raises(PayloadTooLarge):
        sanitise_upload(images.PNG_MAGIC + b"\0" * images.MAX_UPLOAD_BYTES)
    with pytest.raises(BadInput, match="PNG or an SVG"):
        sanitise_upload(b"GIF89a....", "x.gif")
    with pytest.raises(BadInput, match="empty"):
        sanitise_upload(b"")


# --- generated ---------------------------------------------------------------------------

@pytest.mark.parametrize("template", images.TEMPLATES)
def test_generated_images_are_valid_and_pass_our_own_sanitiser(template):
    svg = generate_svg(template, "#1A5FB4", "Data <Skills> & more")
    assert sanitise_svg(svg.data).media_type == images.SVG
    assert "&lt;Skills&gt;" in svg.data.decode()
    png = generate_png(template, "#1a5fb4", "DS")
    with Image.open(io.BytesIO(png.data)) as im:
        assert im.size == (256, 256)
    assert sanitise_png(png.data).media_type == images.PNG


def test_generated_text_contrasts_with_the_fill():
    assert 'fill="#000000">' in generate_svg("circle", "#ffff00", "A").data.decode()
    assert 'fill="#ffffff">' in generate_svg("circle", "#000080", "A").data.decode()


@pytest.mark.parametrize("colour", images.PALETTE)
def test_palette_colours_are_accessible(colour):
    """WCAG AA: the badge text on the colour at 4.5:1, the shape's edge against a white page at 3:1."""
    ink = images.art()["colours"][colour]["ink"]
    assert images.contrast(colour, ink) >= 4.5
    assert images.contrast(images.art()["colours"][colour]["edge"], "#ffffff") >= 3


@pytest.mark.parametrize("template", images.TEMPLATES)
@pytest.mark.parametrize("icon", images.ICONS)
def test_every_shape_with_every_icon_renders_valid_svg_and_png(template, icon):
    svg = generate_svg(template, "#b3261e", "Lab <safety> & co", icon)
    assert sanitise_svg(svg.data).media_type == images.SVG
    assert svg.data.decode().count("<text") == 2 and "&lt;safety&gt;" in svg.data.decode()
    png = generate_png(template, "#b3261e", "" if icon != "none" else "LS", icon)
    assert sanitise_png(png.data).media_type == images.PNG


def test_png_draws_what_the_svg_says():
    """Shape in the fill colour, icon and text in the ink colour, where the layout puts them."""
    with Image.open(io.BytesIO(generate_png("circle", "#0a4f8f", "Data skills", "star").data)) as im:
        assert im.getpixel((40, 128))[:3] == (0x0a, 0x4f, 0x8f)  # the circle's body
        assert im.getpixel((128, 79))[:3] == (255, 255, 255)  # the star's centre (92 + 50×0.72, 40 + 54×0.72)
        assert im.getpixel((128, 60))[:3] == (255, 255, 255)
        text_band = [im.getpixel((x, y))[:3] for x in range(70, 190) for y in range(145, 170)]
        assert (255, 255, 255) in text_band  # one line of 24 px, baseline at 164 + 24×0.35
    with Image.open(io.BytesIO(generate_png("circle", "#0a4f8f", "Data skills").data)) as im:
        assert im.getpixel((128, 79))[:3] == (0x0a, 0x4f, 0x8f)  # no icon there without one


def test_wrapping_never_drops_a_word():
    svg = generate_svg("circle", "#0a4f8f", "Introduction to stats").data.decode()
    assert ">Introduction</text>" in svg and ">to stats</text>" in svg


@pytest.mark.parametrize("args, match", [
    (("star", "#000000", "A"), "template"),
    (("circle", "#000000", "A", "rocket"), "icon"),
    (("circle", "#000000", "", "none"), "text"),
    (("circle", "red", "A"), "colour"),
    (("circle", "#000000", "   "), "text"),
    (("circle", "#000000", "x" * 30), "longer"),
])
def test_generation_rejects_bad_parameters(args, match):
    with pytest.raises(BadInput, match=match):
        generate_svg(*args)
    with pytest.raises(BadInput, match=match):
        generate_png(*args)


def test_the_designer_accepts_palette_colours_only():
    assert images.design("circle", "#00695C", "A", palette_only=True).colour == "#00695c"
    with pytest.raises(BadInput, match="colours offered"):
        images.design("circle", "#123456", "A", palette_only=True)


def test_data_url():
    assert BadgeImage(images.PNG, b"\x01").data_url() == "data:image/png;base64,AQ=="
