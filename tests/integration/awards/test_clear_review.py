"""Keeping a flagged award (the review queue's "keep" decision): the flag clears, nothing else
changes (status, credential, LMS deliveries), the audit names who decided and why; other
courses' awards are not found and unflagged awards cannot be "kept"."""

import pytest
from sqlalchemy import select

from lti_badger.awards import services
from lti_badger.awards.audit import Actor
from lti_badger.credentials.status import status_of
from lti_badger.errors import BadInput, Conflict, NotFound
from lti_badger.models import AuditEvent, Credential, Delivery
from tests.factories_awards import NOW, make_world


def _flagged(adb):
    w = make_world(adb)
    award = services.award_from_rule(adb, w.achievement, w.version, w.learners[0].id, None, NOW)
    services.apply_edit_policy(adb, w.achievement, "flag", NOW, actor=Actor.user(w.instructor.id),
                               still_qualifies=lambda _award: False)
    assert award.needs_review and award.status == "active"
    return w, award


def _deliveries(adb, award):
    return sorted((d.destination, d.action) for d in adb.scalars(select(Delivery).where(Delivery.award_id == award.id)))


def test_clear_review_keeps_the_award_and_records_the_decision(adb):
    w, award = _flagged(adb)
    deliveries_before = _deliveries(adb, award)
    kept = services.clear_review(adb, w.course.id, award.id, Actor.user(w.instructor.id),
                                 "  still earned under the new rule  ", NOW)
    assert kept is award and not award.needs_review and award.status == "active"
    assert _deliveries(adb, award) == deliveries_before  # nothing goes to the LMS
    credential = adb.scalars(select(Credential).where(Credential.award_id == award.id)).one()
    assert status_of(adb, credential) == {"revocation": False, "suspension": False}
    event = adb.scalars(select(AuditEvent).where(AuditEvent.action == "award.review_cleared")).one()
    assert event.actor_type == "user" and event.actor_id == str(w.instructor.id)
    assert event.reason == "still earned under the new rule" and event.course_id == w.course.id
    assert event.before["needs_review"] is True and event.after["needs_review"] is False
    # Once cleared, there is nothing left to keep.
    with pytest.raises(Conflict):
        services.clear_review(adb, w.course.id, award.id, Actor.user(w.instructor.id), "again", NOW)


def test_clear_review_needs_a_reason_and_the_right_course(adb):
    w, award = _flagged(adb)
    other = make_world(adb)
    with pytest.raises(BadInput):
        services.clear_review(adb, w.course.id, award.id, Actor.user(w.instructor.id), "   ", NOW)
    with pytest.raises(NotFound):
        services.clear_review(adb, other.course.id, award.id, Actor.user(other.instructor.id), "mine now", NOW)
    with pytest.raises(NotFound):
        services.clear_review(adb, w.course.id, 10**9, Actor.user(w.instructor.id), "ghost", NOW)
    assert award.needs_review
    assert adb.scalars(select(AuditEvent).where(AuditEvent.action == "award.review_cleared")).all() == []
