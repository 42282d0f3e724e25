"""Award decisions: award once (a partial unique index, not a check-then-insert), by rule or by
hand; revoke, suspend and reinstate with a reason; expiry and renewal; grade regressions;
retroactive awards when a badge is enabled and edit policies. Every change issues or updates
the credential, writes its outbox deliveries and an audit event, all in the caller's
transaction (services flush, the edge commits)."""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import Select, bindparam, delete, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from ..credentials import issue_credential, set_status
from ..credentials.clr import PathwayRecord, sign_clr
from ..credentials.issuer_profiles import issuer_profile_for_course, issuer_profile_of
from ..credentials.services import credential_document
from ..criteria.achievements import badge_graph
from ..criteria.locks import lock_course, lock_learners
from ..criteria.policy import require_issuable
from ..criteria.programs import (
    course_programs, dependent_programs, get_program, is_program_rule, program_evidence,
    program_progress, required_awards, set_program_state,
)
from ..criteria.programs import candidates as program_candidates
from ..criteria.rules import references
from ..db import per_dialect
from ..deliveries.outbox import (
    ACTION_AWARD, ACTION_EXPIRE, ACTION_REINSTATE, ACTION_REVOKE, ACTION_SUSPEND, enqueue_award_change,
    latest_credential,
)
from ..errors import BadgerError, BadInput, Conflict, NotFound
from ..metrics import AWARDS
from ..models import (
    Achievement, AchievementVersion, Award, Course, Credential, Enrollment, IssuerProfileRecord, Person, Platform,
    WebhookEndpoint,
)
from ..models.achievement import STATE_ACTIVE, STATE_ARCHIVED, STATE_DRAFT
from ..models.award import AWARD_ACTIVE, AWARD_EXPIRED, AWARD_REVOKED, AWARD_SUSPENDED, LIVE_AWARD
from ..models.course import ENROLLMENT_ACTIVE, PROGRAM_HOME_CONTEXT, ROLE_LEARNER
from ..models.credential import PURPOSE_REVOCATION, PURPOSE_SUSPENSION
from ..steps import NO_STEPS, Steps
from .audit import Actor, record
from .context import get_context

log = logging.getLogger(__name__)

LIVE_STATUSES = (AWARD_ACTIVE, AWARD_SUSPENDED)
REGRESSION_NONE = "none"
REGRESSION_SUSPEND = "suspend"
EDIT_KEEP = "keep"
EDIT_AWARD_NEW = "award_new"
EDIT_FLAG = "flag"
EDIT_POLICIES = (EDIT_KEEP, EDIT_AWARD_NEW, EDIT_FLAG)


def award_state(award: Award) -> dict[str, Any]:
    """The part of an award the audit trail compares before and after."""
    return {
        "award_id": award.id,
        "status": award.status,
        "version_id": award.version_id,
        "needs_review": bool(award.needs_review),
        "valid_until": award.valid_until.isoformat() if award.valid_until else None,
    }


def _evidence(decision: Any) -> dict[str, Any]:
    """What the rule saw, as JSON: the Decision's own dict form, else its dataclass fields."""
    if decision is None:
        return {}
    if isinstance(decision, dict):
        return decision
    for name in ("to_dict", "as_dict"):
        if callable(getattr(decision, name, None)):
            return getattr(decision, name)()
    if dataclasses.is_dataclass(decision):
        return dataclasses.asdict(decision)
    return {"decision": str(decision)}


def _course(session: Session, course_id: int) -> Course:
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound("course not found")
    return course


def get_achievement(session: Session, course_id: int, achievement_id: int) -> Achievement:
    ach = session.get(Achievement, achievement_id)
    if ach is None or ach.course_id != course_id:
        raise NotFound("badge not found in this course")
    return ach


def get_award(session: Session, course_id: int, award_id: int) -> Award:
    award = session.get(Award, award_id)
    if award is None or award.course_id != course_id:
        raise NotFound("award not found in this course")
    return award


def find_live_award(session: Session, achievement_id: int, person_id: int) -> Award | None:
    return session.scalars(
        select(Award).where(Award.achievement_id == achievement_id, Award.person_id == person_id,
                            Award.status.in_(LIVE_STATUSES))
    ).first()


def _require_learner(session: Session, course_id: int, person_id: int) -> Person:
    enrolled = session.scalars(
        select(Enrollment).where(Enrollment.course_id == course_id, Enrollment.person_id == person_id)
    ).first()
    if enrolled is None:
        raise NotFound("this person is not enrolled in the course")
    return session.get(Person, person_id)


def _set_credential_bits(session: Session, award: Award, purpose: str, bit: bool, now: datetime) -> None:
    for credential in session.scalars(select(Credential).where(Credential.award_id == award.id)):
        set_status(session, credential, purpose, bit, now=now)


# INSERT ... ON CONFLICT DO NOTHING on the unique live-award index, built once (values are
# parameters), the row returned loaded as an Award (not the ORM's bulk INSERT, which builds
# its statement again on every call).
_AWARD_INSERT = per_dialect(lambda insert: select(Award).from_statement(insert(Award.__table__).on_conflict_do_nothing(
    index_elements=["person_id", "achievement_id"], index_where=LIVE_AWARD).returning(*Award.__table__.c)))


def _insert_award(session: Session, values: dict[str, Any]) -> Award | None:
    """Insert the award unless a live one holds the slot: finding a live award, or losing the
    race to another transaction, inserts nothing and returns None."""
    return session.scalars(_AWARD_INSERT(session), values).first()


def expire_due(session: Session, now: datetime, *, achievement_id: int | None = None,
               person_id: int | None = None) -> list[Award]:
    """Mark active awards whose validity ended as expired (frees the slot for a renewal)."""
    query = select(Award).where(Award.status == AWARD_ACTIVE, Award.valid_until.is_not(None),
                                Award.valid_until <= now)
    if achievement_id is not None:
        query = query.where(Award.achievement_id == achievement_id)
    if person_id is not None:
        query = query.where(Award.person_id == person_id)
    expired = list(session.scalars(query.with_for_update()))
    for award in expired:
        before = award_state(award)
        award.status, award.status_changed_at, award.status_reason = AWARD_EXPIRED, now, "validity period ended"
        record(session, actor=Actor.system("expiry"), action="award.expire", subject_type="award",
               subject_id=award.id, now=now, reason="validity period ended", before=before,
               after=award_state(award), course_id=award.course_id,
               platform_id=session.get(Course, award.course_id).platform_id)
        ctx = get_context(session)
        enqueue_award_change(session, award, ACTION_EXPIRE, now, base_url=ctx.base_url, mail=ctx.mail,
                             reason="validity period ended")
    session.flush()
    return expired


def _create_award(session: Session, achievement: Achievement, version: AchievementVersion, person_id: int,
                  now: datetime, *, actor: Actor, awarded_by: str, reason: str | None,
                  evidence: dict[str, Any]) -> Award | None:
    valid_until = now + timedelta(days=version.validity_days) if version.validity_days else None
    values = dict(course_id=achievement.course_id, achievement_id=achievement.id, version_id=version.id,
                  person_id=person_id, status=AWARD_ACTIVE, awarded_by=awarded_by,
                  awarded_by_person_id=actor.person_id, reason=reason, evidence=evidence, awarded_at=now,
                  valid_until=valid_until, status_changed_at=now, needs_review=False)
    award = _insert_award(session, values)
    # The slot may be held by an award whose validity ended and that nobody marked yet: a renewal.
    if award is None and expire_due(session, now, achievement_id=achievement.id, person_id=person_id):
        award = _insert_award(session, values)
    if award is None:
        return None
    # Held while issuing and writing the outbox, which read them too: one SELECT for the course,
    # the learner, the issuer profile and whether the registration has programs or webhooks at
    # all (the session's identity map only keeps objects something still references).
    course, learner, lms, profile, has_programs, has_webhooks = session.execute(
        _AWARD_CONTEXT, {"course_id": achievement.course_id, "person_id": person_id}).one()
    ctx = get_context(session)
    credential = issue_credential(session, award, issuer_profile_of(ctx.settings, lms, profile), ctx.keys, now)
    record(session, actor=actor, action="award.create", subject_type="award", subject_id=award.id, now=now,
           reason=reason, before=None, after=award_state(award), course_id=course.id,
           platform_id=course.platform_id)
    enqueue_award_change(session, award, ACTION_AWARD, now, base_url=ctx.base_url, mail=ctx.mail, reason=reason,
                         credential=credential, webhooks=has_webhooks)
    log.info("award created", extra={"award_id": award.id, "achievement_id": achievement.id,
                                     "person_id": person_id, "by": awarded_by})
    AWARDS.labels(awarded_by).inc()
    del learner
    if has_programs:  # a course badge or a program can complete programs that require it
        award_programs(session, award, course.platform_id, now)
    return award


def _award_context_query() -> Select:
    """Course, learner, platform issuer, issuer profile row, and whether the registration has a
    program home (else no program can require the badge: `award_programs` is skipped, as it
    would find no candidate) and an enabled webhook. Built once: every award runs it."""
    home = aliased(Course)
    programs = exists().where(home.platform_id == Platform.id, home.context_id == PROGRAM_HOME_CONTEXT)
    webhooks = exists().where(WebhookEndpoint.platform_id == Platform.id, WebhookEndpoint.enabled.is_(True))
    return (select(Course, Person, Platform.issuer, IssuerProfileRecord, programs, webhooks)
            .join(Platform, Platform.id == Course.platform_id)
            .join(Person, Person.platform_id == Course.platform_id)
            .outerjoin(IssuerProfileRecord, IssuerProfileRecord.platform_id == Platform.id)
            .where(Course.id == bindparam("course_id"), Person.id == bindparam("person_id")))


_AWARD_CONTEXT = _award_context_query()


def award_programs(session: Session, award: Award, platform_id: int, now: datetime) -> list[Award]:
    """A course badge just awarded (by rule, by hand, in bulk, through a pathway) can complete
    programs of the registration that require it: award each at once, in the same transaction.
    The registration's program lock (its program home's course lock, also taken by an
    activation) makes two course awards committed at once in two courses, or an award and an
    activation, see each other (`criteria.locks`). One lock per registration rather than per
    learner: a batch awarding several learners in another order could otherwise deadlock. A
    badge no program asks for (even as a draft) takes no lock."""
    candidates = dependent_programs(session, platform_id, award.achievement_id, active_only=False)
    if not candidates:
        return []
    lock_course(session, candidates[0].course_id)
    made = (_award_program(session, program, award.person_id, now)
            for program in dependent_programs(session, platform_id, award.achievement_id))
    return [a for a in made if a is not None]


def progress_programs(session: Session, platform_id: int, course_id: int, person_ids: Iterable[int],
                      now: datetime) -> list[Award]:
    """New progress in a course of the registration (a grade, a completion, an activity) can
    complete programs whose pieces read that course: evaluate them for these learners in the
    same transaction, under the registration's program lock (`award_programs`). A course no
    program reads takes no lock."""
    candidates = course_programs(session, platform_id, course_id, active_only=False)
    if not candidates:
        return []
    lock_course(session, candidates[0].course_id)
    made = (_award_program(session, program, pid, now, regress=True)
            for program in course_programs(session, platform_id, course_id) for pid in sorted(set(person_ids)))
    return [a for a in made if a is not None]


def _award_program(session: Session, program: Achievement, person_id: int, now: datetime, *,
                   regress: bool = False) -> Award | None:
    """Award the program if its current rule is met and the learner does not hold it yet; the
    evidence names the course credentials it rests on. With `regress` (new progress), a holder
    who no longer meets it goes through the program's regression policy, as a course badge's."""
    progress = program_progress(session, program, person_id, now)
    if progress.held is not None and regress and not progress.met:
        handle_regression(session, program, program.current_version, person_id, None, now)
    if progress.held is not None or not progress.met:
        return None
    base_url = get_context(session).base_url
    urls = {r.award_id: f"{base_url}/credentials/{credential.id}" for r in progress.done
            if r.award_id is not None and (credential := latest_credential(session, r.award_id)) is not None}
    version = program.current_version
    return _create_award(session, program, version, person_id, now,
                         actor=Actor.rule(f"{program.public_id}@v{version.number}"), awarded_by="rule",
                         reason=f"program criteria of version {version.number} met",
                         evidence=program_evidence(progress, urls))


def activate_program(session: Session, platform_id: int, program_id: int, now: datetime, *, actor: Actor) -> list[Award]:
    """Enabling a program awards it retroactively to every learner of the registration who
    already holds what it asks for."""
    lock_course(session, get_program(session, platform_id, program_id).course_id)
    program = set_program_state(session, platform_id, program_id, STATE_ACTIVE, now)
    created = [a for pid in program_candidates(session, program, now)
               if (a := _award_program(session, program, pid, now)) is not None]
    record(session, actor=actor, action="program.activate", subject_type="achievement",
           subject_id=program.public_id, now=now, reason="program enabled: retroactive evaluation",
           after={"awarded": [a.id for a in created]}, course_id=program.course_id, platform_id=platform_id)
    return created


def review_program_award(session: Session, platform_id: int, program_id: int, award_id: int, action: str,
                         actor: Actor, reason: str, now: datetime) -> Award:
    """The admin decides on a program award flagged after a course badge it rests on was
    revoked: keep it as it is, or revoke it. NotFound outside the admin's registration."""
    program = get_program(session, platform_id, program_id)
    if get_award(session, program.course_id, award_id).achievement_id != program.id:
        raise NotFound("award not found in this program")
    if action == "keep":
        return clear_review(session, program.course_id, award_id, actor, reason, now)
    return revoke(session, program.course_id, award_id, None, reason, now, actor=actor)


def award_from_rule(session: Session, achievement: Achievement, version: AchievementVersion, person_id: int,
                    decision: Any, now: datetime) -> Award | None:
    """The `on_met` hand-off from criteria: award unless the learner already holds the badge
    (then nothing happens and None is returned, also when another process won the race)."""
    if achievement.state != STATE_ACTIVE:
        return None
    reason = f"criteria of version {version.number} met"
    return _create_award(session, achievement, version, person_id, now,
                         actor=Actor.rule(f"{achievement.public_id}@v{version.number}"), awarded_by="rule",
                         reason=reason, evidence={"version": version.number, "rule_hash": version.rule_hash,
                                                  **_evidence(decision)})


def award_manually(session: Session, course_id: int, achievement_id: int, person_id: int,
                   actor_person_id: int | None, reason: str, now: datetime, *, actor: Actor | None = None) -> Award:
    """An instructor awards a badge by hand, with a reason. Conflict if the learner holds it."""
    reason = (reason or "").strip()
    if not reason:
        raise BadInput("a reason is required to award a badge by hand")
    achievement = get_achievement(session, course_id, achievement_id)
    if achievement.state == STATE_ARCHIVED:
        raise Conflict("this badge is archived")
    version = achievement.current_version
    if version is None:
        raise Conflict("this badge has no version yet")
    require_issuable(session, achievement)
    _require_learner(session, course_id, person_id)
    # Taken before the award row is written: a progress evaluation of this learner that awards
    # the same badge by rule waits here, not on the row (which would deadlock with this lock).
    lock_learners(session, {(course_id, person_id)})
    actor = actor or (Actor.user(actor_person_id) if actor_person_id is not None else Actor.system())
    award = _create_award(session, achievement, version, person_id, now, actor=actor,
                          awarded_by="instructor" if actor.type == "user" else actor.type, reason=reason,
                          evidence={"manual": True, "reason": reason})
    if award is None:
        raise Conflict("the learner already holds this badge")
    award_dependants(session, award, now)
    return award


def award_dependants(session: Session, award: Award, now: datetime) -> list[tuple[int, int]]:
    """A badge awarded outside an evaluation pass (by hand, in bulk) can complete the rules of
    badges that require it (pathways): re-evaluate those for this learner now instead of at
    their next unrelated progress event. The caller holds the learner's lock (`lock_learners`).
    Returns the (badge, learner) pairs met."""
    from ..criteria import reevaluate

    return reevaluate(session, award.course_id, [award.person_id], now, awarded_badges={award.achievement_id},
                      on_met=award_from_rule).met


def _change(session: Session, award: Award, *, actor: Actor, action: str, reason: str, now: datetime,
            new_status: str, needs_review: bool | None = None) -> Award:
    before = award_state(award)
    award.status, award.status_changed_at, award.status_reason = new_status, now, reason
    if needs_review is not None:
        award.needs_review = needs_review
    session.flush()
    course = session.get(Course, award.course_id)
    record(session, actor=actor, action=f"award.{action}", subject_type="award", subject_id=award.id, now=now,
           reason=reason, before=before, after=award_state(award), course_id=course.id,
           platform_id=course.platform_id)
    ctx = get_context(session)
    enqueue_award_change(session, award, action, now, base_url=ctx.base_url, mail=ctx.mail, reason=reason)
    return award


def _actor(actor: Actor | None, actor_person_id: int | None) -> Actor:
    return actor or (Actor.user(actor_person_id) if actor_person_id is not None else Actor.system())


def _reason(reason: str | None, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise BadInput(f"a reason is required to {what}")
    return reason


def revoke(session: Session, course_id: int, award_id: int, actor_person_id: int | None, reason: str,
           now: datetime, *, actor: Actor | None = None) -> Award:
    """Set the revocation bit; the award becomes history, so a later award issues a new credential."""
    reason = _reason(reason, "revoke a badge")
    award = get_award(session, course_id, award_id)
    if award.status not in LIVE_STATUSES:
        raise Conflict(f"this award is {award.status}, it cannot be revoked")
    _set_credential_bits(session, award, PURPOSE_REVOCATION, True, now)
    revoked = _change(session, award, actor=_actor(actor, actor_person_id), action=ACTION_REVOKE, reason=reason,
                      now=now, new_status=AWARD_REVOKED, needs_review=False)
    _flag_dependants(session, revoked, now)
    return revoked


def _flag_dependants(session: Session, revoked: Award, now: datetime) -> list[int]:
    """The learner's live badges that were earned under a rule requiring the revoked one
    (a pathway) stay valid, since nothing is revoked silently, and open a review item so the
    instructor decides. Returns the flagged award ids."""
    from ..criteria.rules import references

    def requires(rule: dict[str, Any]) -> bool:
        if is_program_rule(rule):
            return revoked.achievement_id in required_awards(rule)
        return bool(rule) and revoked.achievement_id in references(rule).achievements

    flagged: list[int] = []
    # A person belongs to one registration: their live awards are those of its courses and of
    # its programs, which may rest on a badge of any of its courses.
    live = session.scalars(select(Award).where(
        Award.person_id == revoked.person_id, Award.status.in_(LIVE_STATUSES), Award.id != revoked.id)
        .order_by(Award.id))
    platform_id = session.get(Course, revoked.course_id).platform_id
    for award in list(live):
        if award.needs_review or not requires(award.version.rule):
            continue
        before = award_state(award)
        award.needs_review = True
        record(session, actor=Actor.system("prerequisite"), action="award.flag", subject_type="award",
               subject_id=award.id, now=now, before=before, after=award_state(award),
               reason=f"the required badge {revoked.version.name!r} was revoked: review this badge",
               course_id=award.course_id, platform_id=platform_id)
        flagged.append(award.id)
    return flagged


def suspend(session: Session, course_id: int, award_id: int, actor_person_id: int | None, reason: str,
            now: datetime, *, actor: Actor | None = None, needs_review: bool = False) -> Award:
    """Suspend (reversible): the award's status, and the suspension bit of credentials issued in
    the two-entry mode; `needs_review` opens a review item."""
    reason = _reason(reason, "suspend a badge")
    award = get_award(session, course_id, award_id)
    if award.status != AWARD_ACTIVE:
        raise Conflict(f"this award is {award.status}, it cannot be suspended")
    _set_credential_bits(session, award, PURPOSE_SUSPENSION, True, now)
    return _change(session, award, actor=_actor(actor, actor_person_id), action=ACTION_SUSPEND, reason=reason,
                   now=now, new_status=AWARD_SUSPENDED, needs_review=needs_review)


def reinstate(session: Session, course_id: int, award_id: int, actor_person_id: int | None, reason: str,
              now: datetime, *, actor: Actor | None = None) -> Award:
    """Lift a suspension (the award's status, and the bit of two-entry credentials) and close
    the review item."""
    reason = _reason(reason, "reinstate a badge")
    award = get_award(session, course_id, award_id)
    if award.status != AWARD_SUSPENDED:
        raise Conflict(f"this award is {award.status}, only a suspended award can be reinstated")
    _set_credential_bits(session, award, PURPOSE_SUSPENSION, False, now)
    return _change(session, award, actor=_actor(actor, actor_person_id), action=ACTION_REINSTATE,
                   reason=reason, now=now, new_status=AWARD_ACTIVE, needs_review=False)


def clear_review(session: Session, course_id: int, award_id: int, actor: Actor, reason: str,
                 now: datetime) -> Award:
    """The instructor keeps a flagged award as it is: the review item closes, the status, the
    credential and the LMS stay untouched, and the audit trail records who decided and why."""
    reason = _reason(reason, "keep a flagged badge")
    award = get_award(session, course_id, award_id)
    if not award.needs_review:
        raise Conflict("this award is not waiting for review")
    before = award_state(award)
    award.needs_review = False
    session.flush()
    course = session.get(Course, award.course_id)
    record(session, actor=actor, action="award.review_cleared", subject_type="award", subject_id=award.id,
           now=now, reason=reason, before=before, after=award_state(award), course_id=course.id,
           platform_id=course.platform_id)
    return award


def handle_regression(session: Session, achievement: Achievement, version: AchievementVersion | None,
                      person_id: int, decision: Any, now: datetime) -> Award | None:
    """A learner who holds the badge no longer meets its rule (regrade, integrity case). Policy
    "suspend": suspension bit plus a review item for the instructor; "none": nothing changes."""
    award = find_live_award(session, achievement.id, person_id)
    if award is None or award.status != AWARD_ACTIVE or achievement.regression_policy != REGRESSION_SUSPEND:
        return None
    return suspend(session, achievement.course_id, award.id, None,
                   "grade regression: the criteria are no longer met; review needed", now,
                   actor=Actor.rule(f"{achievement.public_id}@regression"), needs_review=True)


def course_learner_ids(session: Session, course_id: int) -> list[int]:
    return list(session.scalars(
        select(Enrollment.person_id).where(Enrollment.course_id == course_id, Enrollment.role == ROLE_LEARNER,
                                           Enrollment.status == ENROLLMENT_ACTIVE).order_by(Enrollment.person_id)
    ))


def _reevaluate(session: Session, achievement: Achievement, now: datetime) -> list[Award]:
    """Run the criteria over every current learner of the course; award those who qualify."""
    from ..criteria import reevaluate

    lock_course(session, achievement.course_id)

    created: list[Award] = []

    def on_met(s: Session, ach: Achievement, version: AchievementVersion, person_id: int, decision: Any,
               at: datetime) -> None:
        award = award_from_rule(s, ach, version, person_id, decision, at)
        if award is not None:
            created.append(award)

    reevaluate(session, achievement.course_id, course_learner_ids(session, achievement.course_id), now,
               on_met=on_met)
    return created


def reevaluate_clock_rules(session: Session, now: datetime) -> int:
    """Rules with an `after` date or an `enrolled_days` condition can become true with no new
    progress at all, only because time passed; the worker calls this periodically so those
    learners are awarded without waiting for their next event. Returns the courses re-run."""
    from ..criteria import reevaluate
    from ..criteria.rules import references

    def depends_on_clock(rule: dict[str, Any]) -> bool:
        refs = references(rule)
        return refs.time_based or refs.enrolment

    courses = sorted({
        ach.course_id for ach in session.scalars(select(Achievement).where(
            Achievement.state == STATE_ACTIVE, Achievement.current_version_id.is_not(None)))
        if ach.current_version.rule and depends_on_clock(ach.current_version.rule)
    })
    for course_id in courses:
        reevaluate(session, course_id, course_learner_ids(session, course_id), now,
                   on_met=award_from_rule, on_unmet=handle_regression)
    return len(courses)


def reevaluate_courses(sessions: sessionmaker[Session], now: datetime, *, course_ids: list[int] | None = None,
                       steps: Steps = NO_STEPS) -> int:
    """Run the criteria of every active badge over every learner of the courses (default: each
    course with an active badge), one transaction and one step per course, as the worker does
    for clock rules: award who qualifies, apply the regression policy to holders who no longer
    do. For after a rule fix or a restore. Returns the awards created."""
    from ..criteria import reevaluate
    from ..criteria.locks import lock_course
    from ..db import transaction

    if course_ids is None:
        with sessions() as s:
            course_ids = sorted(set(s.scalars(select(Achievement.course_id).where(
                Achievement.state == STATE_ACTIVE, Achievement.current_version_id.is_not(None)))))
    created = 0

    def on_met(s: Session, ach: Achievement, version: AchievementVersion, person_id: int, decision: Any,
               at: datetime) -> None:
        nonlocal created
        created += award_from_rule(s, ach, version, person_id, decision, at) is not None

    steps.start(len(course_ids))
    for course_id in course_ids:
        with transaction(sessions) as s:
            _course(s, course_id)
            lock_course(s, course_id)
            reevaluate(s, course_id, course_learner_ids(s, course_id), now, on_met=on_met, on_unmet=handle_regression)
        steps.advance()
    return created


def on_activate(session: Session, achievement: Achievement, now: datetime, *, actor: Actor | None = None) -> list[Award]:
    """Enabling a badge awards it retroactively to every current learner who already qualifies."""
    course = session.get(Course, achievement.course_id)
    created = _reevaluate(session, achievement, now)
    record(session, actor=actor or Actor.system("activate"), action="achievement.activate",
           subject_type="achievement", subject_id=achievement.public_id, now=now,
           reason="badge enabled: retroactive evaluation of current learners",
           after={"awarded": [a.id for a in created]}, course_id=course.id, platform_id=course.platform_id)
    return created


def delete_draft(session: Session, course_id: int, achievement_id: int, actor: Actor, now: datetime) -> str:
    """Delete a badge that was never activated: a draft nobody earned and no other badge's rule
    requires. Anything else is archived instead, so no credential loses its definition.
    Returns the deleted badge's name."""
    achievement = get_achievement(session, course_id, achievement_id)
    name = achievement.current_version.name if achievement.current_version else ""
    if achievement.state != STATE_DRAFT:
        raise Conflict("only a draft badge can be deleted: archive an active badge instead (its earners keep it)")
    if session.scalar(select(func.count(Award.id)).where(Award.achievement_id == achievement.id)):
        raise Conflict("this badge was awarded, so it cannot be deleted: archive it instead")
    if any(achievement.id in required for other, required in badge_graph(session, course_id).items()
           if other != achievement.id):
        raise Conflict("another badge's criteria require this one: change those criteria first")
    course = session.get(Course, course_id)
    record(session, actor=actor, action="achievement.delete", subject_type="achievement",
           subject_id=achievement.public_id, now=now, reason="draft deleted", before={"name": name},
           course_id=course.id, platform_id=course.platform_id)
    achievement.current_version_id = None
    session.flush()
    session.execute(delete(AchievementVersion).where(AchievementVersion.achievement_id == achievement.id))
    session.execute(delete(Achievement).where(Achievement.id == achievement.id))
    session.expunge(achievement)
    return name


@dataclass(frozen=True)
class EditOutcome:
    policy: str
    awarded: list[int]
    flagged: list[int]


def _qualifies_under_current_rule(session: Session, achievement: Achievement,
                                 now: datetime) -> Callable[[Award], bool]:
    from ..criteria import qualifies

    version = achievement.current_version
    if version is None or not version.rule:  # awarded by hand: nobody fails a rule
        return lambda award: True
    return lambda award: qualifies(session, achievement.course_id, version.rule, award.person_id, now)


def apply_edit_policy(session: Session, achievement: Achievement, policy: str, now: datetime, *,
                      actor: Actor | None = None,
                      still_qualifies: Callable[[Award], bool] | None = None) -> EditOutcome:
    """After the criteria changed: "keep" earners as they are (default), "award_new" to learners
    who qualify now, or "flag" earners who would no longer qualify for review. Nothing is ever
    revoked silently. For "flag", `still_qualifies(award)` decides (default: the current
    version's rule evaluated for that learner by the criteria part)."""
    if policy not in EDIT_POLICIES:
        raise BadInput(f"unknown edit policy {policy!r} (use {', '.join(EDIT_POLICIES)})")
    awarded: list[int] = []
    flagged: list[int] = []
    if policy == EDIT_AWARD_NEW:
        awarded = [a.id for a in _reevaluate(session, achievement, now)]
    elif policy == EDIT_FLAG:
        if still_qualifies is None:
            still_qualifies = _qualifies_under_current_rule(session, achievement, now)
        live = session.scalars(select(Award).where(Award.achievement_id == achievement.id,
                                                   Award.status.in_(LIVE_STATUSES)).order_by(Award.id))
        for award in list(live):
            if not still_qualifies(award):
                before = award_state(award)
                award.needs_review = True
                flagged.append(award.id)
                course = session.get(Course, award.course_id)
                record(session, actor=actor or Actor.system("edit"), action="award.flag", subject_type="award",
                       subject_id=award.id, now=now, reason="criteria edited: no longer meets the new version",
                       before=before, after=award_state(award), course_id=course.id,
                       platform_id=course.platform_id)
    course = session.get(Course, achievement.course_id)
    record(session, actor=actor or Actor.system("edit"), action="achievement.edit_policy",
           subject_type="achievement", subject_id=achievement.public_id, now=now, reason=f"edit policy {policy}",
           after={"policy": policy, "awarded": awarded, "flagged": flagged}, course_id=course.id,
           platform_id=course.platform_id)
    session.flush()
    return EditOutcome(policy, awarded, flagged)


# --- bulk CSV -------------------------------------------------------------------------------

@dataclass(frozen=True)
class RowOutcome:
    line: int
    learner: str
    outcome: str  # awarded | revoked | already_held | not_held | not_found | error, or a `check_bulk` plan
    message: str = ""
    award_id: int | None = None


def find_course_learner(session: Session, course_id: int, ref: str) -> Person | None:
    """A learner of the course by LTI user id (sub), LMS user id or e-mail (case-insensitive)."""
    ref = ref.strip()
    if not ref:
        return None
    return session.scalars(
        select(Person).join(Enrollment, Enrollment.person_id == Person.id)
        .where(Enrollment.course_id == course_id,
               or_(Person.sub == ref, Person.lms_user_id == ref, func.lower(Person.email) == ref.lower()))
        .order_by(Person.id)
    ).first()


LEARNER_HEADERS = frozenset({"learner", "user", "email", "sub", "user_id", "learner_id"})


def _csv_rows(text: str) -> list[tuple[int, str, str]]:
    """The `learner, reason` rows. A file of the wrong shape is refused whole with one message
    (a wrong header, rows of more than two columns), not one error per row."""
    reader = csv.reader(io.StringIO(text, newline=""))  # a bare CR is a line end, not a malformed field
    try:
        rows = list(reader)
    except csv.Error as e:
        raise BadInput(f"the CSV is malformed at line {reader.line_num}: {e}") from e
    found: list[tuple[int, str, str]] = []
    wide: list[tuple[int, int]] = []
    for line, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if line == 1 and (cells[0].lower() in LEARNER_HEADERS or "reason" in (c.lower() for c in cells)):
            if cells[0].lower() not in LEARNER_HEADERS or (len(cells) > 1 and cells[1].lower() != "reason"):
                raise BadInput(f"the header must be `learner,reason` (found `{','.join(cells)}`): the first "
                               "column is the learner's LTI user id, LMS user id or e-mail, the second the reason")
            continue
        if len(cells) > 2:
            wide.append((line, len(cells)))
        found.append((line, cells[0], cells[1] if len(cells) > 1 else ""))
    if wide:
        line, count = wide[0]
        more = f" (and {len(wide) - 1} more rows)" if len(wide) > 1 else ""
        raise BadInput(f"each row has two columns, learner and reason: line {line} has {count}{more}; "
                       "put a reason that contains commas in double quotes")
    return found


BULK_PLAN = ("will_award", "will_revoke")


def check_bulk(session: Session, course_id: int, achievement_id: int, csv_text: str, action: str, *,
               default_reason: str = "") -> list[RowOutcome]:
    """What `bulk_csv` would do to each row, changing nothing: `will_award` / `will_revoke`
    for the rows it would act on, else why not (already_held, not_held, not_found,
    other_course, no_reason, duplicate, archived)."""
    if action not in ("award", "revoke"):
        raise BadInput("bulk action must be award or revoke")
    achievement = get_achievement(session, course_id, achievement_id)
    course = session.get(Course, course_id)
    plan: list[RowOutcome] = []
    seen: set[int] = set()
    for line, ref, reason in _csv_rows(csv_text):
        person = find_course_learner(session, course_id, ref)
        if person is None:
            elsewhere = session.scalars(select(Person.id).where(
                Person.platform_id == course.platform_id,
                or_(Person.sub == ref, Person.lms_user_id == ref, func.lower(Person.email) == ref.lower()))).first()
            plan.append(RowOutcome(line, ref, "other_course" if elsewhere else "not_found"))
        elif person.id in seen:
            plan.append(RowOutcome(line, ref, "duplicate"))
        elif not (reason or default_reason).strip():
            plan.append(RowOutcome(line, ref, "no_reason"))
        else:
            seen.add(person.id)
            live = find_live_award(session, achievement.id, person.id)
            if action == "revoke":
                plan.append(RowOutcome(line, ref, "will_revoke" if live else "not_held", "", live.id if live else None))
            elif achievement.state == STATE_ARCHIVED:
                plan.append(RowOutcome(line, ref, "archived"))
            else:
                plan.append(RowOutcome(line, ref, "already_held" if live else "will_award", "",
                                       live.id if live else None))
    return plan


def bulk_csv(session: Session, course_id: int, achievement_id: int, csv_text: str, action: str,
             actor_person_id: int | None, now: datetime, *, actor: Actor | None = None,
             default_reason: str = "", steps: Steps = NO_STEPS) -> list[RowOutcome]:
    """Award or revoke from a CSV of `learner (id or e-mail), reason` rows; each row succeeds or
    fails on its own (SAVEPOINT) and the report says what happened to every row (one step each)."""
    if action not in ("award", "revoke"):
        raise BadInput("bulk action must be award or revoke")
    achievement = get_achievement(session, course_id, achievement_id)
    outcomes: list[RowOutcome] = []
    rows = _csv_rows(csv_text)
    steps.start(len(rows))
    for line, ref, reason in rows:
        steps.advance()
        reason = reason or default_reason
        person = find_course_learner(session, course_id, ref)
        if person is None:
            outcomes.append(RowOutcome(line, ref, "not_found", "no learner with this id or e-mail in the course"))
            continue
        try:
            with session.begin_nested():
                if action == "award":
                    award = award_manually(session, course_id, achievement.id, person.id, actor_person_id, reason,
                                           now, actor=actor)
                    outcomes.append(RowOutcome(line, ref, "awarded", "", award.id))
                else:
                    live = find_live_award(session, achievement.id, person.id)
                    if live is None:
                        outcomes.append(RowOutcome(line, ref, "not_held", "the learner does not hold this badge"))
                        continue
                    revoke(session, course_id, live.id, actor_person_id, reason, now, actor=actor)
                    outcomes.append(RowOutcome(line, ref, "revoked", "", live.id))
        except Conflict as err:
            outcomes.append(RowOutcome(line, ref, "already_held" if action == "award" else "error", err.message))
        except BadgerError as err:
            outcomes.append(RowOutcome(line, ref, "error", err.message))
    return outcomes


def stacked_achievements(session: Session, award: Award) -> list[int]:
    """The badges a pathway award stacks: those its earned rule requires through
    `badge_earned`, and theirs in turn (the course's current rules), nearest first."""
    graph = badge_graph(session, award.course_id)
    version = session.get(AchievementVersion, award.version_id)
    queue = sorted(references(version.rule).achievements) if version and version.rule else []
    seen: list[int] = []
    while queue:
        achievement_id = queue.pop(0)
        if achievement_id in seen or achievement_id == award.achievement_id:
            continue
        seen.append(achievement_id)
        queue.extend(sorted(graph.get(achievement_id, ())))
    return seen


def pathway_record(session: Session, course_id: int, person_id: int, achievement_id: int,
                   now: datetime) -> dict[str, Any]:
    """The learner's signed CLR 2.0 for a pathway badge they hold: its credential and the
    credentials of the stacked badges they hold (active awards only; a revoked component is
    left out, as it no longer counts). NotFound unless the learner holds the pathway badge."""
    award = session.scalars(select(Award).where(
        Award.course_id == course_id, Award.achievement_id == achievement_id, Award.person_id == person_id,
        Award.status == AWARD_ACTIVE)).first()
    credential = latest_credential(session, award.id) if award is not None else None
    if credential is None:
        raise NotFound("you do not hold this badge")
    stacked = stacked_achievements(session, award)
    if not stacked:
        raise NotFound("this badge stacks no other badges")
    components = []
    for component in stacked:
        held = session.scalars(select(Award).where(
            Award.course_id == course_id, Award.achievement_id == component, Award.person_id == person_id,
            Award.status == AWARD_ACTIVE)).first()
        found = latest_credential(session, held.id) if held is not None else None
        if found is not None:
            components.append(credential_document(found))
    ctx = get_context(session)
    issuer = issuer_profile_for_course(session, ctx.settings, course_id)
    record = PathwayRecord(f"urn:uuid:{uuid.uuid4()}", credential_document(credential), components)
    return sign_clr(record, issuer, ctx.keys, now)


def program_record(session: Session, platform_id: int, person_id: int, program_id: int,
                   now: datetime) -> dict[str, Any]:
    """The learner's signed CLR 2.0 for a program they hold: the program credential and the
    credentials (course badges, required programs) it rests on that are still active, issued
    under the registration's issuer profile. NotFound unless the learner holds the program."""
    program = get_program(session, platform_id, program_id)
    award = session.scalars(select(Award).where(
        Award.achievement_id == program.id, Award.person_id == person_id, Award.status == AWARD_ACTIVE)).first()
    credential = latest_credential(session, award.id) if award is not None else None
    if credential is None:
        raise NotFound("you do not hold this program")
    progress = program_progress(session, program, person_id, now)
    components = [credential_document(found) for r in progress.done if r.award_id is not None
                  and (found := latest_credential(session, r.award_id)) is not None]
    ctx = get_context(session)
    issuer = issuer_profile_for_course(session, ctx.settings, program.course_id)
    record = PathwayRecord(f"urn:uuid:{uuid.uuid4()}", credential_document(credential), components)
    return sign_clr(record, issuer, ctx.keys, now)
