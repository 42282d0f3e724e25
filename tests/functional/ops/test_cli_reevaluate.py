"""`lti-badger awards reevaluate`: qualifiers that hold no award get one (once), through Click's
runner, with the start and end log lines of long work off a terminal."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from lti_badger.cli import main
from lti_badger.criteria.achievements import activate, create_achievement
from lti_badger.models import Award, Progress
from tests.factories_awards import NOW, make_world
from tests.factories_progress import make_activity
from tests.functional.ops.test_cli_bulk import _env


def test_reevaluate_awards_current_qualifiers_once(app, app_settings):
    with app.extensions["lti_badger"].sessions() as s:
        w = make_world(s, learners=3)
        quiz = make_activity(s, w.course, "quiz-1")
        badge = create_achievement(s, w.course.id, {"name": "Quiz master", "rule": {
            "type": "activity_score", "activity": "quiz-1", "min_percent": 80}}, w.instructor.id, NOW)
        activate(s, w.course.id, badge.id, NOW)  # enabled without awarding (as after a restore or a rule fix)
        for person, score in zip(w.learners, (9, 5, 8)):
            s.add(Progress(course_id=w.course.id, activity_id=quiz.id, person_id=person.id, occurred_at=NOW,
                           source="test", score=score, max_score=10.0, completed=True))
        s.commit()
        qualifiers = sorted((w.learners[0].id, w.learners[2].id))

    first = CliRunner().invoke(main, ["awards", "reevaluate", "--course-id", str(w.course.id)], env=_env(app_settings))
    assert first.exit_code == 0, first.output
    assert first.stdout == "2 award(s) created\n"
    logged = [json.loads(line) for line in first.stderr.splitlines() if line.startswith("{")]
    assert [(e["msg"], e.get("total")) for e in logged] == [("re-evaluating courses: started", 1),
                                                           ("re-evaluating courses: done", 1)]
    with app.extensions["lti_badger"].sessions() as s:
        assert sorted(s.scalars(select(Award.person_id).where(Award.achievement_id == badge.id))) == qualifiers
    again = CliRunner().invoke(main, ["awards", "reevaluate"], env=_env(app_settings))
    assert again.exit_code == 0 and again.stdout == "0 award(s) created\n"
    unknown = CliRunner().invoke(main, ["awards", "reevaluate", "--course-id", "999999"], env=_env(app_settings))
    assert unknown.exit_code == 1 and "error:" in unknown.output
