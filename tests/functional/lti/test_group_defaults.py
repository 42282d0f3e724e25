"""Issue 14 B: defaults by course group. The LMS tells a course's term and sub-account (Canvas,
custom parameters `$Canvas.term.name` / `$Canvas.account.name`) or category (a `course_category`
custom parameter, e.g. Moodle's admin); a template an admin made the default of that group is
attached to the course when it first launches, once, with its roles left to map."""

from __future__ import annotations

from datetime import datetime, timezone

import requests
from sqlalchemy import select

from lti_badger.criteria import templates
from lti_badger.devtools.lms_sim import spec
from lti_badger.lti.registration import ToolUrls, canvas_config
from lti_badger.lti.services import course_groups
from lti_badger.models import Achievement, Course, TemplateAttachment

from .conftest import INSTRUCTOR, LEARNER

RULE = {"type": "activity_score", "activity": "role:tagged", "min_percent": 80, "label": "Tagged activities"}


def _template(tool, platform_id: int, name: str, **groups: str) -> int:
    now = datetime.now(timezone.utc)
    with tool.sessions() as s:
        template = templates.create_template(s, platform_id, {"name": name, "rule": RULE,
                                                              "values": {"validity_days": 730}}, None, now)
        for kind, value in groups.items():
            templates.add_group_default(s, platform_id, kind, value, template.id, now)
        s.commit()
        return template.id


def _badges(tool, context_id: str) -> list[tuple[str, dict, int | None]]:
    with tool.sessions() as s:
        course = s.scalar(select(Course).where(Course.context_id == context_id))
        return [(a.current_version.name, a.current_version.rule, s.scalar(
                    select(TemplateAttachment.template_id).where(TemplateAttachment.achievement_id == a.id)))
                for a in s.scalars(select(Achievement).where(Achievement.course_id == course.id))]


def test_a_group_default_is_attached_when_a_course_of_the_group_first_launches(tool, sim, platform_id):
    spring = _template(tool, platform_id, "Spring completion", term="2026 Spring")
    engineering = _template(tool, platform_id, "Engineering skill", account="Engineering", category="Engineering")
    _template(tool, platform_id, "Autumn completion", term="2026 Autumn")
    sim.add_course("eng1", "Statics", custom={"canvas_term_name": "2026 Spring", "canvas_account_name": "Engineering"})
    sim.add_course("art1", "Drawing", custom={"canvas_term_name": "$Canvas.term.name"})  # Canvas knew no term
    for context_id in ("eng1", "art1"):
        sim.enroll(context_id, INSTRUCTOR, [spec.ROLE_INSTRUCTOR])
        sim.enroll(context_id, LEARNER, [spec.ROLE_LEARNER])
    http = requests.Session()
    assert sim.launch(http, LEARNER, "eng1", follow_redirects=False).status_code == 303  # any first launch
    badges = _badges(tool, "eng1")
    assert sorted((name, template) for name, _rule, template in badges) == [
        ("Engineering skill", engineering), ("Spring completion", spring)]
    assert all(rule == RULE for _n, rule, _t in badges)  # roles left for the instructor to map
    with tool.sessions() as s:
        course = s.scalar(select(Course).where(Course.context_id == "eng1"))
        assert course.groups == {"term": "2026 Spring", "account": "Engineering"}
        assert all(a.state == "draft" for a in s.scalars(select(Achievement).where(Achievement.course_id == course.id)))
    # Later launches (even after the admin adds another default) attach nothing more.
    _template(tool, platform_id, "Late default", term="2026 Spring")
    assert sim.launch(http, INSTRUCTOR, "eng1", follow_redirects=False).status_code == 303
    assert len(_badges(tool, "eng1")) == 2
    # The instructor finds the roles to map on the badge page.
    page = http.get(tool.url + sim.launch(http, INSTRUCTOR, "eng1", follow_redirects=False).headers["Location"])
    assert page.status_code == 200 and "Map roles" in page.text and "From the template Spring completion" in page.text
    # A course of no known group gets nothing.
    assert sim.launch(http, INSTRUCTOR, "art1", follow_redirects=False).status_code == 303
    assert _badges(tool, "art1") == []


def test_the_group_claims_read_canvas_and_category_custom_parameters():
    assert course_groups({"canvas_term_name": "2026 Spring", "canvas_account_id": 17, "course_category": "Science"}) \
        == {"term": "2026 Spring", "account": "17", "category": "Science"}
    assert course_groups({"canvas_term_name": "$Canvas.term.name", "canvas_term_id": "$Canvas.term.id",
                          "course_category": "  ", "canvas_account_name": True}) == {}
    custom = canvas_config(ToolUrls("https://tool.example"))["custom_fields"]
    assert custom["canvas_term_name"] == "$Canvas.term.name"
    assert custom["canvas_account_name"] == "$Canvas.account.name"
