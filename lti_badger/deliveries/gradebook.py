"""Where a course's badges go in the LMS gradebook, within what each platform allows.

Three write-back modes per course (docs/deliveries.md argues the default):
- "columns": one AGS line item per badge. Every LMS counts it in the course total.
- "feedback": no new column. The learner's badges go into the comment of the LTI link's own
  line item (the launch's `lineitem` claim), with the score read back from AGS results and
  posted again unchanged. Moodle clears a grade when a score comes without `scoreGiven`
  (`gradebookservices::save_grade_item`), so the current score must be re-posted, not omitted.
- "none": nothing is written to the gradebook.

The platform's own rules narrow that: the scopes its launch granted (no line-item management,
as Open edX's declarative mode, means no columns) and its product (Open edX keeps one grade per
LTI block and publishes only scores bound to the block's resource link).

Switching is safe both ways: columns are never deleted, a badge's column is remembered on the
achievement and found again by (resourceId, tag), and `set_gradebook_mode` queues, for each
award, one delivery to the new mode unless a delivery in that mode already wrote the award's
current state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..awards.audit import Actor, record
from ..errors import BadInput, NotFound
from ..lti import claims as c
from ..models import AchievementVersion, Award, Course, Delivery, Platform
from ..models.award import AWARD_ACTIVE, AWARD_EXPIRED, AWARD_REVOKED, AWARD_SUSPENDED
from ..models.course import GRADEBOOK_COLUMNS, GRADEBOOK_FEEDBACK, GRADEBOOK_MODES, GRADEBOOK_NONE
from ..models.delivery import DELIVERY_DONE
from .outbox import (
    ACTION_AWARD,
    ACTION_EXPIRE,
    ACTION_REVOKE,
    ACTION_SUSPEND,
    DEST_AGS,
    award_payload,
    latest_credential,
    verify_url,
)
from .wakeup import announce_deliveries

FAMILY_OPENEDX = "openedx"
AGS_SCOPES = (c.SCOPE_LINEITEM, c.SCOPE_LINEITEM_READONLY, c.SCOPE_RESULT_READONLY, c.SCOPE_SCORE)

CONFIRMED = "confirmed"  # the LMS's results show what was written
NOT_SHOWN = "not_shown"  # the LMS accepted the score but its results do not show it
UNCHECKED = "unchecked"  # the platform gave no way to read it back
LATER = "later"  # to be read back when the workers have no backlog (a score first, its check after)

_ACTION_FOR_STATUS = {AWARD_ACTIVE: ACTION_AWARD, AWARD_SUSPENDED: ACTION_SUSPEND, AWARD_REVOKED: ACTION_REVOKE,
                      AWARD_EXPIRED: ACTION_EXPIRE}


@dataclass(frozen=True)
class AgsRules:
    """What one course's AGS claim and its platform's product allow the tool to do."""

    manage_line_items: bool
    read_results: bool
    post_scores: bool
    one_grade_per_link: bool  # Open edX: a block has one grade, so no column per badge
    bind_resource_link: bool  # created line items must carry the launch's resourceLinkId to be shown

    @property
    def columns(self) -> bool:
        return self.manage_line_items and not self.one_grade_per_link


def ags_rules(product_family: str | None, granted: Iterable[str]) -> AgsRules:
    """Moodle and Canvas get no `resourceLinkId` on badge columns: Moodle stops sending a link's
    `lineitem` claim once two grade items are bound to it, which would end feedback mode."""
    granted = set(granted or ()) or set(AGS_SCOPES)  # nothing recorded (a course made by hand): assume all
    openedx = (product_family or "").lower() == FAMILY_OPENEDX
    return AgsRules(manage_line_items=c.SCOPE_LINEITEM in granted, read_results=c.SCOPE_RESULT_READONLY in granted,
                    post_scores=c.SCOPE_SCORE in granted, one_grade_per_link=openedx, bind_resource_link=openedx)


def effective_mode(mode: str, rules: AgsRules) -> str:
    """The course's choice as the platform allows it: columns become feedback where the tool
    may not create line items or the platform keeps one grade per link."""
    if mode == GRADEBOOK_COLUMNS and not rules.columns:
        return GRADEBOOK_FEEDBACK
    return mode


@dataclass(frozen=True)
class ModeChoice:
    """One write-back choice on the instructor's page."""

    mode: str
    available: bool
    chosen: bool


@dataclass(frozen=True)
class GradebookSettings:
    """What the instructor's page shows: the three choices, which the platform allows, and
    whether feedback mode has a grade item to write to."""

    choices: tuple[ModeChoice, ...]
    mode: str
    effective: str
    has_own_line_item: bool
    has_ags: bool


def course_rules(session: Session, course: Course) -> AgsRules:
    platform = session.get(Platform, course.platform_id)
    return ags_rules(platform.product_family if platform else None, course.ags_scopes)


def gradebook_settings(session: Session, course: Course) -> GradebookSettings:
    rules = course_rules(session, course)
    choices = tuple(ModeChoice(m, m != GRADEBOOK_COLUMNS or rules.columns, m == course.gradebook_mode)
                    for m in GRADEBOOK_MODES)
    return GradebookSettings(choices, course.gradebook_mode, effective_mode(course.gradebook_mode, rules),
                             bool(course.ags_lineitem_url or (rules.bind_resource_link and course.ags_resource_link_id)),
                             bool(course.ags_lineitems_url or course.ags_lineitem_url))


def _newest_awards(session: Session, course_id: int, person_id: int | None = None) -> list[Award]:
    """Each learner's current award per badge: the newest one (a re-award supersedes a revocation)."""
    newest = select(func.max(Award.id)).where(Award.course_id == course_id)
    if person_id is not None:
        newest = newest.where(Award.person_id == person_id)
    newest = newest.group_by(Award.person_id, Award.achievement_id)
    return list(session.scalars(select(Award).where(Award.id.in_(newest)).order_by(Award.id)))


def set_gradebook_mode(session: Session, course_id: int, mode: str, now: datetime, *, base_url: str,
                       actor: Actor | None = None) -> int:
    """Switch a course's write-back (audited) and bring every award to the new mode: one AGS
    delivery per award whose current state no delivery in that mode has written yet. Returns
    how many were queued. Nothing is deleted in the LMS: old columns stay for the teacher."""
    if mode not in GRADEBOOK_MODES:
        raise BadInput(f"choose one of: {', '.join(GRADEBOOK_MODES)}")
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound("no such course")
    rules = course_rules(session, course)
    if mode == GRADEBOOK_COLUMNS and not rules.columns:
        raise BadInput("this platform does not let the tool add gradebook columns here: "
                       "choose the feedback of the tool's own grade item, or none")
    if mode == course.gradebook_mode:
        return 0
    before, course.gradebook_mode = course.gradebook_mode, mode
    queued = 0 if mode == GRADEBOOK_NONE else _bring_to_mode(session, course, effective_mode(mode, rules), now,
                                                             base_url)
    record(session, actor=actor or Actor.system(), action="course.gradebook_mode", subject_type="course",
           subject_id=course.id, now=now, before={"gradebook_mode": before},
           after={"gradebook_mode": mode, "deliveries_queued": queued}, platform_id=course.platform_id,
           course_id=course.id)
    session.flush()
    if queued:
        announce_deliveries(session)
    return queued


def _bring_to_mode(session: Session, course: Course, target: str, now: datetime, base_url: str) -> int:
    """Queue one AGS delivery per award whose current state no done delivery in `target` wrote."""
    if not (course.ags_lineitems_url or course.ags_lineitem_url):
        return 0
    written = {row.award_id: row.gradebook_status for row in session.execute(
        select(Delivery.award_id, Delivery.gradebook_status)
        .join(Award, Award.id == Delivery.award_id)
        .where(Award.course_id == course.id, Delivery.destination == DEST_AGS, Delivery.status == DELIVERY_DONE,
               Delivery.gradebook_mode == target)
        .order_by(Delivery.id))}  # the newest delivery per award wins
    queued = 0
    for award in _newest_awards(session, course.id):
        if written.get(award.id) == award.status:
            continue
        payload = award_payload(session, award, _ACTION_FOR_STATUS.get(award.status, ACTION_AWARD),
                                base_url=base_url, reason=award.status_reason)
        session.add(Delivery(award_id=award.id, destination=DEST_AGS, action=payload["action"], payload=payload,
                             next_attempt_at=now, created_at=now))
        queued += 1
    return queued


def feedback_comment(session: Session, course_id: int, person_id: int, base_url: str) -> str:
    """One comment for all of a learner's badges in the course: feedback mode has one grade
    item per link, and each score posted replaces the comment before it."""
    lines = []
    for award in _newest_awards(session, course_id, person_id):
        name = session.get(AchievementVersion, award.version_id).name
        if award.status == AWARD_ACTIVE:
            credential = latest_credential(session, award.id)
            see = f" Verify: {verify_url(base_url, credential.id)}" if credential else ""
            lines.append(f"Badge earned: {name}.{see}")
        elif award.status == AWARD_SUSPENDED:
            lines.append(f"Badge {name} is suspended pending review.")
        elif award.status == AWARD_EXPIRED:
            lines.append(f"Badge {name} has expired.")
        else:
            why = f" Reason: {award.status_reason}" if award.status_reason else ""
            lines.append(f"Badge {name} was revoked.{why}")
    return "\n".join(lines)


def unchanged_score(current: dict[str, Any] | None, *, sub: str, comment: str, timestamp: datetime) -> dict[str, Any]:
    """A score that leaves the learner's grade as the LMS's results show it and carries the
    comment: the current score re-posted (same maximum), or none at all when there is none."""
    body: dict[str, Any] = {"userId": sub, "comment": comment,
                            "timestamp": timestamp.isoformat().replace("+00:00", "Z")}
    given = (current or {}).get("resultScore")
    if isinstance(given, (int, float)) and not isinstance(given, bool):
        maximum = (current or {}).get("resultMaximum")
        body.update(scoreGiven=given, scoreMaximum=maximum if isinstance(maximum, (int, float)) and maximum > 0 else 1,
                    activityProgress="Completed", gradingProgress="FullyGraded")
    else:
        body.update(activityProgress="Initialized", gradingProgress="NotReady")
    return body


def confirmation(results: list[dict[str, Any]], score: dict[str, Any]) -> str:
    """Whether the results read back show the score just posted: the same score when one was
    given; without one, the comment (Moodle lists a graded-less row without it: unchecked)."""
    rows = [r for r in results if isinstance(r, dict) and str(r.get("userId")) == str(score["userId"])]
    if not rows:
        return NOT_SHOWN
    row = rows[-1]
    if score.get("scoreGiven") is not None:
        shown = row.get("resultScore")
        maximum = row.get("resultMaximum") or 1
        if not isinstance(shown, (int, float)):
            return UNCHECKED if score["scoreGiven"] == 0 else NOT_SHOWN  # Moodle lists no 0
        same = abs(shown / maximum - score["scoreGiven"] / (score.get("scoreMaximum") or 1)) < 1e-6
        return CONFIRMED if same else NOT_SHOWN
    if row.get("comment") == score.get("comment"):
        return CONFIRMED
    return UNCHECKED if "comment" not in row else NOT_SHOWN
