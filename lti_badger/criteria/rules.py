"""The rule language: JSON trees checked against `rule.schema.json`, plus the checks a schema
cannot express (dates, size, cycles between badges). Every rejection names the offending node
with a JSON pointer, so an editor can highlight it and an API client can fix it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from lti_badger.errors import BadInput

NODE_TYPES = (
    "activity_completed", "activity_score", "module_completed", "module_score", "course_grade",
    "all", "any", "at_least", "before", "after", "badge_earned", "enrolled_days",
)
GROUP_TYPES = ("all", "any", "at_least")
DATE_TYPES = ("before", "after")

# A rule is written by a person; anything bigger than this is a mistake or an attack.
MAX_NODES = 500
MAX_DEPTH = 12


@lru_cache(maxsize=1)
def rule_schema() -> dict[str, Any]:
    """The JSON Schema shipped with the package (also served to editors and documented)."""
    text = resources.files("lti_badger.criteria").joinpath("rule.schema.json").read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(rule_schema())


def pointer(path: tuple[str | int, ...] | list[str | int]) -> str:
    """RFC 6901 JSON pointer for a path inside the rule ("" is the root)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _reject(message: str, path: tuple[str | int, ...] | list[str | int]) -> BadInput:
    where = pointer(path)
    return BadInput(f"rule {where or '/'}: {message}", detail={"pointer": where, "reason": message})


def parse_date(value: str) -> datetime:
    """Rule dates are ISO 8601 with a zone; a bare date means midnight UTC."""
    if len(value) == 10:
        d = date.fromisoformat(value)
        return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("date-time without a time zone")
    return parsed.astimezone(timezone.utc)


def canonical_json(rule: Any) -> str:
    return json.dumps(rule, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def rule_hash(rule: Any) -> str:
    """sha256 of the canonical JSON: the same rule always hashes the same (quoted in evidence)."""
    return hashlib.sha256(canonical_json(rule).encode("utf-8")).hexdigest()


def children(node: Mapping[str, Any]) -> Iterator[tuple[tuple[str | int, ...], Mapping[str, Any]]]:
    """Direct sub-rules with their relative path."""
    kind = node.get("type")
    if kind in GROUP_TYPES:
        for i, child in enumerate(node.get("rules", ())):
            yield ("rules", i), child
    elif kind in DATE_TYPES and "rule" in node:
        yield ("rule",), node["rule"]


def walk(rule: Mapping[str, Any], path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Mapping[str, Any]]]:
    """Every node of a (valid) rule, depth first, with its path from the root."""
    yield path, rule
    for rel, child in children(rule):
        yield from walk(child, path + rel)


@dataclass(frozen=True)
class References:
    """What a rule depends on; drives incremental re-evaluation, snapshot loading and lint."""

    activities: frozenset[str] = frozenset()
    modules: frozenset[str] = frozenset()
    achievements: frozenset[int] = frozenset()
    course_grade: bool = False
    # A course_grade inside before/after with a rule needs every progress row (the window
    # filters them); otherwise a computed course grade can be summed by the database.
    course_grade_windowed: bool = False
    time_based: bool = False
    enrolment: bool = False
    # Modules whose items must be read row by row (inside a date window, or the LMS's own
    # completion); the others can be summed by the database for a preview.
    modules_rowwise: frozenset[str] = frozenset()


def references(rule: Mapping[str, Any]) -> References:
    activities: set[str] = set()
    modules: set[str] = set()
    achievements: set[int] = set()
    rowwise: set[str] = set()
    course_grade = windowed = time_based = enrolment = False
    for path, node in walk(rule):
        kind = node["type"]
        if kind in ("activity_completed", "activity_score"):
            activities.add(node["activity"])
        elif kind in ("module_completed", "module_score"):
            modules.add(node["module"])
            if "rule" in path or node.get("mode") == "lms":
                rowwise.add(node["module"])
        elif kind == "badge_earned":
            achievements.add(int(node["achievement"]))
        elif kind == "course_grade":
            course_grade = True
            windowed = windowed or "rule" in path
        elif kind in DATE_TYPES:
            time_based = True
        elif kind == "enrolled_days":
            enrolment = time_based = True
    return References(frozenset(activities), frozenset(modules), frozenset(achievements),
                      course_grade, windowed, time_based, enrolment, frozenset(rowwise))


def validate_rule(
    rule: Any,
    *,
    badge_graph: Mapping[int, Set[int]] | None = None,
    achievement_id: int | None = None,
    known_achievements: Set[int] | None = None,
) -> None:
    """Raise `BadInput` (with `detail["pointer"]`) unless `rule` is a well-formed rule.

    `badge_graph` maps each achievement of the course to the achievements its current rule
    requires; with `achievement_id` (the achievement this rule belongs to) a `badge_earned`
    chain leading back to it is rejected as a cycle. `known_achievements` restricts
    `badge_earned` to achievements of the same course.
    """
    if not isinstance(rule, dict):
        raise _reject("a rule must be a JSON object with a 'type'", ())
    try:
        canonical_json(rule)
    except (TypeError, ValueError) as e:
        raise _reject(f"not plain JSON ({e})", ()) from e
    _check_size(rule)
    errors = sorted(_validator().iter_errors(rule), key=lambda e: (-len(e.absolute_path), str(e.absolute_path)))
    if errors:
        raise _schema_error(rule, errors)
    for path, node in walk(rule):
        kind = node["type"]
        if kind in DATE_TYPES:
            try:
                parse_date(node["date"])
            except ValueError as e:
                raise _reject(f"'date' is not an ISO 8601 date-time with a time zone: {node['date']!r}", path + ("date",)) from e
        elif kind == "badge_earned":
            target = int(node["achievement"])
            if achievement_id is not None and target == achievement_id:
                raise _reject("a badge cannot require itself", path + ("achievement",))
            if known_achievements is not None and target not in known_achievements:
                raise _reject(f"achievement {target} is not a badge of this course", path + ("achievement",))
            if badge_graph is not None and achievement_id is not None:
                chain = _path_to(badge_graph, target, achievement_id)
                if chain is not None:
                    cycle = " -> ".join(str(a) for a in [achievement_id, *chain])
                    raise _reject(f"cycle in badge_earned: {cycle}", path + ("achievement",))


def _check_size(rule: Any) -> None:
    count = 0
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(rule, ())]
    while stack:
        node, path = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _reject(f"too many nodes (more than {MAX_NODES})", ())
        if sum(1 for p in path if p in ("rules", "rule")) > MAX_DEPTH:
            raise _reject(f"nested deeper than {MAX_DEPTH} levels", path)
        if isinstance(node, dict):
            subs = node.get("rules")
            if isinstance(subs, list):
                stack.extend((c, path + ("rules", i)) for i, c in enumerate(subs))
            if isinstance(node.get("rule"), dict):
                stack.append((node["rule"], path + ("rule",)))


def _schema_error(rule: Any, errors: list) -> BadInput:
    err = errors[0]
    path = list(err.absolute_path)
    if err.validator == "enum" and path and path[-1] == "type":
        known = ", ".join(NODE_TYPES)
        return _reject(f"unknown node type {err.instance!r} (known: {known})", path)
    if err.validator == "oneOf":
        return _reject("give exactly one of 'min_percent' or 'min_points'", path)
    if err.validator == "additionalProperties":
        return _reject(err.message.replace("Additional properties", "fields"), path)
    if err.validator == "required":
        return _reject(err.message.replace("is a required property", "is required"), path)
    return _reject(err.message, path)


def _path_to(graph: Mapping[int, Set[int]], start: int, goal: int) -> list[int] | None:
    """A chain of `badge_earned` edges from start to goal, or None."""
    seen: set[int] = set()
    stack: list[tuple[int, list[int]]] = [(start, [start])]
    while stack:
        node, chain = stack.pop()
        if node == goal:
            return chain
        if node in seen:
            continue
        seen.add(node)
        for nxt in graph.get(node, ()):
            stack.append((nxt, chain + [nxt]))
    return None
