"""The push sources' service functions: authenticate the sender, parse, ingest (all or
nothing: one bad event refuses the batch and stores nothing), and answer like the protocol
expects. The web layer only hands over headers and the body."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import jsonbody
from ..errors import Unauthorized
from ..models import ProgressSource
from . import caliper, canvas_events, xapi
from .grouping import EventGroups
from .services import ingest
from .sources import KIND_CALIPER, KIND_CANVAS_EVENTS, KIND_XAPI, PushSources, find_source_by_key, touch

MAX_EVENT_BYTES = 2 * 1024 * 1024


def parse_json(data: bytes) -> Any:
    return jsonbody.parse_json(data)


def receive_xapi(session: Session, sources: PushSources, groups: EventGroups, username: str | None,
                 password: str | None, version: str | None, data: bytes, now: datetime) -> list[str]:
    """`POST /xapi/statements`: the statement ids, like an LRS answers. The statements are
    ingested with those of concurrent requests (`grouping`): many LRSs send one per request.
    `session` is used only to read the source when the process has not trusted it lately
    and to note once a minute that it was heard from."""
    source = sources.authenticate(session, KIND_XAPI, username, password)
    xapi.check_version(version)
    batch = xapi.parse_statements(parse_json(data), now, course_map=source.course_map)
    groups.ingest(source.platform_id, batch.events, now, skip_unknown_courses=source.skip_unknown_courses)
    sources.touch(session, source, now)
    return batch.ids


def receive_caliper(session: Session, sources: PushSources, authorization: str | None, data: bytes,
                    now: datetime) -> dict[str, Any]:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a Caliper sensor must send Authorization: Bearer <token>")
    key, _, secret = token.strip().partition(".")
    source = sources.authenticate(session, KIND_CALIPER, key, secret)
    received, events = caliper.parse_envelope(parse_json(data), course_map=source.course_map)
    result = ingest(session, source.platform_id, events, now, all_or_nothing=True,
                    skip_unknown_courses=source.skip_unknown_courses)
    sources.touch(session, source, now)
    return {"received": received, "stored": result.stored, "duplicates": result.duplicates}


def receive_canvas_event(session: Session, source_key: str | None, data: bytes, now: datetime) -> dict[str, Any]:
    token = data.decode("ascii", errors="replace").strip()
    if token.startswith("{"):
        raise Unauthorized("unsigned Canvas events are refused: turn on \"Sign Payload\" in the subscription")
    canvas_events.unverified_header(token)
    if source_key:
        source = find_source_by_key(session, KIND_CANVAS_EVENTS, source_key)
        candidates = [source] if source is not None else []
    else:
        candidates = list(session.scalars(select(ProgressSource).where(
            ProgressSource.kind == KIND_CANVAS_EVENTS, ProgressSource.enabled.is_(True))))
    if not candidates:
        raise Unauthorized("no canvas-events source is configured for this endpoint")
    source, event = canvas_events.verify_for(token, candidates)
    parsed = canvas_events.parse_event(event, source)
    stored = 0
    if parsed is not None:
        stored = ingest(session, source.platform_id, [parsed], now, all_or_nothing=True).stored
    touch(source, now)
    return {"received": 1, "stored": stored}
