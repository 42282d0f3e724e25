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


def _event_groups():
    return current_app.extensions["lti_badger"].event_groups


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
    auth = request.authorization
    ids = receive.receive_xapi(db(), _event_groups(), auth.username if auth and auth.type == "basic" else None,
                               auth.password if auth and auth.type == "basic" else None,
                               request.headers.get(VERSION_HEADER), _body(), _now())
    return jsonify(ids)


@bp.put("/xapi/statements")
def xapi_statement_put():
    """PUT with ?statementId=: one statement; 204 like an LRS."""
    auth = request.authorization
    data = _body()
    statement = receive.parse_json(data)
    wanted = request.args.get("statementId")
    if not wanted or not isinstance(statement, dict):
        raise BadInput("PUT /xapi/statements takes one statement and its statementId parameter")
    if statement.setdefault("id", wanted) != wanted:
        raise BadInput("the statement's id differs from the statementId parameter")
    receive.receive_xapi(db(), _event_groups(), auth.username if auth and auth.type == "basic" else None,
                         auth.password if auth and auth.type == "basic" else None,
                         request.headers.get(VERSION_HEADER), json.dumps(statement).encode(), _now())
    return Response(status=204)


@bp.post("/caliper/events")
def caliper_events():
    return jsonify(receive.receive_caliper(db(), request.headers.get("Authorization"), _body(), _now()))


@bp.post("/canvas/live-events")
def canvas_live_events():
    return jsonify(receive.receive_canvas_event(db(), request.args.get("source"), _body(), _now()))


@bp.post("/moodle/events")
def moodle_events():
    """Grades and completions from the Moodle plugin, signed with the Moodle site's LTI key."""
    services, session = current_app.extensions["lti_badger"], db()
    return jsonify(moodle_plugin.receive(session, services.outbound, make_cache(session, services.settings.redis_url),
                                         _body(), _now()))
