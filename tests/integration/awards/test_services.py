"""Award decisions against a real database: award once, manual awards, revoke / suspend /
reinstate, re-award, expiry and renewal, regressions, bulk CSV, the outbox and the audit."""

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from lti_badger.awards import services
from lti_badger.awards.audit import Actor, export_audit
from lti_badger.errors import BadInput, Conflict, NotFound
from lti_badger.credentials.status import status_of
from lti_badger.models import AuditEvent, Award, Credential, Delivery
from tests.factories_awards import NOW, add_webhook, make_world


def _deliveries(db, award):
    return sorted((d.destination, d.action) for d in db.scalars(select(Delivery).where(Delivery.award_id == award.id)))


def test_rule_award_is_created_once_with_outbox_and_audit(adb):
    w = make_world(adb)
    add_webhook(adb, w.platform, "https://hooks.example/badges")
    learner = w.learners[0]
    award = services.award_from_rule(adb, w.achievement, w.version, learner.id, {"met": True}, NOW)
    assert award is not None and award.status == "active" and award.awarded_by == "rule"
    assert award.evidence == {"version": 1, "rule_hash": "", "met": True}
    # The same completion again (another source, a replay): nothing new.
    assert services.award_from_rule(adb, w.achievement, w.version, learner.id, {"met": True}, NOW) is None
    assert adb.scalars(select(Award).where(Award.person_id == learner.id)).all() == [award]
    assert _deliveries(adb, award) == [("ags", "award"), ("email", "award"), ("webhook", "award")]
    events = adb.scalars(select(AuditEvent).where(AuditEvent.subject_id == str(award.id))).all()
    assert [(e.action, e.actor_type) for e in events] == [("award.create", "rule")]
    assert events[0].after["status"] == "active" and events[0].before is None


def test_no_ags_no_email_means_only_the_destinations_that_exist(adb):
    w = make_world(adb, lineitems_url=None)
    w.learners[0].email = None
    award = services.award_from_rule(adb, w.achievement, w.version, w.learners[0].id, None, NOW)
    assert _deliveries(adb, award) == []


def test_draft_badge_is_not_awarded_by_rule(adb):
    w = make_world(adb, state="draft")
    assert services.award_from_rule(adb, w.achievement, w.version, w.learners[0].id, None, NOW) is None


def test_manual_award_needs_reason_course_scope_and_free_slot(adb):
    w = make_world(adb)
    other = make_world(adb)
    learner = w.learners[0]
    with pytest.raises(BadInput):
        services.award_manually(adb, w.course.id, w.achievement.id, learner.id, w.instructor.id, "  ", NOW)
    with pytest.raises(NotFound):  # badge of another course
        services.award_manually(adb, w.course.id, other.achievement.id, learner.id, w.instructor.id, "x", NOW)
    with pytest.raises(NotFound):  # learner of another course
        services.award_manually(adb, w.course.id, w.achievement.id, other.learners[0].id, w.instructor.id, "x", NOW)
    award = services.award_manually(adb, w.course.id, w.achievement.id, learner.id, w.instructor.id,
                                    "presented the project in class", NOW)
    assert award.awarded_by == "instructor" and award.awarded_by_person_id == w.instructor.id
    with pytest.raises(Conflict):
        services.award_manually(adb, w.course.id, w.achievement.id, learner.id, w.instructor.id, "again", NOW)
    event = adb.scalars(select(AuditEvent).where(AuditEvent.action == "award.create")).all()[-1]
    assert (event.actor_type, event.actor_id, event.reason) == ("user", str(w.instructor.id), "presented the project in class")


def test_revoke_then_reaward_issues_a_new_award(adb):
    w = make_world(adb)
    learner = w.learners[0]
    first = services.award_from_rule(adb, w.achievement, w.version, learner.id, None, NOW)
    with pytest.raises(BadInput):
        services.revoke(adb, w.course.id, first.id, w.instructor.id, "", NOW)
    with pytest.raises(NotFound):
        services.revoke(adb, w.course.id + 999, first.id, w.instructor.id, "x", NOW)
    services.revoke(adb, w.course.id, first.id, w.instructor.id, "academic integrity case", NOW)
    assert first.status == "revoked" and first.status_reason == "academic integrity case"
    with pytest.raises(Conflict):
        services.revoke(adb, w.course.id, first.id, w.instructor.id, "twice", NOW)
    assert ("ags", "revoke") in _deliveries(adb, first)
    later = NOW + timedelta(days=3)
    second = services.award_from_rule(adb, w.achievement, w.version, learner.id, None, later)
    assert second is not None and second.id != first.id and second.status == "active"
    old_cred, new_cred = (adb.scalars(select(Credential).where(Credential.award_id == a.id)).one() for a in (first, second))
    assert old_cred.id != new_cred.id and new_cred.issued_at == later
    assert status_of(adb, old_cred) == {"revocation": True, "suspension": False}
    assert status_of(adb, new_cred) == {"revocation": False, "suspension": False}
    event = adb.scalars(select(AuditEvent).where(AuditEvent.action == "award.revoke")).one()
    assert event.before["status"] == "active" and event.after["status"] == "revoked"
    assert event.reason == "academic integrity case"


def test_suspend_and_reinstate(adb):
    w = make_world(adb)
    award = services.award_from_rule(adb, w.achievement, w.version, w.learners[0].id, None, NOW)
    with pytest.raises(Conflict):
        services.reinstate(adb, w.course.id, award.id, w.instructor.id, "not suspended", NOW)
    services.suspend(adb, w.course.id, award.id, w.instructor.id, "under investigation", NOW)
    assert award.status == "suspended"
    # A suspended award still holds the slot: no second award.
    assert services.award_from_rule(adb, w.achievement, w.version, w.learners[0].id, None, NOW) is None
    services.reinstate(adb, w.course.id, award.id, w.instructor.id, "cleared", NOW)
    assert award.status == "active" and not award.needs_review
    assert [a for _, a in _deliveries(adb, award) if _ == "ags"] == ["award", "reinstate", "suspend"]


def test_regression_policy_suspend_opens_review_and_none_does_nothing(adb):
    w = make_world(adb, regression_policy="suspend")
    award = services.award_from_rule(adb, w.achievement, w.version, w.learners[0].id, None, NOW)
    services.handle_regression(adb, w.achievement, w.version, w.learners[0].id, {"met": False}, NOW)
    assert award.status == "suspended" and award.needs_review
    event = adb.scalars(select(AuditEvent).where(AuditEvent.action == "award.suspend")).one()
    assert event.actor_type == "rule" and "regression" in event.reason

    calm = make_world(adb, regression_policy="none")
    kept = services.award_from_rule(adb, calm.achievement, calm.version, calm.learners[0].id, None, NOW)
    assert services.handle_regression(adb, calm.achievement, calm.version, calm.learners[0].id, None, NOW) is None
    assert kept.status == "active" and not kept.needs_review


def test_expiry_and_renewal(adb):
    w = make_world(adb, validity_days=30)
    learner = w.learners[0]
    award = services.award_from_rule(adb, w.achievement, w.version, learner.id, None, NOW)
    assert award.valid_until == NOW + timedelta(days=30)
    # Met again while still valid: nothing.
    assert services.award_from_rule(adb, w.achievement, w.version, learner.id, None, NOW + timedelta(days=10)) is None
    # Met again after the validity ended: the old one expires and a renewal is issued.
    later = NOW + timedelta(days=31)
    renewed = services.award_from_rule(adb, w.achievement, w.version, learner.id, None, later)
    assert renewed is not None and renewed.valid_until == later + timedelta(days=30)
    assert award.status == "expired"
    assert services.expire_due(adb, later) == []
    assert [a.action for a in adb.scalars(select(AuditEvent).order_by(AuditEvent.id))] == [
        "award.create", "award.expire", "award.create"]


def test_expiry_reaches_every_destination(adb):
    w = make_world(adb, validity_days=30)
    add_webhook(adb, w.platform, "https://hooks.example/badges")
    award = services.award_from_rule(adb, w.achievement, w.version, w.learners[0].id, None, NOW)
    assert services.expire_due(adb, NOW + timedelta(days=31)) == [award]
    assert _deliveries(adb, award) == [("ags", "award"), ("ags", "expire"), ("email", "award"), ("email", "expire"),
                                       ("webhook", "award"), ("webhook", "expire")]


def test_bulk_csv_award_and_revoke_report_each_row(adb):
    w = make_world(adb, learners=3)
    a, b, c = w.learners
    services.award_manually(adb, w.course.id, w.achievement.id, c.id, w.instructor.id, "earlier", NOW)
    text = ("learner,reason\n"
            f"{a.sub},workshop attended\n"
            f"{b.email.upper()},\n"
            f"{c.email},duplicate\n"
            "nobody@example.edu,who\n")
    out = services.bulk_csv(adb, w.course.id, w.achievement.id, text, "award", w.instructor.id, NOW,
                            default_reason="bulk upload")
    assert [(o.line, o.outcome) for o in out] == [(2, "awarded"), (3, "awarded"), (4, "already_held"), (5, "not_found")]
    assert services.find_live_award(adb, w.achievement.id, b.id).reason == "bulk upload"
    out = services.bulk_csv(adb, w.course.id, w.achievement.id, f"{a.sub},mistake\n{a.sub},mistake\n", "revoke",
                            w.instructor.id, NOW)
    assert [o.outcome for o in out] == ["revoked", "not_held"]
    with pytest.raises(BadInput):
        services.bulk_csv(adb, w.course.id, w.achievement.id, "", "delete", w.instructor.id, NOW)


def test_edit_policy_flag_marks_earners_for_review_and_never_revokes(adb):
    w = make_world(adb, learners=2)
    keep, drop = (services.award_from_rule(adb, w.achievement, w.version, p.id, None, NOW) for p in w.learners)
    out = services.apply_edit_policy(adb, w.achievement, "flag", NOW, actor=Actor.user(w.instructor.id),
                                     still_qualifies=lambda award: award.id == keep.id)
    assert out.flagged == [drop.id]
    assert drop.needs_review and drop.status == "active" and not keep.needs_review
    with pytest.raises(BadInput):
        services.apply_edit_policy(adb, w.achievement, "purge", NOW)
    assert services.apply_edit_policy(adb, w.achievement, "keep", NOW).flagged == []


def test_audit_export_json_and_csv(adb):
    w = make_world(adb)
    award = services.award_manually(adb, w.course.id, w.achievement.id, w.learners[0].id, w.instructor.id, "why", NOW)
    services.revoke(adb, w.course.id, award.id, w.instructor.id, "because, \"quoted\"", NOW + timedelta(hours=1))
    adb.flush()
    rows = json.loads(export_audit(adb, course_id=w.course.id))
    assert [r["action"] for r in rows] == ["award.create", "award.revoke"]
    assert rows[1]["before"]["status"] == "active" and rows[1]["after"]["status"] == "revoked"
    parsed = list(csv.DictReader(io.StringIO(export_audit(adb, fmt="csv", course_id=w.course.id))))
    assert parsed[1]["reason"] == "because, \"quoted\"" and json.loads(parsed[1]["after"])["status"] == "revoked"
    assert json.loads(export_audit(adb, course_id=w.course.id, since=NOW + timedelta(minutes=30)))[0]["action"] == "award.revoke"
    with pytest.raises(BadInput):
        export_audit(adb, fmt="xml")


def test_audit_csv_neutralises_formula_reasons(adb):
    """Issue 12 finding 5: a reason typed as a formula is text in the CSV export."""
    w = make_world(adb)
    award = services.award_manually(adb, w.course.id, w.achievement.id, w.learners[0].id, w.instructor.id,
                                    "=HYPERLINK(\"https://evil.example\")", NOW)
    services.revoke(adb, w.course.id, award.id, w.instructor.id, "@SUM(1+1)", NOW + timedelta(hours=1))
    adb.flush()
    parsed = list(csv.DictReader(io.StringIO(export_audit(adb, fmt="csv", course_id=w.course.id))))
    assert [r["reason"] for r in parsed] == ["'=HYPERLINK(\"https://evil.example\")", "'@SUM(1+1)"]
    assert json.loads(parsed[1]["after"])["status"] == "revoked"
