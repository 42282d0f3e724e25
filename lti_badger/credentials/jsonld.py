"""JSON-LD for Data Integrity proofs: an offline document loader over the contexts shipped in
this package (invariant 6: nothing is fetched to sign or verify), and RDFC-1.0 (URDNA2015)
canonicalisation in two implementations that must agree byte for byte:

- `canonicalize_reference`: straightforward PyLD (`normalize`, URDNA2015, base None).
- `canonicalize`: the fast path. Context processing dominates the cost of PyLD, and our
  credentials all have a few fixed shapes, so a document is split into its *shape* (keys,
  array lengths, `@context` and `type` values, numbers, booleans, and the class of each
  string) and its string *leaves*. Each shape is converted to RDF once by PyLD with every leaf
  replaced by a unique marker; markers that come out as a whole literal or a whole IRI become
  slots of a cached template, and leaves whose marker comes out any other way (a term lookup,
  a dropped relative IRI, part of a JSON literal) are folded into the template key with their
  real value. A document is then rendered by filling the slots, and blank nodes get their
  canonical labels from the RDFC-1.0 first-degree hashes; if two blank nodes share a hash
  (the case that needs N-degree hashing) the reference implementation is used instead.

Literals are escaped as RDFC-1.0 canonical N-Quads require (and as jsonld.js does): PyLD 3
escapes only tab, newline, carriage return, quote and backslash, so for strings holding other
C0 control characters the reference differs from the standard; the composer never emits those.

Specs: https://www.w3.org/TR/rdf-canon/ , https://www.w3.org/TR/json-ld11-api/#deserialize-json-ld-to-rdf-algorithm
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from functools import lru_cache
from importlib import resources
from typing import Any

from pyld import jsonld

from ..errors import BadInput

CONTEXTS_PACKAGE = "lti_badger.credentials.contexts"


class ContextNotAvailable(BadInput):
    """A document names a JSON-LD context we do not ship; we never fetch one from the network."""


@lru_cache(maxsize=1)
def context_index() -> dict[str, str]:
    """URL -> file name of every context shipped in `credentials/contexts/`."""
    return json.loads(resources.files(CONTEXTS_PACKAGE).joinpath("index.json").read_text("utf-8"))


@lru_cache(maxsize=None)
def _context_document(url: str) -> dict[str, Any]:
    name = context_index()[url]
    return json.loads(resources.files(CONTEXTS_PACKAGE).joinpath(name).read_text("utf-8"))


def load_document(url: str, options: dict | None = None) -> dict[str, Any]:
    """PyLD document loader serving only the shipped contexts; any other URL is an error."""
    key = url.split("#", 1)[0]
    if key not in context_index():
        raise ContextNotAvailable(f"JSON-LD context {url!r} is not available offline")
    return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(_context_document(key))}


def _options() -> dict[str, Any]:
    return {"algorithm": "URDNA2015", "format": "application/n-quads", "base": None,
            "documentLoader": load_document}


def _jsonld_error(e: jsonld.JsonLdError) -> BadInput:
    cause: BaseException | None = e
    while cause is not None:
        if isinstance(cause, ContextNotAvailable):
            return cause
        cause = cause.__cause__ or getattr(cause, "cause", None)
    return BadInput(f"document is not valid JSON-LD: {e}")


def canonicalize_reference(document: dict[str, Any]) -> str:
    """RDFC-1.0 N-Quads of `document` computed by PyLD alone (slow; the yardstick)."""
    try:
        return jsonld.normalize(document, _options())
    except jsonld.JsonLdError as e:
        raise _jsonld_error(e) from e


def _to_dataset(document: dict[str, Any]) -> dict[str, list[dict]]:
    try:
        return jsonld.to_rdf(document, {"base": None, "documentLoader": load_document})
    except jsonld.JsonLdError as e:
        raise _jsonld_error(e) from e


# --- RDFC-1.0 canonical N-Quads escaping ---------------------------------------------------

_LIT_ESCAPE_RE = re.compile(r'[\x00-\x1f\x7f"\\]')
_LIT_ECHAR = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
_IRI_ESCAPE_RE = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def _lit_char(m: re.Match[str]) -> str:
    c = m.group(0)
    return _LIT_ECHAR.get(c) or f"\\u{ord(c):04X}"


def escape_literal(value: str) -> str:
    return _LIT_ESCAPE_RE.sub(_lit_char, value) if _LIT_ESCAPE_RE.search(value) else value


def escape_iri(value: str) -> str:
    if not _IRI_ESCAPE_RE.search(value):
        return value
    return _IRI_ESCAPE_RE.sub(lambda m: f"\\u{ord(m.group(0)):04X}", value)


XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def _literal_suffix(component: dict[str, Any]) -> str:
    datatype = component.get("datatype")
    if datatype == RDF_LANGSTRING:
        return "@" + component["language"] if component.get("language") else ""
    if datatype and datatype != XSD_STRING:
        return "^^<" + escape_iri(datatype) + ">"
    return ""


# --- shapes and templates ------------------------------------------------------------------

# Keys whose values change how a document expands: they are part of the shape.
_STRUCTURAL_KEYS = frozenset({"@context", "type", "@type", "@language", "@direction", "@base", "@vocab"})
# Absolute IRIs with a scheme no shipped context defines as a term expand the same whatever
# their value; everything else is a "text" leaf.
_IRI_SCHEMES = ("http", "https", "urn", "did", "mailto", "data")
_MARKER_RE = re.compile(r"ltibmk(\d+)z")


def _context_keys() -> set[str]:
    keys: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            keys.update(node)
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    for url in context_index():
        collect(_context_document(url))
    return keys


@lru_cache(maxsize=1)
def _iri_rules() -> tuple[re.Pattern[str], frozenset[str]]:
    keys = _context_keys()
    schemes = [s for s in _IRI_SCHEMES if s not in keys]
    pattern = re.compile(r"^(?:%s):[^\x00-\x20<>\"{}|^`\\]*$" % "|".join(schemes))
    return pattern, frozenset(k for k in keys if pattern.match(k))


class _Template:
    """RDF quads of one shape; each component is a fixed string, a blank node label
    (`_:...`), or an int slot pointing at `renderers`."""

    __slots__ = ("quads", "renderers")

    def __init__(self, quads: list[tuple], renderers: dict[int, tuple[str, str]]) -> None:
        self.quads = quads
        self.renderers = renderers


class _Shape:
    __slots__ = ("structural", "templates", "usable")

    def __init__(self) -> None:
        self.structural: tuple[int, ...] = ()
        self.templates: dict[tuple, _Template] = {}
        self.usable = True


def _walk(node: Any, key: str | None, shape: list, leaves: list, iri_re: re.Pattern[str],
          iri_terms: frozenset[str]) -> None:
    kind = type(node)
    if kind is str:
        if key in _STRUCTURAL_KEYS:
            shape.append("s:" + node)
        elif iri_re.match(node) and node not in iri_terms:
            shape.append("I")
            leaves.append(node)
        else:
            shape.append("T")
            leaves.append(node)
    elif kind is dict:
        shape.append("{")
        for k in sorted(node):
            shape.append("k:" + k)
            value = node[k]
            if k in _STRUCTURAL_KEYS and type(value) is not str:
                shape.append("j:" + json.dumps(value, sort_keys=True))
            else:
                _walk(value, k, shape, leaves, iri_re, iri_terms)
        shape.append("}")
    elif kind is list:
        shape.append("[")
        for item in node:
            _walk(item, key, shape, leaves, iri_re, iri_terms)
        shape.append("]")
    else:
        shape.append("v:" + json.dumps(node))


def _skeleton(node: Any, key: str | None, leaves: list, classes: list, keep: frozenset[int],
              counter: list[int]) -> Any:
    """The document with every non-structural leaf i replaced by marker i (or kept)."""
    kind = type(node)
    if kind is str:
        if key in _STRUCTURAL_KEYS:
            return node
        i = counter[0]
        counter[0] += 1
        if i in keep:
            return node
        return f"urn:ltibmk{i}z" if classes[i] == "I" else f"ltibmk{i}z"
    if kind is dict:
        out = {}
        for k in sorted(node):
            value = node[k]
            if k in _STRUCTURAL_KEYS and type(value) is not str:
                out[k] = value
            else:
                out[k] = _skeleton(value, k, leaves, classes, keep, counter)
        return out
    if kind is list:
        return [_skeleton(item, key, leaves, classes, keep, counter) for item in node]
    return node


def _compile(document: dict, leaves: list[str], classes: list[str], keep: frozenset[int]
             ) -> tuple[_Template | None, set[int]]:
    """Convert the marked skeleton to RDF; returns the template and the leaves that must be
    kept as real values (their marker did not come out as a whole literal or IRI)."""
    skeleton = _skeleton(document, None, leaves, classes, keep, [0])
    dataset = _to_dataset(skeleton)
    bad: set[int] = set()
    seen: set[int] = set()
    renderers: dict[int, tuple[str, str]] = {}

    def component(c: dict[str, Any]) -> Any:
        kind, value = c["type"], c["value"]
        if kind == "blank node":
            return value
        exact = None
        for m in _MARKER_RE.finditer(value):
            index = int(m.group(1))
            whole = f"urn:ltibmk{index}z" if classes[index] == "I" else f"ltibmk{index}z"
            if value == whole:
                exact = index
            else:
                bad.add(index)
        if exact is not None:
            if exact in seen and renderers[exact][0] != ("iri" if kind == "IRI" else "lit"):
                bad.add(exact)
            seen.add(exact)
            if kind == "IRI":
                renderers.setdefault(exact, ("iri", ""))
            else:
                renderers.setdefault(exact, ("lit", _literal_suffix(c)))
                if renderers[exact] != ("lit", _literal_suffix(c)):
                    bad.add(exact)
            return exact
        if kind == "IRI":
            return "<" + escape_iri(value) + ">"
        return '"' + escape_literal(value) + '"' + _literal_suffix(c)

    quads = []
    for graph, triples in dataset.items():
        if graph == "@default":
            g: Any = ""
        elif graph.startswith("_:"):
            g = graph
        else:
            g = component({"type": "IRI", "value": graph})
        for t in triples:
            quads.append((component(t["subject"]), "<" + escape_iri(t["predicate"]["value"]) + ">",
                          component(t["object"]), g))
    # a leaf whose marker vanished (a relative IRI, an undefined term) is kept as a real value
    missing = {i for i in range(len(leaves)) if i not in keep and i not in seen}
    bad |= missing
    if bad - keep:
        return None, bad
    return _Template(quads, renderers), set()


_shapes: dict[tuple, _Shape] = {}
_shapes_lock = threading.Lock()
MAX_SHAPES = 512


def _template_for(document: dict) -> tuple[_Template, list[str]] | None:
    iri_re, iri_terms = _iri_rules()
    shape_parts: list = []
    leaves: list[str] = []
    _walk(document, None, shape_parts, leaves, iri_re, iri_terms)
    shape_key = tuple(shape_parts)
    shape = _shapes.get(shape_key)
    if shape is None:
        shape = _Shape()
        classes = [p for p in shape_parts if p in ("I", "T")]
        keep: frozenset[int] = frozenset()
        for _ in range(3):
            template, bad = _compile(document, leaves, classes, keep)
            if template is not None:
                shape.structural = tuple(sorted(keep))
                shape.templates[tuple(leaves[i] for i in shape.structural)] = template
                break
            keep = keep | bad
        else:
            shape.usable = False
        with _shapes_lock:
            if len(_shapes) >= MAX_SHAPES:
                _shapes.clear()
            _shapes[shape_key] = shape
    if not shape.usable:
        return None
    values_key = tuple(leaves[i] for i in shape.structural)
    template = shape.templates.get(values_key)
    if template is None:
        classes = [p for p in shape_parts if p in ("I", "T")]
        template, bad = _compile(document, leaves, classes, frozenset(shape.structural))
        if template is None:
            return None
        if len(shape.templates) < 64:
            shape.templates[values_key] = template
    return template, leaves


def _hash_first_degree(node: str, quads: list[tuple]) -> str:
    lines = []
    for s, p, o, g in quads:
        s = ("_:a" if s == node else "_:z") if s[:2] == "_:" else s
        o = ("_:a" if o == node else "_:z") if o[:2] == "_:" else o
        if g:
            g = ("_:a" if g == node else "_:z") if g[:2] == "_:" else g
            lines.append(f"{s} {p} {o} {g} .\n")
        else:
            lines.append(f"{s} {p} {o} .\n")
    lines.sort()
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def canonicalize(document: dict[str, Any]) -> str:
    """RDFC-1.0 canonical N-Quads of `document` (fast path; see the module docstring)."""
    found = _template_for(document)
    if found is None:
        return canonicalize_reference(document)
    template, leaves = found
    if any("ltibmk" in value for value in leaves):
        return canonicalize_reference(document)
    rendered: dict[int, str] = {}
    for index, (kind, suffix) in template.renderers.items():
        value = leaves[index]
        rendered[index] = "<" + value + ">" if kind == "iri" else '"' + escape_literal(value) + '"' + suffix
    quads = list(dict.fromkeys(
        tuple(rendered[c] if type(c) is int else c for c in quad) for quad in template.quads
    ))
    by_node: dict[str, list[tuple]] = {}
    for quad in quads:
        for c in (quad[0], quad[2], quad[3]):
            if c[:2] == "_:":
                lst = by_node.setdefault(c, [])
                if not lst or lst[-1] is not quad:
                    lst.append(quad)
    labels: dict[str, str] = {}
    if by_node:
        hashes = {node: _hash_first_degree(node, qs) for node, qs in by_node.items()}
        if len(set(hashes.values())) != len(hashes):
            return canonicalize_reference(document)
        for i, node in enumerate(sorted(hashes, key=hashes.__getitem__)):
            labels[node] = f"_:c14n{i}"
    lines = []
    for s, p, o, g in quads:
        if s[:2] == "_:":
            s = labels[s]
        if o[:2] == "_:":
            o = labels[o]
        if g:
            if g[:2] == "_:":
                g = labels[g]
            lines.append(f"{s} {p} {o} {g} .\n")
        else:
            lines.append(f"{s} {p} {o} .\n")
    lines.sort()
    return "".join(lines)
