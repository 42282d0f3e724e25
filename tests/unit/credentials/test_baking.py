"""Baking and extraction (PNG iTXt `openbadgecredential`, SVG `openbadges:credential`), the
default image when an achievement has none, and hostile files: XML entities and external
references, decompression bombs, broken chunks, deeply nested and oversized JSON."""

from __future__ import annotations

import io
import json
import struct
import zlib

import pytest
from PIL import Image

from lti_badger.credentials import baking
from lti_badger.credentials.images import generate_png, generate_svg
from lti_badger.credentials.safety import MAX_DEPTH, parse_json
from lti_badger.errors import BadInput, PayloadTooLarge

CREDENTIAL = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "https://x.example/c/1",
              "name": 'Grün "quoted" ]]> end', "type": ["VerifiableCredential"]}
TEXT = json.dumps(CREDENTIAL, ensure_ascii=False)


def test_png_round_trip_keeps_the_image_decodable():
    png = generate_png("circle", "#336699", "PB").data
    baked = baking.bake_png(png, TEXT)
    assert json.loads(baking.extract_png(baked)) == CREDENTIAL
    assert Image.open(io.BytesIO(baked)).size == (256, 256)
    assert baking.extract(baked) == CREDENTIAL
    # baking again replaces the chunk instead of adding a second one
    again = baking.bake_png(baked, json.dumps({**CREDENTIAL, "id": "https://x.example/c/2"}))
    assert again.count(baking.PNG_KEYWORD) == 1
    assert baking.extract(again)["id"] == "https://x.example/c/2"


def test_svg_round_trip_with_namespace_and_cdata():
    svg = generate_svg("shield", "#aa3300", "PB").data
    baked = baking.bake_svg(svg, TEXT)
    assert b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in baked
    assert b"<openbadges:credential><![CDATA[" in baked
    assert baking.extract(baked) == CREDENTIAL


def test_default_images_when_the_achievement_has_none():
    png, svg = baking.badge_images("Python Basics", None, None)
    assert png.data.startswith(b"\x89PNG") and svg.data.lstrip().startswith(b"<?xml")
    assert baking.extract(baking.bake_png(png.data, TEXT)) == CREDENTIAL
    assert baking.extract(baking.bake_svg(svg.data, TEXT)) == CREDENTIAL
    own_png = generate_png("hexagon", "#112233", "X").data
    png2, svg2 = baking.badge_images("X", own_png, "image/png")
    assert png2.data == own_png and b"data:image/png;base64," in svg2.data
    assert baking.extract(baking.bake_svg(svg2.data, TEXT)) == CREDENTIAL


def test_a_generated_design_is_baked_as_a_drawn_svg_and_a_broken_one_as_the_wrapped_png():
    design = {"template": "ribbon", "colour": "#6a1b9a", "text": "Lab", "icon": "bulb"}
    png = generate_png(**design).data
    _, drawn = baking.badge_images("Lab", png, "image/png", design)
    assert drawn.data == generate_svg(**design).data and b"data:image/png" not in drawn.data
    assert baking.extract(baking.bake_svg(drawn.data, TEXT)) == CREDENTIAL
    _, wrapped = baking.badge_images("Lab", png, "image/png", {**design, "icon": "rocket"})
    assert b"data:image/png;base64," in wrapped.data


def test_compressed_itxt_is_read_but_a_decompression_bomb_is_refused():
    png = generate_png("circle", "#336699", "PB").data
    chunks = png[:-12]  # drop IEND
    body = baking.PNG_KEYWORD + b"\0\1\0\0\0" + zlib.compress(TEXT.encode())
    ok = chunks + baking._chunk(b"iTXt", body) + baking._chunk(b"IEND", b"")
    assert baking.extract(ok) == CREDENTIAL
    bomb_text = zlib.compress(b"{" + b" " * (64 * 1024 * 1024) + b"}", 9)
    bomb = chunks + baking._chunk(b"iTXt", baking.PNG_KEYWORD + b"\0\1\0\0\0" + bomb_text) + baking._chunk(b"IEND", b"")
    assert len(bomb) < 200_000
    with pytest.raises(PayloadTooLarge):
        baking.extract(bomb)


@pytest.mark.parametrize("data,message", [
    (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 10**9) + b"IHDR", "truncated"),
    (b"\x89PNG\r\n\x1a\nnonsense", "truncated"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "no Open Badges credential"),
    (b"GIF89a....", "expected a credential"),
])
def test_broken_files_are_clear_errors(data, message):
    with pytest.raises(BadInput, match=message):
        baking.extract(data)


def test_bad_png_checksum_is_refused():
    baked = bytearray(baking.bake_png(generate_png("circle", "#336699", "PB").data, TEXT))
    baked[40] ^= 0xFF
    with pytest.raises(BadInput):
        baking.extract(bytes(baked))


@pytest.mark.parametrize("svg", [
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "boom">]><svg xmlns="http://www.w3.org/2000/svg" '
    b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"><openbadges:credential>&x;</openbadges:credential></svg>',
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">'
    b'<openbadges:credential xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">&x;</openbadges:credential></svg>',
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><svg>&lol2;</svg>',
])
def test_svg_entities_and_external_references_are_refused(svg):
    with pytest.raises(BadInput, match="DTD entities or external"):
        baking.extract(svg)


def test_nested_and_oversized_json_are_refused():
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(BadInput, match="nested"):
        parse_json(("{\"a\": " + deep + "}").encode())
    with pytest.raises(BadInput, match="nested"):
        parse_json(json.dumps({"a": json.loads("[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2))}).encode())
    with pytest.raises(PayloadTooLarge):
        parse_json(b"{" + b" " * (2 * 1024 * 1024) + b"}")
    with pytest.raises(BadInput, match="JSON object"):
        parse_json(b"[1, 2]")
    with pytest.raises(BadInput, match="not valid JSON"):
        parse_json(b"{nope")


def _bomb_png() -> bytes:
    """A few hundred bytes that claim 100000 x 100000 pixels of zeros."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (1024 * 1024), 9)
    return (b"\x89PNG\r\n\x1a\n" + baking._chunk(b"IHDR", ihdr) + baking._chunk(b"IDAT", idat)
            + baking._chunk(b"iTXt", baking.PNG_KEYWORD + b"\0\0\0\0\0" + TEXT.encode()) + baking._chunk(b"IEND", b""))


def test_png_claiming_huge_dimensions_is_refused():
    with pytest.raises(BadInput, match="decompression bomb"):
        baking.extract(_bomb_png())


@pytest.mark.parametrize("active", [
    b"<script>alert(1)</script>",
    b'<rect width="1" height="1" onload="alert(1)"/>',
    b'<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>',
])
def test_svg_with_scripts_is_refused(active):
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
           + active + b"<openbadges:credential><![CDATA[" + TEXT.replace("]]>", "]]]]><![CDATA[>").encode()
           + b"]]></openbadges:credential></svg>")
    with pytest.raises(BadInput, match="script or an event handler"):
        baking.extract(svg)

