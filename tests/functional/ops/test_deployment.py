"""Issue 17 B: the deployment shape, tested. Two `lti-badger serve --workers 2` (gunicorn) web
processes and two `lti-badger worker` processes on PostgreSQL + Redis, all on loopback, with the
LMS simulator. A launch's OIDC login goes to one web process and its id_token to the other, and
the pages that follow work on either, also after the first web process is restarted: no launch
state lives in a process's memory. Events sent to both web processes all count, and the two
workers deliver every award to the LMS exactly once."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_badger.devtools.lms_sim import spec
from lti_badger.models import Award, Delivery, DeliveryAttempt, ProgressEvent
from tests.conftest import PG_URL, REDIS_URL
from tests.deployment import XAPI_HEADERS, Deployment, completed, seed_course
from tests.functional.lti.conftest import sim  # noqa: F401
from tests.functional.ops.test_health_metrics import samples

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (PG_URL and REDIS_URL), reason="the deployment shape runs on PostgreSQL and Redis: set "
    "LTI_BADGER_TEST_DATABASE_URL and LTI_BADGER_TEST_REDIS_URL")]

META = re.compile(r'<meta name="lti-badger-launch" content="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LEARNERS = 24
EVENTS = ("lti_badger_progress_events_total", (("source", "xapi"),))


@pytest.fixture
def deployment(database_url, clean_engine, tmp_path):
    dep = Deployment(database_url, REDIS_URL, tmp_path / "instance")
    dep.add_web()
    yield dep
    dep.stop()


def _page(dep: Deployment, web, http: requests.Session, location: str) -> requests.Response:
    """Follow the launch's hops (relative redirects) on `web`, as the public host."""
    answer = http.get(dep.via(web, dep.url + location), headers=dep.host, allow_redirects=False)
    while answer.status_code in (302, 303):
        answer = http.get(dep.via(web, dep.url + answer.headers["Location"]), headers=dep.host,
                          allow_redirects=False)
    assert answer.status_code == 200, answer.text[:300]
    return answer


def test_two_web_processes_and_two_workers_share_nothing_but_postgres_and_redis(deployment, clean_engine,
                                                                                sim):  # noqa: F811
    dep = deployment
    a, b = dep.webs
    world = seed_course(dep, sim, LEARNERS)
    sim.add_user("teacher", "Ada Lovelace", "ada@example.edu")
    sim.enroll(world.context_id, "teacher", [spec.ROLE_INSTRUCTOR])
    for web in dep.webs:
        dep.start_web(web, workers=2)
    dep.start_worker()
    dep.start_worker()
    dep.wait_ready()

    # OIDC login on A (the login URL the LMS knows), the id_token posted to B.
    http = requests.Session()
    form = sim.login(http, "teacher", world.context_id)
    assert sim.requests_to("/auth") and form.action == dep.url + "/lti/launch"
    launched = http.post(dep.via(b, form.action), data=form.fields, headers=dep.host, allow_redirects=False)
    assert launched.status_code == 303, launched.text[:300]
    # The first hop on A, and then a restart of A: its pages go on from the database and Redis.
    page = _page(dep, a, http, launched.headers["Location"])
    token = META.search(page.text).group(1)
    dep.stop_web(a)
    dep.start_web(a, workers=2)
    dep.wait_ready()
    learner_id = world.person_ids["l0"]
    explanation = http.post(dep.via(a, f"{dep.url}/course/earners/{learner_id}/{world.achievement_id}"),
                            data={"lt": token, "_nav": "1"}, headers=dep.host, allow_redirects=False)
    assert explanation.status_code == 200, explanation.text[:300]
    awarded = http.post(dep.via(b, f"{dep.url}/course/awards"), headers=dep.host, allow_redirects=False,
                        data={"lt": token, "csrf_token": CSRF.search(explanation.text).group(1),
                              "person_id": learner_id, "achievement_id": world.achievement_id,
                              "reason": "Finished the lab in class"})
    assert awarded.status_code in (200, 303), awarded.text[:300]

    # Events for the other learners, alternately to A and B, from several clients at once.
    def send(i: int) -> int:
        web = dep.webs[i % 2]
        answer = requests.post(f"{web.url}/xapi/statements", json=completed(f"l{i}", world.context_id, "12"),
                               auth=world.xapi_auth, headers={**XAPI_HEADERS, **dep.host}, timeout=30)
        return answer.status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(send, range(1, LEARNERS)))
    assert codes == [200] * (LEARNERS - 1)

    deadline = time.monotonic() + 40
    while len(sim.scores(world.context_id)) < LEARNERS and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # a second delivery of anything would have arrived by now
    scores = sim.scores(world.context_id)
    assert sorted(s["userId"] for s in scores) == sorted(f"l{i}" for i in range(LEARNERS)), "each award once"
    assert len(sim.line_items(world.context_id)) == 1  # one badge column, found or made once
    with Session(clean_engine) as s:
        assert s.scalar(select(func.count()).select_from(ProgressEvent)) == LEARNERS - 1
        assert s.scalar(select(func.count()).select_from(Award)) == LEARNERS
        assert s.execute(select(Delivery.status, func.count()).where(Delivery.destination == "ags")
                         .group_by(Delivery.status)).all() == [("done", LEARNERS)]
        assert s.scalar(select(func.count()).select_from(DeliveryAttempt).where(DeliveryAttempt.ok)) == LEARNERS
    # Each web process counted its own share (its gunicorn workers add up in its /metrics).
    events = [samples(requests.get(web.url + "/metrics", timeout=5).text).get(EVENTS, 0) for web in dep.webs]
    assert sum(events) == LEARNERS - 1 and min(events) > 0, events
