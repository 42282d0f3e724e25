"""The criteria builder's form <-> rule mapping and the designer's parsing (no database)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from lti_badger.criteria.rules import validate_rule
from lti_badger.errors import BadInput
from lti_badger.web import charts, forms

ACTS = ["a1", "a2", "a3"]
MODS = ["m1"]


def test_builder_rows_make_a_valid_rule_and_come_back():
    form = {"activity:a1": "completed", "activity:a2": "score", "activity_pct:a2": "75", "activity:a3": "",
            "module:m1": "score", "module_pct:m1": "60", "course_grade": "50", "badge:7": "on",
            "combine": "at_least", "at_least": "3", "opens": "2026-01-01", "closes": "2026-06-30"}
    rule = forms.rule_from_form(form, ACTS, MODS, [7, 8])
    validate_rule(rule)
    assert rule["type"] == "after" and rule["rule"]["type"] == "before"
    inner = rule["rule"]["rule"]
    assert inner["type"] == "at_least" and inner["count"] == 3 and len(inner["rules"]) == 5
    back = forms.form_from_rule(rule)
    for key in ("activity:a1", "activity:a2", "activity_pct:a2", "module:m1", "module_pct:m1", "course_grade",
                "badge:7", "combine", "at_least", "opens", "closes"):
        assert back[key] == form[key], key
    assert forms.rule_from_form(back, ACTS, MODS, [7, 8]) == rule


def test_single_requirement_is_the_rule_itself():
    assert forms.rule_from_form({"activity:a1": "completed"}, ACTS, MODS, []) == {"type": "activity_completed",
                                                                               "activity": "a1"}


@pytest.mark.parametrize("form, match", [
    ({}, "at least one requirement"),
    ({"activity:a1": "score"}, "minimum percent"),
    ({"activity:a1": "score", "activity_pct:a1": "120"}, "between"),
    ({"activity:a1": "bogus"}, "unknown choice"),
    ({"activity:a1": "completed", "combine": "at_least", "at_least": "5"}, "between"),
])
def test_builder_rejects_bad_rows(form, match):
    with pytest.raises(BadInput, match=match):
        forms.rule_from_form(form, ACTS, MODS, [])


def test_hand_written_rule_is_not_forced_into_the_builder():
    assert forms.form_from_rule({"type": "enrolled_days", "days": 3}) is None
    assert forms.form_from_rule({"type": "any", "rules": [{"type": "activity_completed", "activity": "a1",
                                                           "require_pass": True}]}) is None


def test_designer_fields_and_skills():
    data = forms.designer_data({"name": " Data skills ", "skills": "SQL | ESCO | https://esco.example/sql\n\n"
                                "Python | | https://python.example | PY | ext:Language",
                                "tags": "data, sql", "eqf_level": "6", "workload_hours": "12",
                                "evidence_grades": "on", "image_source": "generate", "image_template": "hexagon",
                                "image_colour": "#6a1b9a", "validity_days": "30"}, None, None)
    assert data["name"] == "Data skills" and data["validity_days"] == 30 and data["image_type"] == "image/png"
    assert data["details"]["alignments"] == [
        {"targetName": "SQL", "targetFramework": "ESCO", "targetUrl": "https://esco.example/sql"},
        {"targetName": "Python", "targetUrl": "https://python.example", "targetCode": "PY", "targetType": "ext:Language"}]
    assert {k: data["details"][k] for k in ("workload_hours", "eqf_level")} == {"workload_hours": 12, "eqf_level": 6}
    assert "assessment" not in data["details"] and "credits_ects" not in data["details"]
    assert data["details"]["image_template"] == {"template": "hexagon", "colour": "#6a1b9a", "text": "DS", "icon": "none"}
    assert forms.format_alignments(data["details"]["alignments"]) == (
        "SQL | ESCO | https://esco.example/sql\nPython |  | https://python.example | PY | ext:Language")
    with pytest.raises(BadInput, match="https"):
        forms.parse_alignments("SQL | ESCO | javascript:alert(1)")
    with pytest.raises(BadInput, match="Skills line 2: add a link"):
        forms.parse_alignments("SQL | ESCO | https://esco.example/sql\nPython")
    with pytest.raises(BadInput, match="whole number"):
        forms.designer_data({"name": "x", "workload_hours": "12.5"}, None, None)
    with pytest.raises(BadInput, match="name"):
        forms.designer_data({"name": "  "}, None, None)
    with pytest.raises(BadInput, match="choose a PNG or SVG"):
        forms.designer_data({"name": "x", "image_source": "upload"}, None, None)


def test_weekly_series_and_chart_have_text():
    today = date(2026, 11, 23)  # a Monday
    dates = [datetime(2026, 11, 23, 10, tzinfo=timezone.utc), datetime(2026, 11, 17, tzinfo=timezone.utc),
             datetime(2020, 1, 1, tzinfo=timezone.utc)]
    series = charts.awards_per_week(dates, weeks=3, today=today)
    assert series.labels == ["2026-11-09", "2026-11-16", "2026-11-23"] and series.values == [0, 1, 1]
    svg = str(charts.bar_chart_svg(series))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title>awards per week</title>" in svg
    assert " style=" not in svg
