"""Events the Moodle plugin `local_ltibadger` (integrations/moodle/) posts the moment Moodle
raises them, so a Moodle grade or completion awards a badge in seconds.

`POST /moodle/events`, `Content-Type: application/jwt`, the body a compact JWS (RS256) that
Moodle signs with the key it already publishes for LTI (`mod/lti/certs.php`, `kid` from
`mod_lti`'s config). Its claims:

    iss     Moodle's wwwroot: the platform's issuer
    aud     the tool's client id on that Moodle: with `iss`, the registration (tenant)
    iat, exp (at most MAX_LIFETIME later), jti (used once)
    events  [{"event": "\\core\\event\\user_graded", "courseid", "userid", "cmid" (null for the
              course total), "name", "modname", "score", "max", "hidden", "time"},
             {"event": "\\core\\event\\course_module_completion_updated", "courseid", "userid",
              "cmid", "name", "modname", "state" (0 incomplete, 1 complete, 2 passed, 3 failed), "time"},
             {"event": "\\core\\event\\course_completed", "courseid", "userid", "time"}]

The signature is checked against the registration's platform JWKS (fetched through the
outbound client, kept SHORT_CACHE seconds, fetched again for an unknown `kid`). Activities
are named as the `moodle-ws` pull names them (cmid, `course-grade`, `course-completion`), so
both sources feed the same rows. Courses that never launched the tool are acknowledged and
dropped (the plugin reports every course of the site); anything else wrong refuses the whole
post with 4xx and stores nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import BadInput, Conflict, Unauthorized, UpstreamError
from ..lti.cache import Cache
from ..lti.tool_conf import NonceLedger
from ..models import Platform
from ..outbound import OutboundClient
from . import ids
from .moodle_ws import COURSE_COMPLETION, COURSE_GRADE
from .services import SOURCE_MOODLE_PLUGIN, ProgressEventIn, ingest

EVENT_GRADED = "\\core\\event\\user_graded"
EVENT_MODULE_COMPLETION = "\\core\\event\\course_module_completion_updated"
EVENT_COURSE_COMPLETED = "\\core\\event\\course_completed"
MAX_LIFETIME = 300  # seconds between iat and exp
LEEWAY = 10
SHORT_CACHE = 300
MAX_EVENTS = 100


def _claims_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as e:
        raise BadInput("the body is not a signed event batch (compact JWS)") from e


def _platform_keys(outbound: OutboundClient, cache: Cache, platform: Platform, kid: str | None) -> dict[str, Any]:
    key = f"moodle-plugin-jwks:{platform.id}"
    keyset = cache.get(key)
    if not isinstance(keyset, dict) or not any(k.get("kid") == kid for k in keyset.get("keys") or []
                                               if isinstance(k, dict)):
        try:
            keyset = outbound.get_json(platform.key_set_url, purpose="the platform's key set")
        except UpstreamError as e:
            raise Unauthorized(f"the platform's key set could not be read to check the signature: {e.message}") from e
        if not isinstance(keyset, dict):
            raise Unauthorized("the platform's key set is not a JWKS")
        cache.set(key, keyset, SHORT_CACHE)
    return keyset


def verify(session: Session, outbound: OutboundClient, cache: Cache, token: str, now: datetime) -> tuple[Platform, dict[str, Any]]:
    """The registration that signed the batch and its claims; Unauthorized for an unknown
    registration, a wrong signature or an expired or long-lived token, Conflict for a replay."""
    header, unverified = _claims_unverified(token)
    if header.get("alg") != "RS256":
        raise Unauthorized("the event batch must be signed with RS256")
    iss, aud = unverified.get("iss"), unverified.get("aud")
    if not isinstance(iss, str) or not isinstance(aud, str):
        raise Unauthorized("the event batch needs iss (the Moodle site) and aud (the tool's client id)")
    platform = session.scalar(select(Platform).where(Platform.issuer == iss, Platform.client_id == aud))
    if platform is None:
        raise Unauthorized("no registration of this tool matches the batch's iss and aud")
    keyset = _platform_keys(outbound, cache, platform, header.get("kid"))
    try:
        jwk = jwt.PyJWKSet.from_dict(keyset)
    except jwt.PyJWTError as e:
        raise Unauthorized("the platform's key set has no usable key") from e
    candidates = [k for k in jwk.keys if header.get("kid") is None or k.key_id == header.get("kid")]
    claims = None
    for candidate in candidates:
        try:
            claims = jwt.decode(token, candidate.key, algorithms=["RS256"], audience=aud, issuer=iss, leeway=LEEWAY,
                                options={"require": ["exp", "iat", "jti"]})
            break
        except jwt.ExpiredSignatureError as e:
            raise Unauthorized("the event batch has expired") from e
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as e:
            raise Unauthorized(f"the event batch was refused: {e}") from e
    if claims is None:
        raise Unauthorized("the event batch is not signed by a key of this registration's platform")
    if claims["exp"] - claims["iat"] > MAX_LIFETIME:
        raise Unauthorized(f"the event batch may live at most {MAX_LIFETIME} seconds (exp - iat)")
    expires = datetime.fromtimestamp(claims["exp"] + LEEWAY, timezone.utc) + timedelta(seconds=60)
    if not NonceLedger(session, cache, lambda: now).use(f"moodle-plugin:{platform.id}:{claims['jti']}", iss,
                                                         expires):
        raise Conflict("this event batch was already received (jti used before)")
    return platform, claims


def _int_id(event: dict[str, Any], name: str, where: str) -> str:
    value = event.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise BadInput(f"{where}.{name} must be a Moodle id")
    return str(value)


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"{where} must be a number")
    return float(value)


def parse_events(events: Any) -> list[ProgressEventIn]:
    if not isinstance(events, list) or not events:
        raise BadInput("the batch's events claim must be a non-empty list")
    if len(events) > MAX_EVENTS:
        raise BadInput(f"at most {MAX_EVENTS} events per batch")
    out = []
    for i, event in enumerate(events):
        where = f"events[{i}]"
        if not isinstance(event, dict):
            raise BadInput(f"{where} must be an object")
        name = event.get("event")
        course, user = _int_id(event, "courseid", where), _int_id(event, "userid", where)
        when = ids.parse_epoch(event.get("time"), f"{where}.time")
        if when is None:
            raise BadInput(f"{where}.time is required")
        digest = hashlib.sha256(json.dumps(event, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:40]
        common = {"source": SOURCE_MOODLE_PLUGIN, "source_event_id": f"moodle-plugin:{digest}", "occurred_at": when,
                  "course_context": course, "learner_sub": user, "learner_lms_id": user, "raw": event}
        if name == EVENT_GRADED:
            cmid = event.get("cmid")
            lms_id = COURSE_GRADE if cmid is None else _int_id(event, "cmid", where)
            out.append(ProgressEventIn(
                activity_lms_id=lms_id, score=_number(event.get("score"), f"{where}.score"),
                max_score=_number(event.get("max"), f"{where}.max"), grades_released=not bool(event.get("hidden")),
                activity_title="Course total" if cmid is None else str(event.get("name") or lms_id),
                activity_kind="course_grade" if cmid is None else str(event.get("modname") or "activity"), **common))
        elif name == EVENT_MODULE_COMPLETION:
            state = event.get("state")
            if state not in (0, 1, 2, 3):
                raise BadInput(f"{where}.state must be 0, 1, 2 or 3 (Moodle's completion states)")
            lms_id = _int_id(event, "cmid", where)
            out.append(ProgressEventIn(
                activity_lms_id=lms_id, completed=state != 0, passed={2: True, 3: False}.get(state),
                activity_title=str(event.get("name") or lms_id), activity_kind=str(event.get("modname") or "activity"),
                **common))
        elif name == EVENT_COURSE_COMPLETED:
            out.append(ProgressEventIn(activity_lms_id=COURSE_COMPLETION, completed=True,
                                       activity_title="Course completion", activity_kind="course", **common))
        else:
            raise BadInput(f"{where}.event {name!r} is not one the plugin sends")
    return out


def receive(session: Session, outbound: OutboundClient, cache: Cache, data: bytes, now: datetime) -> dict[str, Any]:
    """Verify, parse and ingest one batch (all or nothing)."""
    platform, claims = verify(session, outbound, cache, data.decode("ascii", errors="replace").strip(), now)
    events = parse_events(claims.get("events"))
    result = ingest(session, platform.id, events, now, all_or_nothing=True, skip_unknown_courses=True)
    return {"received": len(events), "stored": result.stored, "duplicates": result.duplicates,
            "skipped": result.skipped}
