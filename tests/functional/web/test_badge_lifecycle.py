"""Badge list actions say what happened: saved, activated (with how many already qualified),
archived, a draft deleted; deleting anything but an unearned, unrequired draft is refused
with the reason and changes nothing; course B's instructor gets 404."""

from __future__ import annotations

import html
import json

from sqlalchemy import func, select

from lti_badger.models import Achievement, AuditEvent
from tests.functional.web.test_instructor_pages import achievement_of, add_progress, design


def count(app, model, *where) -> int:
    with app.extensions["lti_badger"].sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_each_action_says_what_happened_and_a_draft_can_be_deleted(app, courses, as_person):
    a, b = courses
    teacher = as_person(a, a.instructor, "instructor")
    design(teacher, name="Quiz one")
    ach = achievement_of(app, "Quiz one")
    saved = teacher.get(f"/course/badges?saved={ach.id}").get_data(as_text=True)
    assert "Saved: Quiz one." in saved
    rule = {"type": "activity_completed", "activity": a.activities[0].lms_id}
    assert teacher.post(f"/course/badges/{ach.id}/criteria",
                        {"rule_json": json.dumps(rule), "action": "save"}).status_code == 303
    add_progress(app, a, a.learners[0], 0, 10.0)

    # course B's instructor can neither see nor delete it
    intruder = as_person(b, b.instructor, "instructor")
    assert intruder.post(f"/course/badges/{ach.id}/state", {"action": "delete"}).status_code == 404
    assert count(app, Achievement, Achievement.id == ach.id) == 1

    activated = teacher.post(f"/course/badges/{ach.id}/state", {"action": "activate"}, follow_redirects=True)
    text = activated.get_data(as_text=True)
    assert "Quiz one is active: it is awarded automatically from now on." in text
    assert "1 learner already qualified and received it." in text

    refused = teacher.post(f"/course/badges/{ach.id}/state", {"action": "delete"})
    assert refused.status_code == 409 and "only a draft badge can be deleted" in refused.get_data(as_text=True)
    archived = teacher.post(f"/course/badges/{ach.id}/state", {"action": "archive"}, follow_redirects=True)
    assert "Quiz one is archived" in archived.get_data(as_text=True)
    assert count(app, Achievement, Achievement.id == ach.id) == 1

    design(teacher, name="Never used")
    draft = achievement_of(app, "Never used")
    listing = teacher.get("/course/badges").get_data(as_text=True)
    assert "Delete the draft Never used? This cannot be undone." in listing
    deleted = teacher.post(f"/course/badges/{draft.id}/state", {"action": "delete"}, follow_redirects=True)
    assert "The draft Never used was deleted." in deleted.get_data(as_text=True)
    assert count(app, Achievement, Achievement.id == draft.id) == 0
    assert count(app, AuditEvent, AuditEvent.action == "achievement.delete") == 1


def test_a_draft_another_badge_requires_is_not_deleted(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    design(teacher, name="Step one")
    design(teacher, name="Pathway")
    step, pathway = achievement_of(app, "Step one"), achievement_of(app, "Pathway")
    rule = {"type": "badge_earned", "achievement": step.id}
    assert teacher.post(f"/course/badges/{pathway.id}/criteria",
                        {"rule_json": json.dumps(rule), "action": "save"}).status_code == 303
    refused = teacher.post(f"/course/badges/{step.id}/state", {"action": "delete"})
    assert refused.status_code == 409
    assert "another badge's criteria require this one" in html.unescape(refused.get_data(as_text=True))
    assert count(app, Achievement, Achievement.id == step.id) == 1
    assert count(app, AuditEvent, AuditEvent.action == "achievement.delete") == 0
