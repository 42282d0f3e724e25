"""`lti-badger source add|list|sync` through Click's runner against the test database."""

from __future__ import annotations

import json

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from lti_badger.cli import main
from lti_badger.db import transaction
from lti_badger.devtools.lms_sim import ROLE_LEARNER, LmsSimulator
from lti_badger.devtools.lms_sim.content import content_of
from lti_badger.models import Progress, ProgressSource
from tests.factories_progress import make_course, make_learner, make_platform


@pytest.fixture
def cli(app_settings):
    runner = CliRunner()
    env = {"LTI_BADGER_DATABASE_URL": app_settings["database_url"],
           "LTI_BADGER_INSTANCE_PATH": app_settings["instance_path"],
           "LTI_BADGER_SECRET_KEY": app_settings["secret_key"],
           "LTI_BADGER_BASE_URL": "https://badges.example.edu",
           "LTI_BADGER_OUTBOUND_ALLOW": app_settings["outbound_allow"]}

    def run(*args: str):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def test_add_xapi_prints_secret_once_and_stores_a_hash(cli, seeded, sessions, live):
    out = cli("source", "add", "xapi", "--platform", str(seeded.platform_id), "--name", "moodle-logstore")
    assert out.exit_code == 0, out.output
    assert "https://badges.example.edu/xapi/statements" in out.output
    key = out.output.split("Basic key")[1].split()[0]
    secret = out.output.split("Basic secret")[1].split()[0]
    with sessions() as s:
        src = s.scalar(select(ProgressSource))
        assert (src.key, src.kind, src.name) == (key, "xapi", "moodle-logstore")
        assert secret not in json.dumps({"h": src.secret_hash, "s": src.settings}) and src.secret_hash.startswith("scrypt$")
    # The printed credentials work against the endpoint.
    r = requests.post(f"{live.url}/xapi/statements", auth=(key, secret), timeout=10,
                      headers={"X-Experience-API-Version": "1.0.3"},
                      json={"actor": {"account": {"homePage": "https://moodle.example.edu", "name": "7"}},
                            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                            "object": {"id": "https://moodle.example.edu/mod/quiz/view.php?id=12"},
                            "context": {"contextActivities": {"grouping": [
                                {"id": "https://moodle.example.edu/course/view.php?id=101"}]}}})
    assert r.status_code == 200, r.text
    listed = cli("source", "list", "--json")
    assert json.loads(listed.output)[0]["last_event_at"] is not None
    assert secret not in listed.output


def test_add_refusals(cli, seeded, tmp_path):
    assert cli("source", "add", "moodle-ws", "--platform", str(seeded.platform_id)).exit_code == 1
    assert cli("source", "add", "xapi", "--platform", "999").exit_code == 1
    assert cli("source", "add", "xapi", "--platform", str(seeded.platform_id)).exit_code == 0
    dup = cli("source", "add", "xapi", "--platform", str(seeded.platform_id))
    assert dup.exit_code == 1 and "already has" in dup.output
    bad = tmp_path / "jwks.json"
    bad.write_text("not json")
    assert cli("source", "add", "canvas-events", "--platform", str(seeded.platform_id), "--jwks", str(bad)).exit_code == 1
    assert cli("source", "add", "canvas-rest", "--platform", str(seeded.platform_id), "--base-url", "https://c",
               "--token", "t", "--course", "nonsense").exit_code == 1


def test_canvas_events_source_and_sync(cli, app, tmp_path):
    sim = LmsSimulator().start()
    try:
        sim.add_course("77", "Geometry")
        sim.add_user("5", "Learner 5", "l5@example.edu")
        sim.enroll("77", "5", [ROLE_LEARNER])
        content = content_of(sim)
        week = content.add_module("77", "Week 1")
        item = content.add_item("77", week, "Proofs", "Assignment", points=10, requirement="must_submit")
        content.submit("77", item, "5", score=7)
        sessions = app.extensions["lti_badger"].sessions
        with transaction(sessions) as s:
            platform = make_platform(s, sim.url)
            make_learner(s, make_course(s, platform, "geo-ctx", "Geometry"), "lti-5", lms_user_id="5")
            pid = platform.id
        jwks = tmp_path / "canvas-jwks.json"
        jwks.write_text(json.dumps(sim.jwks()))
        out = cli("source", "add", "canvas-events", "--platform", str(pid), "--jwks", str(jwks))
        assert out.exit_code == 0 and "/canvas/live-events?source=" in out.output
        out = cli("source", "add", "canvas-rest", "--platform", str(pid), "--base-url", sim.url,
                  "--token", content.issue_token(), "--course", "77=geo-ctx")
        assert out.exit_code == 0, out.output
        out = cli("source", "sync")
        assert out.exit_code == 0, out.output
        assert "1 course(s)" in out.output and "2 change(s) stored" in out.output  # module + assignment
        assert '"msg": "pulling sources and courses: done"' in out.stderr  # no terminal: log lines, no bar
        with sessions() as s:
            assert s.scalars(select(Progress.score).where(Progress.score.is_not(None))).all() == [7]
        listed = cli("source", "list")
        assert "canvas-rest" in listed.output and "canvas-events" in listed.output
    finally:
        sim.stop()
