"""The gradebook rules without a network: what each platform's granted scopes and product
allow, the score that leaves a grade unchanged, and how a read-back is judged."""

from __future__ import annotations

from datetime import datetime, timezone

from lti_badger.deliveries.gradebook import (
    CONFIRMED,
    NOT_SHOWN,
    UNCHECKED,
    ags_rules,
    confirmation,
    effective_mode,
    unchanged_score,
)
from lti_badger.lti import claims as c

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
DECLARATIVE = [c.SCOPE_LINEITEM_READONLY, c.SCOPE_RESULT_READONLY, c.SCOPE_SCORE]
FULL = [c.SCOPE_LINEITEM, *DECLARATIVE]


def test_columns_need_line_item_management_and_a_platform_with_more_than_one_grade_per_link():
    assert effective_mode("columns", ags_rules("moodle", FULL)) == "columns"
    assert effective_mode("columns", ags_rules("canvas", DECLARATIVE)) == "feedback"
    assert effective_mode("columns", ags_rules("openedx", FULL)) == "feedback"
    assert effective_mode("none", ags_rules("openedx", FULL)) == "none"
    # Nothing recorded (a course made by hand before scopes were stored): everything assumed.
    assert ags_rules(None, []).columns


def test_only_open_edx_binds_created_line_items_to_the_resource_link():
    assert ags_rules("openedx", FULL).bind_resource_link
    assert not ags_rules("moodle", FULL).bind_resource_link and not ags_rules("canvas", FULL).bind_resource_link


def test_unchanged_score_reposts_the_current_score_or_none():
    kept = unchanged_score({"userId": "u1", "resultScore": 7, "resultMaximum": 10}, sub="u1", comment="Badge earned: X.",
                           timestamp=NOW)
    assert (kept["scoreGiven"], kept["scoreMaximum"], kept["gradingProgress"]) == (7, 10, "FullyGraded")
    assert kept["comment"] == "Badge earned: X." and kept["timestamp"] == "2026-12-07T12:00:00Z"
    empty = unchanged_score(None, sub="u1", comment="Badge earned: X.", timestamp=NOW)
    assert "scoreGiven" not in empty and "scoreMaximum" not in empty and empty["gradingProgress"] == "NotReady"
    # A result without a maximum: AGS's default maximum is 1.
    assert unchanged_score({"resultScore": 0.5}, sub="u1", comment="", timestamp=NOW)["scoreMaximum"] == 1


def test_read_back_judgement():
    score = {"userId": "u1", "scoreGiven": 1, "scoreMaximum": 1, "comment": "Badge earned: X."}
    assert confirmation([{"userId": "u1", "resultScore": 10, "resultMaximum": 10}], score) == CONFIRMED
    assert confirmation([{"userId": "u1", "resultScore": 0, "resultMaximum": 10}], score) == NOT_SHOWN
    assert confirmation([{"userId": "u2", "resultScore": 1}], score) == NOT_SHOWN
    assert confirmation([], score) == NOT_SHOWN
    # Moodle lists a grade of 0 without resultScore: a revocation's 0 cannot be told apart.
    assert confirmation([{"userId": "u1"}], {**score, "scoreGiven": 0}) == UNCHECKED
    note = {"userId": "u1", "comment": "Badge earned: X."}
    assert confirmation([{"userId": "u1", "comment": "Badge earned: X."}], note) == CONFIRMED
    assert confirmation([{"userId": "u1"}], note) == UNCHECKED  # Moodle: no comment without a grade
    assert confirmation([{"userId": "u1", "comment": "older"}], note) == NOT_SHOWN
