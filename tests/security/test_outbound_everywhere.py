"""Issue 12 finding 1: every request the tool makes to a URL someone else chose goes through the
one outbound client. Against real loopback servers: dynamic registration does not follow a
redirect to an address the policy does not open, reads at most 1 MiB, is cut off at the
deadline on a slow drip, never shows the upstream body, and with no allow-list fetches nothing
on loopback; the delivery worker never posts to an internal token URL an admin set, and shows
only a short status; a launch whose platform key set is slow answers 502 within the deadline;
Canvas REST and Moodle WS pulls keep the LMS's answer out of the source's `last_error`."""

from __future__ import annotations

import logging
import time

import pytest
import requests
from sqlalchemy import select

from lti_badger.db import transaction
from lti_badger.models import Delivery, Platform, RegistrationInvite
from lti_badger.outbound import DEFAULT_DEADLINE
from lti_badger.web.auth import Scope, issue_launch_token
from tests.functional.deliveries.test_ags import _ags_delivery, _award, _drain, _worker, ags  # noqa: F401
from tests.functional.lti.conftest import (  # noqa: F401
    CONTEXT_ID, LEARNER, make_tool, platform_id, register_sim, sim, start_tool, tool,
)

from .upstream import SECRET, Upstream

CONFIG = "/.well-known/openid-configuration"
MARGIN = 2.5  # seconds the tool may take beyond the outbound deadline (thread start, page render)


@pytest.fixture
def upstream():
    server = Upstream()
    yield server
    server.stop()


@pytest.fixture
def elsewhere():
    """A second server on another loopback address, which the tests' allow-list leaves closed."""
    server = Upstream("127.0.0.2")
    yield server
    server.stop()


def _register(tool, openid_configuration: str) -> requests.Response:
    return requests.get(f"{tool.url}/lti/register", params={"openid_configuration": openid_configuration},
                        timeout=60)


def _no_platform(tool) -> bool:
    return tool.count(Platform) == 0


def test_registration_does_not_follow_a_redirect_to_a_closed_address(make_tool, upstream, elsewhere):
    tool = make_tool(outbound_allow="127.0.0.1/32", registration_allowed_hosts="127.0.0.1")
    elsewhere.json(CONFIG, {"issuer": upstream.base})
    upstream.redirect(CONFIG, elsewhere.url(CONFIG))
    answer = _register(tool, upstream.url(CONFIG))
    assert answer.status_code == 502
    assert "at an address this tool does not connect to" in answer.text
    assert upstream.hits == [CONFIG] and elsewhere.hits == []
    assert _no_platform(tool)


def test_registration_reads_at_most_1_mib(make_tool, upstream):
    tool = make_tool(registration_allowed_hosts="127.0.0.1")
    upstream.huge(CONFIG, mib=200)
    started = time.monotonic()
    answer = _register(tool, upstream.url(CONFIG))
    took = time.monotonic() - started
    assert answer.status_code == 502 and "sent more than 1024 KiB" in answer.text
    assert took < DEFAULT_DEADLINE + MARGIN
    assert upstream.bytes_sent < 50 * 1024 * 1024  # the server was stopped early, not read to the end
    assert "aaaa" not in answer.text and _no_platform(tool)


def test_registration_is_cut_off_at_the_deadline_on_a_slow_drip(make_tool, upstream):
    tool = make_tool(registration_allowed_hosts="127.0.0.1")
    upstream.drip(CONFIG, every=0.2, total=60)
    started = time.monotonic()
    answer = _register(tool, upstream.url(CONFIG))
    took = time.monotonic() - started
    assert answer.status_code == 502 and f"did not answer within {DEFAULT_DEADLINE:g} s" in answer.text
    assert DEFAULT_DEADLINE - 0.5 < took < DEFAULT_DEADLINE + MARGIN
    assert _no_platform(tool)


def test_registration_shows_a_short_status_and_logs_the_upstream_body(make_tool, upstream, caplog):
    tool = make_tool(registration_allowed_hosts="127.0.0.1")
    upstream.secret_error(CONFIG, 500)
    with caplog.at_level(logging.WARNING, logger="lti_badger.outbound"):
        page = _register(tool, upstream.url(CONFIG))
        as_json = requests.get(f"{tool.url}/lti/register", params={"openid_configuration": upstream.url(CONFIG)},
                               headers={"Accept": "application/json"}, timeout=30)
    assert page.status_code == 502 and "the platform&#39;s openid-configuration answered 500" in page.text
    assert as_json.status_code == 502
    assert as_json.json()["message"] == "the platform's openid-configuration answered 500"
    assert SECRET not in page.text and SECRET not in as_json.text
    assert any(SECRET in str(getattr(r, "body", "")) for r in caplog.records)  # the detail is in the log


def test_without_an_allow_list_loopback_is_refused_and_nothing_is_fetched(make_tool, upstream):
    tool = make_tool(outbound_allow="", registration_allowed_hosts="127.0.0.1")
    upstream.json(CONFIG, {"issuer": upstream.base})
    answer = _register(tool, upstream.url(CONFIG))
    assert answer.status_code == 502 and "openid-configuration" in answer.text
    assert upstream.hits == [] and _no_platform(tool)
    with tool.sessions() as s:
        assert s.scalars(select(RegistrationInvite)).all() == []


# -- the worker: an internal token URL set by an LMS admin ------------------------------------

def _admin_page(tool, path: str) -> str:
    """A page as an admin of the simulator's platform (a launch token, as the iframe has)."""
    from lti_badger.models import Course, Person

    with tool.sessions() as s:
        course = s.scalars(select(Course)).first()
        person = s.scalars(select(Person)).first()
        scope = Scope(course.platform_id, course.id, person.id, "admin", "en")
    with tool.app.test_request_context():
        token = issue_launch_token(scope)
    answer = tool.app.test_client().get(path, headers={"X-Launch-Token": token})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _set_token_url(tool, url: str) -> None:
    with transaction(tool.sessions) as s:
        for platform in s.scalars(select(Platform)):
            platform.auth_token_url = url


@pytest.fixture
def narrow_tool(app_settings, sim):  # noqa: F811
    """The tool with an allow-list opening only 127.0.0.1 (where the simulator is), so 127.0.0.2
    stands for an internal address."""
    running, server = start_tool({**app_settings, "outbound_allow": "127.0.0.1/32"})
    yield running
    server.stop()
    running.app.extensions["lti_badger"].engine.dispose()


def test_the_worker_never_posts_to_an_internal_token_url(narrow_tool, sim, elsewhere):  # noqa: F811
    tool = narrow_tool
    register_sim(tool, sim)
    sim.add_course(CONTEXT_ID, "Biology 101")
    sim.add_user(LEARNER, "Grace Hopper", "grace@example.edu")
    sim.enroll(CONTEXT_ID, LEARNER, ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"])
    launched = sim.launch(requests.Session(), LEARNER, CONTEXT_ID)
    assert launched.status_code == 200
    elsewhere.json("/token", {"access_token": "t", "expires_in": 3600})
    _set_token_url(tool, elsewhere.url("/token"))
    _award(tool, _ags_world(tool))
    _drain(_worker(tool), tool.sessions)
    delivery, attempts = _ags_delivery(tool.sessions)
    assert elsewhere.hits == []  # nothing was sent to the internal address
    assert delivery.status == "dead" and len(attempts) == 1  # a refused URL is not retried
    assert delivery.last_error == "the LMS token endpoint is at an address this tool does not connect to"
    assert delivery.last_error in _admin_page(tool, "/admin/deliveries?status=all")


def test_an_lms_error_shows_a_short_status_and_the_body_goes_to_the_log(tool, sim, ags, upstream,  # noqa: F811
                                                                          caplog):
    upstream.secret_error("/token", 500)
    _set_token_url(tool, upstream.url("/token"))
    _award(tool, ags)
    with caplog.at_level(logging.WARNING, logger="lti_badger.outbound"):
        worker = _worker(tool)
        worker.run_once()
    delivery, attempts = _ags_delivery(tool.sessions)
    assert upstream.hits == ["/token"]
    assert delivery.last_error == "the LMS token endpoint answered 500" and attempts[0].status_code == 500
    page = _admin_page(tool, "/admin/deliveries?status=all")
    assert "the LMS token endpoint answered 500" in page and SECRET not in page
    with tool.sessions() as s:
        assert all(SECRET not in (d.last_error or "") for d in s.scalars(select(Delivery)))
    assert any(SECRET in str(getattr(r, "body", "")) for r in caplog.records)


def _ags_world(tool) -> dict:
    from lti_badger.models import Course, Person
    from tests.factories_awards import make_achievement

    with transaction(tool.sessions) as s:
        course = s.scalars(select(Course).where(Course.context_id == CONTEXT_ID)).one()
        person = s.scalars(select(Person).where(Person.sub == LEARNER)).one()
        course.gradebook_mode = "columns"  # a badge column: the delivery asks the token endpoint at once
        achievement, _ = make_achievement(s, course, name="Cells")
        return {"course_id": course.id, "person_id": person.id, "achievement_id": achievement.id}


# -- launches: the platform's key set --------------------------------------------------------

def test_a_slow_platform_key_set_fails_the_launch_within_the_deadline(tool, sim, platform_id, upstream):  # noqa: F811
    upstream.drip("/jwks", every=0.2, total=60)
    with transaction(tool.sessions) as s:
        s.get(Platform, platform_id).key_set_url = upstream.url("/jwks")
    started = time.monotonic()
    answer = sim.launch(requests.Session(), LEARNER, CONTEXT_ID)
    took = time.monotonic() - started
    assert answer.status_code == 502
    assert f"the platform&#39;s key set did not answer within {DEFAULT_DEADLINE:g} s" in answer.text
    assert took < DEFAULT_DEADLINE + MARGIN
    assert upstream.hits == ["/jwks"]


def test_a_key_set_at_a_closed_address_is_not_fetched(narrow_tool, sim, elsewhere):  # noqa: F811
    register_sim(narrow_tool, sim)
    sim.add_course(CONTEXT_ID, "Biology 101")
    sim.add_user(LEARNER, "Grace Hopper", "grace@example.edu")
    sim.enroll(CONTEXT_ID, LEARNER, ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"])
    elsewhere.json("/jwks", {"keys": []})
    with transaction(narrow_tool.sessions) as s:
        for platform in s.scalars(select(Platform)):
            platform.key_set_url = elsewhere.url("/jwks")
    answer = sim.launch(requests.Session(), LEARNER, CONTEXT_ID)
    assert answer.status_code == 502 and "key set is at an address this tool does not connect to" in answer.text
    assert elsewhere.hits == []


# -- pulls: Canvas REST and Moodle Web Services at URLs an admin typed --------------------------

@pytest.mark.parametrize("kind", ["canvas-rest", "moodle-ws"])
def test_a_pull_shows_a_short_status_and_fetches_nothing_from_a_closed_address(db, upstream, elsewhere, kind):
    from lti_badger.models.base import utcnow
    from lti_badger.outbound import shared_client
    from lti_badger.progress.schedule import PULLS
    from lti_badger.progress.sources import add_source
    from tests.factories_progress import make_course, make_platform

    platform = make_platform(db)
    make_course(db, platform, "77")
    for path in ("/api/v1/courses/77/modules", "/webservice/rest/server.php"):
        upstream.secret_error(path, 500)
    opened, closed = (add_source(db, platform.id, kind, name=name, settings={"base_url": server.base, "token": "t"},
                                 now=utcnow()).source for name, server in (("a", upstream), ("b", elsewhere)))
    http = shared_client("127.0.0.1/32")
    failed = PULLS[kind](db, opened, utcnow(), http=http)
    [error] = failed.errors
    assert error.endswith("answered 500") and SECRET not in (opened.last_error or "") and opened.last_error
    assert len(upstream.hits) == 1
    refused = PULLS[kind](db, closed, utcnow(), http=http)
    assert refused.errors[0].endswith("is at an address this tool does not connect to")
    assert elsewhere.hits == []
