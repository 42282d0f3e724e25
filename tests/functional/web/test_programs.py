"""Issue 14 A: programs. An LMS admin builds a three-course program on /admin/programs; a learner
who earns the three course badges (two by hand, the last through a progress event) holds the
program credential at the end of that same transaction, with the course credentials as its
evidence; revoking a course badge flags it; no one outside the registration's admins can see
or change the program, and a rule naming another registration's badge is refused."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from lti_badger.credentials.services import credential_document
from lti_badger.criteria.programs import PROGRAM_HOME_CONTEXT
from lti_badger.models import Achievement, AchievementVersion, Award, Course, Credential, Enrollment
from lti_badger.progress.services import ProgressEventIn, ingest
from tests.factories_awards import make_achievement
from tests.factories_web import make_course, make_platform, token_for
from tests.functional.web.conftest import PageClient


@pytest.fixture
def three(app):
    """Courses A, B, C on one registration with a badge each (C's by rule on one activity), one
    learner enrolled in all three, and another registration with a badge of its own."""
    sessions = app.extensions["lti_badger"].sessions
    with sessions() as s:
        platform = make_platform(s)
        a, b, c = (make_course(s, platform, ctx, f"Course {ctx}", learners=1) for ctx in "ABC")
        learner = a.learners[0]
        for w in (b, c):
            s.add(Enrollment(course_id=w.course.id, person_id=learner.id, role="learner"))
        badges = [make_achievement(s, w.course, name=f"Badge {w.course.context_id}")[0] for w in (a, b)]
        badges.append(make_achievement(s, c.course, name="Badge C", rule={
            "type": "activity_completed", "activity": c.activities[0].lms_id})[0])
        other = make_course(s, make_platform(s, "https://other.example", "tool-2"), "X", "Course X", learners=1)
        foreign, _ = make_achievement(s, other.course, name="Badge X")
        s.commit()
    client = lambda w, person, role: PageClient(app, app.test_client(), token_for(app, w, person, role))  # noqa: E731
    return {"a": a, "b": b, "c": c, "learner": learner, "badges": [x.id for x in badges], "foreign": foreign.id,
            "foreign_course": other.course.id,
            "admin": client(a, a.admin, "admin"), "teacher_a": client(a, a.instructor, "instructor"),
            "teacher_b": client(b, b.instructor, "instructor"), "teacher_c": client(c, c.instructor, "instructor"),
            "other_admin": client(other, other.admin, "admin"), "me": client(a, learner, "learner")}


def _form(badges, **extra):
    return {"name": "Data Science Program", "description": "Three courses.", "badge": [str(b) for b in badges],
            **extra}


def _count(app, model) -> int:
    with app.extensions["lti_badger"].sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def _create(app, w) -> int:
    response = w["admin"].post("/admin/programs", _form(w["badges"]))
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    program_id = int(response.headers["Location"].split("/admin/programs/")[1].split("?")[0])
    assert w["admin"].post(f"/admin/programs/{program_id}/activate").status_code == 303
    return program_id


def test_learner_completing_three_courses_gets_the_program_at_once(app, three):
    w = three
    program_id = _create(app, w)
    page = w["admin"].get(f"/admin/programs/{program_id}").get_data(as_text=True)
    assert "Data Science Program" in page and "Course B — Badge B" in page
    for teacher, badge in (("teacher_a", 0), ("teacher_b", 1)):
        assert w[teacher].post("/course/awards", {"person_id": w["learner"].id, "achievement_id": w["badges"][badge],
                                                  "reason": "oral exam"}).status_code == 303
    me = w["me"].get("/me/all").get_data(as_text=True)
    assert "2 of 3 course badges earned." in me and "Badge C in Course C" in me
    page = w["admin"].get(f"/admin/programs/{program_id}").get_data(as_text=True)
    assert f"One course badge away: {w['learner'].name}" in page and "Meet it now: —" in page
    sessions = app.extensions["lti_badger"].sessions
    with sessions() as s:
        assert s.scalar(select(Award).where(Award.achievement_id == program_id)) is None
        # The last badge through the event-driven path: a completion event in course C.
        ingest(s, w["c"].platform.id, [ProgressEventIn(
            source="xapi", source_event_id="ev-c1", occurred_at=datetime.now(timezone.utc),
            activity_lms_id=w["c"].activities[0].lms_id, course_id=w["c"].course.id, learner_sub=w["learner"].sub,
            completed=True)], datetime.now(timezone.utc))
        award = s.scalar(select(Award).where(Award.achievement_id == program_id))
        assert award is not None and award.status == "active" and award.person_id == w["learner"].id
        credential = s.scalar(select(Credential).where(Credential.award_id == award.id))
        document = credential_document(credential)
        s.commit()
    rests_on = [e for e in document["evidence"] if e.get("genre") == "Course credential"]
    assert sorted(e["name"] for e in rests_on) == ["Badge A", "Badge B", "Badge C"]
    assert all(e["id"].startswith("http") and "/credentials/" in e["id"] for e in rests_on)
    assert document["credentialSubject"]["achievement"]["name"] == "Data Science Program"
    me = w["me"].get("/me/all").get_data(as_text=True)
    assert "Your credential" in me and "Data Science Program" in me
    with sessions() as s:
        course_credential = credential_document(s.scalar(select(Credential).join(Award).where(
            Award.achievement_id == w["badges"][0])))
        public_id = s.get(Achievement, program_id).public_id
    assert document["issuer"] == course_credential["issuer"]  # the registration's issuer profile
    anyone = app.test_client()
    assert anyone.get(f"/achievements/{public_id}").status_code == 200
    assert anyone.get(f"/credentials/{credential.id}").status_code == 200


def test_revoking_a_course_badge_flags_the_program_award(app, three):
    w = three
    program_id = _create(app, w)
    for teacher, badge in (("teacher_a", 0), ("teacher_b", 1), ("teacher_c", 2)):
        assert w[teacher].post("/course/awards", {"person_id": w["learner"].id, "achievement_id": w["badges"][badge],
                                                  "reason": "portfolio"}).status_code == 303
    sessions = app.extensions["lti_badger"].sessions
    with sessions() as s:
        program_award = s.scalar(select(Award).where(Award.achievement_id == program_id))
        b_award = s.scalar(select(Award).where(Award.achievement_id == w["badges"][1]))
    assert program_award is not None and not program_award.needs_review
    assert w["teacher_b"].post(f"/course/awards/{b_award.id}/revoke", {"reason": "plagiarism"}).status_code in (302, 303)
    with sessions() as s:
        flagged = s.get(Award, program_award.id)
        assert flagged.needs_review and flagged.status == "active"
    page = w["admin"].get(f"/admin/programs/{program_id}").get_data(as_text=True)
    assert "Awards waiting for your review" in page and w["learner"].name in page
    keep = f"/admin/programs/{program_id}/awards/{program_award.id}/keep"
    assert w["other_admin"].post(keep, {"reason": "fine"}).status_code == 404
    assert w["teacher_b"].post(keep, {"reason": "fine"}).status_code == 403
    assert w["admin"].post(keep, {"reason": " "}).status_code == 400
    with sessions() as s:
        assert s.get(Award, program_award.id).needs_review
    assert w["admin"].post(keep, {"reason": "the other two courses cover it"}).status_code == 303
    with sessions() as s:
        kept = s.get(Award, program_award.id)
        assert not kept.needs_review and kept.status == "active"
    assert "Awards waiting for your review" not in w["admin"].get(f"/admin/programs/{program_id}").get_data(as_text=True)
    revoke = f"/admin/programs/{program_id}/awards/{program_award.id}/revoke"
    assert w["admin"].post(revoke, {"reason": "not earned after all"}).status_code == 303
    with sessions() as s:
        assert s.get(Award, program_award.id).status == "revoked"


def test_activation_awards_those_who_already_qualify(app, three):
    w = three
    for teacher, badge in (("teacher_a", 0), ("teacher_b", 1), ("teacher_c", 2)):
        w[teacher].post("/course/awards", {"person_id": w["learner"].id, "achievement_id": w["badges"][badge],
                                           "reason": "portfolio"})
    program_id = _create(app, w)
    with app.extensions["lti_badger"].sessions() as s:
        assert s.scalar(select(Award.person_id).where(Award.achievement_id == program_id)) == w["learner"].id


@pytest.mark.parametrize("form, reason", [
    (lambda w: _form(w["badges"][:2] + [w["foreign"]]), "not a badge of a course of this registration"),
    (lambda w: _form(w["badges"], min="4"), "between 1 and 3"),
    (lambda w: _form(w["badges"], within_days="soon"), "whole number"),
    (lambda w: _form([]), "choose between 1"),
    (lambda w: {**_form(w["badges"]), "name": ""}, "name"),
    (lambda w: {**_form(w["badges"]), f"rule_{w['c'].course.id}": "{bad"}, "not valid JSON"),
    (lambda w: {**_form(w["badges"]), f"grade_{w['a'].course.id}": "abc"}, "must be a number"),
    (lambda w: {**_form(w["badges"]), f"grade_{w['foreign_course']}": "50"}, "not a course of this registration"),
    (lambda w: {**_form(w["badges"]), f"rule_{w['c'].course.id}": '{"type": "activity_completed", "activity": "x"}'},
     "no activity x in Course C"),
])
def test_bad_program_input_is_refused_and_changes_nothing(app, three, form, reason):
    before = (_count(app, Achievement), _count(app, AchievementVersion))
    response = three["admin"].post("/admin/programs", form(three))
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert (_count(app, Achievement), _count(app, AchievementVersion)) == before


def test_a_program_id_is_no_course_badge_and_a_cycle_is_refused(app, three):
    first = _create(app, three)
    before = _count(app, AchievementVersion)
    response = three["admin"].post("/admin/programs", _form([three["badges"][0], first]))
    assert response.status_code == 400 and "not a badge of a course of this registration" in response.get_data(
        as_text=True)
    second = three["admin"].post("/admin/programs", {**_form([three["badges"][0]]), "name": "Second",
                                                     "program": str(first)})
    assert second.status_code == 303
    second_id = int(second.headers["Location"].split("/admin/programs/")[1].split("?")[0])
    before = _count(app, AchievementVersion)
    # first -> second -> first: refused with the chain, nothing written
    response = three["admin"].post(f"/admin/programs/{first}/edit", {**_form(three["badges"]),
                                                                      "program": str(second_id)})
    assert response.status_code == 400
    assert "cycle through program prerequisites: Data Science Program → Second → Data Science Program" in \
        response.get_data(as_text=True)
    response = three["admin"].post(f"/admin/programs/{first}/edit", {**_form(three["badges"]), "program": str(first)})
    assert response.status_code == 400 and "cannot require itself" in response.get_data(as_text=True)
    assert _count(app, AchievementVersion) == before


def test_edit_makes_a_new_version_and_another_registration_cannot_touch_it(app, three):
    w = three
    program_id = _create(app, w)
    assert w["admin"].post(f"/admin/programs/{program_id}/edit",
                           _form(w["badges"], min="2", within_days="540")).status_code == 303
    with app.extensions["lti_badger"].sessions() as s:
        program = s.get(Achievement, program_id)
        assert program.current_version.number == 2
        assert program.current_version.rule == {"type": "program", "badges": sorted(w["badges"]), "min": 2,
                                                "within_days": 540}
        assert s.get(Course, program.course_id).context_id == PROGRAM_HOME_CONTEXT
    before = _count(app, AchievementVersion)
    assert w["other_admin"].get(f"/admin/programs/{program_id}").status_code == 404
    assert w["other_admin"].post(f"/admin/programs/{program_id}/edit", _form(w["badges"])).status_code == 404
    assert w["other_admin"].post(f"/admin/programs/{program_id}/activate").status_code == 404
    assert "Data Science Program" not in w["other_admin"].get("/admin/programs").get_data(as_text=True)
    assert w["teacher_b"].get(f"/admin/programs/{program_id}").status_code == 403
    assert w["teacher_b"].post(f"/admin/programs/{program_id}/edit", _form(w["badges"])).status_code == 403
    assert w["me"].get("/admin/programs").status_code == 403
    assert _count(app, AchievementVersion) == before


def test_admin_builds_a_program_of_course_results_with_skills_and_eu_elements(app, three):
    """The builder's course pieces (a final grade in A, completion of B) and the designer's
    skills and EQF level reach the program credential; the preview answers as JSON too; the
    learner downloads the program's CLR 2.0 from the cross-course page (9 of course A's 40 points:
    22.5 %)."""
    w = three
    a, b = w["a"].course.id, w["b"].course.id
    form = {"name": "Results Program", "achievement_type": "LearningProgram", "badge": [str(w["badges"][2])], f"grade_{a}": "20", f"complete_{b}": "1",
            "eqf_level": "5", "skills": "Data analysis | ESCO | http://data.europa.eu/esco/skill/abc"}
    response = w["admin"].post("/admin/programs", form)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    program_id = int(response.headers["Location"].split("/admin/programs/")[1].split("?")[0])
    with app.extensions["lti_badger"].sessions() as s:
        version = s.get(Achievement, program_id).current_version
        assert version.rule["requirements"] == [{"kind": "badge", "achievement": w["badges"][2]},
                                                {"kind": "grade", "course": a, "min_percent": 20.0},
                                                {"kind": "completion", "course": b}]
        assert version.details["eqf_level"] == 5
    ordered = w["admin"].post("/admin/programs", {**form, "name": "In order", "ordered": "1"})
    assert ordered.status_code == 303
    with app.extensions["lti_badger"].sessions() as s:
        rule = s.get(Achievement, int(ordered.headers["Location"].split("/admin/programs/")[1].split("?")[0])
                     ).current_version.rule
        assert rule["ordered"] is True and len(rule["requirements"]) == 3
    page = w["admin"].get(f"/admin/programs/{program_id}").get_data(as_text=True)
    assert 'name="grade_%d" min="1" max="100" step="any" value="20"' % a in page
    assert w["admin"].post(f"/admin/programs/{program_id}/activate").status_code == 303
    assert w["admin"].get(f"/admin/programs/{program_id}/preview.json").get_json() == {
        "program": "Results Program", "version": 1, "meets": [], "one_away": []}
    assert w["me"].get(f"/me/programs/{program_id}/clr").status_code == 404  # not held
    now = datetime.now(timezone.utc)
    with app.extensions["lti_badger"].sessions() as s:
        events = [ProgressEventIn(source="xapi", source_event_id=f"ev-{n}", occurred_at=now, activity_lms_id=lms,
                                  course_id=course, learner_sub=w["learner"].sub, **state)
                  for n, (course, lms, state) in enumerate((
                      (a, w["a"].activities[0].lms_id, {"score": 9.0, "max_score": 10.0, "completed": True}),
                      (b, "course-b", {"completed": True, "activity_kind": "course"}),
                      (w["c"].course.id, w["c"].activities[0].lms_id, {"completed": True})))]
        ingest(s, w["a"].platform.id, events[:2], now)
        s.commit()
    assert w["admin"].get(f"/admin/programs/{program_id}/preview.json").get_json()["one_away"] == [w["learner"].name]
    me = w["me"].get("/me/all").get_data(as_text=True)
    assert "2 of 3 pieces done." in me and "Complete Course B" in me
    assert "Final grade of at least 20 % in Course A" in me
    with app.extensions["lti_badger"].sessions() as s:
        ingest(s, w["a"].platform.id, events[2:], now)  # Badge C by rule, then the program
        s.commit()
    me = w["me"].get("/me/all").get_data(as_text=True)
    assert f"/me/programs/{program_id}/clr" in me
    record = w["me"].get(f"/me/programs/{program_id}/clr")
    assert record.status_code == 200 and record.mimetype == "application/vc+ld+json"
    [program_credential, course_credential] = record.get_json()["credentialSubject"]["verifiableCredential"]
    achievement = program_credential["credentialSubject"]["achievement"]
    assert achievement["name"] == "Results Program" and course_credential["name"] == "Badge C"
    assert any(x.get("targetName") == "Data analysis" for x in achievement["alignment"])
    assert w["other_admin"].get(f"/admin/programs/{program_id}/preview.json").status_code == 404
