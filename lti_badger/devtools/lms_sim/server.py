"""The simulator's HTTP side: a small Flask app over the `SimulatedLms` of `core.py`. Each endpoint
checks what the specs require of the caller (registered client, redirect URI, bearer token and
scope, media type) and answers like an LMS would, with a JSON error otherwise."""

from __future__ import annotations

import html
import json
import math
import secrets
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import jwt
from flask import Flask, Response, jsonify, request

from . import spec
from .core import MOODLE_TYPE_ID, SimulatedLms, ToolKeysUnavailable
from .state import AccessToken, DeepLinkReturn, LineItem, Received, Score, Tool


class SimError(Exception):
    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers or {}


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
            "td,th{padding:.3rem .8rem;text-align:left}</style></head>"
            f"<body>{body}</body></html>")


def _gradebook(sim: SimulatedLms, context_id: str, members: list[Any], users: dict[str, Any]) -> str:
    """The course's gradebook: the LMS's own columns (editable with the form below it) and the
    columns tools created, with the latest score each tool posted."""
    with sim.lock:
        items = [i for i in sim.line_items_by_id.values() if i.context_id == context_id]
        results = dict(sim.results)
    learners = [e.sub for e in members if spec.ROLE_LEARNER in e.roles]
    if not items or not learners:
        return ""
    own = [i for i in items if i.client_id is None]
    tools = [i for i in items if i.client_id is not None]

    def cell(item: LineItem, sub: str) -> str:
        body = results.get((item.id, sub)) or {}
        given = body.get("scoreGiven")
        return f"<td style=white-space:nowrap>{'' if given is None else f'{given:g} / {item.score_maximum:g}'}</td>"

    head = "".join(f"<th scope=col>{html.escape(i.label)}</th>" for i in own + tools)
    rows = "".join(f"<tr><th scope=row>{html.escape(users[sub].name)}</th>"
                   + "".join(cell(i, sub) for i in own + tools) + "</tr>" for sub in learners)
    people = "".join(f'<option value="{html.escape(sub)}">{html.escape(users[sub].name)}</option>' for sub in learners)
    columns = "".join(f'<option value="{html.escape(i.id)}">{html.escape(i.label)} (max {i.score_maximum:g})</option>'
                      for i in own)
    form = (f'<form method="post" action="/courses/{html.escape(context_id)}/grades">'
            f'<label>Learner <select name="sub">{people}</select></label> '
            f'<label>Activity <select name="line_item">{columns}</select></label> '
            '<label>Score <input name="score" type="number" min="0" step="any" required size="5"></label> '
            '<button type="submit">Enter grade</button></form>')
    return (f'<h3 id="gradebook-{html.escape(context_id)}">Gradebook</h3>'
            f"<table><tr><th>Learner</th>{head}</tr>{rows}</table>"
            "<p>Columns created by tools show the score they posted (a badge: 1 earned, 0 revoked).</p>" + form)


def _auto_post_form(action: str, fields: dict[str, str], title: str) -> str:
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(str(v))}">'
                     for k, v in fields.items())
    return _page(title, f'<form id="f" method="post" action="{html.escape(action)}">{inputs}'
                        f'<noscript><button type="submit">Continue</button></noscript></form>'
                        '<script>document.getElementById("f").submit()</script>')


FORM_MEDIA = ("application/x-www-form-urlencoded", "multipart/form-data")  # bodies the request log reads as a form

# LTI Client Side postMessages, platform side: data is kept per sending origin in this page.
PLATFORM_STORAGE_JS = """(function () {
  var store = {};
  window.addEventListener("message", function (event) {
    var m = event.data;
    if (!m || typeof m !== "object" || typeof m.subject !== "string" || !event.source) { return; }
    var reply = {subject: m.subject + ".response", message_id: m.message_id};
    if (m.subject === "lti.capabilities") {
      reply.supported_messages = [{subject: "lti.capabilities"}, {subject: "lti.put_data"}, {subject: "lti.get_data"}];
    } else if (m.subject === "lti.put_data") {
      store[event.origin + " " + m.key] = m.value;
      reply.key = m.key; reply.value = m.value;
    } else if (m.subject === "lti.get_data") {
      reply.key = m.key;
      if (Object.prototype.hasOwnProperty.call(store, event.origin + " " + m.key)) {
        reply.value = store[event.origin + " " + m.key];
      } else {
        reply.error = {code: "bad_request", message: "no value for this key"};
      }
    } else {
      return;
    }
    event.source.postMessage(reply, event.origin);
  });
})();
"""


def _media_type() -> str:
    return (request.content_type or "").split(";")[0].strip().lower()


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def create_sim_app(sim: SimulatedLms) -> Flask:
    app = Flask("lms_sim")
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024

    # -- recording and injected failures -------------------------------------------------

    @app.before_request
    def record() -> Response | None:
        body = request.get_json(silent=True, force=True) if request.data else None
        form = request.form.to_dict() if request.mimetype in FORM_MEDIA else {}
        entry = Received(request.method, request.path, request.args.to_dict(), dict(request.headers), body, form)
        request.environ["lms_sim.received"] = entry
        with sim.lock:
            sim.received.append(entry)
        failure = sim.take_failure(request.method, request.path)
        if failure is None:
            return None
        time.sleep(failure.delay)
        if failure.status is None:
            return None
        response = jsonify(failure.body or {"errors": [{"message": f"injected failure {failure.status}"}]})
        response.status_code = failure.status
        if failure.retry_after is not None:
            response.headers["Retry-After"] = str(failure.retry_after)
        return response

    @app.after_request
    def note_status(response: Response) -> Response:
        entry = request.environ.get("lms_sim.received")
        if entry is not None:
            entry.status = response.status_code
        return response

    @app.errorhandler(SimError)
    def sim_error(err: SimError) -> Response:
        response = jsonify({"error": err.error, "error_description": err.message})
        response.status_code = err.status
        response.headers.update(err.headers)
        return response

    # -- people-facing pages -------------------------------------------------------------

    @app.get("/")
    def index() -> str:
        with sim.lock:
            courses = list(sim.courses.values())
            members = {c.context_id: sim.members(c.context_id) for c in courses}
            users = dict(sim.users)
        parts = [f"<h1>LMS simulator ({html.escape(sim.product_family)})</h1>",
                 f"<p>Issuer <code>{html.escape(sim.issuer)}</code></p>"]
        if not sim.tools:
            parts.append("<p>No tool is registered yet.</p>")
        for course in courses:
            parts.append(f"<h2>{html.escape(course.title)} <small>({html.escape(course.context_id)})</small></h2>")
            rows = []
            for enrollment in members[course.context_id]:
                user = users[enrollment.sub]
                role = ", ".join(r.rsplit("#", 1)[-1] for r in enrollment.roles)
                links = ""
                if sim.tools:
                    links = (f'<a href="{html.escape(sim.launch_page_url(user.sub, course.context_id))}">'
                             f"Launch as {html.escape(user.name)}</a>")
                    if any(r in (spec.ROLE_INSTRUCTOR, spec.ROLE_CONTENT_DEVELOPER) for r in enrollment.roles):
                        dl = sim.launch_page_url(user.sub, course.context_id, spec.MSG_DEEP_LINKING)
                        links += f' · <a href="{html.escape(dl)}">Add to a module (deep linking)</a>'
                rows.append(f"<tr><td>{html.escape(user.name)}</td><td>{html.escape(user.email)}</td>"
                            f"<td>{html.escape(role)}</td><td>{links}</td></tr>")
            parts.append("<table><tr><th>Name</th><th>E-mail</th><th>Role</th><th></th></tr>"
                         + "".join(rows) + "</table>")
            placed = [p for (ctx, _), p in sim.placements.items() if ctx == course.context_id]
            if placed:
                teacher = next((e.sub for e in members[course.context_id] if spec.ROLE_INSTRUCTOR in e.roles), None)
                learner = next((e.sub for e in members[course.context_id] if spec.ROLE_LEARNER in e.roles), None)
                items = []
                for placement in placed:
                    urls = [(sub, sim.launch_page_url(sub, course.context_id,
                                                      resource_link_id=placement.resource_link_id))
                            for sub in (teacher, learner) if sub]
                    links = [f'<a href="{html.escape(url)}">as {html.escape(users[sub].name)}</a>' for sub, url in urls]
                    items.append(f"<li>{html.escape(placement.title)}: {' · '.join(links)}</li>")
                parts.append("<p>Placed by deep linking:</p><ul>" + "".join(items) + "</ul>")
            for module in course.modules:
                labels = [sim.line_items_by_id[i].label for i in module.line_item_ids]
                parts.append(f"<p><b>{html.escape(module.title)}</b>: {html.escape(', '.join(labels))}</p>")
            parts.append(_gradebook(sim, course.context_id, members[course.context_id], users))
        return _page("LMS simulator", "".join(parts))

    @app.post("/courses/<context_id>/grades")
    def enter_grade(context_id: str) -> Response:
        """The teacher enters a grade in the gradebook (what a tool then reads as AGS results)."""
        item = sim.line_items_by_id.get(request.form.get("line_item", ""))
        sub = request.form.get("sub", "")
        if item is None or item.context_id != context_id or (context_id, sub) not in sim.enrollments:
            raise SimError(400, "invalid_request", "unknown line item or learner")
        try:
            score = float(request.form.get("score", ""))
        except ValueError as e:
            raise SimError(400, "invalid_request", "the score must be a number") from e
        if not 0 <= score <= item.score_maximum:
            raise SimError(400, "invalid_request", f"the score must be between 0 and {item.score_maximum:g}")
        sim.grade(context_id, item, sub, score)
        return Response(status=303, headers={"Location": f"/#gradebook-{context_id}"})

    @app.get("/launch")
    def start_launch() -> Response:
        sub = request.args.get("sub", "")
        context_id = request.args.get("context_id") or None
        overrides = {}
        if request.args.get("custom"):
            try:
                overrides["custom"] = json.loads(request.args["custom"])
            except ValueError as e:
                raise SimError(400, "invalid_request", "custom must be a JSON object") from e
        try:
            login_url, params = sim.login_initiation(
                sub, context_id, request.args.get("message_type", spec.MSG_RESOURCE_LINK),
                request.args.get("resource_link_id", "rl1"), client_id=request.args.get("client_id") or None,
                storage_target=request.args.get("storage_target") or None, **overrides)
        except (KeyError, LookupError) as e:
            raise SimError(400, "invalid_request", f"cannot launch: {e}") from e
        return Response(_auto_post_form(login_url, params, "Launching the tool"), mimetype="text/html")

    @app.get("/course_frame")
    def course_frame() -> Response:
        """A course page with the tool in an iframe; platform_storage.js is the storage target."""
        query = {k: v for k, v in request.args.items() if k in ("sub", "context_id", "resource_link_id")}
        launch = f"/launch?{urlencode({**query, 'storage_target': '_parent'})}"
        return Response(_page("Course", '<h1>Course</h1><script src="/platform_storage.js"></script>'
                                        f'<iframe id="tool" title="Tool" src="{html.escape(launch)}" '
                                        'width="1100" height="800"></iframe>'), mimetype="text/html")

    @app.get("/platform_storage.js")
    def platform_storage_js() -> Response:
        return Response(PLATFORM_STORAGE_JS, mimetype="text/javascript")

    @app.get("/return")
    def launch_return() -> str:
        message = request.args.get("lti_msg") or request.args.get("lti_errormsg") or ""
        return _page("Back in the LMS", f"<h1>Back in the LMS</h1><p>{html.escape(message)}</p>"
                                        '<p><a href="/">Course list</a></p>')

    @app.get("/jwks")
    def jwks() -> Response:
        return jsonify(sim.jwks())

    # -- OIDC authentication request (LTI 1.3 Core 5.1.1.2) ------------------------------

    @app.route("/auth", methods=["GET", "POST"])
    def auth() -> Response:
        params = request.values
        problems = []
        if params.get("scope") != "openid":
            problems.append("scope must be 'openid'")
        if params.get("response_type") != "id_token":
            problems.append("response_type must be 'id_token'")
        if params.get("response_mode") != "form_post":
            problems.append("response_mode must be 'form_post'")
        if params.get("prompt") not in (None, "none"):
            problems.append("prompt must be 'none'")
        if not params.get("nonce"):
            problems.append("nonce is required")
        with sim.lock:
            tool = sim.tools.get(params.get("client_id", ""))
            launch = sim.launch_requests.get(params.get("lti_message_hint", ""))
        if tool is None:
            problems.append(f"unknown client_id {params.get('client_id')!r}")
        elif params.get("redirect_uri") not in tool.redirect_uris:
            problems.append(f"redirect_uri {params.get('redirect_uri')!r} is not registered for this tool")
        if launch is None:
            problems.append("lti_message_hint is missing or unknown")
        elif params.get("login_hint") != launch.sub:
            problems.append("login_hint does not match the user of this launch")
        elif tool is not None and launch.client_id != tool.client_id:
            problems.append("lti_message_hint was issued for another client_id")
        if problems:
            raise SimError(400, "invalid_request", "; ".join(problems))
        claims = sim.claims_for(launch, params["nonce"])
        id_token = launch.sign(claims) if launch.sign else sim.build_id_token(claims)
        fields = {"id_token": id_token}
        if params.get("state") is not None:
            fields["state"] = params["state"]
        with sim.lock:
            storage_target = sim.storage_targets.get(params.get("lti_message_hint", ""))
        if storage_target:
            fields["lti_storage_target"] = storage_target
        return Response(_auto_post_form(params["redirect_uri"], fields, "Signing in to the tool"),
                        mimetype="text/html")

    def sending_tool(token: str, field: str, status: int, error: str) -> Tool:
        """The registered tool a JWT names as its `iss`, looked up before the signature is
        checked with that tool's keys; a token that is no JWT or names no tool is refused."""
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError as e:
            raise SimError(status, error, f"{field} is not a JWT: {e}") from e
        with sim.lock:
            tool = sim.tools.get(str(unverified.get("iss", "")))
        if tool is None:
            raise SimError(status, error, f"unknown tool {unverified.get('iss')!r}")
        return tool

    # -- OAuth2 client credentials with a JWT assertion (RFC 7523) -----------------------

    @app.post("/token")
    def token() -> Response:
        form = request.form
        if form.get("grant_type") != "client_credentials":
            raise SimError(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_assertion_type") != spec.CLIENT_ASSERTION_TYPE:
            raise SimError(400, "invalid_request", f"client_assertion_type must be {spec.CLIENT_ASSERTION_TYPE}")
        assertion = form.get("client_assertion", "")
        if not assertion:
            raise SimError(400, "invalid_request", "client_assertion is required")
        tool = sending_tool(assertion, "client_assertion", 401, "invalid_client")
        try:
            claims = sim.verify_tool_jwt(tool, assertion, audience=sim.token_url,
                                         options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]})
        except ToolKeysUnavailable as e:
            raise SimError(401, "invalid_client", str(e)) from e
        except jwt.InvalidTokenError as e:
            raise SimError(401, "invalid_client", f"client_assertion rejected: {e}") from e
        if claims["sub"] != tool.client_id:
            raise SimError(401, "invalid_client", "client_assertion sub must equal iss (the client_id)")
        if claims["exp"] - time.time() > 3600:
            raise SimError(401, "invalid_client", "client_assertion exp is too far in the future")
        with sim.lock:
            if claims["jti"] in sim.used_jtis:
                raise SimError(401, "invalid_client", "client_assertion jti was already used")
            sim.used_jtis.add(claims["jti"])
        requested = (form.get("scope") or "").split()
        if not requested:
            raise SimError(400, "invalid_scope", "scope is required")
        granted = [s for s in requested if s in tool.scopes]
        if not granted:
            raise SimError(400, "invalid_scope", f"none of the requested scopes is allowed: {' '.join(requested)}")
        access = AccessToken(secrets.token_urlsafe(24), tool.client_id, granted, time.time() + sim.token_ttl)
        with sim.lock:
            sim.tokens[access.token] = access
        return jsonify({"access_token": access.token, "token_type": "Bearer", "expires_in": sim.token_ttl,
                        "scope": " ".join(granted)})

    def require_token(*any_of: str) -> AccessToken:
        header = request.headers.get("Authorization", "")
        challenge = {"WWW-Authenticate": 'Bearer realm="lms-sim"'}
        if not header.lower().startswith("bearer "):
            raise SimError(401, "invalid_token", "a Bearer access token is required", challenge)
        with sim.lock:
            access = sim.tokens.get(header[7:].strip())
        if access is None or access.expires_at <= time.time():
            raise SimError(401, "invalid_token", "the access token is unknown or expired", challenge)
        if not any(scope in access.scopes for scope in any_of):
            raise SimError(403, "insufficient_scope", f"this needs one of the scopes: {' '.join(any_of)}")
        return access

    def require_course(context_id: str) -> None:
        if context_id not in sim.courses:
            raise SimError(404, "not_found", f"no course {context_id!r}")

    def require_media(*allowed: str) -> dict[str, Any]:
        if _media_type() not in allowed:
            raise SimError(415, "unsupported_media_type", f"Content-Type must be {allowed[0]}")
        body = request.get_json(silent=True, force=True)
        if not isinstance(body, dict):
            raise SimError(400, "invalid_request", "the body must be a JSON object")
        return body

    def paged(items: list[Any], media_type: str, wrap=None) -> Response:
        try:
            limit = int(request.args.get("limit", sim.page_size))
            page = int(request.args.get("page", 1))
        except ValueError as e:
            raise SimError(400, "invalid_request", "limit and page must be integers") from e
        limit, page = max(1, min(limit, 1000)), max(1, page)
        chunk = items[(page - 1) * limit: page * limit]
        response = jsonify(wrap(chunk) if wrap else chunk)
        response.headers["Content-Type"] = media_type
        links = []
        base = sim.absolute(request.path)
        query = {k: v for k, v in request.args.items() if k not in ("page", "limit")}
        if page * limit < len(items):
            links.append(f'<{base}?{urlencode({**query, "page": page + 1, "limit": limit})}>; rel="next"')
        links.append(f'<{base}?{urlencode({**query, "page": 1, "limit": limit})}>; rel="first"')
        last = max(1, math.ceil(len(items) / limit))
        links.append(f'<{base}?{urlencode({**query, "page": last, "limit": limit})}>; rel="last"')
        response.headers["Link"] = ", ".join(links)
        return response

    # -- AGS line items ------------------------------------------------------------------

    def get_item(context_id: str, item_id: str) -> LineItem:
        require_course(context_id)
        with sim.lock:
            item = sim.line_items_by_id.get(item_id)
        if item is None or item.context_id != context_id:
            raise SimError(404, "not_found", f"no line item {item_id!r} in course {context_id!r}")
        return item

    def line_item_fields(body: dict[str, Any]) -> dict[str, Any]:
        label = body.get("label")
        if not isinstance(label, str) or not label.strip():
            raise SimError(400, "invalid_request", "label is required")
        maximum = body.get("scoreMaximum")
        if isinstance(maximum, bool) or not isinstance(maximum, (int, float)) or maximum <= 0:
            raise SimError(400, "invalid_request", "scoreMaximum must be a number greater than 0")
        fields = {"label": label, "score_maximum": float(maximum)}
        for key, attr in (("resourceId", "resource_id"), ("tag", "tag"), ("resourceLinkId", "resource_link_id")):
            if body.get(key) is not None:
                if not isinstance(body[key], str):
                    raise SimError(400, "invalid_request", f"{key} must be a string")
                fields[attr] = body[key]
        for key, attr in (("startDateTime", "start_date_time"), ("endDateTime", "end_date_time")):
            if body.get(key) is not None:
                try:
                    _parse_time(body[key])
                except ValueError as e:
                    raise SimError(400, "invalid_request", f"{key} must be an ISO 8601 date-time") from e
                fields[attr] = body[key]
        return fields

    @app.route("/api/lti/courses/<context_id>/line_items", methods=["GET", "POST"])
    def line_items(context_id: str) -> Response:
        require_course(context_id)
        if request.method == "POST":
            access = require_token(spec.SCOPE_LINEITEM)
            fields = line_item_fields(require_media(spec.MEDIA_LINEITEM, "application/json"))
            item = sim.add_line_item(context_id, fields.pop("label"), fields.pop("score_maximum"),
                                     client_id=access.client_id, **fields)
            response = jsonify(sim.line_item_json(item))
            response.status_code = 201
            response.headers["Content-Type"] = spec.MEDIA_LINEITEM
            response.headers["Location"] = sim.lineitem_url(item)
            return response
        require_token(spec.SCOPE_LINEITEM, spec.SCOPE_LINEITEM_READONLY)
        with sim.lock:
            items = [i for i in sim.line_items_by_id.values() if i.context_id == context_id]
        for arg, attr in (("resource_id", "resource_id"), ("tag", "tag"), ("resource_link_id", "resource_link_id")):
            if arg in request.args:
                items = [i for i in items if getattr(i, attr) == request.args[arg]]
        return paged([sim.line_item_json(i) for i in items], spec.MEDIA_LINEITEM_CONTAINER)

    @app.route("/api/lti/courses/<context_id>/line_items/<item_id>", methods=["GET", "PUT", "DELETE"])
    def line_item(context_id: str, item_id: str) -> Response:
        item = get_item(context_id, item_id)
        if request.method == "GET":
            require_token(spec.SCOPE_LINEITEM, spec.SCOPE_LINEITEM_READONLY)
        elif request.method == "PUT":
            require_token(spec.SCOPE_LINEITEM)
            fields = line_item_fields(require_media(spec.MEDIA_LINEITEM, "application/json"))
            with sim.lock:
                item.label, item.score_maximum = fields["label"], fields["score_maximum"]
                for attr in ("resource_id", "tag", "resource_link_id", "start_date_time", "end_date_time"):
                    if attr in fields:
                        setattr(item, attr, fields[attr])
        else:
            require_token(spec.SCOPE_LINEITEM)
            with sim.lock:
                sim.line_items_by_id.pop(item.id, None)
            return Response(status=204)
        response = jsonify(sim.line_item_json(item))
        response.headers["Content-Type"] = spec.MEDIA_LINEITEM
        return response

    @app.post("/api/lti/courses/<context_id>/line_items/<item_id>/scores")
    def scores(context_id: str, item_id: str) -> Response:
        item = get_item(context_id, item_id)
        access = require_token(spec.SCOPE_SCORE)
        body = require_media(spec.MEDIA_SCORE)
        problems = []
        user_id = body.get("userId")
        if not isinstance(user_id, str) or not user_id:
            problems.append("userId is required")
        elif (context_id, user_id) not in sim.enrollments:
            problems.append(f"user {user_id!r} is not enrolled in {context_id!r}")
        if body.get("activityProgress") not in spec.ACTIVITY_PROGRESS:
            problems.append(f"activityProgress must be one of {', '.join(spec.ACTIVITY_PROGRESS)}")
        if body.get("gradingProgress") not in spec.GRADING_PROGRESS:
            problems.append(f"gradingProgress must be one of {', '.join(spec.GRADING_PROGRESS)}")
        try:
            stamp = _parse_time(body.get("timestamp"))
            if stamp.tzinfo is None:
                problems.append("timestamp must carry a time zone")
        except ValueError:
            stamp = None
            problems.append("timestamp must be an ISO 8601 date-time")
        given = body.get("scoreGiven")
        if given is not None:
            maximum = body.get("scoreMaximum")
            if isinstance(given, bool) or not isinstance(given, (int, float)) or given < 0:
                problems.append("scoreGiven must be a number >= 0")
            if isinstance(maximum, bool) or not isinstance(maximum, (int, float)) or maximum <= 0:
                problems.append("scoreMaximum is required with scoreGiven and must be > 0")
        if "comment" in body and body["comment"] is not None and not isinstance(body["comment"], str):
            problems.append("comment must be a string")
        if problems:
            raise SimError(400, "invalid_request", "; ".join(problems))
        with sim.lock:
            previous = sim.results.get((item.id, user_id))
            if previous is not None and stamp is not None and stamp.tzinfo is not None \
                    and _parse_time(previous["timestamp"]) > stamp:
                raise SimError(409, "conflict", "the score's timestamp is older than the last score received")
            sim.score_log.append(Score(context_id, item.id, body, access.client_id))
            sim.results[(item.id, user_id)] = body
        response = jsonify({"resultUrl": sim.lineitem_sub_url(item, "results", user_id=user_id)})
        if sim.is_openedx:
            response.status_code = 201  # Open edX answers 201, shown in the gradebook or not
        return response

    @app.get("/api/lti/courses/<context_id>/line_items/<item_id>/results")
    def results(context_id: str, item_id: str) -> Response:
        item = get_item(context_id, item_id)
        require_token(spec.SCOPE_RESULT_READONLY)
        with sim.lock:
            if "user_id" in request.args:  # one learner's row: looked up, as an LMS's index would
                user_id = request.args["user_id"]
                pairs = [(user_id, sim.results[(item.id, user_id)])] if (item.id, user_id) in sim.results else []
            else:
                pairs = [(sub, body) for (iid, sub), body in sim.results.items() if iid == item.id]
            latest = [(sub, body) for sub, body in pairs if sim.shown(item, body)]
        rows = []
        for sub, body in latest:
            row: dict[str, Any] = {"id": sim.lineitem_sub_url(item, "results", user_id=sub), "scoreOf": sim.lineitem_url(item),
                                   "userId": sub}
            if body.get("scoreGiven") is not None:
                row["resultScore"] = body["scoreGiven"]
                row["resultMaximum"] = body.get("scoreMaximum", item.score_maximum)
            if body.get("comment"):
                row["comment"] = body["comment"]
            rows.append(row)
        return paged(rows, spec.MEDIA_RESULT_CONTAINER)

    # -- NRPS ----------------------------------------------------------------------------

    @app.get("/api/lti/courses/<context_id>/names_and_roles")
    def names_and_roles(context_id: str) -> Response:
        require_course(context_id)
        require_token(spec.SCOPE_NRPS)
        with sim.lock:
            course = sim.courses[context_id]
            rows = []
            for enrollment in sim.members(context_id):
                if "role" in request.args and request.args["role"] not in enrollment.roles:
                    continue
                user = sim.users[enrollment.sub]
                rows.append({"status": enrollment.status, "user_id": user.sub, "name": user.name,
                             "given_name": user.given_name, "family_name": user.family_name, "email": user.email,
                             "picture": user.picture, "lis_person_sourcedid": f"sis-{user.sub}",
                             "roles": enrollment.roles})
        container = lambda chunk: {"id": sim.absolute(request.full_path.rstrip("?")),  # noqa: E731
                                   "context": {"id": course.context_id, "label": course.label, "title": course.title},
                                   "members": chunk}
        return paged(rows, spec.MEDIA_MEMBERSHIP_CONTAINER, container)

    # -- Deep Linking return (DL 2.0 section 4.2) ----------------------------------------

    @app.post("/deep_links")
    def deep_links() -> Response:
        token = request.form.get("JWT", "")
        if not token:
            raise SimError(400, "invalid_request", "the JWT form field is required")
        tool = sending_tool(token, "JWT", 400, "invalid_request")
        try:
            claims = sim.verify_tool_jwt(tool, token, audience=sim.issuer,
                                         options={"require": ["iss", "aud", "exp", "iat", "nonce"]})
        except (jwt.InvalidTokenError, ToolKeysUnavailable) as e:
            raise SimError(400, "invalid_request", f"deep linking response rejected: {e}") from e
        problems = []
        if claims.get(spec.CLAIM_MESSAGE_TYPE) != spec.MSG_DEEP_LINKING_RESPONSE:
            problems.append(f"message_type must be {spec.MSG_DEEP_LINKING_RESPONSE}")
        if claims.get(spec.CLAIM_VERSION) != spec.LTI_VERSION:
            problems.append("version must be 1.3.0")
        if claims.get(spec.CLAIM_DEPLOYMENT_ID) not in tool.deployment_ids:
            problems.append("deployment_id is not a deployment of this tool")
        items = claims.get(spec.CLAIM_DL_CONTENT_ITEMS, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("type") for i in items):
            problems.append("content_items must be a list of objects with a type")
        if problems:
            raise SimError(400, "invalid_request", "; ".join(problems))
        data = claims.get(spec.CLAIM_DL_DATA)
        with sim.lock:
            context_id = sim.deep_link_data.get(data) if data is not None else None
        if data is not None and data not in sim.deep_link_data:
            raise SimError(400, "invalid_request", "data does not echo the deep_linking_settings of a request")
        with sim.lock:
            sim.deep_links.append(DeepLinkReturn(tool.client_id, context_id, claims, items))
        if context_id is not None:
            sim.place_items(tool.client_id, context_id, items)
        listing = "".join(f"<li>{html.escape(str(i.get('title') or i.get('url') or i['type']))}</li>" for i in items)
        message = claims.get(spec.CLAIM_DL_MSG, "")
        return Response(_page("Content added", f"<h1>{len(items)} item(s) added</h1><ul>{listing}</ul>"
                                               f"<p>{html.escape(str(message))}</p>"
                                               '<p><a href="/">Back to the course</a></p>'), mimetype="text/html")

    # -- Dynamic registration (LTI DR 1.0) -----------------------------------------------

    def require_dynamic_registration() -> None:
        if sim.is_openedx:
            raise SimError(404, "not_found", "Open edX has no LTI dynamic registration")

    @app.get("/.well-known/openid-configuration")
    def openid_configuration() -> Response:
        require_dynamic_registration()
        return jsonify({
            "issuer": sim.issuer,
            "authorization_endpoint": sim.auth_url,
            "registration_endpoint": f"{sim.url}/register",
            "jwks_uri": sim.jwks_url,
            "token_endpoint": sim.token_url,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", *spec.ALL_SCOPES],
            "response_types_supported": ["id_token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email", "picture", "locale"],
            "subject_types_supported": ["public", "pairwise"],
            "authorization_server": sim.url.split("://", 1)[1],
            spec.DR_PLATFORM_CONFIGURATION: {
                "product_family_code": sim.product_family,
                "version": "sim-1.0",
                "messages_supported": [
                    {"type": spec.MSG_RESOURCE_LINK, "placements": ["course_navigation"]},
                    {"type": spec.MSG_DEEP_LINKING, "placements": ["assignment_selection", "link_selection"]},
                ],
                "variables": ["ResourceLink.id", "Context.id", "User.id"],
            },
        })

    @app.post("/register")
    def register() -> Response:
        require_dynamic_registration()
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        with sim.lock:
            if token not in sim.registration_tokens:
                raise SimError(401, "invalid_token", "a valid registration_token is required as Bearer token")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise SimError(400, "invalid_client_metadata", "the body must be a JSON object")
        problems = []
        if body.get("application_type") != "web":
            problems.append("application_type must be 'web'")
        if not {"client_credentials", "implicit"} <= set(body.get("grant_types") or []):
            problems.append("grant_types must include client_credentials and implicit")
        if "id_token" not in (body.get("response_types") or []):
            problems.append("response_types must include id_token")
        if body.get("token_endpoint_auth_method") != "private_key_jwt":
            problems.append("token_endpoint_auth_method must be private_key_jwt")
        for key in ("initiate_login_uri", "jwks_uri"):
            if not str(body.get(key, "")).startswith(("http://", "https://")):
                problems.append(f"{key} must be an http(s) URL")
        redirect_uris = body.get("redirect_uris") or []
        if not redirect_uris or not all(str(u).startswith(("http://", "https://")) for u in redirect_uris):
            problems.append("redirect_uris must list http(s) URLs")
        config = body.get(spec.DR_TOOL_CONFIGURATION)
        if not isinstance(config, dict):
            problems.append(f"{spec.DR_TOOL_CONFIGURATION} is required")
            config = {}
        elif not config.get("domain") or not config.get("target_link_uri"):
            problems.append("the tool configuration needs domain and target_link_uri")
        if problems:
            raise SimError(400, "invalid_client_metadata", "; ".join(problems))
        client_id = f"sim-client-{secrets.token_hex(6)}"
        deployment_id = f"sim-deployment-{secrets.token_hex(4)}"
        target = config["target_link_uri"]
        deep_link_uri = next((m.get("target_link_uri") for m in config.get("messages", [])
                              if m.get("type") == spec.MSG_DEEP_LINKING and m.get("target_link_uri")), target)
        scopes = [s for s in str(body.get("scope", "")).split() if s in spec.ALL_SCOPES]
        tool = Tool(client_id=client_id, deployment_ids=[deployment_id],
                    initiate_login_uri=body["initiate_login_uri"], redirect_uris=list(redirect_uris),
                    jwks_uri=body["jwks_uri"], target_link_uri=target, deep_link_uri=deep_link_uri, scopes=scopes,
                    name=str(body.get("client_name") or "tool"), registration=body)
        with sim.lock:
            sim.registration_tokens.discard(token)
            sim.tools[client_id] = tool
        answer = {**body, "client_id": client_id, "registration_client_uri": f"{sim.url}/register/{client_id}",
                  spec.DR_TOOL_CONFIGURATION: {**config, "deployment_id": deployment_id}}
        return jsonify(answer)

    # Moodle's paths for the same services: mod/lti/auth.php, token.php, certs.php, and AGS / NRPS
    # under mod/lti/services.php with the tool type id in the query (as Moodle 4.x answers).
    def with_type_id(view):
        def checked(**kwargs):
            if request.args.get("type_id") != MOODLE_TYPE_ID:
                raise SimError(400, "invalid_request", "type_id is missing from the query of this Moodle service URL")
            return view(**kwargs)
        return checked

    moodle = "/mod/lti/services.php/<context_id>/lineitems"
    for rule, endpoint, view, methods in (
        ("/mod/lti/auth.php", "moodle_auth", auth, ["GET", "POST"]),
        ("/mod/lti/token.php", "moodle_token", token, ["POST"]),
        ("/mod/lti/certs.php", "moodle_jwks", jwks, ["GET"]),
        (moodle, "moodle_line_items", with_type_id(line_items), ["GET", "POST"]),
        (f"{moodle}/<item_id>/lineitem", "moodle_line_item", with_type_id(line_item), ["GET", "PUT", "DELETE"]),
        (f"{moodle}/<item_id>/lineitem/scores", "moodle_scores", with_type_id(scores), ["POST"]),
        (f"{moodle}/<item_id>/lineitem/results", "moodle_results", with_type_id(results), ["GET"]),
        (f"/mod/lti/services.php/CourseSection/<context_id>/bindings/{MOODLE_TYPE_ID}/memberships",
         "moodle_memberships", names_and_roles, ["GET"]),
    ):
        app.add_url_rule(rule, endpoint, view, methods=methods)

    # The LMS's own APIs read by the progress pulls (Canvas REST, Moodle Web Services).
    from .canvas_rest import register_canvas_rest
    from .moodle_ws import register_moodle_ws

    register_canvas_rest(app, sim)
    register_moodle_ws(app, sim)
    return app
