"""POST /xapi/statements over real HTTP, with statements shaped like Moodle's logstore_xapi."""

from __future__ import annotations

import uuid

import requests
from sqlalchemy import func, select

from lti_badger.models import Activity, Progress, ProgressEvent, ProgressSource
from tests.functional.progress.conftest import new_source

HEADERS = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
MOODLE = "https://moodle.example.edu"


def statement(user="7", cmid="12", verb="completed", *, course="101", score=None, success=None,
              timestamp="2026-11-02T10:15:00+00:00", module="quiz", name="Week 1 quiz") -> dict:
    """A statement as logstore_xapi emits it (actor account = Moodle user id, object = module URL,
    course in contextActivities.grouping)."""
    st = {
        "id": str(uuid.uuid4()),
        "actor": {"name": f"Learner {user}", "account": {"homePage": MOODLE, "name": user}},
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}", "display": {"en": verb}},
        "object": {
            "id": f"{MOODLE}/mod/{module}/view.php?id={cmid}",
            "definition": {"type": "http://adlnet.gov/expapi/activities/assessment", "name": {"en": name},
                           "extensions": {"https://w3id.org/learning-analytics/learning-management-system/external-id": cmid}},
            "objectType": "Activity",
        },
        "timestamp": timestamp,
        "context": {
            "platform": "Moodle",
            "language": "en",
            "extensions": {"http://lrs.learninglocker.net/define/extensions/info": {"https://moodle.org/": "4.3"}},
            "contextActivities": {
                "grouping": [
                    {"id": MOODLE, "definition": {"type": "http://id.tincanapi.com/activitytype/lms",
                                                  "name": {"en": "Example University"}}, "objectType": "Activity"},
                    {"id": f"{MOODLE}/course/view.php?id={course}",
                     "definition": {"type": "http://id.tincanapi.com/activitytype/lms/course",
                                    "name": {"en": "Statistics 101"}}, "objectType": "Activity"},
                ],
                "category": [{"id": "http://moodle.org", "definition": {
                    "type": "http://id.tincanapi.com/activitytype/source", "name": {"en": "Moodle"}}, "objectType": "Activity"}],
            },
        },
    }
    if score is not None or success is not None:
        st["result"] = {"duration": "PT4M12S", "completion": True}
        if score is not None:
            st["result"]["score"] = {"raw": score, "min": 0, "max": 10, "scaled": score / 10}
        if success is not None:
            st["result"]["success"] = success
    return st


def count(sessions, model) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def state(sessions, seeded, sub="7", cmid="12") -> Progress | None:
    with sessions() as s:
        return s.scalar(select(Progress).where(Progress.person_id == seeded.person_ids[sub],
                                               Progress.activity_id == seeded.activity_ids[cmid]))


def post(live, src, body, headers=HEADERS, auth=None):
    return requests.post(f"{live.url}/xapi/statements", json=body, headers=headers,
                         auth=auth if auth is not None else (src.key, src.secret), timeout=10)


def test_batch_is_stored_and_answered_with_ids(live, seeded, sessions):
    src = new_source(sessions, seeded.platform_id, "xapi")
    batch = [statement("7", "12", "attempted", timestamp="2026-11-02T10:00:00Z"),
             statement("7", "12", "scored", score=8, timestamp="2026-11-02T10:14:00Z"),
             statement("7", "12", "passed", score=8, success=True),
             statement("8", "13", "completed", module="assign", name="Essay"),
             statement("8", "13", "viewed", module="assign")]
    r = post(live, src, batch)
    assert r.status_code == 200, r.text
    assert r.json() == [st["id"] for st in batch]
    assert r.headers["X-Experience-API-Version"].startswith("1.0")
    p = state(sessions, seeded)
    assert (p.score, p.max_score, p.completed, p.passed, p.source) == (8, 10, True, True, "xapi")
    assert state(sessions, seeded, "8", "13").completed is True
    assert count(sessions, ProgressEvent) == 4  # "viewed" is acknowledged, not stored
    with sessions() as s:
        assert s.scalar(select(ProgressSource.last_event_at)) is not None


def test_single_statement_and_resend(live, seeded, sessions):
    src = new_source(sessions, seeded.platform_id, "xapi")
    st = statement(score=6, success=False, verb="failed")
    assert post(live, src, st).json() == [st["id"]]
    assert post(live, src, st).status_code == 200  # a resend is harmless
    assert count(sessions, ProgressEvent) == 1
    assert state(sessions, seeded).passed is False


def test_older_statement_does_not_overwrite(live, seeded, sessions):
    src = new_source(sessions, seeded.platform_id, "xapi")
    post(live, src, statement(verb="scored", score=9, timestamp="2026-11-02T11:00:00Z"))
    post(live, src, statement(verb="scored", score=2, timestamp="2026-11-02T09:00:00Z"))
    assert state(sessions, seeded).score == 9


def test_unknown_activity_in_known_course_is_created(live, seeded, sessions):
    src = new_source(sessions, seeded.platform_id, "xapi")
    r = post(live, src, statement(cmid="99", module="page", name="Reading: sampling"))
    assert r.status_code == 200
    with sessions() as s:
        act = s.scalar(select(Activity).where(Activity.lms_id == "99"))
        assert (act.course_id, act.title, act.kind) == (seeded.course_id, "Reading: sampling", "page")


def test_refusals_store_nothing(live, seeded, sessions):
    src = new_source(sessions, seeded.platform_id, "xapi")
    good = statement()
    cases = [
        ("unauthenticated", post(live, src, [good], auth=("", "")), 401),
        ("wrong secret", post(live, src, [good], auth=(src.key, "nope")), 401),
        ("no version header", post(live, src, [good], headers={"Content-Type": "application/json"}), 400),
        ("version 2", post(live, src, [good], headers={**HEADERS, "X-Experience-API-Version": "2.0.0"}), 400),
        ("malformed json", requests.post(f"{live.url}/xapi/statements", data=b"{not json", headers=HEADERS,
                                         auth=(src.key, src.secret), timeout=10), 400),
        ("no actor", post(live, src, [good, {**statement(), "actor": None}]), 400),
        ("bad score", post(live, src, [{**statement(verb="scored"), "result": {"score": {"raw": "ten"}}}]), 400),
        ("foreign course", post(live, src, [good, statement(course="202", cmid="55")]), 400),
        ("foreign learner", post(live, src, [good, statement(user="9")]), 400),
        ("oversized", requests.post(f"{live.url}/xapi/statements", data=b"[" + b" " * (3 * 1024 * 1024) + b"]",
                                    headers=HEADERS, auth=(src.key, src.secret), timeout=30), 413),
    ]
    for name, response, status in cases:
        assert response.status_code == status, (name, response.status_code, response.text)
        assert response.headers["Content-Type"].startswith("application/json"), name
    assert cases[0][1].headers["WWW-Authenticate"].startswith("Basic")
    assert count(sessions, ProgressEvent) == 0 and count(sessions, Progress) == 0
    assert "unknown course" in cases[7][1].json()["detail"]["rejected"][0]["reason"]


def test_credentials_are_per_platform(live, seeded, sessions):
    other = new_source(sessions, seeded.other_platform_id, "xapi")
    r = post(live, other, [statement()])  # platform B's key cannot write into platform A's course
    assert r.status_code == 400
    assert count(sessions, ProgressEvent) == 0


def test_put_statement(live, seeded, sessions):
    src = new_source(sessions, seeded.platform_id, "xapi")
    st = statement()
    sid = st.pop("id")
    r = requests.put(f"{live.url}/xapi/statements", params={"statementId": sid}, json=st, headers=HEADERS,
                     auth=(src.key, src.secret), timeout=10)
    assert r.status_code == 204
    with sessions() as s:
        assert s.scalar(select(ProgressEvent.source_event_id)) == sid


def test_put_refusals(live, seeded, sessions):
    src = new_source(sessions, seeded.platform_id, "xapi")
    put = lambda params, body: requests.put(f"{live.url}/xapi/statements", params=params, json=body,  # noqa: E731
                                            headers=HEADERS, auth=(src.key, src.secret), timeout=10)
    st = statement()
    assert put({}, st).status_code == 400
    assert put({"statementId": str(uuid.uuid4())}, st).status_code == 400
    assert put({"statementId": st["id"]}, [st]).status_code == 400
    assert count(sessions, ProgressEvent) == 0


def test_site_wide_feed_may_skip_unknown_courses(live, seeded, sessions):
    src = new_source(sessions, seeded.platform_id, "xapi", skip_unknown_courses=True)
    other_course = statement(course="999", cmid="77")
    r = post(live, src, [statement(), other_course])
    assert r.status_code == 200 and r.json()[1] == other_course["id"]
    assert count(sessions, ProgressEvent) == 1  # only the known course's statement is stored
    assert post(live, src, [statement(user="9")]).status_code == 400  # unknown learners are still refused
