"""xAPI statements (as Moodle's logstore_xapi and other LRS clients send them) -> progress.

What a statement means here:
- verb `completed` -> completed; `passed` -> passed and completed; `failed` -> not passed;
  `scored` -> the score; `attempted` -> a touch (no state change besides its time). The
  statement's `result.completion` / `result.success` / `result.score` count for any of these.
  Other verbs (viewed, launched, ...) are valid statements we do not need: acknowledged with
  their id like an LRS would, and not stored.
- `result.score.raw` / `max` are the points; with only `scaled`, the score is scaled * 100 of 100.
- the learner: `actor.account.name` (Moodle's user id, which is also Moodle's LTI `sub`),
  or `actor.mbox` (e-mail).
- the activity: `object.id`, mapped by `ids.activity_lms_id` (Moodle module URLs -> cmid).
- the course: a `context.contextActivities` parent/grouping that is a Moodle course URL or of
  type `.../lms/course`; without one, the course of the activity.
- the statement `id` is the event id; a statement without one gets a name-based UUID of its
  content, so a resent copy is still recognised.
- `timestamp` orders events; without one, the time we received it.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..errors import BadInput
from . import ids
from .services import SOURCE_XAPI, ProgressEventIn

VERSION_HEADER = "X-Experience-API-Version"
SUPPORTED_VERSION = re.compile(r"^1\.0(\.\d+)?$")
VERBS = {
    "http://adlnet.gov/expapi/verbs/completed": "completed",
    "http://adlnet.gov/expapi/verbs/passed": "passed",
    "http://adlnet.gov/expapi/verbs/failed": "failed",
    "http://adlnet.gov/expapi/verbs/scored": "scored",
    "http://adlnet.gov/expapi/verbs/attempted": "attempted",
    "https://w3id.org/xapi/adl/verbs/completed": "completed",
    "https://w3id.org/xapi/adl/verbs/passed": "passed",
    "https://w3id.org/xapi/adl/verbs/failed": "failed",
    "https://w3id.org/xapi/adl/verbs/scored": "scored",
    "https://w3id.org/xapi/adl/verbs/attempted": "attempted",
}
COURSE_TYPES = ("http://id.tincanapi.com/activitytype/lms/course", "http://adlnet.gov/expapi/activities/course")
_NAMESPACE = uuid.UUID("6b1f3a4e-53a8-4b8e-9c53-0c2b7d0f1e21")


@dataclass(frozen=True)
class ParsedBatch:
    ids: list[str]                 # every statement id, in order (the LRS answer)
    events: list[ProgressEventIn]  # the statements that say something about progress


def check_version(header: str | None) -> None:
    if not header:
        raise BadInput(f"the {VERSION_HEADER} header is required")
    if not SUPPORTED_VERSION.match(header.strip()):
        raise BadInput(f"xAPI version {header!r} is not supported (1.0.x is)")


def _obj(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise BadInput(f"{where} must be an object")
    return value


def _name(definition: dict) -> str | None:
    names = definition.get("name")
    if isinstance(names, dict) and names:
        return str(names.get("en") or names.get("en-US") or next(iter(names.values())))[:500]
    return None


def statement_id(statement: dict) -> str:
    given = statement.get("id")
    if given is not None:
        if not isinstance(given, str):
            raise BadInput("statement id must be a UUID string")
        try:
            return str(uuid.UUID(given))
        except ValueError as e:
            raise BadInput(f"statement id {given!r} is not a UUID") from e
    canonical = json.dumps(statement, sort_keys=True, separators=(",", ":"))
    return str(uuid.uuid5(_NAMESPACE, hashlib.sha256(canonical.encode()).hexdigest()))


def _course(statement: dict) -> str | None:
    context = statement.get("context")
    if not isinstance(context, dict):
        return None
    activities = context.get("contextActivities") or {}
    if not isinstance(activities, dict):
        raise BadInput("context.contextActivities must be an object")
    for kind in ("grouping", "parent", "category", "other"):
        items = activities.get(kind) or []
        for item in items if isinstance(items, list) else [items]:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            course = ids.moodle_course(item["id"])
            if course:
                return course
            if (item.get("definition") or {}).get("type") in COURSE_TYPES:
                return ids.course_ref(item["id"])
    return None


def parse_statement(statement: Any, index: int, received_at: datetime) -> tuple[str, ProgressEventIn | None]:
    where = f"statement {index}"
    st = _obj(statement, where)
    sid = statement_id(st)
    actor = _obj(st.get("actor"), f"{where}: actor")
    verb = _obj(st.get("verb"), f"{where}: verb")
    obj = _obj(st.get("object"), f"{where}: object")
    if not isinstance(verb.get("id"), str) or not isinstance(obj.get("id"), str):
        raise BadInput(f"{where}: verb.id and object.id must be IRIs")
    if obj.get("objectType", "Activity") != "Activity":
        return sid, None
    meaning = VERBS.get(verb["id"])
    if meaning is None:
        return sid, None

    account = actor.get("account") if isinstance(actor.get("account"), dict) else None
    mbox = actor.get("mbox")
    learner_id = str(account.get("name")) if account and account.get("name") is not None else None
    email = mbox[7:] if isinstance(mbox, str) and mbox.startswith("mailto:") else None
    if not learner_id and not email:
        raise BadInput(f"{where}: the actor needs an account (homePage + name) or an mbox")

    result = st.get("result") or {}
    result = _obj(result, f"{where}: result")
    score = _obj(result.get("score") or {}, f"{where}: result.score")
    raw = ids.parse_number(score.get("raw"), f"{where}: score.raw")
    top = ids.parse_number(score.get("max"), f"{where}: score.max")
    scaled = ids.parse_number(score.get("scaled"), f"{where}: score.scaled")
    if raw is None and scaled is not None:
        raw, top = scaled * 100.0, 100.0
    completion, success = result.get("completion"), result.get("success")
    for flag, name in ((completion, "completion"), (success, "success")):
        if flag is not None and not isinstance(flag, bool):
            raise BadInput(f"{where}: result.{name} must be true or false")

    completed = True if meaning in ("completed", "passed") else completion
    passed = {"passed": True, "failed": False}.get(meaning, success)
    lms_id, kind = ids.activity_lms_id(obj["id"])
    definition = obj.get("definition") if isinstance(obj.get("definition"), dict) else {}
    when = ids.parse_time(st["timestamp"], f"{where}: timestamp") if "timestamp" in st else received_at
    return sid, ProgressEventIn(
        source=SOURCE_XAPI, source_event_id=sid, occurred_at=when, activity_lms_id=lms_id,
        course_context=_course(st), learner_sub=learner_id, learner_lms_id=learner_id, learner_email=email,
        score=raw, max_score=top, completed=completed, passed=passed,
        activity_title=_name(definition), activity_kind=kind or (definition.get("type") or "").rsplit("/", 1)[-1] or None,
        raw=st)


def parse_statements(body: Any, received_at: datetime, *, course_map: dict[str, str] | None = None) -> ParsedBatch:
    """A single statement or an array of them; any malformed one rejects the whole batch."""
    statements = body if isinstance(body, list) else [body]
    if not statements:
        raise BadInput("no statements")
    out_ids: list[str] = []
    events: list[ProgressEventIn] = []
    seen: set[str] = set()
    for i, st in enumerate(statements):
        sid, event = parse_statement(st, i, received_at)
        out_ids.append(sid)
        if event is not None and sid not in seen:
            if course_map and event.course_context in course_map:
                event = _with_course(event, course_map[event.course_context])
            events.append(event)
        seen.add(sid)
    return ParsedBatch(out_ids, events)


def _with_course(event: ProgressEventIn, context: str) -> ProgressEventIn:
    return replace(event, course_context=context)
