"""Normalisation of LMS ids, xAPI statements, Caliper envelopes and Canvas live events (no DB)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from lti_badger.errors import BadInput
from lti_badger.models import ProgressSource
from lti_badger.progress import caliper, canvas_events, ids, xapi

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("iri, expected", [
    ("https://moodle.example.edu/mod/quiz/view.php?id=42", ("42", "quiz")),
    ("https://moodle.example.edu/sub/dir/mod/assign/view.php?foo=1&id=7", ("7", "assign")),
    ("urn:instructure:canvas:assignment:21070000000000355", ("355", "assignment")),
    ("https://lrs.example.org/activities/intro", ("https://lrs.example.org/activities/intro", None)),
    ("https://moodle.example.edu/mod/quiz/view.php?id=abc", ("https://moodle.example.edu/mod/quiz/view.php?id=abc", None)),
])
def test_activity_ids(iri, expected):
    assert ids.activity_lms_id(iri) == expected


def test_canvas_global_ids_and_courses():
    assert ids.canvas_local_id("21070000000000565") == "565"
    assert ids.canvas_local_id(565) == "565"
    assert ids.course_ref("https://moodle.example.edu/course/view.php?id=101") == "101"
    assert ids.person_ref("https://moodle.example.edu/user/profile.php?id=7") == "7"
    assert ids.person_ref("urn:instructure:canvas:user:21070000000000009") == "9"


def test_times():
    assert ids.parse_time("2026-11-02T10:15:00Z") == datetime(2026, 11, 2, 10, 15, tzinfo=timezone.utc)
    assert ids.parse_time("2026-11-02T11:15:00+01:00") == datetime(2026, 11, 2, 10, 15, tzinfo=timezone.utc)
    assert ids.parse_epoch(0) is None
    with pytest.raises(BadInput):
        ids.parse_time("yesterday")


def statement(verb, **extra):
    return {"actor": {"account": {"homePage": "https://m", "name": "7"}},
            "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
            "object": {"id": "https://m/mod/quiz/view.php?id=3"}, **extra}


@pytest.mark.parametrize("verb, completed, passed", [
    ("completed", True, None), ("passed", True, True), ("failed", None, False), ("scored", None, None),
    ("attempted", None, None),
])
def test_xapi_verbs(verb, completed, passed):
    batch = xapi.parse_statements(statement(verb), NOW)
    e = batch.events[0]
    assert (e.completed, e.passed, e.activity_lms_id, e.learner_sub, e.occurred_at) == (completed, passed, "3", "7", NOW)


def test_xapi_scaled_score_mbox_and_ignored_verbs():
    st = statement("scored", result={"score": {"scaled": 0.75}}, timestamp="2026-11-01T00:00:00Z")
    st["actor"] = {"mbox": "mailto:ada@example.edu"}
    e = xapi.parse_statements(st, NOW).events[0]
    assert (e.score, e.max_score, e.learner_email, e.learner_sub) == (75.0, 100.0, "ada@example.edu", None)
    viewed = xapi.parse_statements([statement("viewed"), statement("experienced")], NOW)
    assert len(viewed.ids) == 2 and viewed.events == []


def test_xapi_ids_are_stable():
    st = statement("completed")
    assert xapi.parse_statements(st, NOW).ids == xapi.parse_statements(dict(st), NOW).ids
    with pytest.raises(BadInput):
        xapi.parse_statements({**st, "id": "not-a-uuid"}, NOW)


@pytest.mark.parametrize("bad", [
    [], "text", {"verb": {"id": "x"}, "object": {"id": "y"}},
    {**statement("completed"), "actor": {"name": "nobody"}},
    {**statement("scored"), "result": {"score": {"raw": True}}},
    {**statement("completed"), "result": {"completion": "yes"}},
    {**statement("completed"), "timestamp": "soon"},
])
def test_xapi_malformed(bad):
    with pytest.raises(BadInput):
        xapi.parse_statements(bad, NOW)


def test_xapi_version_header():
    xapi.check_version("1.0.3")
    xapi.check_version("1.0")
    for bad in (None, "", "0.95", "2.0.0"):
        with pytest.raises(BadInput):
            xapi.check_version(bad)


def test_caliper_envelope_checks():
    event = {"id": "urn:uuid:1", "type": "AssignableEvent", "action": "Completed", "eventTime": "2026-11-02T10:00:00Z",
             "actor": "https://m/user/profile.php?id=7", "object": "https://m/mod/assign/view.php?id=5"}
    env = {"sensor": "s", "sendTime": "2026-11-02T10:00:00Z", "dataVersion": caliper.DATA_VERSIONS[1], "data": [event]}
    n, events = caliper.parse_envelope(env)
    assert n == 1 and (events[0].activity_lms_id, events[0].learner_lms_id, events[0].completed) == ("5", "7", True)
    assert caliper.parse_envelope({**env, "data": [{**event, "action": "Activated"}]})[1] == []
    with pytest.raises(BadInput):
        caliper.parse_envelope({**env, "data": [event] * 3}, max_events=2)
    with pytest.raises(BadInput):
        caliper.parse_envelope({**env, "data": [{**event, "type": "GradeEvent", "action": "Graded"}]})


def test_canvas_events_need_metadata_and_ids():
    source = ProgressSource(settings={"courses": {"565": "ctx-a"}})
    base = {"metadata": {"event_name": "grade_change", "event_time": "2026-11-02T10:00:00Z", "context_type": "Course",
                         "context_id": "21070000000000565"},
            "body": {"assignment_id": "21070000000000055", "user_id": "21070000000000009", "score": 7,
                     "points_possible": 10, "muted": True}}
    e = canvas_events.parse_event(base, source)
    assert (e.course_context, e.activity_lms_id, e.learner_lms_id, e.grades_released) == ("ctx-a", "55", "9", False)
    other = {**base, "metadata": {**base["metadata"], "event_name": "asset_accessed"}}
    assert canvas_events.parse_event(other, source) is None
    for bad in ({"metadata": base["metadata"]}, {**base, "body": {"user_id": "1"}},
                {**base, "body": {**base["body"], "score": "lots"}}):
        with pytest.raises(BadInput):
            canvas_events.parse_event(bad, source)
