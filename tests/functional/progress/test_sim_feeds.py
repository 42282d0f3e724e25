"""The simulator as an event sender (devtools/lms_sim/feeds.py) against the live tool."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_badger.devtools.lms_sim import LmsSimulator
from lti_badger.devtools.lms_sim import feeds
from lti_badger.models import Progress
from tests.functional.progress.conftest import new_source


@pytest.fixture
def sim():
    simulator = LmsSimulator().start()
    yield simulator
    simulator.stop()


def scores(sessions):
    with sessions() as s:
        return sorted((p.person_id, p.activity_id, p.score, p.completed) for p in s.scalars(select(Progress)))


def test_xapi_caliper_and_signed_canvas_events_from_the_simulator(live, seeded, sessions, sim):
    xapi = new_source(sessions, seeded.platform_id, "xapi")
    batch = [feeds.moodle_statement(sim, "7", 12, "scored", course="101", score=6, timestamp="2026-11-02T10:00:00Z"),
             feeds.moodle_statement(sim, "8", 13, "completed", course="101", modname="assign", title="Essay")]
    r = feeds.post_xapi(live.url, xapi.key, xapi.secret, batch)
    assert r.status_code == 200 and r.json() == [st["id"] for st in batch]

    cal = new_source(sessions, seeded.platform_id, "caliper")
    r = feeds.post_caliper(live.url, cal.bearer_token, [
        feeds.caliper_grade_event(sim, "7", 12, 9, 10, course="101", event_time="2026-11-02T11:00:00.000Z")], sim)
    assert r.status_code == 200 and r.json()["stored"] == 1

    canvas = new_source(sessions, seeded.other_platform_id, "canvas-events", jwks=sim.jwks(), courses={"565": "202"})
    token = feeds.signed_live_event(sim, "grade_change", {
        "assignment_id": "21070000000000055", "user_id": "21070000000000009", "score": 4, "points_possible": 5,
        "grading_complete": True, "muted": False}, context_id="21070000000000565")
    assert feeds.post_live_event(live.url, token, canvas.key).status_code == 200
    sim.rotate_key(keep_old=False)  # a key the source was not configured with
    stale = feeds.signed_live_event(sim, "grade_change", {"assignment_id": "55", "user_id": "9", "score": 1})
    assert feeds.post_live_event(live.url, stale, canvas.key).status_code == 401

    with sessions() as s:
        rows = {(p.person_id, p.activity_id): p for p in s.scalars(select(Progress))}
    assert rows[(seeded.person_ids["7"], seeded.activity_ids["12"])].score == 9  # Caliper at 11:00 wins over xAPI at 10:00
    assert rows[(seeded.person_ids["8"], seeded.activity_ids["13"])].completed is True
    assert len(rows) == 3
