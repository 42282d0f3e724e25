"""Issue 14 A: every kind of program piece across courses of one registration (a course badge,
a final grade, a course completion, any course rule read in its course, another program),
ordered and windowed rules, awarded in the same transaction as the award or the progress
event that brings the last piece; bad rules (another registration's course, badge or
program, an unknown activity, a cycle) are refused and change nothing; the program's CLR 2.0
record verifies with the independent verifier."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lti_badger.awards import services
from lti_badger.awards.context import get_context
from lti_badger.credentials.did import did_document
from lti_badger.criteria.programs import (
    create_program, decide, preview_program, program_progress, set_program_state, update_program,
)
from lti_badger.errors import BadInput
from lti_badger.models import Achievement, AchievementVersion, Activity, Award, Course, Enrollment
from lti_badger.progress.services import ProgressEventIn, ingest
from tests.factories_awards import NOW, make_achievement, make_person, make_world
from tests.factories_credentials import OB3_VERIFY_DIR


class Campus:
    """Three courses of one registration, one learner in all three, a badge in each, and a
    graded activity ("hw") and a quiz in courses 2 and 3."""

    def __init__(self, db):
        self.db = db
        self.world = make_world(db, learners=2, name="Badge 1")
        self.platform = self.world.platform
        self.learner, self.other = self.world.learners
        self.courses, self.badges = [self.world.course], [self.world.achievement.id]
        for n in (2, 3):
            course = Course(platform_id=self.platform.id, context_id=f"{self.world.course.context_id}-{n}",
                            title=f"Course {n}")
            db.add(course)
            db.flush()
            for person in (self.learner, self.other):
                db.add(Enrollment(course_id=course.id, person_id=person.id, role="learner"))
            for lms_id, title in (("hw", "Homework"), ("quiz", "Final quiz")):
                db.add(Activity(course_id=course.id, lms_id=lms_id, title=title, max_points=10))
            self.courses.append(course)
            self.badges.append(make_achievement(db, course, name=f"Badge {n}")[0].id)
        db.flush()

    def program(self, pieces, name="Program", active=True, policy="none", **rule):
        program = create_program(self.db, self.platform.id, {"name": name, "regression_policy": policy, "rule": {
            "type": "program", "requirements": pieces, **rule}}, None, NOW)
        if active:
            set_program_state(self.db, self.platform.id, program.id, "active", NOW)
        return program

    def badge(self, n, at=NOW, person=None):
        course = self.courses[n - 1]
        return services.award_manually(self.db, course.id, self.badges[n - 1], (person or self.learner).id, None,
                                       "exam", at)

    def event(self, n, lms_id, at=NOW, person=None, **state):
        ingest(self.db, self.platform.id, [ProgressEventIn(
            source="xapi", source_event_id=f"ev-{n}-{lms_id}-{at.isoformat()}-{state}", occurred_at=at,
            activity_lms_id=lms_id, course_id=self.courses[n - 1].id, learner_sub=(person or self.learner).sub,
            **state)], at)

    def held(self, program, person=None):
        return self.db.scalar(select(Award).where(Award.achievement_id == program.id,
                                                  Award.person_id == (person or self.learner).id))


@pytest.fixture
def campus(adb):
    return Campus(adb)


def _badge(c, n):
    return {"kind": "badge", "achievement": c.badges[n - 1]}


def test_badge_and_final_grade_award_on_the_progress_event(campus):
    c = campus
    program = c.program([_badge(c, 1), {"kind": "grade", "course": c.courses[1].id, "min_percent": 60}])
    c.badge(1)
    c.event(2, "hw", score=10, max_score=10)  # 10 of the course's 20 points: 50 %, not yet
    assert c.held(program) is None
    progress = program_progress(c.db, program, c.learner.id)
    assert [r.kind for r in progress.left] == ["grade"] and progress.left[0].course == "Course 2"
    c.event(2, "quiz", at=NOW + timedelta(hours=1), score=4, max_score=10)  # 70 %: the last piece lands
    award = c.held(program)
    assert award is not None and award.status == "active"
    assert [r["kind"] for r in award.evidence["rests_on"]] == ["badge", "grade"]
    assert award.evidence["rests_on"][1]["badge"] == "final grade of at least 60 % in Course 2"


@pytest.mark.parametrize("policy, status", [("suspend", "suspended"), ("none", "active")])
def test_a_grade_that_drops_goes_through_the_programs_regression_policy(campus, policy, status):
    c = campus
    program = c.program([{"kind": "grade", "course": c.courses[1].id, "min_percent": 50}], policy=policy)
    c.event(2, "hw", score=10, max_score=10)
    assert c.held(program).status == "active"
    c.event(2, "hw", at=NOW + timedelta(days=1), score=2, max_score=10)  # a regrade: 10 %
    award = c.held(program)
    assert award.status == status and award.needs_review == (policy == "suspend")


def test_completion_of_a_course_from_the_lms_or_every_required_activity(campus):
    c = campus
    program = c.program([{"kind": "completion", "course": c.courses[1].id},
                         {"kind": "completion", "course": c.courses[2].id}])
    c.event(2, "course-done", activity_kind="course", completed=True)  # the LMS's own course completion
    assert c.held(program) is None
    assert [r.course for r in program_progress(c.db, program, c.learner.id).done] == ["Course 2"]
    c.event(3, "hw", completed=True)
    assert c.held(program) is None  # the quiz of course 3 is not completed yet
    c.event(3, "quiz", completed=True)
    assert c.held(program) is not None


def test_any_course_rule_qualified_by_its_course(campus):
    c = campus
    program = c.program([{"kind": "activity", "course": c.courses[2].id, "rule": {
        "type": "activity_score", "activity": "quiz", "min_percent": 70, "label": "Final quiz at 70 %"}}])
    c.event(2, "quiz", score=9, max_score=10)  # the same activity id, in another course: does not count
    assert c.held(program) is None
    c.event(3, "quiz", score=7, max_score=10)
    award = c.held(program)
    assert award is not None and award.evidence["rests_on"][0]["badge"] == "Final quiz at 70 % in Course 3"


def test_ordered_pieces_must_come_in_the_order_listed(campus):
    c = campus
    program = c.program([_badge(c, 1), _badge(c, 2)], ordered=True)
    c.badge(2, NOW)
    c.badge(1, NOW + timedelta(days=1))  # in the wrong order
    assert c.held(program) is None
    c.badge(1, NOW, person=c.other)
    c.badge(2, NOW + timedelta(days=1), person=c.other)
    assert c.held(program, c.other) is not None


def test_all_three_within_18_months(campus):
    c = campus
    program = c.program([_badge(c, 1), _badge(c, 2), _badge(c, 3)], within_days=548)
    c.badge(1, NOW)
    c.badge(2, NOW + timedelta(days=300))
    c.badge(3, NOW + timedelta(days=600))  # 600 days after the first
    assert c.held(program) is None


def test_decide_ordered_and_windowed():
    t = [NOW + timedelta(days=d) for d in range(5)]
    assert decide([t[0], t[1], t[2]], 3, None, True)
    assert not decide([t[1], t[0], t[2]], 3, None, True)
    assert decide([t[1], t[0], t[2]], 2, None, True)  # 0 then 2, or 1 then 2
    assert not decide([t[0], None, t[4]], 2, 3, True) and decide([t[0], None, t[3]], 2, 3, True)
    assert not decide([t[0], None, None], 2, None, False)


def test_a_program_requiring_a_program_follows_it(campus):
    c = campus
    first = c.program([_badge(c, 1), _badge(c, 2)], name="First")
    second = c.program([{"kind": "program", "program": first.id}, _badge(c, 3)], name="Second")
    c.badge(3)
    c.badge(1)
    assert c.held(second) is None
    c.badge(2)  # completes First, which completes Second, in the same transaction
    assert c.held(first) is not None and c.held(second) is not None
    # Revoking the first program flags the second (same policy as course badges)
    services.revoke(c.db, first.course_id, c.held(first).id, None, "fraud", NOW)
    assert c.held(second).needs_review


def test_activation_and_preview_read_course_pieces(campus):
    c = campus
    program = c.program([_badge(c, 1), {"kind": "grade", "course": c.courses[1].id, "min_percent": 40}],
                        active=False)
    c.badge(1)
    c.event(2, "hw", score=9, max_score=10)
    c.badge(1, person=c.other)
    preview = preview_program(c.db, program, NOW)
    assert preview.meets == (c.learner.name,) and preview.one_away == (c.other.name,)
    made = services.activate_program(c.db, c.platform.id, program.id, NOW, actor=services.Actor.system("test"))
    assert [a.person_id for a in made] == [c.learner.id]


def _counts(db):
    return db.scalar(select(func.count()).select_from(Achievement)), \
        db.scalar(select(func.count()).select_from(AchievementVersion))


def test_foreign_and_unknown_pieces_are_refused_and_change_nothing(campus):
    c = campus
    elsewhere = make_world(c.db, learners=1, issuer="https://elsewhere.example", name="Foreign badge")
    foreign_program = create_program(c.db, elsewhere.platform.id, {"name": "Foreign", "rule": {
        "type": "program", "badges": [elsewhere.achievement.id]}}, None, NOW)
    mine = c.program([_badge(c, 1)], name="Mine")
    before = _counts(c.db)
    bad = [
        ([{"kind": "badge", "achievement": elsewhere.achievement.id}], "not a badge of a course of this registration"),
        ([{"kind": "grade", "course": elsewhere.course.id, "min_percent": 50}], "not a course of this registration"),
        ([{"kind": "program", "program": foreign_program.id}], "not a program of this registration"),
        ([{"kind": "completion", "course": mine.course_id}], "not a course of this registration"),  # the home
        ([{"kind": "activity", "course": c.courses[1].id, "rule": {"type": "activity_completed",
                                                                   "activity": "nope"}}], "no activity nope"),
        ([{"kind": "activity", "course": c.courses[1].id, "rule": {"type": "badge_earned",
                                                                   "achievement": c.badges[0]}}], "not a badge"),
        ([{"kind": "grade", "course": c.courses[1].id, "min_percent": 120}], "percentage"),
        ([{"kind": "diploma"}], "'kind' must be one of"),
        ([_badge(c, 1), _badge(c, 1)], "listed twice"),
    ]
    with pytest.raises(BadInput, match="regression_policy"):
        c.program([_badge(c, 1)], name="Bad", policy="forget")
    for pieces, reason in bad:
        with pytest.raises(BadInput, match=reason):
            c.program(pieces, name="Bad")
    with pytest.raises(BadInput, match="cannot require itself"):
        update_program(c.db, c.platform.id, mine.id, {"name": "Mine", "rule": {
            "type": "program", "requirements": [{"kind": "program", "program": mine.id}]}}, None, NOW)
    assert _counts(c.db) == before


def test_the_program_learner_record_verifies(campus, tmp_path):
    c = campus
    program = c.program([_badge(c, 1), _badge(c, 2), {"kind": "grade", "course": c.courses[2].id,
                                                      "min_percent": 25}])
    c.badge(1)
    c.badge(2)
    with pytest.raises(Exception, match="do not hold"):
        services.program_record(c.db, c.platform.id, c.learner.id, program.id, NOW)
    c.event(3, "hw", score=6, max_score=10)
    record = services.program_record(c.db, c.platform.id, c.learner.id, program.id, NOW)
    assert record["type"] == ["VerifiableCredential", "ClrCredential"]
    held = record["credentialSubject"]["verifiableCredential"]
    assert [h["credentialSubject"]["achievement"]["name"] for h in held] == ["Program", "Badge 1", "Badge 2"]
    assert record["issuer"]["id"] == held[0]["issuer"]["id"]  # the registration's issuer profile
    keys = get_context(c.db).keys
    (tmp_path / "clr.json").write_text(json.dumps(record))
    (tmp_path / "docs.json").write_text(json.dumps({record["issuer"]["id"]: did_document(record["issuer"]["id"],
                                                                                          keys)}))
    proc = subprocess.run(["node", str(OB3_VERIFY_DIR / "verify.mjs"), str(tmp_path / "clr.json"),
                           "--docs", str(tmp_path / "docs.json"), "-q"], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "VERIFIED", proc.stdout + proc.stderr
    stranger = make_person(c.db, c.platform, c.courses[0])
    with pytest.raises(Exception, match="do not hold"):
        services.program_record(c.db, c.platform.id, stranger.id, program.id, NOW)
