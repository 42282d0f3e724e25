"""Learner pages over HTTP: each badge with progress and why-not-yet, never an unreleased
grade; earned badges with LinkedIn and QR; the privacy choice; nothing of another course."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from lti_badger.criteria import achievements
from lti_badger.models import Activity, Enrollment, Progress
from lti_badger.web.learner import linkedin_url


def make_badge(app, world, rule, name="Quiz badge", state="active"):
    with app.extensions["lti_badger"].sessions() as s:
        ach = achievements.create_achievement(s, world.course.id, {"name": name, "rule": rule}, None,
                                              datetime.now(timezone.utc))
        ach.state = state
        s.commit()
        return ach.id


def score(app, world, person, activity, points, *, released=True):
    with app.extensions["lti_badger"].sessions() as s:
        act = s.get(Activity, activity.id)
        act.grades_released = released
        s.add(Progress(course_id=world.course.id, activity_id=act.id, person_id=person.id, score=points,
                       max_score=10.0, completed=True, occurred_at=datetime.now(timezone.utc), source="test"))
        s.commit()


def test_why_not_yet_with_progress_and_no_unreleased_grades(app, courses, as_person):
    a, _ = courses
    q1, q2 = a.activities[0], a.activities[1]
    rule = {"type": "all", "rules": [{"type": "activity_score", "activity": q1.lms_id, "min_percent": 80},
                                     {"type": "activity_score", "activity": q2.lms_id, "min_percent": 80}]}
    ach_id = make_badge(app, a, rule)
    make_badge(app, a, rule, name="Hidden draft", state="draft")
    learner = a.learners[0]
    score(app, a, learner, q1, 9.0)
    score(app, a, learner, q2, 3.0, released=False)
    client = as_person(a, learner, "learner")
    page = client.get("/me/badges").get_data(as_text=True)
    assert "Quiz badge" in page and "Hidden draft" not in page
    assert "1 of 2" in page and "Not yet" in page
    assert "observed 90%, needed 80%" in page
    assert "grade not released yet" in page and "observed 30%" not in page
    detail = client.get(f"/me/badges/{ach_id}").get_data(as_text=True)
    assert "Why not yet" in detail and "observed 30%" not in detail

    teacher = as_person(a, a.instructor, "instructor")
    exp = teacher.get(f"/course/earners/{learner.id}/{ach_id}").get_data(as_text=True)
    assert "observed 30%, needed 80%" in exp  # the instructor does see it


def test_learner_cannot_open_badges_of_another_course(app, courses, as_person):
    a, b = courses
    b_badge = make_badge(app, b, {"type": "course_grade", "min_percent": 50}, name="B only")
    client = as_person(a, a.learners[0], "learner")
    assert client.get(f"/me/badges/{b_badge}").status_code == 404
    assert client.get(f"/course/badges/{b_badge}/image").status_code == 404
    assert "B only" not in client.get("/me/badges").get_data(as_text=True)


def test_privacy_choice_is_saved_for_this_course_only(app, courses, as_person):
    a, _ = courses
    learner = a.learners[0]
    client = as_person(a, learner, "learner")
    assert client.post("/me/privacy", {"public_display": "initials"}).status_code == 303
    assert client.post("/me/privacy", {"public_display": "everyone"}).status_code == 400
    with app.extensions["lti_badger"].sessions() as s:
        row = s.scalar(select(Enrollment).where(Enrollment.person_id == learner.id))
        assert row.public_display == "initials"


def test_linkedin_url_has_every_field():
    issued = datetime(2026, 3, 14, tzinfo=timezone.utc)
    url = linkedin_url(name="Cell biologist", organization="Example University", issued=issued,
                       cert_url="https://tool.example/credentials/abc", cert_id="abc",
                       expires=datetime(2027, 3, 14, tzinfo=timezone.utc))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.linkedin.com/profile/add"
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q == {"startTask": "CERTIFICATION_NAME", "name": "Cell biologist", "organizationName": "Example University",
                 "issueYear": "2026", "issueMonth": "3", "certUrl": "https://tool.example/credentials/abc",
                 "certId": "abc", "expirationYear": "2027", "expirationMonth": "3"}


def test_draft_badge_images_are_for_instructors_only(app, courses, as_person):
    a, _ = courses
    draft = make_badge(app, a, {"type": "course_grade", "min_percent": 50}, name="Secret draft", state="draft")
    active = make_badge(app, a, {"type": "course_grade", "min_percent": 50}, name="Public one")
    learner = as_person(a, a.learners[0], "learner")
    teacher = as_person(a, a.instructor, "instructor")
    assert learner.get(f"/course/badges/{draft}/image").status_code == 404
    assert learner.get(f"/course/badges/{active}/image").status_code == 200
    assert teacher.get(f"/course/badges/{draft}/image").status_code == 200
