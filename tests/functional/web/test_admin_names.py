"""Issue 18, "names, not ids": the admin's deliveries page says whose badge each delivery is
for (learner, badge as earned, course) and what the LMS answered in plain words (never its
body); the audit log names the person who acted, the learner and badge of an award and the
course, and says each action in words."""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone

from lti_badger.awards.services import award_manually, suspend
from lti_badger.models import Delivery, DeliveryAttempt
from tests.factories_awards import make_achievement

NOW = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
UPSTREAM_BODY = "<html>Internal token table dump 7f3a</html>"


def _visible(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _awarded_with_deliveries(app, world):
    with app.extensions["lti_badger"].sessions() as s:
        ach, _ = make_achievement(s, world.course, name="Microscopy")
        award = award_manually(s, world.course.id, ach.id, world.learners[0].id, world.instructor.id,
                               "finished the lab", NOW)
        suspend(s, world.course.id, award.id, world.instructor.id, "under review", NOW)
        refused = Delivery(award_id=award.id, destination="ags", action="award", status="dead", attempts=1,
                           last_error="the LMS answered 403")
        busy = Delivery(award_id=award.id, destination="ags", action="suspend", status="pending", attempts=2,
                        last_error="the LMS answered 503")
        s.add_all([refused, busy])
        s.flush()
        s.add_all([DeliveryAttempt(delivery_id=refused.id, ok=False, status_code=403, error=UPSTREAM_BODY),
                   DeliveryAttempt(delivery_id=busy.id, ok=False, status_code=500, error="x"),
                   DeliveryAttempt(delivery_id=busy.id, ok=False, status_code=503, error="x")])
        s.commit()
        return ach.public_id, award.id


def test_deliveries_say_whose_badge_and_what_the_lms_answered(app, courses, as_person):
    a, _ = courses
    _awarded_with_deliveries(app, a)
    page = _visible(as_person(a, a.admin, "admin").get("/admin/deliveries?status=all").get_data(as_text=True))
    assert page.count("Microscopy for Lena Learner1 A") >= 2 and "Course A" in page
    assert "The LMS refused the tool's access" in page and "HTTP 403" in page
    assert "The LMS had an internal error" in page and "HTTP 503" in page  # the last attempt's answer
    assert "LMS gradebook" in page and "suspension" in page
    assert UPSTREAM_BODY not in page and " ags " not in page


def test_audit_log_names_people_badges_and_courses(app, courses, as_person):
    a, _ = courses
    public_id, award_id = _awarded_with_deliveries(app, a)
    admin = as_person(a, a.admin, "admin")
    admin.post(f"/admin/platforms/{a.platform.id}/edit", {"name": "Campus Moodle", "auth_login_url": "https://lms.example/auth",
               "auth_token_url": "https://lms.example/token", "key_set_url": "https://lms.example/jwks"})
    page = _visible(admin.get("/admin/audit").get_data(as_text=True))
    assert "Badge awarded" in page and "Badge suspended" in page and "Platform edited" in page
    assert "Iris Instructor A" in page and "Ada Admin A" in page
    assert "award: Lena Learner1 A · Microscopy" in page and "platform: Campus Moodle" in page
    assert "Course A" in page
    for raw in ("award.create", "award.suspend", "platform.edit", " user "):
        assert raw not in page, raw
