"""The 1EdTech OB 3.0 JSON Schemas (AchievementCredential, also for OpenBadgeCredential; and
EndorsementCredential), shipped in the package and compiled once each.

Whether a credential matches the schema depends only on its shape (keys, array lengths, types,
numbers: what `jsonld.Walk` keys) and on the strings the schema constrains by value (formats,
patterns, enumerations). A verifier checking the badges of one course sees the same few
shapes over and over, so a match is remembered by shape and those values; a mismatch is
always checked afresh, since its messages quote the document."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft201909Validator

from .jsonld import Walk, leaf_paths

SCHEMA_FILE = "ob_v3p0_achievementcredential_schema.json"
ENDORSEMENT_SCHEMA_FILE = "ob_v3p0_endorsementcredential_schema.json"


@lru_cache(maxsize=2)
def _schema(name: str = SCHEMA_FILE) -> dict[str, Any]:
    return json.loads(resources.files("lti_badger.credentials.schemas").joinpath(name).read_text("utf-8"))


@lru_cache(maxsize=2)
def _validator(name: str = SCHEMA_FILE) -> Draft201909Validator:
    return Draft201909Validator(_schema(name), format_checker=Draft201909Validator.FORMAT_CHECKER)


def endorsement_schema_errors(document: Any) -> list[str]:
    """Readable violations of the official EndorsementCredential schema (rarely checked: no fast path)."""
    return _slow_errors(document, ENDORSEMENT_SCHEMA_FILE)


@lru_cache(maxsize=1)
def _fast_validator():
    """The same schema compiled to Python by fastjsonschema (draft-07 semantics: the schema
    only uses keywords whose meaning did not change in 2019-09), ~50x faster. It only ever
    says "valid"; anything it rejects is re-checked by jsonschema, whose verdict and messages
    are the ones reported."""
    schema = {k: v for k, v in copy.deepcopy(_schema()).items() if k != "$schema"}  # it rewrites references
    return fastjsonschema.compile(schema)


def _fast_ok(document: Any) -> bool:
    try:
        _fast_validator()(document)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _errors(document: Any) -> list[str]:
    if _fast_ok(document):
        return []
    return _slow_errors(document)


def _slow_errors(document: Any, name: str = SCHEMA_FILE) -> list[str]:
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors[:20]]


def schema_errors(document: Any, *, walk: Walk | None = None) -> list[str]:
    """Readable violations of the official schema, unchanged; empty when `document` is valid.
    (A two-entry `credentialStatus` list, the per-issuer VC 2.0 / OB 3.1 mode, is one of them:
    the schema wants one object.) `walk`: the document's shape walk, to remember a match by."""
    if walk is None or _value_rules() is None:
        return _errors(document)
    shape, leaves = walk.key()
    readers = _value_readers.get(shape)
    if readers is None:
        readers = _readers_for(document)
        _remember(_value_readers, shape, readers)
    key = (shape, *[read(leaves[i]) for i, read in readers])
    if key in _matches:
        return []
    errors = _errors(document)
    if not errors:
        _remember(_matches, key, True)
    return errors


_VALUE_KEYWORDS = frozenset({"format", "pattern", "enum", "const", "minLength", "maxLength", "uniqueItems"})
_SUBSCHEMAS = ("items", "prefixItems", "additionalItems", "contains", "oneOf", "anyOf", "allOf", "not", "if", "then",
               "else")
_MEMO_MAX = 4096
_matches: dict[tuple, bool] = {}
_value_readers: dict[tuple, tuple[tuple[int, Callable[[str], Any]], ...]] = {}


def _remember(memo: dict, key: Any, value: Any) -> None:
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = value


def _same(value: str) -> str:
    return value


@lru_cache(maxsize=8)
def _format_reader(name: str) -> Callable[[str], bool]:
    """Whether a string is in the format, as the compiled schema judges it."""
    check = fastjsonschema.compile({"type": "string", "format": name})

    def read(value: str) -> bool:
        try:
            check(value)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return read


@lru_cache(maxsize=1)
def _value_rules() -> dict[str, Callable[[str], Any]] | None:
    """Each property whose string values the schema constrains, with what of a value the
    verdict depends on: its validity where the only rule is one format (dates), the value
    itself otherwise. Found by following each property's schema through references and
    combinators, not into nested properties (those are judged by their own names). None
    when the schema also constrains properties it does not name: then nothing is remembered."""
    schema = _schema()
    if any(isinstance(node.get(k), dict) for node in _nodes(schema)
           for k in ("additionalProperties", "patternProperties", "propertyNames", "dependentSchemas")):
        return None
    rules: dict[str, set[tuple[str, str]]] = {}
    for node in _nodes(schema):
        for name, sub in (node.get("properties") or {}).items():
            found = _value_keywords(schema, sub, frozenset())
            if found:
                rules.setdefault(name, set()).update(found)
    return {name: _format_reader(next(iter(found))[1]) if len(found) == 1 and next(iter(found))[0] == "format"
            else _same for name, found in rules.items()}


def _nodes(schema: Any) -> list[dict[str, Any]]:
    """Every object in the schema."""
    out, stack = [], [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            out.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return out


def _value_keywords(schema: dict[str, Any], node: Any, seen: frozenset[str]) -> set[tuple[str, str]]:
    if isinstance(node, list):
        return {found for item in node for found in _value_keywords(schema, item, seen)}
    if not isinstance(node, dict):
        return set()
    found = {(k, json.dumps(node[k], sort_keys=True)) if k != "format" else (k, node[k])
             for k in _VALUE_KEYWORDS & node.keys()}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref not in seen:
        target: Any = schema
        for part in ref.split("#", 1)[-1].strip("/").split("/"):
            target = target[part]
        found |= _value_keywords(schema, target, seen | {ref})
    for k in _SUBSCHEMAS:
        if k in node:
            found |= _value_keywords(schema, node[k], seen)
    return found


def _readers_for(document: Any) -> tuple[tuple[int, Callable[[str], Any]], ...]:
    """(leaf index, reader) of the leaves of this shape the schema constrains by value."""
    rules = _value_rules() or {}
    names = [next((part for part in reversed(path.split("/")) if not part.isdigit()), "") for path in
             leaf_paths(document)]
    return tuple((i, rules[name]) for i, name in enumerate(names) if name in rules)
