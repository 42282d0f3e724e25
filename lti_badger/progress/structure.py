"""Course structure: the modules and activities a course has in its LMS, kept in step with
whichever source describes them (AGS line items, Canvas modules and module items, Moodle
sections and course modules). Rules name activities and modules by these LMS ids.

A sync creates and updates; it never deletes (progress and awards may point at an activity
that the LMS has since hidden). `grades_released` is only changed when the source knows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Activity, Module


@dataclass(frozen=True)
class ModuleIn:
    lms_id: str
    title: str
    position: int = 0
    has_completion: bool = False


@dataclass(frozen=True)
class ActivityIn:
    lms_id: str
    title: str
    kind: str = "assignment"
    module_lms_id: str | None = None
    position: int = 0
    max_points: float | None = None
    due_at: datetime | None = None
    deep_link: str | None = None
    completion_required: bool = True
    grades_released: bool | None = None
    lineitem_url: str | None = None
    resource_link_id: str | None = None


@dataclass
class StructureResult:
    modules_created: int = 0
    modules_updated: int = 0
    activities_created: int = 0
    activities_updated: int = 0


def _assign(row: object, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _upsert(session: Session, existing: dict[str, Module | Activity], model: type[Module] | type[Activity],
            course_id: int, lms_id: str, values: dict) -> tuple[int, int]:
    """Add the row for `lms_id` or update the one in `existing`: (1, 0) when created, (0, 1) when
    something changed, (0, 0) when it was already so."""
    row = existing.get(lms_id)
    if row is None:
        row = model(course_id=course_id, lms_id=lms_id[:255], **values)
        session.add(row)
        existing[lms_id] = row
        return 1, 0
    return 0, int(_assign(row, values))


def sync_structure(session: Session, course_id: int, modules: list[ModuleIn], activities: list[ActivityIn],
                   source: str) -> StructureResult:
    """Create or update the course's modules and activities as the source describes them."""
    result = StructureResult()
    existing_modules = {m.lms_id: m for m in session.scalars(select(Module).where(Module.course_id == course_id))}
    for m in modules:
        values = {"title": m.title[:500], "position": m.position, "has_completion": m.has_completion, "source": source}
        created, updated = _upsert(session, existing_modules, Module, course_id, m.lms_id, values)
        result.modules_created += created
        result.modules_updated += updated
    session.flush()

    existing = {a.lms_id: a for a in session.scalars(select(Activity).where(Activity.course_id == course_id))}
    for a in activities:
        module = existing_modules.get(a.module_lms_id) if a.module_lms_id else None
        values = {"title": a.title[:500], "kind": a.kind[:60], "position": a.position, "max_points": a.max_points,
                  "due_at": a.due_at, "deep_link": a.deep_link[:1000] if a.deep_link else None,
                  "completion_required": a.completion_required, "source": source}
        if module is not None:
            values["module_id"] = module.id
        if a.grades_released is not None:
            values["grades_released"] = a.grades_released
        if a.lineitem_url:
            values["lineitem_url"] = a.lineitem_url[:1000]
        if a.resource_link_id:
            values["resource_link_id"] = a.resource_link_id[:255]
        created, updated = _upsert(session, existing, Activity, course_id, a.lms_id, values)
        result.activities_created += created
        result.activities_updated += updated
    session.flush()
    return result
