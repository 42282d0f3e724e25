"""Broken rules are rejected with a message and a JSON pointer to the offending node; the
schema ships in the package; hashes are canonical; badge cycles are found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from lti_badger.criteria import references, rule_hash, rule_schema, validate_rule
from lti_badger.errors import BadInput

DOC = Path(__file__).resolve().parents[2] / "docs" / "criteria.md"

GOOD = {"type": "all", "label": "Finish unit 1", "rules": [
    {"type": "module_completed", "module": "m1"},
    {"type": "activity_score", "activity": "quiz1", "min_percent": 80},
    {"type": "at_least", "count": 2, "rules": [
        {"type": "activity_completed", "activity": "a", "require_pass": True},
        {"type": "module_score", "module": "m2", "aggregate": "sum", "min_points": 10},
        {"type": "course_grade", "min_percent": 60},
    ]},
    {"type": "before", "date": "2026-06-30T23:59:00+02:00", "rule": {"type": "enrolled_days", "min_days": 7}},
    {"type": "after", "date": "2026-01-01"},
    {"type": "badge_earned", "achievement": 3},
]}


def test_good_rule_passes_and_the_packaged_schema_is_valid():
    validate_rule(GOOD)
    Draft202012Validator.check_schema(rule_schema())
    assert not list(Draft202012Validator(rule_schema()).iter_errors(GOOD))


BROKEN = [
    ("not-object", [1, 2], "", "JSON object"),
    ("no-type", {"activity": "x"}, "", "'type' is required"),
    ("unknown-node", {"type": "all", "rules": [{"type": "activity_done", "activity": "x"}]}, "/rules/0/type",
     "unknown node type 'activity_done'"),
    ("missing-field", {"type": "any", "rules": [{"type": "ok"}, ]}, "/rules/0/type", "unknown node type"),
    ("missing-activity", {"type": "all", "rules": [{"type": "activity_completed"}]}, "/rules/0",
     "'activity' is required"),
    ("extra-field", {"type": "all", "rules": [{"type": "module_completed", "module": "m", "colour": 1}]},
     "/rules/0", "'colour' was unexpected"),
    ("both-thresholds", {"type": "activity_score", "activity": "a", "min_percent": 5, "min_points": 3}, "",
     "exactly one of 'min_percent' or 'min_points'"),
    ("no-threshold", {"type": "module_score", "module": "m"}, "", "exactly one of"),
    ("percent-range", {"type": "all", "rules": [{"type": "course_grade", "min_percent": 101}]},
     "/rules/0/min_percent", "101"),
    ("empty-group", {"type": "all", "rules": []}, "/rules", "should be non-empty"),
    ("bad-count", {"type": "at_least", "count": 0, "rules": [{"type": "after", "date": "2026-01-01"}]}, "/count",
     "minimum"),
    ("bad-mode", {"type": "module_completed", "module": "m", "mode": "mostly"}, "/mode", "'mostly'"),
    ("bad-date", {"type": "any", "rules": [{"type": "before", "date": "next tuesday"}]}, "/rules/0/date",
     "not an ISO 8601"),
    ("naive-date", {"type": "after", "date": "2026-01-01T10:00:00"}, "/date", "time zone"),
    ("nested-bad", {"type": "before", "date": "2026-01-01", "rule": {"type": "at_least", "count": 1,
                                                                     "rules": [{"type": "badge_earned",
                                                                                "achievement": "x"}]}},
     "/rule/rules/0/achievement", "not of type 'integer'"),
    ("not-json", {"type": "after", "date": float("nan")}, "", "plain JSON"),
]


@pytest.mark.parametrize("rule,ptr,words", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_rule_points_at_the_node(rule, ptr, words):
    with pytest.raises(BadInput) as caught:
        validate_rule(rule)
    err = caught.value
    assert err.detail["pointer"] == ptr
    assert words in err.message
    assert err.status_code == 400


def test_too_deep_or_too_big_is_rejected():
    rule: dict = {"type": "activity_completed", "activity": "a"}
    for _ in range(20):
        rule = {"type": "all", "rules": [rule]}
    with pytest.raises(BadInput, match="nested deeper"):
        validate_rule(rule)
    wide = {"type": "any", "rules": [{"type": "any", "rules": [{"type": "activity_completed", "activity": str(i)}
                                                              for i in range(200)]} for _ in range(3)]}
    with pytest.raises(BadInput, match="too many nodes"):
        validate_rule(wide)


def test_badge_cycles_are_rejected_with_the_chain():
    graph = {1: {2}, 2: {3}, 3: set()}
    validate_rule({"type": "badge_earned", "achievement": 1}, badge_graph=graph, achievement_id=4)
    with pytest.raises(BadInput) as caught:
        validate_rule({"type": "all", "rules": [{"type": "after", "date": "2026-01-01"},
                                                {"type": "badge_earned", "achievement": 1}]},
                      badge_graph=graph, achievement_id=3)
    assert caught.value.detail["pointer"] == "/rules/1/achievement"
    assert "3 -> 1 -> 2 -> 3" in caught.value.message
    with pytest.raises(BadInput, match="cannot require itself"):
        validate_rule({"type": "badge_earned", "achievement": 5}, achievement_id=5)
    with pytest.raises(BadInput, match="not a badge of this course"):
        validate_rule({"type": "badge_earned", "achievement": 9}, known_achievements={1, 2})


def test_rule_hash_is_canonical():
    a = {"type": "activity_score", "activity": "q", "min_percent": 50}
    b = json.loads('{"min_percent": 50, "activity": "q", "type": "activity_score"}')
    assert rule_hash(a) == rule_hash(b)
    assert len(rule_hash(a)) == 64
    assert rule_hash(a) != rule_hash({**a, "min_percent": 51})


def test_references_collects_what_the_rule_reads():
    refs = references(GOOD)
    assert refs.activities == {"quiz1", "a"}
    assert refs.modules == {"m1", "m2"}
    assert refs.achievements == {3}
    assert refs.course_grade and refs.time_based and refs.enrolment


def test_every_example_in_the_doc_page_is_valid():
    text = DOC.read_text("utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```json")[1:]]
    assert len(blocks) >= 8
    for block in blocks:
        validate_rule(json.loads(block))
