"""Invariant 2 at the database level: one live award per learner and achievement."""

import pytest
from sqlalchemy.exc import IntegrityError

from lti_badger.models import Achievement, AchievementVersion, Award, Course, Person, Platform


def _setup(db):
    platform = Platform(issuer="https://lms.example", client_id="c1", auth_login_url="https://lms.example/a",
                        auth_token_url="https://lms.example/t", key_set_url="https://lms.example/k")
    db.add(platform)
    db.flush()
    course = Course(platform_id=platform.id, context_id="ctx")
    person = Person(platform_id=platform.id, sub="learner-1")
    db.add_all([course, person])
    db.flush()
    ach = Achievement(course_id=course.id)
    db.add(ach)
    db.flush()
    version = AchievementVersion(achievement_id=ach.id, number=1, name="Badge")
    db.add(version)
    db.flush()
    return course, person, ach, version


def test_second_live_award_is_rejected_but_revoked_history_is_kept(db):
    course, person, ach, version = _setup(db)
    kw = dict(course_id=course.id, achievement_id=ach.id, version_id=version.id, person_id=person.id)
    first = Award(**kw)
    db.add(first)
    db.flush()
    with db.begin_nested():
        db.add(Award(**kw))
        with pytest.raises(IntegrityError):
            db.flush()
    first.status = "revoked"
    db.flush()
    db.add(Award(**kw))
    db.flush()  # a re-award after revocation is allowed
