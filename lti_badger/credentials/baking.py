"""Baked badges (Open Badges 3.0 §5.3 "Baking"): the signed credential embedded in the badge
image, and read back for verification.

- PNG: one `iTXt` chunk with keyword `openbadgecredential`, uncompressed, holding the JSON;
  any earlier such chunk is replaced.
- SVG: an `<openbadges:credential>` element (namespace https://purl.imsglobal.org/ob/v3p0)
  right inside the root `<svg>`, the JSON in CDATA.

Reading is for files from strangers: sizes, chunk counts and decompressed text are capped
(decompression bombs), SVG is parsed with defusedxml (no entities or external references;
a bare DOCTYPE line, as illustrators write it and 1EdTech's samples carry it, is read and
never fetched), and the JSON goes through `safe_json`.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from collections.abc import Mapping
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from ..errors import BadInput, PayloadTooLarge
from .images import PNG, PNG_MAGIC, SVG, BadgeImage, generate_png, generate_svg, sanitise_svg
from .safety import MAX_DOCUMENT_BYTES, parse_json

OB_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
OB2_NAMESPACE = "http://openbadges.org"  # Open Badges 2.0 baking, read for verification
PNG_KEYWORD = b"openbadgecredential"
OB2_PNG_KEYWORD = b"openbadges"  # Open Badges 2.0 baking, read for verification
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
HOSTED_URL = re.compile(r"https?://[^\s<>\"]{1,2000}")  # fetched over https only (the outbound client)
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_PNG_CHUNKS = 10_000
MAX_PIXELS = 4096 * 4096
# Elements and attributes that make an SVG active content: refused even though we only read it.
_ACTIVE_SVG = frozenset({"script", "foreignObject", "iframe", "embed", "object", "handler", "listener"})
DEFAULT_COLOUR = "#1f5fa8"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if not data.startswith(PNG_MAGIC):
        raise BadInput("not a PNG file")
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"the image is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    chunks, pos = [], len(PNG_MAGIC)
    while pos < len(data):
        if len(chunks) >= MAX_PNG_CHUNKS:
            raise BadInput("the PNG has too many chunks")
        if pos + 8 > len(data):
            raise BadInput("the PNG is truncated")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 8 + length + 4
        if end > len(data):
            raise BadInput("the PNG is truncated")
        body = data[pos + 8:pos + 8 + length]
        if struct.unpack(">I", data[end - 4:end])[0] != zlib.crc32(kind + body) & 0xFFFFFFFF:
            raise BadInput(f"the PNG chunk {kind!r} has a bad checksum")
        chunks.append((kind, body))
        pos = end
        if kind == b"IEND":
            break
    if not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND" or len(chunks[0][1]) != 13:
        raise BadInput("the PNG is missing its header or end chunk")
    width, height = struct.unpack(">II", chunks[0][1][:8])
    if width * height > MAX_PIXELS:
        raise BadInput(f"the PNG claims {width}x{height} pixels: refused as a decompression bomb")
    return chunks


def _is_credential_chunk(kind: bytes, body: bytes) -> bool:
    return kind == b"iTXt" and body.split(b"\0", 1)[0] in (PNG_KEYWORD, OB2_PNG_KEYWORD)


def bake_png(image: bytes, credential_json: str) -> bytes:
    """The PNG with the credential in an iTXt chunk (placed before IEND)."""
    chunks = [(k, b) for k, b in _png_chunks(image) if not _is_credential_chunk(k, b)]
    # keyword, NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, text
    itxt = PNG_KEYWORD + b"\0\0\0" + b"\0" + b"\0" + credential_json.encode("utf-8")
    out = [PNG_MAGIC]
    for kind, body in chunks:
        if kind == b"IEND":
            out.append(_chunk(b"iTXt", itxt))
        out.append(_chunk(kind, body))
    return b"".join(out)


def extract_png(data: bytes) -> str:
    for kind, body in _png_chunks(data):
        if not _is_credential_chunk(kind, body):
            continue
        rest = body[len(body.split(b"\0", 1)[0]) + 1:]
        if len(rest) < 2:
            raise BadInput("the baked PNG chunk is malformed")
        compressed, method = rest[0], rest[1]
        rest = rest[2:]
        parts = rest.split(b"\0", 2)
        if len(parts) != 3:
            raise BadInput("the baked PNG chunk is malformed")
        text = parts[2]
        if compressed:
            if method != 0:
                raise BadInput("unknown compression in the baked PNG chunk")
            inflater = zlib.decompressobj()
            try:
                text = inflater.decompress(text, MAX_DOCUMENT_BYTES + 1)
            except zlib.error as e:
                raise BadInput("the baked PNG chunk is not valid zlib data") from e
            if len(text) > MAX_DOCUMENT_BYTES or inflater.unconsumed_tail:
                raise PayloadTooLarge("the credential in the PNG is too large once decompressed")
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BadInput("the baked credential is not UTF-8") from e
    raise BadInput("the PNG holds no Open Badges credential (no iTXt chunk 'openbadgecredential')")


_SVG_ROOT = re.compile(rb"<svg\b[^>]*>", re.IGNORECASE)


def bake_svg(image: bytes, credential_json: str) -> bytes:
    """The SVG with an <openbadges:credential> element holding the credential."""
    clean = sanitise_svg(image).data  # re-serialised, no earlier credential element survives
    match = _SVG_ROOT.search(clean)
    if match is None:
        raise BadInput("the SVG has no root element")
    start_tag = match.group(0)
    if b"xmlns:openbadges=" not in start_tag:
        start_tag = start_tag[:-1].rstrip(b"/") + f' xmlns:openbadges="{OB_NAMESPACE}">'.encode()
    cdata = credential_json.replace("]]>", "]]]]><![CDATA[>")
    element = f"<openbadges:credential><![CDATA[{cdata}]]></openbadges:credential>".encode("utf-8")
    return clean[:match.start()] + start_tag + element + clean[match.end():]


def extract_svg(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"the image is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        root = safe_fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise BadInput("the SVG declares DTD entities or external references, which are not allowed") from e
    except Exception as e:  # ElementTree.ParseError, expat errors
        raise BadInput(f"the SVG is not well-formed XML: {e}") from e
    for node in root.iter():
        tag = node.tag.rsplit("}", 1)[-1] if isinstance(node.tag, str) else ""
        if tag in _ACTIVE_SVG or any(name.rsplit("}", 1)[-1].lower().startswith("on") for name in node.attrib):
            raise BadInput("the SVG contains a script or an event handler, which is not allowed")
    element = next((found for tag in (f"{{{OB_NAMESPACE}}}credential", f"{{{OB2_NAMESPACE}}}assertion")
                    for found in root.iter(tag)), None)
    # OB 3.0 §5.3.2: a JSON credential is the element's text, a VC-JWT its `verify` attribute; OB 2.0
    # bakes <openbadges:assertion> the same way, its `verify` a JWS or the hosted assertion's URL.
    found = element is not None and ((element.text or "").strip() or element.get("verify", "").strip())
    if not found:
        raise BadInput("the SVG holds no Open Badges credential (no openbadges:credential element)")
    return found


def extract(data: bytes) -> dict[str, Any]:
    """The JSON credential in a JSON file, a baked PNG or a baked SVG, parsed with limits."""
    found = extract_credential(data)
    if not isinstance(found, dict):
        raise BadInput("expected a JSON credential, not a JWT")
    return found


def _initials(name: str) -> str:
    words = [w for w in re.split(r"\s+", name) if w[:1].isalnum()]
    text = "".join(w[0].upper() for w in words[:3]) or "OB"
    return text[:24]


def badge_images(name: str, image: bytes | None, image_type: str | None,
                 design: Mapping[str, Any] | None = None) -> tuple[BadgeImage, BadgeImage]:
    """(PNG, SVG) to bake into: the achievement's own image where it has that format; an image
    generated from a design (`details["image_template"]`) is drawn again as a true SVG; another
    PNG is wrapped into an SVG; otherwise a generated badge with the name's initials."""
    png = BadgeImage(PNG, image) if image and (image_type == PNG or image.startswith(PNG_MAGIC)) else None
    svg = BadgeImage(SVG, image) if image and not png and (image_type == SVG or image.lstrip()[:1] == b"<") else None
    if svg is None and png is not None and design:
        try:
            svg = generate_svg(design.get("template", ""), design.get("colour", ""), design.get("text", ""),
                               design.get("icon", "none"))
        except BadInput:
            svg = None  # a design stored by an older release that no longer validates: wrap the PNG
    if svg is None and png is not None:
        encoded = base64.b64encode(png.data).decode("ascii")
        svg = BadgeImage(SVG, (
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="256" '
            f'height="256" viewBox="0 0 256 256"><image width="256" height="256" '
            f'xlink:href="data:image/png;base64,{encoded}"/></svg>').encode())
    if svg is None:
        svg = generate_svg("circle", DEFAULT_COLOUR, _initials(name))
    if png is None:
        png = generate_png("circle", DEFAULT_COLOUR, _initials(name))
    return png, svg


def credential_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)


def extract_credential(data: bytes) -> dict[str, Any] | str:
    """What a verifier is handed: a JSON credential, a compact JWS (VC-JWT, signed OB 2.0) or
    a credential's address (a hosted OB 2.0 assertion's, as OB 1.0 and some OB 2.0 issuers
    bake it, or a link someone pasted), either alone or baked in a PNG or SVG."""
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data.startswith(PNG_MAGIC):
        text = extract_png(data)
    elif head.startswith(b"<"):
        text = extract_svg(data)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BadInput("expected a credential as JSON, a JWT, a baked PNG or a baked SVG") from e
    text = text.strip().lstrip("\ufeff")
    if text.startswith("{"):
        return parse_json(text.encode("utf-8"))
    if len(text) <= MAX_DOCUMENT_BYTES and (COMPACT_JWS.fullmatch(text) or HOSTED_URL.fullmatch(text)):
        return text
    raise BadInput("expected a credential as JSON, a JWT, a baked PNG or a baked SVG")
