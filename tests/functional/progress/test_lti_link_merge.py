"""Moodle with both AGS and a `moodle-ws` source lists one LTI link twice: the launch's own
AGS line item (bound to the link by `resourceLinkId`) and the LTI activity in its section
(whose instance id is that resource link id). The criteria builder shows it once, as the
LMS's activity; an AGS line item bound to no listed activity still shows."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from lti_badger.criteria import achievements
from lti_badger.db import transaction
from lti_badger.devtools.lms_sim import ROLE_INSTRUCTOR, ROLE_LEARNER
from lti_badger.devtools.lms_sim.content import content_of
from lti_badger.lti.advantage import AdvantageClient
from lti_badger.models import Activity, Course, Enrollment, Person, Platform, ProgressSource
from lti_badger.progress.lti_sync import sync_course
from lti_badger.progress.moodle_ws import sync_moodle
from lti_badger.progress.sources import add_source
from lti_badger.scope import Scope
from lti_badger.web.auth import issue_launch_token
from tests.functional.lti.conftest import register_sim

from .test_lti_sync import tool  # noqa: F401 (fixture)

NOW = datetime(2026, 11, 3, 8, 0, tzinfo=timezone.utc)
CTX = "12"


def test_one_lti_link_is_one_activity_in_the_criteria_builder(tool, moodle_sim):
    moodle = moodle_sim
    platform_id = register_sim(tool, moodle)
    moodle.add_course(CTX, "Statistics")
    moodle.add_user("5", "Ada Lovelace", "ada@example.edu")
    moodle.add_user("31", "Grace Hopper", "grace@example.edu")
    moodle.enroll(CTX, "5", [ROLE_INSTRUCTOR])
    moodle.enroll(CTX, "31", [ROLE_LEARNER])
    content = content_of(moodle)
    week = content.add_module(CTX, "Week 1")
    link = content.add_item(CTX, week, "Badges", "lti", points=100, requirement="must_view")
    content.add_item(CTX, week, "Quiz 1", "Quiz", points=10)
    moodle.add_line_item(CTX, "Badges", 100, resource_link_id=str(link.content_id))
    moodle.add_line_item(CTX, "Participation", 5)
    with transaction(tool.sessions) as s:
        course = Course(platform_id=platform_id, context_id=CTX, title="Statistics",
                        ags_lineitems_url=moodle.lineitems_url(CTX), nrps_url=moodle.nrps_url(CTX))
        s.add(course)
        s.flush()
        course_id = course.id
        source_id = add_source(s, platform_id, "moodle-ws", now=NOW, settings={
            "base_url": moodle.url, "token": content.issue_token()}).source.id
    with transaction(tool.sessions) as s:
        course = s.get(Course, course_id)
        svc = tool.app.extensions["lti_badger"]
        outcome = sync_course(s, course, AdvantageClient(s, s.get(Platform, platform_id), svc.keys, svc.outbound),
                              NOW, force=True)
        assert outcome.errors == []
        assert sync_moodle(s, s.get(ProgressSource, source_id), NOW, http=svc.outbound).errors == []
    with tool.sessions() as s:
        rows = {(a.kind, a.title): a for a in s.scalars(select(Activity).where(Activity.course_id == course_id))}
        teacher = s.scalar(select(Person).where(Person.sub == "5"))
        enrollment = s.scalar(select(Enrollment).where(Enrollment.person_id == teacher.id))
    # The database keeps both views of the link, bound by the same resource link id.
    assert rows[("lti", "Badges")].resource_link_id == str(link.content_id)
    assert rows[("lineitem", "Badges")].resource_link_id == str(link.content_id)
    assert rows[("lineitem", "Participation")].resource_link_id is None

    with transaction(tool.sessions) as s:
        achievement = achievements.create_achievement(s, course_id, {"name": "Finisher"}, teacher.id, NOW)
        achievement_id = achievement.id
    with tool.app.test_request_context():
        token = issue_launch_token(Scope(platform_id, course_id, teacher.id, enrollment.role))
    page = tool.app.test_client().get(f"/course/badges/{achievement_id}/criteria",
                                      headers={"X-Launch-Token": token}).get_data(as_text=True)
    assert page.count('name="activity:') == 3  # Badges (the LTI activity), Quiz 1, Participation
    assert f'name="activity:{rows[("lti", "Badges")].lms_id}"' in page
    assert f'name="activity:{rows[("lineitem", "Badges")].lms_id}"' not in page
    assert f'name="activity:{rows[("lineitem", "Participation")].lms_id}"' in page
