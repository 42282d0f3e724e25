"""The incremental Moodle pull (`sync_moodle_changes`, every minute in the worker) against the
simulator's Moodle web services: only learners who were in the course since the last pull, or
whose assignment grade a teacher changed, are pulled; a quiet minute costs three calls for all
of it; a failure keeps the cursor so the next minute retries."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from lti_badger.cli import main
from lti_badger.db import transaction
from lti_badger.devtools.lms_sim.content import content_of
from lti_badger.models import Progress, ProgressSource
from lti_badger.progress.moodle_ws import CHANGES_CURSOR, sync_moodle, sync_moodle_changes
from lti_badger.outbound import shared_client
from lti_badger.progress.schedule import sync_changes

from tests.conftest import LOOPBACK

from .test_pulls import CTX, NOW, lms, pull, seed, sim, states  # noqa: F401 (fixtures)


def _iso(when) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _calls(sim, since: int = 0) -> Counter:
    received = sim.requests_to("/webservice/rest/server.php")[since:]
    return Counter(r.form.get("wsfunction") or r.query.get("wsfunction") for r in received)


def test_only_learners_with_news_are_pulled_and_a_quiet_minute_costs_three_calls(app, sim, lms):
    sessions = app.extensions["lti_badger"].sessions
    content, items, _ = lms
    course_id, people, source_id = seed(sessions, "moodle-ws", sim, family="moodle")
    assert pull(sessions, sync_moodle, source_id).errors == []  # the hourly full pull, at NOW

    # Learner 31 passes the quiz (in the course); a teacher grades 32's essay (32 is away).
    content.complete(CTX, items["quiz"], "31", when=_iso(NOW + timedelta(seconds=30)), passed=True)
    content.submit(CTX, items["essay"], "32", score=15, when=_iso(NOW + timedelta(seconds=40)), by_teacher=True)
    mark = len(sim.requests_to("/webservice/rest/server.php"))
    result = pull(sessions, sync_moodle_changes, source_id, NOW + timedelta(minutes=1))
    assert result.errors == [] and result.courses == 1 and result.stored == 2
    assert _calls(sim, mark) == {"mod_assign_get_assignments": 1, "mod_assign_get_grades": 1,
                                 "core_enrol_get_enrolled_users": 1, "gradereport_user_get_grade_items": 2,
                                 "core_completion_get_activities_completion_status": 2,
                                 "core_completion_get_course_completion_status": 2}
    grades_call = sim.requests_to("/webservice/rest/server.php")[mark + 1]
    assert grades_call.form["wsfunction"] == "mod_assign_get_grades"
    assert int(grades_call.form["since"]) == int((NOW - timedelta(seconds=90)).timestamp())  # full pull - slack
    assert grades_call.form["assignmentids[0]"] == str(items["essay"].content_id)
    rows, _ = states(sessions, course_id)
    quiz, essay = str(items["quiz"].id), str(items["essay"].id)
    assert (rows[(people["31"], quiz)].completed, rows[(people["31"], quiz)].passed) == (True, True)
    assert rows[(people["32"], essay)].score == 15
    with sessions() as s:
        assert s.get(ProgressSource, source_id).settings[CHANGES_CURSOR] == int((NOW + timedelta(minutes=1)).timestamp())

    # Within the slack the same learners are asked again (Moodle writes lastcourseaccess at
    # most once a minute): nothing new is stored. Past it, a quiet minute is three calls.
    assert pull(sessions, sync_moodle_changes, source_id, NOW + timedelta(minutes=3)).stored == 0
    mark = len(sim.requests_to("/webservice/rest/server.php"))
    quiet = pull(sessions, sync_moodle_changes, source_id, NOW + timedelta(minutes=4))
    assert quiet.stored == 0 and quiet.errors == []
    assert sum(_calls(sim, mark).values()) == 3


def test_a_failed_minute_keeps_the_cursor_and_the_next_one_catches_up(app, sim, lms):
    sessions = app.extensions["lti_badger"].sessions
    content, items, _ = lms
    course_id, people, source_id = seed(sessions, "moodle-ws", sim, family="moodle")
    pull(sessions, sync_moodle, source_id)
    content.complete(CTX, items["quiz"], "31", when=_iso(NOW + timedelta(seconds=30)))
    with transaction(sessions) as s:
        source = s.get(ProgressSource, source_id)
        good_token = source.settings["token"]
        source.settings = {**source.settings, "token": "revoked"}
    failed = pull(sessions, sync_moodle_changes, source_id, NOW + timedelta(minutes=1))
    assert failed.errors and "invalidtoken" in failed.errors[0] and failed.stored == 0
    with transaction(sessions) as s:
        source = s.get(ProgressSource, source_id)
        assert CHANGES_CURSOR not in source.settings and "invalidtoken" in source.last_error
        source.settings = {**source.settings, "token": good_token}
    later = pull(sessions, sync_moodle_changes, source_id, NOW + timedelta(minutes=5))
    assert later.errors == [] and later.stored == 1  # the window still starts at the full pull
    with sessions() as s:
        assert s.scalar(select(Progress).where(Progress.person_id == people["31"],
                                               Progress.completed.is_(True))) is not None


def test_the_worker_schedule_runs_it_once_per_minute_and_the_cli_on_demand(app, app_settings, sim, lms):
    sessions = app.extensions["lti_badger"].sessions
    content, items, _ = lms
    _, _, source_id = seed(sessions, "moodle-ws", sim, family="moodle")
    pull(sessions, sync_moodle, source_id)
    clock = iter([NOW + timedelta(minutes=1), NOW + timedelta(minutes=1, seconds=20)])
    [line] = sync_changes(sessions, lambda: next(clock), http=shared_client(LOOPBACK))
    assert "moodle-ws changes, 1 course(s)" in str(line)
    assert sync_changes(sessions, lambda: next(clock), http=shared_client(LOOPBACK)) == []  # 20 s later: another worker's turn was taken

    content.complete(CTX, items["reading"], "32", when=_iso(NOW + timedelta(minutes=1)))
    env = {"LTI_BADGER_DATABASE_URL": app_settings["database_url"], "LTI_BADGER_SECRET_KEY": app_settings["secret_key"],
           "LTI_BADGER_INSTANCE_PATH": app_settings["instance_path"], "LTI_BADGER_OUTBOUND_ALLOW": LOOPBACK}
    out = CliRunner().invoke(main, ["source", "sync", "--changes"], env=env, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "moodle-ws changes, 1 course(s)" in out.output
