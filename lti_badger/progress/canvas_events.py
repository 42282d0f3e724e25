"""Canvas Live Events (Canvas Data Services, HTTPS delivery, "Canvas" format) -> progress.

Canvas posts one event per request. With "Sign Payload" on, the body is a JWT (JWS, RS256)
whose claims are the live event (`{"metadata": {...}, "body": {...}}`), signed with keys Canvas
publishes as a JWKS and rotates monthly. The source keeps that JWKS in its settings
(`source add canvas-events --jwks FILE`); unsigned bodies are refused: anyone can POST JSON.

The events we read (others are acknowledged and dropped):
- `grade_change`: score / points_possible of `assignment_id` for `user_id`; `muted: true`
  means the grade is not released to the learner (stored, flagged, never shown).
- `submission_created` / `submission_updated`: a submitted (or graded, pending review)
  submission completes the assignment; its score counts when present.
- `course_progress`: the learner's module requirements for the whole course, stored on an
  activity `course:<canvas course id>` (kind "course"): score = requirements done,
  max = requirements, completed when `completed_at` is set.
Ids are reduced to Canvas local ids (`ids.canvas_local_id`). The course is mapped to its LTI
context through the source's course map; events without a mapped course are placed by
their assignment (Canvas assignment ids are unique in an instance). The event id is the
event name plus a digest of the event, so a redelivered event is a duplicate."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import jwt

from ..errors import BadInput, Unauthorized
from ..models import ProgressSource
from . import ids
from .services import SOURCE_CANVAS_EVENTS, ProgressEventIn
from .sources import lms_course_map

EVENTS = ("grade_change", "submission_created", "submission_updated", "course_progress")
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
SUBMITTED_STATES = ("submitted", "graded", "pending_review")


def unverified_header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as e:
        raise BadInput("the body is not a signed Canvas event (compact JWS)") from e


def verify(token: str, source: ProgressSource) -> dict[str, Any] | None:
    """The event the token carries if one of the source's keys signed it, else None."""
    kid = unverified_header(token).get("kid")
    try:
        keyset = jwt.PyJWKSet.from_dict(source.settings.get("jwks") or {})
    except jwt.PyJWTError:
        return None
    for key in keyset.keys:
        if kid is not None and key.key_id not in (None, kid):
            continue
        try:
            claims = jwt.decode(token, key=key.key, algorithms=ALGORITHMS,
                                options={"verify_aud": False, "require": []})
        except jwt.ExpiredSignatureError as e:
            raise Unauthorized("the Canvas event's signature has expired") from e
        except jwt.PyJWTError:
            continue
        return claims
    return None


def verify_for(token: str, candidates: list[ProgressSource]) -> tuple[ProgressSource, dict[str, Any]]:
    """The one source whose keys signed the event. Canvas signs every customer's events with
    the same keys, so several platforms may verify; the event's root account then decides
    (`root_account_uuid` in the source settings)."""
    verified = [(s, claims) for s in candidates if (claims := verify(token, s)) is not None]
    if not verified:
        raise Unauthorized("the Canvas event is not signed by a key of a configured canvas-events source")
    if len(verified) > 1:
        root = (verified[0][1].get("metadata") or {}).get("root_account_uuid")
        verified = [(s, c) for s, c in verified if s.settings.get("root_account_uuid") == root]
        if len(verified) != 1:
            raise Unauthorized("several canvas-events sources accept this event: set root_account_uuid on them "
                               "or post to /canvas/live-events?source=KEY")
    return verified[0]


def _digest(event: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(event, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:40]


def _float(value: Any, where: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadInput(f"{where} must be a number")
    try:
        return float(value)
    except (TypeError, ValueError) as e:
        raise BadInput(f"{where} must be a number") from e


def parse_event(event: Any, source: ProgressSource) -> ProgressEventIn | None:
    if not isinstance(event, dict) or not isinstance(event.get("metadata"), dict) \
            or not isinstance(event.get("body"), dict):
        raise BadInput("a Canvas live event has metadata and body objects")
    meta, body = event["metadata"], event["body"]
    name = meta.get("event_name")
    if not isinstance(name, str):
        raise BadInput("metadata.event_name is required")
    if name not in EVENTS:
        return None
    when = ids.parse_time(meta.get("event_time"), "metadata.event_time")
    course_map = lms_course_map(source)
    # the event itself, not the JWT around it: Canvas re-signs a redelivery (new iat/exp)
    event_id = f"{name}:{_digest({'metadata': meta, 'body': body})}"

    if name == "course_progress":
        course, user, progress = body.get("course"), body.get("user"), body.get("progress")
        if not all(isinstance(x, dict) for x in (course, user, progress)) or not course.get("id") \
                or not user.get("id"):
            raise BadInput("course_progress needs body.course.id, body.user.id and body.progress")
        local = ids.canvas_local_id(course["id"])
        return ProgressEventIn(
            source=SOURCE_CANVAS_EVENTS, source_event_id=event_id, occurred_at=when,
            activity_lms_id=f"course:{local}", course_context=course_map.get(local, local),
            learner_lms_id=ids.canvas_local_id(user["id"]),
            learner_email=user.get("email") if isinstance(user.get("email"), str) else None,
            score=_float(progress.get("requirement_completed_count"), "requirement_completed_count"),
            max_score=_float(progress.get("requirement_count"), "requirement_count"),
            completed=progress.get("completed_at") is not None,
            activity_title=f"Course requirements: {course.get('name') or local}", activity_kind="course", raw=event)

    for key in ("assignment_id", "user_id"):
        if body.get(key) in (None, ""):
            raise BadInput(f"{name} needs body.{key}")
    course = None
    if meta.get("context_type") == "Course" and meta.get("context_id"):
        course = course_map.get(ids.canvas_local_id(meta["context_id"]))
    common = dict(source=SOURCE_CANVAS_EVENTS, source_event_id=event_id, occurred_at=when,
                  activity_lms_id=ids.canvas_local_id(body["assignment_id"]), course_context=course,
                  learner_lms_id=ids.canvas_local_id(body["user_id"]), activity_kind="assignment", raw=event)
    if name == "grade_change":
        muted = body.get("muted")
        return ProgressEventIn(**common, score=_float(body.get("score"), "body.score"),
                               max_score=_float(body.get("points_possible"), "body.points_possible"),
                               completed=True if body.get("grading_complete") else None,
                               grades_released=(not muted) if isinstance(muted, bool) else None)
    state = body.get("workflow_state")
    return ProgressEventIn(**common, score=_float(body.get("score"), "body.score"),
                           completed=True if state in SUBMITTED_STATES else None)
