"""Issue 18, "raw terms never reach people": the main pages of a seeded course (instructor,
learner, admin) show no stored code (`in_progress`, `award.create`, `canvas-rest`, ...) in their
visible text; each is said through `web.labels.TERMS`."""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone

from lti_badger.awards.services import award_manually, revoke
from lti_badger.models import Activity, Delivery, DeliveryAttempt, Progress, ProgressSource
from lti_badger.web.labels import TERMS
from tests.factories_awards import make_achievement

NOW = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
SNAKE = re.compile(r"(?<![\w/.:@-])[a-z]+(?:[_.][a-z]+)+(?![\w/.@-])")
PRODUCT = "lti_badger"  # the tool's own name in the page header
CODES = sorted({code for group in TERMS.values() for code in group if re.search(r"[_.-]", code)} - {PRODUCT})


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style|datalist)\b.*?</\1>", " ", page, flags=re.S)
    # identifiers an admin copies, and the rule as JSON for whoever reads JSON, are code on purpose
    page = re.sub(r"<(code|pre)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _seed(app, world) -> tuple[int, int]:
    """A badge asking for two activities; learner 1 earned it by hand, learner 2 had it revoked
    and is in progress on one activity; deliveries with LMS answers; a Canvas REST source."""
    with app.extensions["lti_badger"].sessions() as s:
        rule = {"type": "all", "rules": [{"type": "activity_completed", "activity": world.activities[0].lms_id},
                                         {"type": "activity_completed", "activity": world.activities[1].lms_id}]}
        ach, _ = make_achievement(s, world.course, name="Field work", rule=rule)
        kept = award_manually(s, world.course.id, ach.id, world.learners[0].id, world.instructor.id, "lab report", NOW)
        gone = award_manually(s, world.course.id, ach.id, world.learners[1].id, world.instructor.id, "lab report", NOW)
        revoke(s, world.course.id, gone.id, world.instructor.id, "copied the report", NOW)
        act = s.get(Activity, world.activities[0].id)
        s.add(Progress(course_id=world.course.id, activity_id=act.id, person_id=world.learners[1].id, score=None,
                       max_score=10.0, completed=False, occurred_at=NOW, source="canvas-rest"))
        dead = Delivery(award_id=kept.id, destination="ags", action="award", status="dead", attempts=1,
                        last_error="the LMS answered 403")
        s.add(dead)
        s.flush()
        s.add(DeliveryAttempt(delivery_id=dead.id, ok=False, status_code=403, error="forbidden"))
        s.add(ProgressSource(platform_id=world.platform.id, kind="canvas-rest", name="Canvas API", key="k-1"))
        s.commit()
        return ach.id, world.learners[1].id


def test_main_pages_show_no_raw_codes(app, courses, as_person):
    a, _ = courses
    ach_id, learner_id = _seed(app, a)
    teacher, admin = as_person(a, a.instructor, "instructor"), as_person(a, a.admin, "admin")
    learner = as_person(a, a.learners[1], "learner")
    pages = [(teacher, p) for p in ("/course/badges", "/course/earners", "/course/earners?status=revoked",
                                    f"/course/earners/{learner_id}/{ach_id}", f"/course/earners/{a.learners[0].id}/{ach_id}",
                                    f"/course/badges/{ach_id}/criteria", f"/course/badges/{ach_id}/versions",
                                    "/course/review", "/course/awards/bulk")]
    pages += [(learner, p) for p in ("/me/badges", f"/me/badges/{ach_id}", "/me/all")]
    pages += [(admin, p) for p in ("/admin/", "/admin/deliveries?status=all", "/admin/audit", "/admin/sources",
                                   "/admin/platform", "/admin/issuer", "/admin/keys")]
    for client, path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        text = visible_text(response.get_data(as_text=True))
        assert [c for c in CODES if re.search(rf"(?<![\w/.-]){re.escape(c)}(?![\w/-])", text)] == [], path
        assert [w for w in SNAKE.findall(text) if w != PRODUCT] == [], path
    # the labels did reach the pages
    audit = visible_text(admin.get("/admin/audit").get_data(as_text=True))
    assert "Badge revoked" in audit and "Badge awarded" in audit
    assert "Canvas" in visible_text(admin.get("/admin/sources").get_data(as_text=True))
    assert "Deliveries given up" in visible_text(admin.get("/admin/").get_data(as_text=True))


def test_unknown_code_falls_back_to_words(app):
    from lti_badger.web.labels import term

    with app.test_request_context():
        assert term("in_progress", "progress") == "in progress"
        assert term("some_new.code-x", "progress") == "some new code x"
        assert term(None, "state") == ""
