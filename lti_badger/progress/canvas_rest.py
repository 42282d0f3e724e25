"""Canvas REST pull with an admin-provided access token (`source add canvas-rest`).

Per mapped course (`settings.courses`: Canvas course id -> LTI context id; a course whose
context id is its Canvas id needs no entry):
1. structure: `GET /api/v1/courses/:id/modules?include[]=items&include[]=content_details`.
   A module becomes a Module (LMS id = Canvas module id) plus an activity `module:<id>` of
   kind "module" that carries Canvas's own module completion. Items become activities:
   an Assignment item is named by its assignment id (the id submissions and Live Events use),
   other items by `<type>:<content id>` (`quiz:7`, `page:12`, ...); sub-headers are skipped.
   Each keeps its title, points, due date, link (`html_url`) and whether it has a completion
   requirement.
2. module progress per learner: the same call with `student_id=` gives each module's
   `state` / `completed_at` and each item's `completion_requirement.completed`.
3. submissions: `GET /api/v1/courses/:id/students/submissions?student_ids[]=all`;
   submitted / graded / pending review completes, `score` is the points. A graded
   submission without `posted_at` is hidden from the student: the assignment is flagged
   as grades not released.
Learners are matched by their Canvas user id (`Person.lms_user_id`, from the launch's
`canvas_user_id` custom parameter). Everything is ingested as observations: only changes
are stored, at the time of the sync."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import UpstreamError
from ..models import Course, ProgressSource
from ..models.course import PROGRAM_HOME_CONTEXT
from ..outbound import OutboundClient
from . import ids
from .http import get_pages
from .services import SOURCE_CANVAS_REST, IngestResult, ProgressEventIn, ingest
from .sources import learner_lms_ids, lms_course_map, touch
from .structure import ActivityIn, ModuleIn, StructureResult, sync_structure

SUBMITTED = ("submitted", "graded", "pending_review")
PER_PAGE = 100


@dataclass
class PullResult:
    courses: int = 0
    structure: list[StructureResult] = field(default_factory=list)
    progress: list[IngestResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return sum(p.stored for p in self.progress)

    def add_course(self, session: Session, source: ProgressSource, events: list[ProgressEventIn], now: datetime) -> None:
        """One course pulled in full: its events stored as the LMS's observed state."""
        self.progress.append(ingest(session, source.platform_id, events, now, observed=True))
        self.courses += 1

    def finish(self, session: Session, source: ProgressSource, now: datetime) -> PullResult:
        """The source synced now, with this pull's errors (or none) as its last error."""
        touch(source, now, synced=True, error="; ".join(self.errors) or None)
        session.flush()
        return self


def item_lms_id(item: dict[str, Any]) -> str | None:
    kind = str(item.get("type") or "")
    if kind == "SubHeader":
        return None
    if kind == "Assignment" and item.get("content_id") is not None:
        return ids.canvas_local_id(item["content_id"])
    ref = item.get("content_id") if item.get("content_id") is not None else item.get("page_url") or item.get("id")
    return f"{kind.lower()}:{ref}"


def _time(value: Any, what: str) -> datetime | None:
    return ids.parse_time(value, what) if isinstance(value, str) and value else None


def structure_of(modules: list[dict[str, Any]]) -> tuple[list[ModuleIn], list[ActivityIn]]:
    mods, acts = [], []
    for m in modules:
        if not isinstance(m, dict) or m.get("id") is None:
            continue
        mid = str(m["id"])
        items = [i for i in m.get("items") or [] if isinstance(i, dict)]
        has_completion = any(i.get("completion_requirement") for i in items)
        mods.append(ModuleIn(mid, str(m.get("name") or mid), int(m.get("position") or 0), has_completion))
        acts.append(ActivityIn(f"module:{mid}", f"{m.get('name') or mid} (module)", kind="module", module_lms_id=mid,
                               position=0, completion_required=False))
        for item in items:
            lms_id = item_lms_id(item)
            if lms_id is None:
                continue
            details = item.get("content_details") or {}
            points = details.get("points_possible")
            acts.append(ActivityIn(
                lms_id, str(item.get("title") or lms_id), kind=str(item.get("type") or "item").lower(), module_lms_id=mid,
                position=int(item.get("position") or 0),
                max_points=float(points) if isinstance(points, (int, float)) else None,
                due_at=_time(details.get("due_at"), "due_at"), deep_link=item.get("html_url"),
                completion_required=bool(item.get("completion_requirement"))))
    return mods, acts


def module_events(modules: list[dict[str, Any]], course: Course, user_id: str, now: datetime) -> list[ProgressEventIn]:
    events = []
    for m in modules:
        if not isinstance(m, dict) or m.get("id") is None or m.get("state") is None:
            continue
        mid = str(m["id"])
        events.append(ProgressEventIn(
            source=SOURCE_CANVAS_REST, source_event_id=f"module:{mid}:{user_id}", occurred_at=now,
            activity_lms_id=f"module:{mid}", course_id=course.id, learner_lms_id=user_id,
            completed=m["state"] == "completed",
            raw={"module": mid, "state": m["state"], "completed_at": m.get("completed_at")}))
        for item in m.get("items") or []:
            requirement = item.get("completion_requirement") if isinstance(item, dict) else None
            lms_id = item_lms_id(item) if isinstance(item, dict) else None
            if not requirement or lms_id is None or "completed" not in requirement:
                continue
            events.append(ProgressEventIn(
                source=SOURCE_CANVAS_REST, source_event_id=f"item:{item.get('id')}:{user_id}", occurred_at=now,
                activity_lms_id=lms_id, course_id=course.id, learner_lms_id=user_id,
                completed=bool(requirement["completed"]), raw={"item": item.get("id"), "requirement": requirement}))
    return events


def submission_events(submissions: list[dict[str, Any]], course: Course, known: set[str], learners: set[str],
                      now: datetime) -> list[ProgressEventIn]:
    hidden: dict[str, bool] = defaultdict(bool)
    graded: set[str] = set()
    for s in submissions:
        if isinstance(s, dict) and s.get("score") is not None and s.get("assignment_id") is not None:
            aid = ids.canvas_local_id(s["assignment_id"])
            graded.add(aid)
            hidden[aid] |= s.get("posted_at") is None
    events = []
    for s in submissions:
        if not isinstance(s, dict) or s.get("assignment_id") is None or s.get("user_id") is None:
            continue
        aid, uid = ids.canvas_local_id(s["assignment_id"]), ids.canvas_local_id(s["user_id"])
        if aid not in known or uid not in learners:
            continue
        score = s.get("score")
        completed = True if s.get("workflow_state") in SUBMITTED else None
        if completed is None and score is None:
            continue
        events.append(ProgressEventIn(
            source=SOURCE_CANVAS_REST, source_event_id=f"submission:{s.get('id')}", occurred_at=now,
            activity_lms_id=aid, course_id=course.id, learner_lms_id=uid, completed=completed,
            score=float(score) if isinstance(score, (int, float)) else None,
            grades_released=(not hidden[aid]) if aid in graded else None,
            raw={k: s.get(k) for k in ("id", "assignment_id", "user_id", "score", "workflow_state", "submitted_at",
                                       "graded_at", "posted_at")}))
    return events


def _courses(session: Session, source: ProgressSource) -> list[tuple[str, Course | None]]:
    mapping = lms_course_map(source)
    if mapping:
        found = {c.context_id: c for c in session.scalars(select(Course).where(
            Course.platform_id == source.platform_id, Course.context_id.in_(sorted(mapping.values()))))}
        return [(lms_id, found.get(ctx)) for lms_id, ctx in sorted(mapping.items())]
    return [(c.context_id, c) for c in session.scalars(select(Course).where(
        Course.platform_id == source.platform_id, Course.context_id != PROGRAM_HOME_CONTEXT).order_by(Course.id))]


def sync_canvas(session: Session, source: ProgressSource, now: datetime, *, http: OutboundClient) -> PullResult:
    base, headers = source.settings["base_url"], {"Authorization": f"Bearer {source.settings['token']}"}
    result = PullResult()
    for canvas_id, course in _courses(session, source):
        if course is None:
            result.errors.append(f"Canvas course {canvas_id}: no such course on this platform (launch it once)")
            continue
        try:
            url = f"{base}/api/v1/courses/{canvas_id}/modules"
            include = [("include[]", "items"), ("include[]", "content_details"), ("per_page", PER_PAGE)]
            modules = get_pages(http, url, "Canvas modules", params=include, headers=headers)
            mods, acts = structure_of(modules)
            result.structure.append(sync_structure(session, course.id, mods, acts, SOURCE_CANVAS_REST))
            known = {a.lms_id for a in acts}
            learners = learner_lms_ids(session, course)
            events: list[ProgressEventIn] = []
            for user_id in learners:
                progress = get_pages(http, url, "Canvas module progress", headers=headers,
                                     params=include + [("student_id", user_id)])
                events.extend(module_events(progress, course, user_id, now))
            submissions = get_pages(http, f"{base}/api/v1/courses/{canvas_id}/students/submissions",
                                    "Canvas submissions", headers=headers,
                                    params=[("student_ids[]", "all"), ("per_page", PER_PAGE)])
            events.extend(submission_events(submissions, course, known, set(learners), now))
            result.add_course(session, source, events, now)
        except UpstreamError as e:
            result.errors.append(f"Canvas course {canvas_id}: {e.message}")
    return result.finish(session, source, now)
