"""Template roles: placeholders in a criteria rule ("role:final_exam" where an activity or a
module id goes) that an instructor maps to the activities or modules of their course. The rule
stays in the rule schema's format (a role is a valid LMS id string); `instantiate` replaces
each role by the ids it maps to, a node whose role maps to several ids becoming an `all` of
copies (every module completed, every tagged activity scored)."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from lti_badger.errors import BadInput

from .rules import walk

ROLE_PREFIX = "role:"
ROLE_KEY = re.compile(r"^[a-z0-9_]{1,40}$")
# The node types that name an activity or a module, and the field (= role kind) that does.
KIND_OF_NODE = {"activity_completed": "activity", "activity_score": "activity",
                "module_completed": "module", "module_score": "module"}


def role_key(value: Any) -> str | None:
    return value[len(ROLE_PREFIX):] if isinstance(value, str) and value.startswith(ROLE_PREFIX) else None


def rule_roles(rule: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """{key: {"key", "kind", "label"}} of every role the rule names, in the order it names them;
    a key used for an activity and for a module is refused."""
    found: dict[str, dict[str, str]] = {}
    for _path, node in walk(rule):
        kind = KIND_OF_NODE.get(node["type"])
        if kind is None:
            continue
        key = role_key(node[kind])
        if key is None:
            continue
        if not ROLE_KEY.match(key):
            raise BadInput(f"role {key!r}: use lower-case letters, digits and _ (at most 40)", detail={"field": "rule"})
        if key in found and found[key]["kind"] != kind:
            raise BadInput(f"role {key!r} stands for an activity and for a module", detail={"field": "rule"})
        found.setdefault(key, {"key": key, "kind": kind, "label": node.get("label") or key.replace("_", " ")})
    return found


def unmapped_roles(rule: Mapping[str, Any]) -> set[str]:
    """Roles a badge's rule still names (an instantiated rule with every role mapped has none)."""
    return {k for _p, node in walk(rule) if node["type"] in KIND_OF_NODE
            for k in [role_key(node[KIND_OF_NODE[node["type"]]])] if k}


def instantiate(rule: Mapping[str, Any], mapping: Mapping[str, list[str]]) -> dict[str, Any]:
    """The rule with each mapped role replaced by its ids; unmapped roles stay as they are."""
    def visit(node: Mapping[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(dict(node))
        kind = KIND_OF_NODE.get(out["type"])
        if kind is not None:
            key = role_key(out[kind])
            ids = list(mapping.get(key) or []) if key else []
            if ids:
                copies = [{**out, kind: i} for i in ids]
                if len(copies) == 1:
                    return copies[0]
                group = {"type": "all", "rules": [{k: v for k, v in c.items() if k != "label"} for c in copies]}
                if out.get("label"):
                    group["label"] = out["label"]
                return group
            return out
        if "rules" in out:
            out["rules"] = [visit(child) for child in out["rules"]]
        if "rule" in out:
            out["rule"] = visit(out["rule"])
        return out
    return visit(rule)
