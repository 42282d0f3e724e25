"""Ingestion: every source (xAPI, Caliper, Canvas events, AGS, Canvas REST, Moodle WS) turns
what the LMS said into `ProgressEventIn` values and hands them to `ingest`.

`ingest` is the one place that enforces the progress invariants:
- the raw event is stored (`ProgressEvent`, unique per platform + source + source event id)
  before anything is acknowledged, so the same event twice changes nothing;
- the learner's state (`Progress`) only ever moves forward in LMS time: an event older than the
  stored state is kept in the log but never overwrites it (also under concurrent writers: the
  upsert itself carries the `occurred_at` guard);
- everything is resolved inside the sending platform: an unknown course, learner or activity
  is rejected with a reason and stores nothing.

Unknown activities in a known course: push sources (xAPI, Caliper, Canvas Live Events) may
create them, because an LMS sends events for an activity the tool has not synced yet (a quiz
added this morning); pull sources (AGS, Canvas REST, Moodle WS) sync the course structure
first, so an unknown activity from them is a real inconsistency and is rejected.

It is written for throughput (>= 1,000 events/s on PostgreSQL): a handful of bulk queries per
batch whatever its size, and `INSERT .. ON CONFLICT` on both SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import cache
from typing import Any, Iterable

from sqlalchemy import Select, bindparam, or_, select, tuple_, update
from sqlalchemy.orm import Session

from .. import criteria
from ..awards import services as award_services
from ..criteria.locks import lock_learners
from ..db import burst, dialect_insert, per_dialect
from ..errors import BadInput
from ..metrics import count_events
from ..models import Activity, Course, Person, Progress, ProgressEvent

log = logging.getLogger(__name__)

SOURCE_XAPI = "xapi"
SOURCE_CALIPER = "caliper"
SOURCE_CANVAS_EVENTS = "canvas-events"
SOURCE_CANVAS_REST = "canvas-rest"
SOURCE_MOODLE_WS = "moodle-ws"
SOURCE_MOODLE_PLUGIN = "moodle-plugin"
SOURCE_AGS = "ags"
SOURCE_MANUAL = "manual"

# Push sources may create an activity they mention in a course we know (see module docstring).
CREATES_ACTIVITIES = frozenset({SOURCE_XAPI, SOURCE_CALIPER, SOURCE_CANVAS_EVENTS, SOURCE_MOODLE_PLUGIN})

MAX_BATCH = 5000
_CHUNK = 500  # rows per IN (...) / VALUES list: well under every driver's parameter limit


@dataclass(frozen=True)
class ProgressEventIn:
    """One normalised statement of progress: who, what, how far, when, and from where.

    The course is given by its LTI `context_id` (`course_context`) or our own id
    (`course_id`); the learner by LTI `sub`, the LMS's own user id, or e-mail (tried in that
    order); the activity by its LMS id within the course. `completed`/`passed`/`score` left
    `None` mean "this event does not say" and keep the stored value."""

    source: str
    source_event_id: str
    occurred_at: datetime
    activity_lms_id: str
    course_context: str | None = None
    course_id: int | None = None
    learner_sub: str | None = None
    learner_lms_id: str | None = None
    learner_email: str | None = None
    score: float | None = None
    max_score: float | None = None
    completed: bool | None = None
    passed: bool | None = None
    activity_title: str | None = None
    activity_kind: str | None = None
    # False when the LMS says the grade is not yet released (muted / hidden): it is stored
    # and the activity is flagged so that no learner-facing view shows its grades.
    grades_released: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Rejection:
    index: int
    source_event_id: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.source_event_id, "reason": self.reason}


@dataclass
class IngestResult:
    """What happened to a batch. stored + duplicates + skipped + rejected == len(events);
    `stale` of the stored ones were older than the learner's state and changed nothing;
    `applied` (learner, activity) states changed; `skipped` events were about courses this
    platform has not launched the tool in, acknowledged without storing (opt-in per source)."""

    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    stale: int = 0
    applied: int = 0
    created_activities: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    # (course id, person id, activity id) of every state that changed: what to re-evaluate.
    affected: set[tuple[int, int, int]] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {"stored": self.stored, "duplicates": self.duplicates, "skipped": self.skipped, "stale": self.stale,
                "applied": self.applied, "created_activities": self.created_activities,
                "rejected": [r.to_dict() for r in self.rejected]}


def chunked(items: list, size: int = _CHUNK) -> Iterable[list]:
    """`items` in slices small enough for any driver's parameter limit."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# --- resolving names inside one platform ---------------------------------------------------
# The statements every batch runs are built once, their values bound as parameters (`:values`
# an expanding IN list): SQLAlchemy then finds their compiled form without building and
# cache-keying them again on every call (issue 17: a single-statement request runs each once).

def _values() -> Any:
    return bindparam("values", expanding=True)


_COURSES_BY_CONTEXT = select(Course.id, Course.context_id).where(
    Course.platform_id == bindparam("platform_id"), Course.context_id.in_(_values()))
_COURSES_BY_ID = select(Course.id, Course.id.label("ref")).where(Course.platform_id == bindparam("platform_id"),
                                                                Course.id.in_(_values()))
_ACTIVITIES_BY_LMS_ID = select(Activity.id, Activity.lms_id).where(
    Activity.course_id == bindparam("course_id"), Activity.lms_id.in_(_values()))


def _resolve_courses(session: Session, platform_id: int, events: list[ProgressEventIn]) -> tuple[dict, dict]:
    contexts = sorted({e.course_context for e in events if e.course_context})
    ids = sorted({e.course_id for e in events if e.course_id is not None})
    by_context: dict[str, int] = {}
    by_id: dict[int, int] = {}
    for found, wanted, stmt in ((by_context, contexts, _COURSES_BY_CONTEXT), (by_id, ids, _COURSES_BY_ID)):
        for part in chunked(wanted):
            for cid, ref in session.execute(stmt, {"platform_id": platform_id, "values": part}):
                found[ref] = cid
    return by_context, by_id


def _courses_of_activities(session: Session, platform_id: int, events: list[ProgressEventIn]) -> dict[str, int]:
    """For events that name no course (Canvas submission events): the one course of this
    platform that has an activity with that LMS id. Ambiguous ids resolve to nothing."""
    wanted = sorted({e.activity_lms_id for e in events if not e.course_context and e.course_id is None})
    found: dict[str, set[int]] = defaultdict(set)
    for part in chunked(wanted):
        for cid, lms_id in session.execute(select(Activity.course_id, Activity.lms_id).join(
                Course, Course.id == Activity.course_id).where(Course.platform_id == platform_id,
                                                             Activity.lms_id.in_(part))):
            found[lms_id].add(cid)
    return {lms_id: next(iter(ids)) for lms_id, ids in found.items() if len(ids) == 1}


_PERSON_KEYS = {"sub": Person.sub, "lms_user_id": Person.lms_user_id, "email": Person.email}


@cache
def _people_query(keys: tuple[str, ...]) -> Select:
    """Learners of a platform by the given kinds of name (`_PERSON_KEYS`), one IN list each."""
    return (select(Person.id, Person.sub, Person.lms_user_id, Person.email)
            .where(Person.platform_id == bindparam("platform_id"),
                   or_(*(_PERSON_KEYS[k].in_(bindparam(k, expanding=True)) for k in keys)))
            .order_by(Person.id))


def _resolve_people(session: Session, platform_id: int, events: list[ProgressEventIn]) -> tuple[dict, dict, dict]:
    """Learners by LTI sub, LMS user id and e-mail, in one query per chunk."""
    subs = sorted({e.learner_sub for e in events if e.learner_sub})
    lms_ids = sorted({e.learner_lms_id for e in events if e.learner_lms_id})
    emails = sorted({e.learner_email.lower() for e in events if e.learner_email})
    by_sub: dict[str, int] = {}
    by_lms: dict[str, int] = {}
    by_email: dict[str, int] = {}
    size = max(len(subs), len(lms_ids), len(emails))
    for i in range(0, size, _CHUNK):
        named = (("sub", subs), ("lms_user_id", lms_ids), ("email", emails))
        wanted = {key: values[i:i + _CHUNK] for key, values in named if values[i:i + _CHUNK]}
        rows = session.execute(_people_query(tuple(wanted)), {"platform_id": platform_id, **wanted})
        for pid, sub, lms_id, email in rows:
            by_sub.setdefault(sub, pid)
            if lms_id is not None:
                by_lms.setdefault(lms_id, pid)
            if email:
                by_email.setdefault(email.lower(), pid)
    return by_sub, by_lms, by_email


def _resolve_activities(session: Session, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    found: dict[tuple[int, str], int] = {}
    by_course: dict[int, list[str]] = defaultdict(list)
    for course_id, lms_id in pairs:
        by_course[course_id].append(lms_id)
    for course_id, lms_ids in by_course.items():
        for part in chunked(sorted(lms_ids)):
            for aid, lms_id in session.execute(_ACTIVITIES_BY_LMS_ID, {"course_id": course_id, "values": part}):
                found[(course_id, lms_id)] = aid
    return found


def _create_activities(session: Session, wanted: dict[tuple[int, str], ProgressEventIn]) -> dict[tuple[int, str], int]:
    rows = [{"course_id": c, "lms_id": lms_id, "title": (e.activity_title or lms_id)[:500],
             "kind": (e.activity_kind or "activity")[:60], "position": 0, "completion_required": True,
             "grades_released": True, "source": e.source} for (c, lms_id), e in sorted(wanted.items())]
    stmt = dialect_insert(session, Activity.__table__).on_conflict_do_nothing(index_elements=["course_id", "lms_id"])
    for part in chunked(rows):
        session.execute(stmt, part)
    return _resolve_activities(session, set(wanted))


# --- the one entry point -------------------------------------------------------------------

def ingest(session: Session, platform_id: int, events: list[ProgressEventIn], now: datetime, *,
           all_or_nothing: bool = False, observed: bool = False, skip_unknown_courses: bool = False,
           reevaluate: bool = True) -> IngestResult:
    """Store `events` of one platform and move learners' progress forward.

    With `all_or_nothing` (the HTTP endpoints), one rejected event rejects the whole batch
    with `BadInput` before anything is written. Afterwards the criteria of affected learners
    are re-evaluated (see `reevaluate_affected`).

    `observed` is for pulls (AGS, Canvas REST, Moodle WS): each event is what the LMS shows
    *now*, not a change. An observation equal to the stored state is a duplicate and leaves
    no trace; a different one is stored under its id suffixed with the sync time, so a state
    that flips back (completed, not, completed again) is still recorded each time.

    `skip_unknown_courses` (a source setting) acknowledges events about courses unknown on
    this platform without storing them instead of rejecting them: Moodle's logstore_xapi
    sends the statements of every course of the site, most of which never use the tool."""
    if len(events) > MAX_BATCH:
        raise BadInput(f"at most {MAX_BATCH} events per batch, got {len(events)}")
    result = IngestResult()
    if not events:
        return result

    by_context, by_id = _resolve_courses(session, platform_id, events)
    by_activity = _courses_of_activities(session, platform_id, events)
    by_sub, by_lms, by_email = _resolve_people(session, platform_id, events)

    resolved: list[tuple[int, ProgressEventIn, int, int]] = []  # (index, event, course, person)
    for i, e in enumerate(events):
        if e.course_context:
            course = by_context.get(e.course_context)
        elif e.course_id is not None:
            course = by_id.get(e.course_id)
        else:
            course = by_activity.get(e.activity_lms_id)
        if course is None and skip_unknown_courses:
            result.skipped += 1
            continue
        if course is None:
            ref = e.course_context or e.course_id or f"of activity {e.activity_lms_id}"
            result.rejected.append(Rejection(i, e.source_event_id, f"unknown course {ref!r} on this platform"))
            continue
        person = ((by_sub.get(e.learner_sub) if e.learner_sub else None)
                  or (by_lms.get(e.learner_lms_id) if e.learner_lms_id else None)
                  or (by_email.get(e.learner_email.lower()) if e.learner_email else None))
        if person is None:
            who = e.learner_sub or e.learner_lms_id or e.learner_email
            result.rejected.append(Rejection(i, e.source_event_id, f"unknown learner {who!r} on this platform"))
            continue
        resolved.append((i, e, course, person))

    pairs = {(course, e.activity_lms_id) for _, e, course, _ in resolved}
    activities = _resolve_activities(session, pairs)
    missing = {}
    for _, e, course, _ in resolved:
        key = (course, e.activity_lms_id)
        if key not in activities and e.source in CREATES_ACTIVITIES:
            missing.setdefault(key, e)
    if missing and not (all_or_nothing and result.rejected):
        activities.update(_create_activities(session, missing))
        result.created_activities = len(missing)

    accepted: list[tuple[ProgressEventIn, int, int, int]] = []  # (event, course, person, activity)
    for i, e, course, person in resolved:
        activity = activities.get((course, e.activity_lms_id))
        if activity is None:
            result.rejected.append(Rejection(i, e.source_event_id,
                                             f"unknown activity {e.activity_lms_id!r} in this course"))
            continue
        accepted.append((e, course, person, activity))

    if result.rejected:
        result.rejected.sort(key=lambda r: r.index)
        if all_or_nothing:
            raise BadInput(f"{len(result.rejected)} of {len(events)} events rejected, nothing stored",
                           detail={"rejected": [r.to_dict() for r in result.rejected[:50]]})

    _flag_unreleased(session, accepted)
    if observed:
        accepted = _drop_unchanged(session, accepted, now, result)
    fresh = _store_events(session, platform_id, accepted, now, result)
    _apply(session, fresh, now, result)
    session.flush()
    log.info("progress ingested", extra={"platform_id": platform_id, "events": len(events), "stored": result.stored, "skipped": result.skipped,
                                         "duplicates": result.duplicates, "stale": result.stale,
                                         "applied": result.applied, "rejected": len(result.rejected)})
    count_events(e.source for e, *_ in accepted)
    if reevaluate and result.affected:
        reevaluate_affected(session, platform_id, result.affected, now)
    return result


_STATE_FIELDS = ("score", "max_score", "completed", "passed")


_CURRENT_STATES = select(
    Progress.activity_id, Progress.person_id, Progress.score, Progress.max_score, Progress.completed, Progress.passed,
    Progress.occurred_at, Progress.source, Progress.source_event_id,
).where(tuple_(Progress.activity_id, Progress.person_id).in_(_values()))


def _current_states(session: Session, keys: list[tuple[int, int]]) -> dict[tuple[int, int], dict[str, Any]]:
    current: dict[tuple[int, int], dict[str, Any]] = {}
    for part in chunked(keys):
        for row in session.execute(_CURRENT_STATES, {"values": part}):
            current[(row.activity_id, row.person_id)] = row._asdict()
    return current


def _merge_observations(accepted: list, result: IngestResult) -> list:
    """One observation per (learner, activity): what several views of the LMS say together
    (Canvas's module item says completed, its submission gives the score)."""
    merged: dict[tuple[int, int], tuple] = {}
    for e, course, person, activity in accepted:
        key = (activity, person)
        if key not in merged:
            merged[key] = (e, course, person, activity)
            continue
        first = merged[key][0]
        values = {f: getattr(e, f) for f in (*_STATE_FIELDS, "grades_released") if getattr(e, f) is not None}
        merged[key] = (replace(first, source_event_id=f"{first.source_event_id}+{e.source_event_id}"[:200],
                               raw={**first.raw, **e.raw}, **values), course, person, activity)
        result.duplicates += 1
    return list(merged.values())


def _drop_unchanged(session: Session, accepted: list, now: datetime, result: IngestResult) -> list:
    accepted = _merge_observations(accepted, result)
    current = _current_states(session, sorted({(a, p) for _e, _c, p, a in accepted}))
    kept = []
    for e, course, person, activity in accepted:
        state = current.get((activity, person))
        if state is not None and all(getattr(e, f) is None or _same(getattr(e, f), state[f]) for f in _STATE_FIELDS):
            result.duplicates += 1
            continue
        kept.append((replace(e, source_event_id=f"{e.source_event_id}@{now.strftime('%Y%m%dT%H%M%S.%f')}"),
                     course, person, activity))
    return kept


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return b is not None and a is not None and abs(float(a) - float(b)) < 1e-9
    return a == b


def _flag_unreleased(session: Session, accepted: list) -> None:
    """The LMS's word on whether grades are visible to learners wins over what we had."""
    latest: dict[int, tuple[datetime, bool]] = {}
    for e, _course, _person, activity in accepted:
        if e.grades_released is not None:
            when = _aware(e.occurred_at)
            if activity not in latest or latest[activity][0] <= when:
                latest[activity] = (when, e.grades_released)
    for flag in (True, False):
        ids = sorted(a for a, (_w, released) in latest.items() if released is flag)
        for part in chunked(ids):
            session.execute(update(Activity).where(Activity.id.in_(part), Activity.grades_released.is_not(flag))
                            .values(grades_released=flag))


def _store_events(session: Session, platform_id: int, accepted: list, now: datetime,
                  result: IngestResult) -> list[tuple[ProgressEventIn, int, int, int]]:
    """Insert the raw events; only those not seen before come back (the dedupe)."""
    seen: dict[tuple[str, str], tuple] = {}
    for item in accepted:
        e = item[0]
        key = (e.source, e.source_event_id)
        if key in seen:
            result.duplicates += 1
        else:
            seen[key] = item
    rows = [{"platform_id": platform_id, "course_id": course, "source": e.source,
             "source_event_id": e.source_event_id, "payload": e.raw or _payload_of(e), "received_at": now}
            for (e, course, _p, _a) in seen.values()]
    rows.sort(key=lambda r: r["source_event_id"])  # one lock order for overlapping concurrent batches
    inserted: set[tuple[str, str]] = set()
    stmt = _EVENT_INSERT(session)
    for part in chunked(rows):
        inserted.update((s, sid) for s, sid in session.execute(stmt, part))
    result.stored = len(inserted)
    result.duplicates += len(seen) - len(inserted)
    return [item for key, item in seen.items() if key in inserted]


# executemany form: one statement built once, sent by SQLAlchemy's "insertmanyvalues" batching.
_EVENT_INSERT = per_dialect(lambda insert: insert(ProgressEvent.__table__).on_conflict_do_nothing(
    index_elements=["platform_id", "source", "source_event_id"]).returning(
    ProgressEvent.__table__.c.source, ProgressEvent.__table__.c.source_event_id))


def _payload_of(e: ProgressEventIn) -> dict[str, Any]:
    return {"activity": e.activity_lms_id, "course": e.course_context or e.course_id,
            "learner": e.learner_sub or e.learner_lms_id or e.learner_email, "score": e.score,
            "max": e.max_score, "completed": e.completed, "passed": e.passed,
            "occurred_at": e.occurred_at.isoformat()}


def _apply(session: Session, fresh: list, now: datetime, result: IngestResult) -> None:
    """Fold the new events into the learners' states, newest last, and upsert them with a
    guard so that a concurrent newer state is never overwritten either."""
    if not fresh:
        return
    groups: dict[tuple[int, int], list] = defaultdict(list)
    for e, course, person, activity in fresh:
        groups[(activity, person)].append((e, course))
    current = _current_states(session, list(groups))

    states = []
    for (activity, person), items in groups.items():
        items.sort(key=lambda it: _aware(it[0].occurred_at))
        state = dict(current.get((activity, person)) or {})
        changed = False
        for e, course in items:
            when = _aware(e.occurred_at)
            if state.get("occurred_at") is not None and when < _aware(state["occurred_at"]):
                result.stale += 1
                continue
            state.update({"occurred_at": when, "source": e.source, "source_event_id": e.source_event_id})
            for name, value in (("score", e.score), ("max_score", e.max_score), ("completed", e.completed),
                                ("passed", e.passed)):
                if value is not None:
                    state[name] = value
            changed = True
        if changed:
            states.append({"course_id": course, "activity_id": activity, "person_id": person,
                           "score": state.get("score"), "max_score": state.get("max_score"),
                           "completed": bool(state.get("completed") or False), "passed": state.get("passed"),
                           "occurred_at": state["occurred_at"], "source": state["source"],
                           "source_event_id": state["source_event_id"], "recorded_at": now})

    # A fixed order of row locks, so concurrent batches on PostgreSQL cannot deadlock.
    states.sort(key=lambda r: (r["activity_id"], r["person_id"]))
    stmt = _PROGRESS_UPSERT(session)
    for part in chunked(states):
        for course, person, activity in session.execute(stmt, part):
            result.affected.add((course, person, activity))
    result.applied = len(result.affected)


def _progress_upsert(insert) -> Any:
    """The state upsert, guarded so that an older event never overwrites a newer state."""
    table = Progress.__table__
    ins = insert(table)
    ex = ins.excluded
    return ins.on_conflict_do_update(
        index_elements=["activity_id", "person_id"],
        set_={"score": ex.score, "max_score": ex.max_score, "completed": ex.completed, "passed": ex.passed,
              "occurred_at": ex.occurred_at, "source": ex.source, "source_event_id": ex.source_event_id,
              "recorded_at": ex.recorded_at},
        where=table.c.occurred_at <= ex.occurred_at,
    ).returning(table.c.course_id, table.c.person_id, table.c.activity_id)


_PROGRESS_UPSERT = per_dialect(_progress_upsert)


# --- hand-off to the criteria engine -------------------------------------------------------

def reevaluate_affected(session: Session, platform_id: int, affected: set[tuple[int, int, int]], now: datetime) -> int:
    """Re-evaluate only what the new progress can change: per course, the learners with
    changed states (the criteria engine skips those whose enrolment is not active: learners
    who left are not evaluated), restricted to the activities that changed. A met rule
    becomes an award (`awards.services.award_from_rule`); a holder who no longer meets it
    goes through the badge's regression policy (`handle_regression`). Returns how many
    courses were re-evaluated."""
    by_course: dict[int, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    for course, person, activity in affected:
        by_course[course][0].add(person)
        by_course[course][1].add(activity)
    lock_learners(session, {(course, person) for course, person, _activity in affected})
    with burst(session):  # audit and outbox rows of all these awards in one INSERT per table
        for course, (people, acts) in sorted(by_course.items()):
            criteria.reevaluate(session, course, sorted(people), now, activity_ids=sorted(acts),
                                on_met=award_services.award_from_rule, on_unmet=award_services.handle_regression)
            # Programs reading this course's grade, completion or activities (issue 14 A).
            award_services.progress_programs(session, platform_id, course, people, now)
    return len(by_course)


__all__ = ["CREATES_ACTIVITIES", "IngestResult", "ProgressEventIn", "Rejection", "ingest", "reevaluate_affected"]
