"""SVG from strangers (badge and issuer images), cleaned by an allow-list.

An SVG is a document: it can run script, load remote resources (tracking, CSS exfiltration),
embed HTML and expand entities. What is kept is only what is listed here: SVG elements for
shapes, text, gradients, clipping, masks and simple filters; their geometry and presentation
attributes; CSS properties that paint. Every value that CSS reads (a `style` attribute, a
`<style>` element, a presentation attribute) is read after CSS unescaping and with comments
removed, as a browser reads it (`\\75 rl(` is `url(`), and written back in that plain form, so
no escape survives into the output. A reference may only point inside the image (`#id`);
`<image>` may also carry an inline PNG, JPEG, GIF or WebP. Anything that could run or fetch
(script, handlers, foreignObject, animation, links, external or `javascript:`/`data:` hrefs,
`url()` to elsewhere, `@import` or any other @-rule, `expression()`) refuses the whole file
with the reason; harmless unknowns (editor metadata, other namespaces) are dropped. No DTD or
entity is parsed (defusedxml). The tree is re-serialised from what was kept."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from ..errors import BadInput

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
MAX_SVG_ELEMENTS = 5000

ELEMENTS = frozenset("""
svg g defs symbol use title desc path rect circle ellipse line polyline polygon text tspan textPath
linearGradient radialGradient stop clipPath mask pattern image marker filter feGaussianBlur feOffset
feBlend feColorMatrix feFlood feComposite feMerge feMergeNode feMorphology feDropShadow style
""".split())
# Elements that refuse the file whatever their namespace: they run, fetch, or change hrefs.
REFUSED = {
    "script": "a script", "foreignobject": "a foreignObject (embedded HTML)", "iframe": "an iframe",
    "embed": "an embedded object", "object": "an embedded object", "handler": "an event handler",
    "listener": "an event listener", "animate": "an animation", "set": "an animation",
    "animatemotion": "an animation", "animatetransform": "an animation", "animatecolor": "an animation",
    "discard": "an animation", "a": "a link", "feimage": "a filter image", "cursor": "a cursor",
    "font-face-uri": "an external font", "font-face-src": "an external font", "audio": "media",
    "video": "media", "html": "HTML", "body": "HTML", "base": "a base URL",
}
PRESENTATION = frozenset("""
fill fill-opacity fill-rule stroke stroke-width stroke-linecap stroke-linejoin stroke-miterlimit
stroke-dasharray stroke-dashoffset stroke-opacity opacity clip-path clip-rule mask filter marker-start
marker-mid marker-end color display visibility stop-color stop-opacity flood-color flood-opacity
lighting-color text-anchor dominant-baseline alignment-baseline baseline-shift font-family font-size
font-weight font-style font-variant font-stretch letter-spacing word-spacing text-decoration
writing-mode direction shape-rendering text-rendering image-rendering color-interpolation
color-interpolation-filters paint-order vector-effect transform transform-origin overflow
mix-blend-mode isolation
""".split())
ATTRIBUTES = PRESENTATION | frozenset("""
id class style viewBox preserveAspectRatio width height x y x1 y1 x2 y2 cx cy r rx ry d points
pathLength fx fy fr offset gradientUnits gradientTransform spreadMethod patternUnits
patternContentUnits patternTransform clipPathUnits maskUnits maskContentUnits markerUnits
markerWidth markerHeight refX refY orient filterUnits primitiveUnits in in2 result stdDeviation dx
dy mode operator k1 k2 k3 k4 radius values type textLength lengthAdjust startOffset method spacing
side rotate version baseProfile role aria-label aria-hidden aria-labelledby aria-describedby lang
""".split())
CSS_PROPERTIES = PRESENTATION
# Functions a kept value may call; url() only with a reference inside the image.
CSS_FUNCTIONS = frozenset("url rgb rgba hsl hsla translate translatex translatey rotate scale scalex scaley "
                          "matrix skewx skewy calc".split())
_LOCAL_REF = re.compile(r"^#[A-Za-z_][\w.:-]*$")
_RASTER_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$")
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?|\\(.)", re.DOTALL)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_FUNCTION = re.compile(r"([A-Za-z_-][\w-]*)\s*\(")
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_CSS_RULE = re.compile(r"\s*([^{}]+?)\s*\{([^{}]*)\}\s*")
_CSS_FORBIDDEN = ("javascript:", "vbscript:", "data:", "expression", "@", "<", ">", "\\", "-moz-binding", "behavior")
_SELECTOR = re.compile(r"^[\w\s.#,:>+~*\[\]=\"'()|^$-]+$")

ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


def clean_svg(data: bytes) -> bytes:
    """The sanitised SVG document, or BadInput saying what was refused."""
    try:
        root = safe_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise BadInput("the SVG declares a DTD, entities or external references, which are not allowed") from e
    except ET.ParseError as e:
        raise BadInput(f"the SVG is not well-formed XML: {e}") from e
    if root.tag != f"{{{SVG_NS}}}svg":
        raise BadInput("the file is XML but not an SVG image (the root element must be <svg> in the SVG namespace)")
    count = sum(1 for _ in root.iter())
    if count > MAX_SVG_ELEMENTS:
        raise BadInput(f"the SVG has {count} elements; the limit is {MAX_SVG_ELEMENTS}")
    _clean_element(root)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")


def unescape_css(text: str) -> str:
    """CSS text as a browser tokenises it: comments gone, escapes (`\\75`, `\\l`) resolved."""
    if "/*" in _CSS_COMMENT.sub("", text):
        raise BadInput("the SVG has unsafe CSS (an unterminated comment)")

    def resolve(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        return "" if match.group(2) == "\n" else match.group(2)

    return _CSS_ESCAPE.sub(resolve, _CSS_COMMENT.sub("", text))


def _split(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return None, tag


def check_reference(value: str, where: str, *, raster: bool = False) -> None:
    value = value.strip()
    if _LOCAL_REF.match(value) or (raster and _RASTER_DATA.match(value)):
        return
    raise BadInput(f"the SVG refers to something outside the image ({where}); only references inside the file are allowed")


def check_css_value(value: str, where: str) -> str:
    """A CSS value (already unescaped) that may only paint: the functions listed, url() to a
    reference inside the image, nothing that runs or fetches. Returns it stripped."""
    lowered = value.lower()
    for bad in _CSS_FORBIDDEN:
        if bad in lowered:
            raise BadInput(f"the SVG has unsafe CSS ({where}: {bad.strip(':')!r} is not allowed)")
    for match in _CSS_URL.finditer(value):
        check_reference(match.group(2), where)
    for match in _CSS_FUNCTION.finditer(value):
        if match.group(1).lower() not in CSS_FUNCTIONS:
            raise BadInput(f"the SVG has unsafe CSS ({where}: the function {match.group(1)}() is not allowed)")
    if "url(" in lowered and not _CSS_URL.search(value):
        raise BadInput(f"the SVG has unsafe CSS ({where}: a url() it cannot read)")
    return value.strip()


def clean_declarations(text: str, where: str) -> str:
    """`prop: value; ...` keeping the allowed properties, each value checked, written back plain."""
    kept = []
    for declaration in unescape_css(text).split(";"):
        name, colon, value = declaration.partition(":")
        name = name.strip().lower()
        if not colon or name not in CSS_PROPERTIES:
            if "@" in declaration or "url(" in declaration.lower():
                check_css_value(declaration, where)
            continue  # unknown properties are dropped
        kept.append(f"{name}:{check_css_value(value, where)}")
    return ";".join(kept)


def clean_stylesheet(text: str) -> str:
    """A `<style>` element: plain `selector { declarations }` rules only; any @-rule refuses."""
    plain = unescape_css(text)
    if "@" in plain:
        raise BadInput("the SVG has unsafe CSS (an @-rule such as @import in a <style> element)")
    rules, position = [], 0
    for match in _CSS_RULE.finditer(plain):
        if match.start() != position:
            break
        selector = match.group(1)
        if not _SELECTOR.match(selector) or "url(" in selector.lower():
            raise BadInput("the SVG has unsafe CSS (a selector in a <style> element it does not accept)")
        rules.append(f"{selector}{{{clean_declarations(match.group(2), 'a <style> element')}}}")
        position = match.end()
    if plain[position:].strip():
        raise BadInput("the SVG has CSS in a <style> element that is not plain rules")
    return "".join(rules)


def _clean_attributes(element: ET.Element, local_name: str) -> None:
    for name, value in list(element.attrib.items()):
        ns, local = _split(name)
        if local.lower().startswith("on"):
            raise BadInput(f"the SVG has an event handler attribute ({local}), which could run script")
        if local == "href" and ns in (None, XLINK_NS):
            check_reference(value, f"{local} on <{local_name}>", raster=local_name == "image")
            element.set(name, value.strip())
        elif ns == XML_NS and local in ("space", "lang"):
            continue
        elif ns is not None or local not in ATTRIBUTES:
            del element.attrib[name]  # editor namespaces, xml:base, unknown attributes
        elif local == "style":
            declarations = clean_declarations(value, "a style attribute")
            if declarations:
                element.set(name, declarations)
            else:
                del element.attrib[name]
        elif local in PRESENTATION or "(" in value or "\\" in value:
            element.set(name, check_css_value(unescape_css(value), f"the {local} attribute"))


def _clean_element(element: ET.Element) -> None:
    _clean_attributes(element, _split(element.tag)[1])
    for child in list(element):
        if not isinstance(child.tag, str):  # comments, processing instructions
            element.remove(child)
            continue
        ns, local = _split(child.tag)
        if local.lower() in REFUSED:
            raise BadInput(f"the SVG contains {REFUSED[local.lower()]}, which is not allowed in a badge image")
        if ns != SVG_NS or local not in ELEMENTS:
            element.remove(child)  # metadata, editor data, unknown elements
            continue
        if local == "style":
            child.text = clean_stylesheet(child.text or "")
            for grandchild in list(child):
                child.remove(grandchild)
            child.attrib.clear()
            continue
        _clean_element(child)
