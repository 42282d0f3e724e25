"""Pulls over LTI Advantage (`lti.advantage.AdvantageClient`): AGS line items and results,
and the NRPS roster. They run on a course launch (throttled: at most every
`LAUNCH_SYNC_INTERVAL`) and on a schedule (`lti-badger source sync`).

- AGS: every line item of the course becomes an activity (LMS id = the line item URL, kind
  "lineitem", max points = scoreMaximum, due = endDateTime); our own badge columns (tag
  `lti_badger`) are skipped. Each result is an observation of the learner's current score
  (AGS results carry no time: it is stamped with the sync time).
- NRPS: members become people with enrolments; `status` Active / Inactive / Deleted maps to
  the enrolment status, and a member missing from the full roster has left (deleted).
  Criteria are only evaluated for active learners."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import UpstreamError
from ..lti.roles import map_roles
from ..models import Course, Enrollment, Person, Platform
from ..models.course import ENROLLMENT_ACTIVE, ENROLLMENT_DELETED, ENROLLMENT_INACTIVE
from . import ids
from .services import SOURCE_AGS, IngestResult, ProgressEventIn, chunked, ingest
from .structure import ActivityIn, StructureResult, sync_structure

log = logging.getLogger(__name__)

LAUNCH_SYNC_INTERVAL = timedelta(minutes=15)
OWN_LINEITEM_TAG = "lti_badger"
NRPS_STATUS = {"active": ENROLLMENT_ACTIVE, "inactive": ENROLLMENT_INACTIVE, "deleted": ENROLLMENT_DELETED}


class AdvantageCalls(Protocol):
    """What the pulls need of `lti.advantage.AdvantageClient`."""

    def list_line_items(self, lineitems_url: str) -> list[dict]: ...
    def results(self, lineitem_url: str) -> list[dict]: ...
    def members(self, nrps_url: str) -> list[dict]: ...


@dataclass
class RosterResult:
    people_created: int = 0
    enrollments_created: int = 0
    status_changed: int = 0
    left: int = 0


@dataclass
class CourseSync:
    structure: StructureResult | None = None
    progress: IngestResult | None = None
    roster: RosterResult | None = None
    errors: list[str] = field(default_factory=list)


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _link_id(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) else None


def sync_ags(session: Session, course: Course, client: AdvantageCalls, now: datetime) -> tuple[StructureResult, IngestResult]:
    """Line items -> activities, results -> progress observations."""
    if not course.ags_lineitems_url:
        raise UpstreamError("the course has no AGS line items endpoint (launch it once with AGS enabled)")
    items = [i for i in client.list_line_items(course.ags_lineitems_url)
             if isinstance(i, dict) and isinstance(i.get("id"), str) and i.get("tag") != OWN_LINEITEM_TAG]
    activities = []
    for position, item in enumerate(items):
        due = None
        if isinstance(item.get("endDateTime"), str):
            due = ids.parse_time(item["endDateTime"], "endDateTime")
        activities.append(ActivityIn(lms_id=item["id"], title=str(item.get("label") or item["id"]), kind="lineitem",
                                     position=position, max_points=_float(item.get("scoreMaximum")), due_at=due,
                                     lineitem_url=item["id"], resource_link_id=_link_id(item.get("resourceLinkId"))))
    structure = sync_structure(session, course.id, [], activities, SOURCE_AGS)
    events = []
    for item in items:
        for result in client.results(item["id"]):
            if not isinstance(result, dict) or not result.get("userId"):
                continue
            score = _float(result.get("resultScore"))
            top = _float(result.get("resultMaximum")) or _float(item.get("scoreMaximum"))
            if score is None:
                continue
            events.append(ProgressEventIn(
                source=SOURCE_AGS, source_event_id=str(result.get("id") or f"{item['id']}#{result['userId']}")[:200],
                occurred_at=now, activity_lms_id=item["id"], course_id=course.id,
                learner_sub=str(result["userId"]), score=score, max_score=top, raw=result))
    progress = ingest(session, course.platform_id, events, now, observed=True)
    return structure, progress


def sync_roster(session: Session, course: Course, client: AdvantageCalls, now: datetime) -> RosterResult:
    """NRPS members -> people and enrolments (role, LIS roles, status)."""
    if not course.nrps_url:
        raise UpstreamError("the course has no NRPS endpoint (launch it once with NRPS enabled)")
    platform = session.get(Platform, course.platform_id)
    moodle = (platform.product_family or "").lower() == "moodle" if platform else False
    members = [m for m in client.members(course.nrps_url) if isinstance(m, dict) and m.get("user_id")]
    result = RosterResult()
    subs = sorted({str(m["user_id"]) for m in members})
    people: dict[str, Person] = {}
    for part in chunked(subs):
        for person in session.scalars(select(Person).where(Person.platform_id == course.platform_id,
                                                           Person.sub.in_(part))):
            people[person.sub] = person
    enrollments = {e.person_id: e for e in session.scalars(select(Enrollment).where(Enrollment.course_id == course.id))}
    seen: set[int] = set()
    for m in members:
        sub = str(m["user_id"])[:255]
        person = people.get(sub)
        if person is None:
            person = Person(platform_id=course.platform_id, sub=sub, created_at=now)
            session.add(person)
            people[sub] = person
            result.people_created += 1
        for name, limit in (("name", 300), ("given_name", 200), ("family_name", 200)):
            if isinstance(m.get(name), str) and m[name]:
                setattr(person, name, m[name][:limit])
        if isinstance(m.get("email"), str) and m["email"]:
            person.email = m["email"][:320]
        if moodle and not person.lms_user_id:
            person.lms_user_id = sub
        session.flush()
        roles = [r for r in m.get("roles") or [] if isinstance(r, str)]
        status = NRPS_STATUS.get(str(m.get("status") or "Active").lower(), ENROLLMENT_ACTIVE)
        enrollment = enrollments.get(person.id)
        if enrollment is None:
            enrollment = Enrollment(course_id=course.id, person_id=person.id, role=map_roles(roles), lti_roles=roles,
                                    status=status, enrolled_at=now)
            session.add(enrollment)
            enrollments[person.id] = enrollment
            result.enrollments_created += 1
        else:
            if enrollment.status != status:
                result.status_changed += 1
            enrollment.status, enrollment.lti_roles = status, roles
            if roles:
                enrollment.role = map_roles(roles)
        seen.add(person.id)
    for person_id, enrollment in enrollments.items():
        if person_id not in seen and enrollment.status != ENROLLMENT_DELETED:
            enrollment.status = ENROLLMENT_DELETED
            result.left += 1
    session.flush()
    return result


def sync_course(session: Session, course: Course, client: AdvantageCalls, now: datetime, *,
                force: bool = False, min_interval: timedelta = LAUNCH_SYNC_INTERVAL) -> CourseSync | None:
    """Roster then grades, unless the course was synced less than `min_interval` ago (None).
    An LMS error in one part is recorded and does not stop the other."""
    if not force and course.last_synced_at is not None and now - course.last_synced_at < min_interval:
        return None
    outcome = CourseSync()
    if course.nrps_url:
        try:
            outcome.roster = sync_roster(session, course, client, now)
        except UpstreamError as e:
            outcome.errors.append(f"NRPS: {e.message}")
    if course.ags_lineitems_url:
        try:
            outcome.structure, outcome.progress = sync_ags(session, course, client, now)
        except UpstreamError as e:
            outcome.errors.append(f"AGS: {e.message}")
    course.last_synced_at = now
    session.flush()
    log.info("course synced", extra={"course_id": course.id, "errors": outcome.errors})
    return outcome
