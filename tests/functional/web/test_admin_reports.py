"""Issue 14 C: the LMS admin's report across courses. Counts per course and per badge come from
real awards made through the instructors' pages, names (never ids) appear, a flagged award is
listed, the CSV is neutralised, and another registration's admin sees none of it."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lti_badger.criteria.approval import request_approval
from lti_badger.criteria.templates import create_template
from lti_badger.models import Award, Course, TemplateAttachment
from tests.factories_awards import make_achievement
from tests.factories_web import make_course, make_platform, token_for
from tests.functional.web.conftest import PageClient


@pytest.fixture
def two_courses(app):
    sessions = app.extensions["lti_badger"].sessions
    with sessions() as s:
        platform = make_platform(s)
        a = make_course(s, platform, "A", "Biology 101", learners=2)
        b = make_course(s, platform, "B", "=Chemistry 2", learners=1)
        badge_a, _ = make_achievement(s, a.course, name="Cell Explorer")
        badge_b, _ = make_achievement(s, b.course, name="@Lab Safety")
        other = make_course(s, make_platform(s, "https://other.example", "tool-2"), "X", "Secret Course X", learners=1)
        badge_x, _ = make_achievement(s, other.course, name="Secret Badge X")
        s.commit()
    client = lambda w, person, role: PageClient(app, app.test_client(), token_for(app, w, person, role))  # noqa: E731
    return {"a": a, "b": b, "badges": (badge_a.id, badge_b.id, badge_x.id), "admin": client(a, a.admin, "admin"),
            "teacher_a": client(a, a.instructor, "instructor"), "teacher_b": client(b, b.instructor, "instructor"),
            "teacher_x": client(other, other.instructor, "instructor"), "other": other,
            "other_admin": client(other, other.admin, "admin")}


def _award(teacher, person, achievement_id):
    response = teacher.post("/course/awards", {"person_id": person.id, "achievement_id": achievement_id,
                                               "reason": "oral exam"})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_report_per_term_per_template_and_pending_approvals(app, two_courses):
    """Terms come from the launch (course groups), templates from the badges they made, and the
    instructors' badges waiting for approval are listed by name; the CSV carries both breakdowns."""
    w = two_courses
    badge_a, badge_b, _badge_x = w["badges"]
    now = datetime.now(timezone.utc)
    with app.extensions["lti_badger"].sessions() as s:
        s.get(Course, w["a"].course.id).groups = {"term": "Fall 2026"}
        template = create_template(s, w["a"].platform.id, {"name": "Skill badge", "rule": {
            "type": "activity_score", "activity": "role:quiz", "min_percent": 80}}, None, now)
        s.add(TemplateAttachment(achievement_id=badge_a, template_id=template.id, course_id=w["a"].course.id,
                                 mapping={}))
        draft, _ = make_achievement(s, w["b"].course, name="Waiting Badge", state="draft")
        request_approval(s, w["b"].course.id, draft.id, w["b"].instructor.id, now)
        s.commit()
    for learner in w["a"].learners:
        _award(w["teacher_a"], learner, badge_a)
    _award(w["teacher_b"], w["b"].learners[0], badge_b)

    html = w["admin"].get("/admin/reports/").get_data(as_text=True)
    assert "Issued per term" in html and "<th scope=\"row\">Fall 2026</th>" in html
    assert "(term not reported by the LMS)" in html  # course B's LMS told no term
    assert "<th scope=\"row\">Skill badge</th>" in html
    assert "1 badge waiting" in html and "<th scope=\"row\">Waiting Badge</th>" in html

    rows = _csv(w["admin"].get("/admin/reports/report.csv"))
    terms = {r["Term"]: r for r in rows if r["Breakdown"] == "Term"}
    assert terms["Fall 2026"]["Issued"] == "2" and terms[""]["Issued"] == "1"
    templates = {r["Criteria template"]: r for r in rows if r["Breakdown"] == "Criteria template"}
    assert set(templates) == {"Skill badge"} and templates["Skill badge"]["Learners"] == "2"

    other = w["other_admin"].get("/admin/reports/").get_data(as_text=True)
    assert "Fall 2026" not in other and "Skill badge" not in other and "Waiting Badge" not in other


def test_report_counts_names_reviews_and_csv(app, two_courses):
    w = two_courses
    badge_a, badge_b, badge_x = w["badges"]
    for learner in w["a"].learners:
        _award(w["teacher_a"], learner, badge_a)
    _award(w["teacher_b"], w["b"].learners[0], badge_b)
    _award(w["teacher_x"], w["other"].learners[0], badge_x)
    with app.extensions["lti_badger"].sessions() as s:
        first = s.scalar(select(Award.id).where(Award.person_id == w["a"].learners[0].id))
    assert w["teacher_a"].post(f"/course/awards/{first}/revoke", {"reason": "plagiarism"}).status_code == 303
    with app.extensions["lti_badger"].sessions() as s:
        flagged = s.scalar(select(Award).where(Award.achievement_id == badge_b))
        flagged.needs_review = True
        s.commit()

    page = w["admin"].get("/admin/reports/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("Biology 101", "=Chemistry 2", "Cell Explorer", "@Lab Safety", "Awards over time",
                 w["b"].learners[0].name):
        assert name in html
    assert "Secret" not in html and "1 award waiting" in html
    today = datetime.now(timezone.utc).date()
    monday = (today - timedelta(days=today.weekday())).isoformat()
    # three awards this week in this registration (the revoked one was made too; course X's is not ours)
    assert f'<tr><td>{monday}</td><td class="num">3</td></tr>' in html

    response = w["admin"].get("/admin/reports/report.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = _csv(response)
    by_course = {r["Course"]: r for r in rows if r["Breakdown"] == "Course"}
    assert set(by_course) == {"Biology 101", "'=Chemistry 2"}  # a formula-looking name is neutralised
    assert by_course["Biology 101"]["Issued"] == "2" and by_course["Biology 101"]["Learners"] == "2"
    assert (by_course["Biology 101"]["Active"], by_course["Biology 101"]["Revoked"]) == ("1", "1")
    by_badge = {r["Badge"]: r for r in rows if r["Breakdown"] == "Badge"}
    assert set(by_badge) == {"Cell Explorer", "'@Lab Safety"} and by_badge["'@Lab Safety"]["Kind"] == "Course"

    other = w["other_admin"].get("/admin/reports/report.csv").get_data(as_text=True)
    assert "Secret Badge X" in other and "Cell Explorer" not in other and "Biology" not in other


@pytest.mark.parametrize("role", ["instructor", "learner"])
def test_report_is_for_admins_only(app, two_courses, role):
    w = two_courses
    person = w["a"].instructor if role == "instructor" else w["a"].learners[0]
    client = PageClient(app, app.test_client(), token_for(app, w["a"], person, role))
    assert client.get("/admin/reports/").status_code == 403
    assert client.get("/admin/reports/report.csv").status_code == 403
