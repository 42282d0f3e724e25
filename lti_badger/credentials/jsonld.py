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
from ..jsonbody import MAX_DEPTH

CONTEXTS_PACKAGE = "lti_badger.credentials.contexts"


class ContextNotAvailable(BadInput):
    """A document names a JSON-LD context we do not ship; we never fetch one from the network."""


class TooDeep(BadInput):
    """A document nested deeper than `MAX_DEPTH` (as `jsonbody.depth_of` counts): the walk
    refuses it before anything recursive sees it."""

    def __init__(self) -> None:
        super().__init__(f"the document is nested more than {MAX_DEPTH} levels deep")


@lru_cache(maxsize=1)
def context_index() -> dict[str, str]:
    """URL -> file name of every context shipped in `credentials/contexts/`."""
    return json.loads(resources.files(CONTEXTS_PACKAGE).joinpath("index.json").read_text("utf-8"))


# Our own extension context (EU micro-credential elements), served by every deployment at
# `{base}` + EU_CONTEXT_PATH: the loader answers that path on any origin with the shipped copy,
# so signing and verifying never fetch it. A document naming that URL on another host is read
# with our copy; if theirs differed, the canonical form and so its signature would not match.
EU_CONTEXT_PATH = "/contexts/lti-badger/eu-microcredential-v1.json"
EU_CONTEXT_FILE = "eu-microcredential-v1.json"
_HTTP_URL = re.compile(r"^https?://[^/?#\s]+(/[^?#\s]*)?$")


def shipped_name(url: str) -> str | None:
    """The file of a context we ship for `url` (fragment already removed), or None."""
    name = context_index().get(url)
    if name is None and url.endswith(EU_CONTEXT_PATH) and _HTTP_URL.match(url):
        name = EU_CONTEXT_FILE
    return name


def eu_context() -> dict[str, Any]:
    """Our extension context document, as the tool serves it at EU_CONTEXT_PATH."""
    return copy.deepcopy(_context_file(EU_CONTEXT_FILE))


def served_contexts(document: dict[str, Any]) -> dict[str, Any]:
    """URL -> document of the contexts of ours (not published elsewhere) that `document` names:
    what a verifier that fetches nothing needs in its document map."""
    contexts = document.get("@context")
    return {url: eu_context() for url in contexts if isinstance(url, str)
            and url not in context_index() and shipped_name(url) == EU_CONTEXT_FILE} if isinstance(contexts, list) else {}


@lru_cache(maxsize=None)
def _context_file(name: str) -> dict[str, Any]:
    return json.loads(resources.files(CONTEXTS_PACKAGE).joinpath(name).read_text("utf-8"))


def _context_document(url: str) -> dict[str, Any]:
    return _context_file(context_index()[url])


def load_document(url: str, options: dict | None = None) -> dict[str, Any]:
    """PyLD document loader serving only the shipped contexts; any other URL is an error."""
    name = shipped_name(url.split("#", 1)[0])
    if name is None:
        raise ContextNotAvailable(f"JSON-LD context {url!r} is not available offline")
    return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(_context_file(name))}


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


# PyLD keeps module-level LRU caches (cachetools, not thread-safe); web servers run threads.
_pyld_lock = threading.RLock()


def canonicalize_reference(document: dict[str, Any]) -> str:
    """RDFC-1.0 N-Quads of `document` computed by PyLD alone (slow; the yardstick)."""
    try:
        with _pyld_lock:
            return jsonld.normalize(document, _options())
    except jsonld.JsonLdError as e:
        raise _jsonld_error(e) from e
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as e:
        raise BadInput(f"document is not valid JSON-LD: {type(e).__name__}") from e


def _to_dataset(document: dict[str, Any]) -> dict[str, list[dict]]:
    try:
        with _pyld_lock:
            return jsonld.to_rdf(document, {"base": None, "documentLoader": load_document})
    except jsonld.JsonLdError as e:
        raise _jsonld_error(e) from e
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as e:
        raise BadInput(f"document is not valid JSON-LD: {type(e).__name__}") from e


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
    # nothing a literal escapes (DEL included) either, so a leaf of either kind renders escaped as a literal
    pattern = re.compile(r"^(?:%s):[^\x00-\x20\x7f<>\"{}|^`\\]*$" % "|".join(schemes))
    return pattern, frozenset(k for k in keys if pattern.match(k))


# Shape tokens: ints, so they never collide with the key strings around them. STRUCT, JSON
# and VALUE are followed by the value they stand for.
_OPEN_D, _CLOSE_D, _OPEN_L, _CLOSE_L, _STRUCT, _JSON, _VALUE, _IRI, _TEXT = range(9)


class _Template:
    """The RDF quads of one shape: lines without blank nodes or slots, one format string for
    the lines with slots (`{i}` = leaf i, lines joined by NUL), and quads with blank nodes
    (when there are several) whose components are strings or int slots."""

    __slots__ = ("fixed", "slotted", "bnode_quads", "slots", "size")

    def __init__(self, fixed: list[str], slotted: str, bnode_quads: list[tuple],
                 slots: list[tuple[int, int, str]], size: int) -> None:
        self.fixed = fixed
        self.slotted = slotted
        self.bnode_quads = bnode_quads
        self.slots = slots
        self.size = size


class _Shape:
    __slots__ = ("structural", "templates", "usable")

    def __init__(self) -> None:
        self.structural: tuple[int, ...] = ()
        self.templates: dict[tuple, _Template] = {}
        self.usable = True


def _frozen(value: Any) -> Any:
    if type(value) is list and all(type(v) is str for v in value):
        return tuple(value)
    return json.dumps(value, sort_keys=True)


class Walk:
    """One walk of a document: its shape key, its string leaves in document order, and where
    each top-level member's tokens and leaves lie, so the same walk also gives the shape of
    the document without a member (the unsecured document is the credential without
    `proof`). Verification walks a credential once for its nesting limit (`TooDeep`), safe
    mode, its canonical form and its schema check."""

    __slots__ = ("shape", "leaves", "spans", "_key")

    def __init__(self, document: dict) -> None:
        self.shape, self.leaves, self.spans = _walk(document)
        self._key: tuple | None = None

    def key(self) -> tuple[tuple, list[str]]:
        if self._key is None:
            self._key = tuple(self.shape)
        return self._key, self.leaves

    def without(self, member: str) -> tuple[tuple, list[str]]:
        """(shape key, leaves) of the document with top-level `member` removed."""
        span = self.spans.get(member)
        if span is None:
            return self.key()
        t0, t1, l0, l1 = span
        return tuple(self.shape[:t0] + self.shape[t1:]), self.leaves[:l0] + self.leaves[l1:]


def _walk(document: dict) -> tuple[list, list[str], dict[str, tuple[int, int, int, int]]]:
    iri_re, iri_terms = _iri_rules()
    match = iri_re.match
    structural = _STRUCTURAL_KEYS
    shape: list = []
    leaves: list[str] = []
    add = shape.append
    leaf = leaves.append

    def walk_dict(node: dict, depth: int, spans: dict | None = None) -> None:
        if depth >= MAX_DEPTH and (depth > MAX_DEPTH or node):  # a member is one level deeper
            raise TooDeep()
        add(_OPEN_D)
        for k, v in node.items():
            if spans is not None:
                t0, l0 = len(shape), len(leaves)
            add(k)
            t = type(v)
            if t is str:
                if k in structural:
                    add(_STRUCT)
                    add(v)
                else:
                    add(_IRI if match(v) and v not in iri_terms else _TEXT)
                    leaf(v)
            elif k in structural:
                add(_JSON)
                add(_frozen(v))
            elif t is dict:
                walk_dict(v, depth + 1)
            elif t is list:
                walk_list(v, depth + 1)
            else:
                add(_VALUE)
                add(repr(v))
            if spans is not None:
                spans[k] = (t0, len(shape), l0, len(leaves))
        add(_CLOSE_D)

    def walk_list(node: list, depth: int) -> None:
        if depth >= MAX_DEPTH and (depth > MAX_DEPTH or node):
            raise TooDeep()
        add(_OPEN_L)
        for v in node:
            t = type(v)
            if t is str:
                add(_IRI if match(v) and v not in iri_terms else _TEXT)
                leaf(v)
            elif t is dict:
                walk_dict(v, depth + 1)
            elif t is list:
                walk_list(v, depth + 1)
            else:
                add(_VALUE)
                add(repr(v))
        add(_CLOSE_L)

    spans: dict[str, tuple[int, int, int, int]] = {}
    walk_dict(document, 1, spans)
    return shape, leaves, spans


def _shape_of(document: dict) -> tuple[tuple, list[str]]:
    """(shape key, string leaves in document order)."""
    return Walk(document).key()


def _marker(index: int, cls: int) -> str:
    return f"urn:ltibmk{index}z" if cls == _IRI else f"ltibmk{index}z"


def _skeleton(document: dict, classes: list[int], keep: frozenset[int]) -> dict:
    """The document with every leaf i replaced by marker i, except the leaves in `keep`."""
    counter = [0]
    structural = _STRUCTURAL_KEYS

    def string(v: str) -> str:
        i = counter[0]
        counter[0] += 1
        return v if i in keep else _marker(i, classes[i])

    def sk_dict(node: dict) -> dict:
        out = {}
        for k, v in node.items():
            t = type(v)
            if t is str:
                out[k] = v if k in structural else string(v)
            elif k in structural:
                out[k] = v
            elif t is dict:
                out[k] = sk_dict(v)
            elif t is list:
                out[k] = sk_list(v)
            else:
                out[k] = v
        return out

    def sk_list(node: list) -> list:
        out = []
        for v in node:
            t = type(v)
            out.append(string(v) if t is str else sk_dict(v) if t is dict else sk_list(v) if t is list else v)
        return out

    return sk_dict(document)


def _compile(document: dict, leaves: list[str], classes: list[int], keep: frozenset[int]
             ) -> tuple[_Template | None, set[int]]:
    """Convert the marked skeleton to RDF; returns the template, or None and the leaves that
    must be kept as real values (their marker did not come out as a whole literal or IRI)."""
    dataset = _to_dataset(_skeleton(document, classes, keep))
    bad: set[int] = set()
    kinds: dict[int, tuple[int, str]] = {}

    def component(c: dict[str, Any]) -> Any:
        kind, value = c["type"], c["value"]
        if kind == "blank node":
            return value
        exact = None
        for m in _MARKER_RE.finditer(value):
            index = int(m.group(1))
            if index < len(classes) and value == _marker(index, classes[index]):
                exact = index
            elif index < len(classes):
                bad.add(index)
        if exact is not None:
            form = (_IRI, "") if kind == "IRI" else (_TEXT, _literal_suffix(c))
            if kinds.setdefault(exact, form) != form:
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
    bad |= {i for i in range(len(leaves)) if i not in keep and i not in kinds}
    if bad - keep:
        return None, bad
    if len(set(quads)) != len(quads):
        # the same quad twice (two empty lists: `rdf:nil` twice): PyLD and jsonld.js both keep
        # the duplicate line, which a template of distinct lines cannot; no template
        return None, set()

    def escape_braces(text: str) -> str:
        return text.replace("{", "{{").replace("}", "}}")

    def brace(c: Any) -> str:
        """A component in the format string: a slot `{i}` inside its IRI brackets or literal
        quotes and suffix, so a leaf (escaped as a literal if needed) fills it as it is."""
        if type(c) is not int:
            return escape_braces(c)
        kind, suffix = kinds[c]
        return "<{%d}>" % c if kind == _IRI else '"{%d}"' % c + escape_braces(suffix)

    def is_bnode(c: Any) -> bool:
        return type(c) is str and c[:2] == "_:"

    bnodes = {c for quad in quads for c in (quad[0], quad[2], quad[3]) if is_bnode(c)}
    if len(bnodes) == 1:
        # one blank node: RDFC-1.0 labels it c14n0 whatever its hash
        quads = [tuple("_:c14n0" if is_bnode(c) else c for c in quad) for quad in quads]
    fixed, slotted, bnode_quads = [], [], []
    for quad in quads:
        s, p, o, g = quad
        if len(bnodes) > 1 and any(is_bnode(c) for c in (s, o, g)):
            bnode_quads.append(quad)
        elif any(type(c) is int for c in quad):
            slotted.append(f"{brace(s)} {brace(p)} {brace(o)}{' ' + brace(g) if g != '' else ''} .\n")
        else:
            fixed.append(f"{s} {p} {o}{' ' + g if g else ''} .\n")
    slots = [(i, kind, suffix) for i, (kind, suffix) in sorted(kinds.items())]
    # one format string for all slotted lines; NUL never occurs raw in a rendered line
    return _Template(fixed, "\x00".join(slotted), bnode_quads, slots, len(leaves)), set()


# How often `canonicalize` had to use the reference path (read by tests and the benchmark).
fallbacks = 0

_shapes: dict[tuple, _Shape] = {}
_shapes_lock = threading.Lock()
MAX_SHAPES = 512


def _template_for(document: dict, walked: tuple[tuple, list[str]] | None = None
                  ) -> tuple[_Template, list[str]] | None:
    shape_key, leaves = walked if walked is not None else _shape_of(document)
    shape = _shapes.get(shape_key)
    if shape is None:
        shape = _Shape()
        classes = [t for t in shape_key if type(t) is int and (t == _IRI or t == _TEXT)]
        keep: frozenset[int] = frozenset()
        for _ in range(3):
            template, bad = _compile(document, leaves, classes, keep)
            if template is not None:
                shape.structural = tuple(sorted(keep))
                shape.templates[tuple(leaves[i] for i in shape.structural)] = template
                break
            if not bad:
                shape.usable = False
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
        classes = [t for t in shape_key if type(t) is int and (t == _IRI or t == _TEXT)]
        template, _bad = _compile(document, leaves, classes, frozenset(shape.structural))
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


def _fallback(document: dict[str, Any]) -> str:
    global fallbacks
    fallbacks += 1
    return canonicalize_reference(document)


def canonicalize(document: dict[str, Any], *, walked: tuple[tuple, list[str]] | None = None) -> str:
    """RDFC-1.0 canonical N-Quads of `document` (fast path; see the module docstring).
    `walked`: the document's (shape key, leaves) when the caller has them (`Walk.without`)."""
    if type(document) is not dict:
        return _fallback(document)
    found = _template_for(document, walked)
    if found is None:
        return _fallback(document)
    template, leaves = found
    joined = " ".join(leaves)  # a space neither forms a marker nor needs escaping
    if "ltibmk" in joined:
        return _fallback(document)
    if _LIT_ESCAPE_RE.search(joined):
        # escaping as a literal leaves an IRI leaf unchanged: those hold no such character
        leaves = [escape_literal(value) for value in leaves]
    # rendered values hold no raw NUL (literals are escaped, IRI leaves have none)
    lines = set(template.fixed)
    if template.slotted:
        lines.update(template.slotted.format(*leaves).split("\x00"))
    if template.bnode_quads:
        vals = [""] * template.size
        for index, kind, suffix in template.slots:
            vals[index] = "<" + leaves[index] + ">" if kind == _IRI else '"' + leaves[index] + '"' + suffix
        quads = list(dict.fromkeys([
            tuple([vals[c] if type(c) is int else c for c in quad]) for quad in template.bnode_quads
        ]))
        labels = _canonical_labels(quads)
        if labels is None:
            return _fallback(document)
        for s, p, o, g in quads:
            if s[:2] == "_:":
                s = labels[s]
            if o[:2] == "_:":
                o = labels[o]
            if g:
                if g[:2] == "_:":
                    g = labels[g]
                lines.add(f"{s} {p} {o} {g} .\n")
            else:
                lines.add(f"{s} {p} {o} .\n")
    return "".join(sorted(lines))


def _canonical_labels(quads: list[tuple]) -> dict[str, str] | None:
    """Canonical labels from the first-degree hashes, or None when two blank nodes share one
    (then only the N-degree algorithm can tell them apart)."""
    by_node: dict[str, list[tuple]] = {}
    for quad in quads:
        s, _p, o, g = quad
        if s[:2] == "_:":
            by_node.setdefault(s, []).append(quad)
        if o[:2] == "_:" and o != s:
            by_node.setdefault(o, []).append(quad)
        if g[:2] == "_:" and g != s and g != o:
            by_node.setdefault(g, []).append(quad)
    hashes = {node: _hash_first_degree(node, qs) for node, qs in by_node.items()}
    if len(set(hashes.values())) != len(hashes):
        return None
    return {node: f"_:c14n{i}" for i, node in enumerate(sorted(hashes, key=hashes.__getitem__))}


# --- safe mode ------------------------------------------------------------------------------

_safe_results: dict[tuple, tuple[str, ...]] = {}


def leaf_paths(document: dict) -> list[str]:
    """The path of each string leaf, in the order `_shape_of` and `_skeleton` visit them."""
    paths: list[str] = []

    def walk(node: Any, path: str) -> None:
        if type(node) is dict:
            for k, v in node.items():
                if type(v) is str:
                    if k not in _STRUCTURAL_KEYS:
                        paths.append(f"{path}/{k}")
                elif k not in _STRUCTURAL_KEYS:
                    walk(v, f"{path}/{k}")
        elif type(node) is list:
            for i, v in enumerate(node):
                if type(v) is str:
                    paths.append(f"{path}/{i}")
                else:
                    walk(v, f"{path}/{i}")

    walk(document, "")
    return paths


def _relative_types(expanded: Any, found: set[str]) -> None:
    if isinstance(expanded, dict):
        for k, v in expanded.items():
            if k == "@type" and "@value" not in expanded:
                for t in v if isinstance(v, list) else [v]:
                    if isinstance(t, str) and ":" not in t:
                        found.add(t)
            else:
                _relative_types(v, found)
    elif isinstance(expanded, list):
        for v in expanded:
            _relative_types(v, found)


def safe_mode_problems(document: dict[str, Any], *, walked: tuple[tuple, list[str]] | None = None) -> list[str]:
    """What JSON-LD "safe mode" (as jsonld.js and the Digital Bazaar cryptosuites apply it)
    refuses: properties no context defines, which canonicalisation silently drops so a
    signature would not cover them, and types that stay relative IRIs. Both depend only on
    a document's shape (keys, types, contexts), so the answer is cached per shape."""
    if type(document) is not dict:
        return []
    shape_key, leaves = walked if walked is not None else _shape_of(document)
    known = _safe_results.get(shape_key)
    if known is None:
        classes = [t for t in shape_key if type(t) is int and (t == _IRI or t == _TEXT)]
        skeleton = _skeleton(document, classes, frozenset())
        try:
            with _pyld_lock:
                expanded = jsonld.expand(skeleton, {"base": None, "documentLoader": load_document})
        except jsonld.JsonLdError as e:
            raise _jsonld_error(e) from e
        except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as e:
            raise BadInput(f"document is not valid JSON-LD: {type(e).__name__}") from e
        text = json.dumps(expanded)
        present = {int(m) for m in _MARKER_RE.findall(text)}
        paths = leaf_paths(document)
        dropped = [paths[i] for i in range(len(leaves)) if i not in present and i < len(paths)]
        types: set[str] = set()
        _relative_types(expanded, types)
        known = tuple([f"the property {p} is not defined" for p in dropped]
                      + [f"the type {t!r} is not defined" for t in sorted(types)])
        with _shapes_lock:
            if len(_safe_results) >= MAX_SHAPES:
                _safe_results.clear()
            _safe_results[shape_key] = known
    return list(known)
