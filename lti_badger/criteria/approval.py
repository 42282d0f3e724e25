"""Approval of instructors' badges: when a registration requires it (`CriteriaPolicy`), an
instructor's badge issues under the institution's name only after an LMS admin approved it.
Activating such a badge asks for approval instead; the admin approves (the badge is activated
then) or rejects with a comment. The latest request of a badge is its state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_badger.errors import BadInput, Conflict, NotFound
from lti_badger.models import Achievement, AchievementVersion, ApprovalRequest, Course, CriteriaPolicy, Person
from lti_badger.models.template import APPROVAL_APPROVED, APPROVAL_PENDING, APPROVAL_REJECTED

from .achievements import activate, get_achievement
from .policy import latest_request

DECISIONS = {"approve": APPROVAL_APPROVED, "reject": APPROVAL_REJECTED}


def set_approval_required(session: Session, platform_id: int, required: bool, now: datetime) -> CriteriaPolicy:
    policy = session.get(CriteriaPolicy, platform_id)
    if policy is None:
        policy = CriteriaPolicy(platform_id=platform_id)
        session.add(policy)
    policy.approval_required, policy.updated_at = bool(required), now
    session.flush()
    return policy


def request_approval(session: Session, course_id: int, achievement_id: int, person_id: int | None,
                     now: datetime) -> ApprovalRequest:
    """A new pending request for the badge's current version (the pending one if there is)."""
    achievement = get_achievement(session, course_id, achievement_id)
    latest = latest_request(session, achievement.id)
    if latest is not None and latest.state == APPROVAL_PENDING:
        return latest
    if latest is not None and latest.state == APPROVAL_APPROVED:
        raise Conflict("this badge is already approved")
    request = ApprovalRequest(achievement_id=achievement.id, course_id=course_id, requested_by=person_id,
                              requested_at=now, state=APPROVAL_PENDING, comment="",
                              version_number=achievement.current_version.number if achievement.current_version else 1)
    session.add(request)
    session.flush()
    return request


def list_requests(session: Session, platform_id: int, *, pending_only: bool = False) -> list[dict]:
    """Requests of the registration's courses, newest first, with the names people read."""
    query = (select(ApprovalRequest, Course.title, AchievementVersion.name, Person.name)
             .join(Course, Course.id == ApprovalRequest.course_id)
             .join(Achievement, Achievement.id == ApprovalRequest.achievement_id)
             .outerjoin(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
             .outerjoin(Person, Person.id == ApprovalRequest.requested_by)
             .where(Course.platform_id == platform_id).order_by(ApprovalRequest.id.desc()))
    if pending_only:
        query = query.where(ApprovalRequest.state == APPROVAL_PENDING)
    return [{"request": r, "course": course, "badge": badge, "requester": who}
            for r, course, badge, who in session.execute(query).all()]


def get_request(session: Session, platform_id: int, request_id: int) -> ApprovalRequest:
    request = session.scalar(select(ApprovalRequest).join(Course, Course.id == ApprovalRequest.course_id)
                             .where(ApprovalRequest.id == request_id, Course.platform_id == platform_id))
    if request is None:
        raise NotFound("no such approval request for this LMS")
    return request


def decide(session: Session, platform_id: int, request_id: int, decision: str, comment: str, person_id: int | None,
           now: datetime) -> ApprovalRequest:
    """Approve (the badge is activated: the caller runs the awards it now owes) or reject
    with a comment for the instructor."""
    request = get_request(session, platform_id, request_id)
    if decision not in DECISIONS:
        raise BadInput("decide approve or reject", detail={"field": "decision"})
    comment = (comment or "").strip()[:2000]
    if decision == "reject" and not comment:
        raise BadInput("say why the badge is rejected: the instructor reads the comment", detail={"field": "comment"})
    if request.state != APPROVAL_PENDING:
        raise Conflict(f"this request was already {request.state}")
    request.state, request.comment, request.decided_by, request.decided_at = DECISIONS[decision], comment, person_id, now
    session.flush()
    if request.state == APPROVAL_APPROVED:
        activate(session, request.course_id, request.achievement_id, now)
    return request
