"""Issue 18, "version history": each version of a badge with when, by whom, what changed
(field by field: name, description, criteria, rule, image) and how many learners earned it;
linked from the badge list; another course's badge is 404."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone

from lti_badger.awards.services import award_manually
from lti_badger.criteria.achievements import update_achievement
from tests.factories_awards import make_achievement

NOW = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)


def _history(app, world) -> int:
    """v1 earned by two learners; v2 renames and rewrites the criteria (by the instructor),
    earned by one; v3 changes the rule and the image."""
    with app.extensions["lti_badger"].sessions() as s:
        ach, _ = make_achievement(s, world.course, name="Pond survey")
        for learner in world.learners[:2]:
            award_manually(s, world.course.id, ach.id, learner.id, world.instructor.id, "field day", NOW)
        update_achievement(s, world.course.id, ach.id, {"name": "Pond and stream survey",
                                                        "criteria_narrative": "Survey a pond and a stream."},
                           world.instructor.id, NOW + timedelta(days=1))
        award_manually(s, world.course.id, ach.id, world.learners[2].id, world.instructor.id, "field day", NOW)
        update_achievement(s, world.course.id, ach.id, {
            "rule": {"type": "activity_completed", "activity": world.activities[0].lms_id},
            "image_type": "image/svg+xml", "image": b'<svg xmlns="http://www.w3.org/2000/svg"/>'},
            world.instructor.id, NOW + timedelta(days=2))
        s.commit()
        return ach.id


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_history_lists_versions_changes_authors_and_earners(app, courses, as_person):
    a, _ = courses
    ach_id = _history(app, a)
    teacher = as_person(a, a.instructor, "instructor")
    assert f"/course/badges/{ach_id}/versions" in teacher.get("/course/badges").get_data(as_text=True)
    response = teacher.get(f"/course/badges/{ach_id}/versions")
    assert response.status_code == 200
    text = _text(response.get_data(as_text=True))
    v3, v2, v1 = (text.index(f"Version {n}") for n in (3, 2, 1))
    assert v3 < v2 < v1  # newest first
    third, second, first = text[v3:v2], text[v2:v1], text[v1:]
    assert "current" in third and "Rule (what decides)" in third and "activity_completed" in third
    assert "Image" in third and "0 learners earned this version" in third and "Name" not in third
    assert "Name Pond survey Pond and stream survey" in second
    assert "Criteria (what learners read) Complete every module. Survey a pond and a stream." in second
    assert "1 learner earned this version" in second and "by Iris Instructor A" in second
    assert "2 learners earned this version" in first and "The first version." in first


def test_history_of_another_courses_badge_is_404(app, courses, as_person):
    a, b = courses
    ach_id = _history(app, a)
    for person, role in ((b.instructor, "instructor"), (a.learners[0], "learner")):
        client = as_person(b if person is b.instructor else a, person, role)
        assert client.get(f"/course/badges/{ach_id}/versions").status_code in (403, 404)
    assert as_person(b, b.instructor, "instructor").get(f"/course/badges/{ach_id}/versions").status_code == 404
