"""The simulator as an event sender: xAPI statements as Moodle's logstore_xapi sends them,
Caliper 1.1 envelopes, and Canvas Live Events signed with the simulator's own key (its JWKS
is what a `canvas-events` source is configured with). Used by tests, the benchmark and demos."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import requests

XAPI_HEADERS = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
VERB = "http://adlnet.gov/expapi/verbs/{}"


def moodle_statement(sim: Any, user: str, cmid: int | str, verb: str = "completed", *, course: str,
                     modname: str = "quiz", title: str = "Quiz", score: float | None = None, max_score: float = 10.0,
                     success: bool | None = None, timestamp: str | None = None,
                     statement_id: str | None = None) -> dict[str, Any]:
    base = sim.url
    statement: dict[str, Any] = {
        "id": statement_id or str(uuid.uuid4()),
        "actor": {"name": sim.users[user].name if user in sim.users else user,
                  "account": {"homePage": base, "name": str(user)}},
        "verb": {"id": VERB.format(verb), "display": {"en": verb}},
        "object": {"id": f"{base}/mod/{modname}/view.php?id={cmid}", "objectType": "Activity",
                   "definition": {"type": "http://adlnet.gov/expapi/activities/assessment", "name": {"en": title}}},
        "timestamp": timestamp or time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        "context": {"platform": "Moodle", "language": "en", "contextActivities": {"grouping": [
            {"id": base, "definition": {"type": "http://id.tincanapi.com/activitytype/lms"}, "objectType": "Activity"},
            {"id": f"{base}/course/view.php?id={course}",
             "definition": {"type": "http://id.tincanapi.com/activitytype/lms/course"}, "objectType": "Activity"}]}},
    }
    if score is not None or success is not None:
        statement["result"] = {"completion": True}
        if score is not None:
            statement["result"]["score"] = {"raw": score, "min": 0, "max": max_score, "scaled": score / max_score}
        if success is not None:
            statement["result"]["success"] = success
    return statement


def post_xapi(tool_url: str, key: str, secret: str, statements: list[dict[str, Any]] | dict[str, Any],
              http: requests.Session | None = None) -> requests.Response:
    return (http or requests).post(f"{tool_url}/xapi/statements", json=statements, headers=XAPI_HEADERS,
                                   auth=(key, secret), timeout=30)


def caliper_grade_event(sim: Any, user: str, cmid: int | str, score: float, max_score: float, *, course: str,
                        event_time: str | None = None) -> dict[str, Any]:
    base = sim.url
    return {
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p1", "id": f"urn:uuid:{uuid.uuid4()}",
        "type": "GradeEvent", "action": "Graded",
        "actor": {"id": f"{base}/autograder", "type": "SoftwareApplication"},
        "object": {"id": f"{base}/mod/quiz/review.php?attempt={uuid.uuid4().hex[:6]}", "type": "Attempt",
                   "assignee": {"id": f"{base}/user/profile.php?id={user}", "type": "Person"},
                   "assignable": {"id": f"{base}/mod/quiz/view.php?id={cmid}", "type": "Assessment"}},
        "generated": {"id": f"{base}/grades/{uuid.uuid4().hex[:8]}", "type": "Score", "scoreGiven": score,
                      "maxScore": max_score},
        "eventTime": event_time or time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "group": {"id": f"{base}/course/view.php?id={course}", "type": "CourseOffering"},
    }


def post_caliper(tool_url: str, token: str, events: list[dict[str, Any]], sim: Any) -> requests.Response:
    envelope = {"sensor": f"{sim.url}/sensor", "sendTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p1", "data": events}
    return requests.post(f"{tool_url}/caliper/events", json=envelope, headers={"Authorization": f"Bearer {token}"},
                         timeout=30)


def signed_live_event(sim: Any, event_name: str, body: dict[str, Any], *, context_id: str | None = None,
                      event_time: str | None = None) -> str:
    """A canvas_raw live event as Canvas's "Sign Payload" delivers it: a JWT signed by the
    simulator's key (`sim.jwks()`)."""
    metadata: dict[str, Any] = {
        "event_name": event_name, "event_time": event_time or time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "producer": "canvas", "hostname": sim.url.split("://", 1)[1], "root_account_id": "1",
        "root_account_uuid": "sim-root-account", "request_id": str(uuid.uuid4()),
    }
    if context_id is not None:
        metadata.update({"context_type": "Course", "context_id": context_id})
    return jwt.encode({"metadata": metadata, "body": body, "iat": int(time.time())},
                      sim.private_key_pem, algorithm="RS256", headers={"kid": sim.kid})


def post_live_event(tool_url: str, token: str, source_key: str | None = None) -> requests.Response:
    return requests.post(f"{tool_url}/canvas/live-events", data=token, timeout=30,
                         params={"source": source_key} if source_key else None,
                         headers={"Content-Type": "application/jwt"})
