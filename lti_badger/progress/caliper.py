"""Caliper 1.1 / 1.2 envelopes -> progress.

An envelope is `{sensor, sendTime, dataVersion, data: [events]}`. We read three event types
and acknowledge (without storing) the rest:
- `GradeEvent` (action Graded): the learner is `object.assignee` (the actor is the grader),
  the activity `object.assignable`, the score `generated.scoreGiven` of `generated.maxScore`.
- `AssessmentEvent`: the actor is the learner, the activity the `object` (Assessment);
  `Submitted` completes it, other actions (Started, Paused, ...) only touch it.
- `AssignableEvent`: the actor is the learner, the activity the `object`; `Completed` and
  `Submitted` complete it, `Started` touches it; the instructor actions (Activated,
  Deactivated, Reviewed) are acknowledged and ignored.
The course is `group` (CourseOffering / CourseSection), the event id is `id` (`urn:uuid:..`),
the time `eventTime`. Entities may be given as objects or as bare IRIs. Ids are mapped by
`ids` (Moodle URLs, Canvas URNs and global ids)."""

from __future__ import annotations

from typing import Any

from ..errors import BadInput
from . import ids
from .services import SOURCE_CALIPER, ProgressEventIn

DATA_VERSIONS = ("http://purl.imsglobal.org/ctx/caliper/v1p1", "http://purl.imsglobal.org/ctx/caliper/v1p2")
COMPLETING = {"AssessmentEvent": {"Submitted"}, "AssignableEvent": {"Completed", "Submitted"}}
TOUCHING = {"AssessmentEvent": {"Started", "Paused", "Resumed", "Restarted", "Reset"},
            "AssignableEvent": {"Started"}}


def _id(entity: Any, where: str) -> str:
    if isinstance(entity, str) and entity:
        return entity
    if isinstance(entity, dict) and isinstance(entity.get("id"), str) and entity["id"]:
        return entity["id"]
    raise BadInput(f"{where} must be an entity with an id")


def _get(entity: Any, key: str) -> Any:
    return entity.get(key) if isinstance(entity, dict) else None


def parse_event(event: Any, index: int, course_map: dict[str, str]) -> ProgressEventIn | None:
    where = f"data[{index}]"
    if not isinstance(event, dict):
        raise BadInput(f"{where} must be an event object")
    kind, action = event.get("type"), event.get("action")
    if not isinstance(kind, str) or not isinstance(action, str):
        raise BadInput(f"{where}: type and action are required")
    event_id = _id(event.get("id"), f"{where}.id")
    when = ids.parse_time(event.get("eventTime"), f"{where}.eventTime")
    obj = event.get("object")
    if kind == "GradeEvent":
        learner, activity = _get(obj, "assignee"), _get(obj, "assignable")
        generated = event.get("generated") or {}
        score = ids.parse_number(_get(generated, "scoreGiven"), f"{where}.generated.scoreGiven")
        top = ids.parse_number(_get(generated, "maxScore") if _get(generated, "maxScore") is not None
                                 else _get(activity, "maxScore"), f"{where}.generated.maxScore")
        completed = None
        if learner is None or activity is None:
            raise BadInput(f"{where}: a GradeEvent's object must be an Attempt with assignee and assignable")
    elif action in COMPLETING.get(kind, ()) or action in TOUCHING.get(kind, ()):
        learner, activity = event.get("actor"), obj
        score = None
        top = ids.parse_number(_get(activity, "maxScore"), f"{where}.object.maxScore")
        completed = True if action in COMPLETING[kind] else None
    else:
        _id(event.get("actor"), f"{where}.actor")
        return None
    learner_iri = _id(learner, f"{where} learner")
    lms_id, lms_kind = ids.activity_lms_id(_id(activity, f"{where} activity"))
    group = event.get("group")
    course = None
    if group is not None:
        ref = ids.course_ref(_id(group, f"{where}.group"))
        course = course_map.get(ref, ref)
    return ProgressEventIn(
        source=SOURCE_CALIPER, source_event_id=event_id, occurred_at=when, activity_lms_id=lms_id,
        course_context=course, learner_sub=learner_iri, learner_lms_id=ids.person_ref(learner_iri),
        learner_email=_get(learner, "email") if isinstance(_get(learner, "email"), str) else None,
        score=score, max_score=top, completed=completed,
        activity_title=str(_get(activity, "name"))[:500] if _get(activity, "name") else None,
        activity_kind=(_get(activity, "type") or lms_kind), raw=event)


def parse_envelope(body: Any, *, course_map: dict[str, str] | None = None,
                   max_events: int = 1000) -> tuple[int, list[ProgressEventIn]]:
    """(number of events in the envelope, the ones that say something about progress)."""
    if not isinstance(body, dict):
        raise BadInput("a Caliper envelope must be a JSON object")
    for key in ("sensor", "sendTime", "dataVersion"):
        if not isinstance(body.get(key), str):
            raise BadInput(f"the envelope needs {key}")
    if body["dataVersion"] not in DATA_VERSIONS:
        raise BadInput(f"dataVersion {body['dataVersion']!r} is not Caliper 1.1 or 1.2")
    ids.parse_time(body["sendTime"], "sendTime")
    data = body.get("data")
    if not isinstance(data, list) or not data:
        raise BadInput("the envelope's data must be a non-empty array")
    if len(data) > max_events:
        raise BadInput(f"at most {max_events} events per envelope")
    events = [parse_event(e, i, course_map or {}) for i, e in enumerate(data)]
    return len(data), [e for e in events if e is not None]
