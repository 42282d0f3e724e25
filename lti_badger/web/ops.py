"""Blueprint and hooks for whoever runs the tool: `/healthz` (the process answers), `/readyz`
(the database answers at this release's schema; Redis is reported but degrades rather than
fails), `/metrics` (Prometheus, for the networks in `metrics_allow` or a bearer token), `/openapi.json`, a
request id on every request (accepted from `X-Request-ID` or made up, returned, and on every
log line), and the request latency histogram."""

from __future__ import annotations

import hmac
import ipaddress
import re
import time
import uuid
from importlib.metadata import version

from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from ..db import RETRY_AFTER_SECONDS, database_outage
from ..errors import Forbidden
from ..lti.cache import redis_reachable
from ..logging import NO_REQUEST, request_id
from ..metrics import REQUEST_SECONDS, exposition
from ..migrate import SCHEMA_BEHIND, schema_state
from .openapi import build_document

bp = Blueprint("ops", __name__)

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


def _services():
    return current_app.extensions["lti_badger"]


@bp.get("/healthz")
def healthz():
    """Liveness: this process answers HTTP. Touches nothing else."""
    return {"status": "alive"}


@bp.get("/readyz")
def readyz():
    """Readiness: 200 when this process can serve (database reachable, schema not behind this
    release), else 503 with Retry-After. Redis down is reported as degraded, still 200: launch
    state then lives in the database."""
    svc = _services()
    checks: dict[str, dict] = {}
    try:
        with svc.engine.connect() as conn:
            schema = schema_state(conn)
        database_outage.recovered()
        checks["database"] = {"ok": schema != SCHEMA_BEHIND, "schema": schema}
    except SQLAlchemyError as err:
        database_outage.failed(err, "not ready")
        checks["database"] = {"ok": False, "error": "unreachable"}
    if svc.settings.redis_url:
        up = redis_reachable(svc.settings.redis_url)
        checks["redis"] = {"ok": up} if up else {"ok": False, "degraded": "launch state and tokens in the database"}
    ready = checks["database"]["ok"]
    body = {"status": ("degraded" if not all(c["ok"] for c in checks.values()) else "ready") if ready
            else "not_ready", "checks": checks}
    if ready:
        return body
    return body, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _metrics_allowed() -> bool:
    settings = _services().settings
    auth = request.headers.get("Authorization", "")
    if settings.metrics_token and auth.startswith("Bearer ") and hmac.compare_digest(
            auth.removeprefix("Bearer ").strip().encode(), settings.metrics_token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in net for net in metrics_networks(settings.metrics_allow))


def metrics_networks(setting: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(item, strict=False) for item in setting.replace(",", " ").split()]


@bp.get("/metrics")
def metrics():
    """Prometheus text exposition (see `lti_badger.metrics`)."""
    if not _metrics_allowed():
        raise Forbidden("metrics are open to the networks in `metrics_allow` or with the metrics token")
    return Response(exposition(_services().sessions), content_type="text/plain; version=0.0.4; charset=utf-8")


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document of every JSON endpoint (`web.openapi` and its fragments)."""
    document = current_app.extensions.get("lti_badger.openapi")
    if document is None:
        document = build_document(_services().settings.public_base_url, version("lti-badger"))
        current_app.extensions["lti_badger.openapi"] = document
    return document


def init_ops(app: Flask) -> None:
    """Register first, so the request id is set before any other hook can log."""
    metrics_networks(app.extensions["lti_badger"].settings.metrics_allow)  # a typo fails at start, not per scrape

    @app.before_request
    def _start() -> None:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        g.request_id_token = request_id.set(g.request_id)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", NO_REQUEST)
        if "started" in g:
            REQUEST_SECONDS.labels(request.endpoint or "unmatched", request.method).observe(
                time.perf_counter() - g.started)
        return response

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id.reset(token)
