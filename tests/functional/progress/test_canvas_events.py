"""POST /canvas/live-events over real HTTP: Canvas's signed (JWS) live events, canvas_raw format."""

from __future__ import annotations

import json
import time

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from lti_badger.models import Activity, Progress, ProgressEvent
from tests.functional.progress.conftest import new_source


def rsa_jwk(kid):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return key, {**public, "kid": kid, "alg": "RS256", "use": "sig"}


CANVAS_KEY, CANVAS_JWK = rsa_jwk("2026-11-01T00:00:00Z_canvas")
ROGUE_KEY, _ = rsa_jwk("2026-11-01T00:00:00Z_canvas")


def metadata(name, at="2026-11-02T19:11:05.222Z", context=True):
    meta = {"client_ip": "93.184.216.34", "event_name": name, "event_time": at, "hostname": "canvas.example.com",
            "http_method": "POST", "producer": "canvas", "request_id": "1dd9dc6f-2fb0-4c19-a6c5-7ee1bf3ed295",
            "root_account_id": "21070000000000001", "root_account_uuid": "VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs",
            "root_account_lti_guid": "VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs.canvas.example.com",
            "session_id": "ef686f8ed684abf78cbfa1f6a58112b5", "time_zone": "America/Denver",
            "user_account_id": "21070000000000001", "user_id": "21070000000000987", "user_login": "teacher@example.com"}
    if context:
        meta.update({"context_account_id": "21070000000000079", "context_id": "21070000000000565",
                     "context_role": "TeacherEnrollment", "context_type": "Course"})
    return meta


def grade_change(score=5, muted=False, at="2026-11-02T19:11:05.222Z"):
    return {"metadata": metadata("grade_change", at), "body": {
        "assignment_id": "21070000000000055", "grade": str(score), "grader_id": "21070000000000987",
        "grading_complete": True, "muted": muted, "old_grade": "4", "old_points_possible": 10, "old_score": 4,
        "points_possible": 10, "score": score, "student_id": "21070000000000009", "student_sis_id": "ABC.123",
        "submission_id": "21070000000011086", "user_id": "21070000000000009"}}


def submission_created():
    return {"metadata": metadata("submission_created", "2026-11-02T18:00:00.000Z", context=False), "body": {
        "assignment_id": "21070000000000055", "attempt": 1, "body": "My lab report", "grade": None,
        "graded_at": None, "group_id": None, "late": False, "lti_assignment_id": "a1b2c3c4-z9x8-a1s2-q5w6-p9o8i7u6y5t6",
        "lti_user_id": "a1b2c3c4z9x8a1s2q5w6p9o8i7u6y5t6a2s3d4f5", "missing": False, "score": None,
        "submission_id": "21070000000011086", "submission_type": "online_text_entry",
        "submitted_at": "2026-11-02T18:00:00Z", "updated_at": "2026-11-02T18:00:00Z", "url": None,
        "user_id": "21070000000000009", "workflow_state": "submitted"}}


def course_progress(done=3, total=6):
    return {"metadata": {"event_name": "course_progress", "event_time": "2026-11-02T19:30:00.000Z",
                         "job_id": "1020020528469291", "job_tag": "ContextModuleProgression#evaluate!",
                         "producer": "canvas", "root_account_id": "21070000000000001",
                         "root_account_uuid": "VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs"},
            "body": {"course": {"account_id": "1", "id": "565", "name": "Chemistry", "sis_source_id": "CHEM-1"},
                     "progress": {"completed_at": None, "requirement_completed_count": done,
                                  "requirement_count": total,
                                  "next_requirement_url": "https://canvas.example.com/courses/565/modules/items/12345"},
                     "user": {"email": "learner9@example.edu", "id": "9", "name": "Learner 9"}}}


def sign(event, key=CANVAS_KEY, kid=CANVAS_JWK["kid"], **extra):
    return jwt.encode({**event, "iat": int(time.time()), **extra}, key, algorithm="RS256", headers={"kid": kid})


def post(live, body, source_key=None, content_type="application/jwt"):
    params = {"source": source_key} if source_key else None
    return requests.post(f"{live.url}/canvas/live-events", params=params, data=body, timeout=10,
                         headers={"Content-Type": content_type})


def canvas_source(sessions, seeded):
    return new_source(sessions, seeded.other_platform_id, "canvas-events", jwks={"keys": [CANVAS_JWK]},
                      courses={"565": "202"}, root_account_uuid="VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs")


def count(sessions, model):
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def lab_progress(sessions):
    with sessions() as s:
        return s.scalar(select(Progress).join(Activity, Activity.id == Progress.activity_id)
                        .where(Activity.lms_id == "55"))


def test_signed_events_become_progress(live, seeded, sessions):
    canvas_source(sessions, seeded)
    r = post(live, sign(submission_created()))
    assert r.status_code == 200, r.text
    assert lab_progress(sessions).completed is True
    r = post(live, sign(grade_change(score=8)))
    assert r.json() == {"received": 1, "stored": 1}
    p = lab_progress(sessions)
    assert (p.score, p.max_score, p.completed, p.source) == (8, 10, True, "canvas-events")
    # a redelivery signed at another moment (another iat): the same event, stored once
    assert post(live, sign(grade_change(score=8), iat=int(time.time()) - 7)).status_code == 200
    assert count(sessions, ProgressEvent) == 2
    r = post(live, sign(course_progress()))
    assert r.status_code == 200, r.text
    with sessions() as s:
        course_act = s.scalar(select(Activity).where(Activity.lms_id == "course:565"))
        p = s.scalar(select(Progress).where(Progress.activity_id == course_act.id))
    assert (course_act.kind, p.score, p.max_score, p.completed) == ("course", 3, 6, False)


def test_muted_grade_is_stored_but_flagged(live, seeded, sessions):
    canvas_source(sessions, seeded)
    assert post(live, sign(grade_change(score=3, muted=True))).status_code == 200
    with sessions() as s:
        assert s.scalar(select(Activity.grades_released).where(Activity.lms_id == "55")) is False
    assert lab_progress(sessions).score == 3


def test_refusals_store_nothing(live, seeded, sessions):
    src = canvas_source(sessions, seeded)
    cases = [
        ("unsigned json", post(live, json.dumps(grade_change()), content_type="application/json"), 401),
        ("signed by another key", post(live, sign(grade_change(), key=ROGUE_KEY)), 401),
        ("hs256 with the public key as secret",
         post(live, jwt.encode(grade_change(), "x" * 32, algorithm="HS256", headers={"kid": CANVAS_JWK["kid"]})), 401),
        ("expired", post(live, sign(grade_change(), exp=int(time.time()) - 60)), 401),
        ("not a jws", post(live, b"hello"), 400),
        ("no body", post(live, sign({"metadata": metadata("grade_change")})), 400),
        ("no event time", post(live, sign({**grade_change(), "metadata": {"event_name": "grade_change"}})), 400),
        ("unknown source key", post(live, sign(grade_change()), source_key="nope"), 401),
        ("oversized", post(live, b"e" * (3 * 1024 * 1024)), 413),
    ]
    for name, response, status in cases:
        assert response.status_code == status, (name, response.status_code, response.text)
    assert count(sessions, ProgressEvent) == 0 and count(sessions, Progress) == 0
    assert post(live, sign(grade_change()), source_key=src.key).status_code == 200


def test_foreign_course_is_refused(live, seeded, sessions):
    # Mapped onto a course of another platform: not found on this one.
    new_source(sessions, seeded.other_platform_id, "canvas-events", jwks={"keys": [CANVAS_JWK]},
               courses={"565": "101"})
    r = post(live, sign(grade_change()))
    assert r.status_code == 400 and "unknown course" in r.text
    assert count(sessions, ProgressEvent) == 0
