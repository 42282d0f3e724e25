"""POST /caliper/events over real HTTP: Caliper 1.1/1.2 envelopes with a bearer token."""

from __future__ import annotations

import requests
from sqlalchemy import func, select

from lti_badger.models import Progress, ProgressEvent
from tests.functional.progress.conftest import new_source

M = "https://moodle.example.edu"
V1P1 = "http://purl.imsglobal.org/ctx/caliper/v1p1"
V1P2 = "http://purl.imsglobal.org/ctx/caliper/v1p2"


def grade_event(n=1, user="7", cmid="12", score=12.0, at="2026-11-02T10:57:06.000Z", course="101", version=V1P1):
    return {
        "@context": version,
        "id": f"urn:uuid:a50ca17f-5971-47bb-8fca-4e6e6879{n:04d}",
        "type": "GradeEvent",
        "actor": {"id": f"{M}/autograder", "type": "SoftwareApplication", "version": "v2"},
        "action": "Graded",
        "object": {
            "id": f"{M}/mod/quiz/review.php?attempt={n}",
            "type": "Attempt",
            "assignee": {"id": f"{M}/user/profile.php?id={user}", "type": "Person"},
            "assignable": {"id": f"{M}/mod/quiz/view.php?id={cmid}", "type": "Assessment", "name": "Week 1 quiz"},
            "count": 1, "dateCreated": "2026-11-02T10:46:00.000Z", "startedAtTime": "2026-11-02T10:46:00.000Z",
            "endedAtTime": "2026-11-02T10:55:12.000Z", "duration": "PT9M12S",
        },
        "eventTime": at,
        "edApp": {"id": M, "type": "SoftwareApplication"},
        "generated": {"id": f"{M}/grade/report/user/index.php?id=101#{n}", "type": "Score",
                      "attempt": f"{M}/mod/quiz/review.php?attempt={n}", "maxScore": 15.0, "scoreGiven": score,
                      "scoredBy": f"{M}/autograder", "comment": "auto-graded exam", "dateCreated": at},
        "group": {"id": f"{M}/course/view.php?id={course}", "type": "CourseOffering", "courseNumber": "STAT-101",
                  "academicSession": "Fall 2026"},
    }


def assessment_event(n=2, user="8", cmid="13", action="Submitted", at="2026-11-02T11:00:00.000Z"):
    return {
        "@context": V1P2, "id": f"urn:uuid:c51570e4-f8ed-4c18-bb3a-dfe51b2c{n:04d}", "type": "AssessmentEvent",
        "actor": {"id": f"{M}/user/profile.php?id={user}", "type": "Person"}, "action": action,
        "object": {"id": f"{M}/mod/quiz/view.php?id={cmid}", "type": "Assessment", "name": "Essay quiz",
                   "maxScore": 20.0},
        "generated": {"id": f"{M}/mod/quiz/review.php?attempt=9{n}", "type": "Attempt",
                      "assignee": f"{M}/user/profile.php?id={user}", "assignable": f"{M}/mod/quiz/view.php?id={cmid}",
                      "count": 1},
        "eventTime": at, "group": f"{M}/course/view.php?id=101",
    }


def envelope(*events, version=V1P1):
    return {"sensor": f"{M}/sensors/1", "sendTime": "2026-11-02T11:01:00.000Z", "dataVersion": version,
            "data": list(events)}


def post(live, token, body):
    return requests.post(f"{live.url}/caliper/events", json=body, timeout=10,
                         headers={"Authorization": f"Bearer {token}"} if token else {})


def count(sessions, model):
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_grade_and_assessment_events(live, seeded, sessions):
    src = new_source(sessions, seeded.platform_id, "caliper")
    navigation = {**assessment_event(3), "type": "NavigationEvent", "action": "NavigatedTo"}
    r = post(live, src.bearer_token, envelope(grade_event(), assessment_event(), navigation))
    assert r.status_code == 200, r.text
    assert r.json() == {"received": 3, "stored": 2, "duplicates": 0}
    with sessions() as s:
        graded = s.scalar(select(Progress).where(Progress.activity_id == seeded.activity_ids["12"]))
        submitted = s.scalar(select(Progress).where(Progress.activity_id == seeded.activity_ids["13"]))
    assert (graded.person_id, graded.score, graded.max_score, graded.source) == (seeded.person_ids["7"], 12, 15, "caliper")
    assert (submitted.person_id, submitted.completed) == (seeded.person_ids["8"], True)
    assert post(live, src.bearer_token, envelope(grade_event(), version=V1P2)).json()["duplicates"] == 1


def test_refusals_store_nothing(live, seeded, sessions):
    src = new_source(sessions, seeded.platform_id, "caliper")
    xapi = new_source(sessions, seeded.platform_id, "xapi")
    good = grade_event()
    cases = [
        ("no token", post(live, None, envelope(good)), 401),
        ("wrong token", post(live, src.key + ".wrong", envelope(good)), 401),
        ("xAPI credentials", post(live, xapi.bearer_token, envelope(good)), 401),
        ("not an envelope", post(live, src.bearer_token, [good]), 400),
        ("caliper 1.0", post(live, src.bearer_token, envelope(good, version="http://purl.imsglobal.org/ctx/caliper/v1p0")), 400),
        ("no eventTime", post(live, src.bearer_token, envelope(good, {**grade_event(5), "eventTime": None})), 400),
        ("foreign course", post(live, src.bearer_token, envelope(good, grade_event(6, course="202"))), 400),
        ("oversized", requests.post(f"{live.url}/caliper/events", data=b"{" + b" " * (3 * 1024 * 1024),
                                    headers={"Authorization": f"Bearer {src.bearer_token}"}, timeout=30), 413),
    ]
    for name, response, status in cases:
        assert response.status_code == status, (name, response.status_code, response.text)
    assert count(sessions, ProgressEvent) == 0 and count(sessions, Progress) == 0
