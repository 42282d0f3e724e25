"""Issue 12 finding 7: every endpoint that takes a body has a size limit (413, a clear
message) and JSON a depth limit (400), and a refused request stores nothing. The limits are
checked before the view runs; each route of the app's URL map is tried."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from lti_badger.jsonbody import MAX_DEPTH
from lti_badger.models import Achievement, AuditEvent, Base, Progress, ProgressEvent
from lti_badger.progress.sources import KIND_CALIPER, KIND_XAPI, add_source
from tests.factories_web import token_for, two_courses
from tests.functional.web.conftest import PageClient

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _rows(app) -> dict[str, int]:
    with app.extensions["lti_badger"].sessions() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def _teacher(app):
    a, _ = two_courses(app)
    return a, PageClient(app, app.test_client(), token_for(app, a, a.instructor, "instructor"))


def test_a_6_mib_badge_description_is_413_and_stores_nothing(app):
    a, teacher = _teacher(app)
    before = _rows(app)
    response = teacher.post("/course/badges/new", {"name": "Big", "image_source": "generate",
                                                   "description": "d" * (6 * 1024 * 1024)},
                            content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "the request body is larger than 5120 KiB" in response.get_data(as_text=True)
    # an upload to the designer may be larger (an oversized image is refused on the form, with
    # everything typed kept), but one form field is still held to its in-memory limit
    response = teacher.post("/course/badges/new", {"name": "Big", "image_source": "generate",
                                                   "description": "d" * (6 * 1024 * 1024)},
                            content_type="multipart/form-data")
    assert response.status_code == 413 and "a form field is larger than" in response.get_data(as_text=True)
    response = teacher.post("/course/badges/new", {"name": "Big", "image_source": "generate",
                                                   "description": "d" * (33 * 1024 * 1024)},
                            content_type="multipart/form-data")
    assert response.status_code == 413
    assert "the request body is larger than 32768 KiB" in response.get_data(as_text=True)
    # under the body limit but over the in-memory limit of one form field: 413 too, not 500
    response = teacher.post("/course/badges/new", {"name": "Big", "image_source": "generate",
                                                   "description": "d" * (600 * 1024)},
                            content_type="multipart/form-data")
    assert response.status_code == 413 and "a form field is larger than" in response.get_data(as_text=True)
    assert _rows(app) == before
    with app.extensions["lti_badger"].sessions() as s:
        assert s.scalar(select(func.count(Achievement.id))) == 0


def _source(app, kind):
    with app.extensions["lti_badger"].sessions() as s:
        a, _ = two_courses(app)
        new = add_source(s, a.platform.id, kind, now=datetime.now(timezone.utc))
        s.commit()
        return new


def test_a_100000_deep_json_body_on_the_xapi_endpoint_is_400(app, client):
    xapi = _source(app, KIND_XAPI)
    basic = base64.b64encode(f"{xapi.key}:{xapi.secret}".encode()).decode()
    before = _rows(app)
    for body in (DEEP, DEEP_OBJECT, json.dumps(_nested(MAX_DEPTH + 1)).encode()):
        response = client.post("/xapi/statements", data=body, content_type="application/json",
                               headers={"Authorization": f"Basic {basic}", "X-Experience-API-Version": "1.0.3"})
        assert response.status_code == 400, response.get_data(as_text=True)[:200]
        assert f"nested more than {MAX_DEPTH} levels deep" in response.json["message"]
    assert _rows(app) == before


def test_deep_json_on_the_caliper_and_verify_endpoints_is_400(app, client):
    caliper = _source(app, KIND_CALIPER)
    before = _rows(app)
    answers = [
        client.post("/caliper/events", data=DEEP, content_type="application/json",
                    headers={"Authorization": f"Bearer {caliper.bearer_token}"}),
        client.post("/verify", data=DEEP_OBJECT, content_type="application/json"),
    ]
    for response in answers:
        assert response.status_code == 400 and "nested more than" in response.json["message"], response.json
    assert _rows(app) == before
    with app.extensions["lti_badger"].sessions() as s:
        assert s.scalar(select(func.count(ProgressEvent.id))) == 0 and s.scalar(select(func.count(Progress.id))) == 0


def test_nan_is_not_json(app, client):
    xapi = _source(app, KIND_XAPI)
    basic = base64.b64encode(f"{xapi.key}:{xapi.secret}".encode()).decode()
    response = client.post("/xapi/statements", data=b'{"result": {"score": {"raw": NaN}}}',
                           content_type="application/json",
                           headers={"Authorization": f"Basic {basic}", "X-Experience-API-Version": "1.0.3"})
    assert response.status_code == 400 and "NaN is not a JSON number" in response.json["message"]


def _sample_url(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = "IntegerConverter" if isinstance(converter, IntegerConverter) else type(converter).__name__
        values[name] = {"IntegerConverter": 1, "UUIDConverter": "00000000-0000-4000-8000-000000000000"}.get(
            kind, sorted(converter.items)[0] if kind == "AnyConverter" else "x")
    return rule.build(values, append_unknown=False)[1]


def test_every_route_that_takes_a_body_refuses_one_over_the_limit(app):
    """Walks the URL map: each route with a body method, sent a body one byte over the
    configured limit, as a form and as JSON, anonymous and launched: 413, nothing stored."""
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # the `max_content_length` setting, small to keep this quick
    _, teacher = _teacher(app)
    before = _rows(app)
    over = 64 * 1024 + 1
    routes = [(rule, method) for rule in app.url_map.iter_rules() for method in sorted(rule.methods & BODY_METHODS)]
    assert len(routes) >= 20
    for rule, method in routes:
        url = _sample_url(rule)
        for client, headers in ((app.test_client(), {}), (teacher.client, {"X-Launch-Token": teacher.token})):
            for content_type, body in (("application/json", b" " * over),
                                       ("application/x-www-form-urlencoded", b"a=" + b"b" * (over - 2))):
                response = client.open(url, method=method, data=body, content_type=content_type, headers=headers)
                assert response.status_code == 413, (method, url, content_type, response.status_code)
                assert "the request body is larger than 64 KiB" in response.get_data(as_text=True), (method, url)
    assert _rows(app) == before
    with app.extensions["lti_badger"].sessions() as s:
        assert s.scalar(select(func.count(AuditEvent.id))) == 0


def _nested(depth: int):
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_a_multipart_part_without_a_usable_name_is_not_a_server_error(app):
    """Found by the Schemathesis run: a part named only by a line break has no name for werkzeug."""
    body = b'--b\r\nContent-Disposition: form-data; name="\n"\r\n\r\nnull\r\n--b--\r\n'
    response = app.test_client().post("/verify", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code < 500
