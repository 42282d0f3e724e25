"""Blueprint: the event feeds an LMS pushes progress to (xAPI, Caliper, Canvas Live Events,
the Moodle plugin's signed event batches).

Each view reads the credentials and the (size-limited) body, calls one service in
`progress.receive`, and answers. A refused request (4xx) rolls the transaction back, so it
stores nothing; a 200 is only sent after the events are in the database (the edge commits
before the response leaves)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, jsonify, request

from ..errors import BadInput, PayloadTooLarge
from ..lti.cache import make_cache
from ..progress import moodle_plugin, receive
from ..progress.xapi import VERSION_HEADER
from .db import db

bp = Blueprint("events", __name__)

XAPI_VERSION = "1.0.3"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _body(limit: int = receive.MAX_EVENT_BYTES) -> bytes:
    """The request body, refused with 413 beyond `limit` whether or not a length was sent."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    return data


def _services():
    return current_app.extensions["lti_badger"]


def _receive_xapi(data: bytes) -> list[str]:
    auth, services = request.authorization, _services()
    basic = auth is not None and auth.type == "basic"
    return receive.receive_xapi(db(), services.push_sources, services.event_groups,
                                auth.username if basic else None, auth.password if basic else None,
                                request.headers.get(VERSION_HEADER), data, _now())


@bp.after_request
def _challenge(response: Response) -> Response:
    if response.status_code == 401 and request.path.startswith("/xapi/"):
        response.headers["WWW-Authenticate"] = 'Basic realm="lti_badger xAPI"'
    elif response.status_code == 401 and request.path.startswith("/caliper/"):
        response.headers["WWW-Authenticate"] = 'Bearer realm="lti_badger Caliper"'
    if request.path.startswith("/xapi/"):
        response.headers[VERSION_HEADER] = XAPI_VERSION
    return response


@bp.get("/xapi/about")
def xapi_about():
    return jsonify({"version": [XAPI_VERSION]})


@bp.post("/xapi/statements")
def xapi_statements():
    """Single statement or array; answers the statement ids like an LRS."""
    return jsonify(_receive_xapi(_body()))


@bp.put("/xapi/statements")
def xapi_statement_put():
    """PUT with ?statementId=: one statement; 204 like an LRS."""
    data = _body()
    statement = receive.parse_json(data)
    wanted = request.args.get("statementId")
    if not wanted or not isinstance(statement, dict):
        raise BadInput("PUT /xapi/statements takes one statement and its statementId parameter")
    if statement.setdefault("id", wanted) != wanted:
        raise BadInput("the statement's id differs from the statementId parameter")
    _receive_xapi(json.dumps(statement).encode())
    return Response(status=204)


@bp.post("/caliper/events")
def caliper_events():
    return jsonify(receive.receive_caliper(db(), _services().push_sources, request.headers.get("Authorization"),
                                           _body(), _now()))


@bp.post("/canvas/live-events")
def canvas_live_events():
    return jsonify(receive.receive_canvas_event(db(), request.args.get("source"), _body(), _now()))


@bp.post("/moodle/events")
def moodle_events():
    """Grades and completions from the Moodle plugin, signed with the Moodle site's LTI key."""
    services, session = _services(), db()
    return jsonify(moodle_plugin.receive(session, services.outbound, make_cache(session, services.settings.redis_url),
                                         _body(), _now()))
