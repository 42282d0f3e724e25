"""What an operator sees: /healthz and /readyz (schema at head, behind, ahead; Redis down is
degraded, not unready), /metrics (who may read it; launches, awards and deliveries counted
through the LMS simulator over HTTP; the queue read from the database) and the admin health
page turning red while the LMS refuses deliveries."""

from __future__ import annotations

import socket

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from lti_badger.app import create_app
from lti_badger.devtools.lms_sim import spec
from lti_badger.migrate import upgrade
from tests.functional.deliveries.test_ags import _award, _drain, _worker, ags  # noqa: F401
from tests.functional.lti.conftest import CONTEXT_ID, platform_id, sim, tool  # noqa: F401


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def samples(body: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def total(scraped: dict, name: str) -> float:
    return sum(v for (n, _labels), v in scraped.items() if n == name)


def test_healthz_and_readyz_answer_json_without_auth_and_echo_the_request_id(client):
    alive = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.1"})
    assert alive.status_code == 200 and alive.json == {"status": "alive"}
    assert alive.headers["X-Request-ID"] == "lb-7f3a.1"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["status"] == "ready" and ready.json["checks"]["database"] == {"ok": True, "schema": "at_head"}
    made_up = client.get("/healthz", headers={"X-Request-ID": "spaces, quotes \" and " + "x" * 200}).headers["X-Request-ID"]
    assert len(made_up) == 32 and made_up.isalnum()


def test_readyz_is_503_while_the_schema_is_behind_and_200_when_a_newer_release_migrated(app_settings, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    app = create_app({**app_settings, "database_url": url})
    behind = app.test_client().get("/readyz")
    assert behind.status_code == 503 and behind.headers["Retry-After"] == "5"
    assert behind.json["checks"]["database"] == {"ok": False, "schema": "behind"}
    engine = create_engine(url)
    upgrade(engine)
    assert app.test_client().get("/readyz").json["checks"]["database"]["schema"] == "at_head"
    with engine.begin() as conn:  # the next release's migration ran first (expand, then contract later)
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_next_release'"))
    ahead = app.test_client().get("/readyz")
    assert ahead.status_code == 200 and ahead.json["checks"]["database"] == {"ok": True, "schema": "ahead"}
    engine.dispose()
    app.extensions["lti_badger"].engine.dispose()


def test_readyz_with_redis_down_is_degraded_but_ready(app_settings):
    app = create_app({**app_settings, "redis_url": f"redis://127.0.0.1:{closed_port()}/0"})
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 200 and answer.json["status"] == "degraded"
    assert answer.json["checks"]["redis"]["ok"] is False
    app.extensions["lti_badger"].engine.dispose()


def test_metrics_are_for_loopback_or_the_token_only(app_settings):
    app = create_app({**app_settings, "metrics_token": "s3cret-scraper"})
    client = app.test_client()
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    refused = client.get("/metrics", environ_base=remote)
    assert refused.status_code == 403 and refused.json["error"] == "forbidden"
    assert client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer wrong"}).status_code == 403
    allowed = client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer s3cret-scraper"})
    assert allowed.status_code == 200 and "lti_badger_deliveries" in allowed.get_data(as_text=True)
    opened = create_app({**app_settings, "metrics_allow": "203.0.113.0/24"})
    assert opened.test_client().get("/metrics", environ_base=remote).status_code == 200
    assert opened.test_client().get("/metrics").status_code == 403
    with pytest.raises(ValueError):
        create_app({**app_settings, "metrics_allow": "not-a-network"})
    for a in (app, opened):
        a.extensions["lti_badger"].engine.dispose()


def _scrape(tool) -> dict:  # noqa: F811
    answer = requests.get(tool.url + "/metrics", timeout=10)
    assert answer.status_code == 200
    return samples(answer.text)


def test_launch_award_and_delivery_are_counted_and_the_queue_is_read_from_the_database(tool, sim, ags):  # noqa: F811
    before = _scrape(tool)
    launches = before.get(("lti_badger_launches_total", (("message_type", "LtiResourceLinkRequest"),)), 0)
    assert launches >= 1  # the ags fixture launched the learner through the simulator
    _award(tool, ags)
    queued = _scrape(tool)
    assert queued[("lti_badger_deliveries", (("status", "pending"),))] >= 1
    assert queued[("lti_badger_oldest_pending_delivery_seconds", ())] >= 0
    assert total(queued, "lti_badger_awards_total") == total(before, "lti_badger_awards_total") + 1
    _drain(_worker(tool), tool.sessions)
    after = _scrape(tool)
    delivered = ("lti_badger_delivery_attempts_total", (("destination", "ags"), ("outcome", "delivered")))
    assert after[delivered] == before.get(delivered, 0) + 1
    latency = ("lti_badger_request_seconds_count", (("endpoint", "lti.launch"), ("method", "POST")))
    assert after[latency] >= 1


def test_admin_health_turns_red_while_the_lms_refuses_deliveries(tool, sim, ags):  # noqa: F811
    tool.app.extensions["lti_badger"].keys.ensure("issuer")
    sim.add_user("admin-1", "Alan Admin", "alan@example.edu", roles=[spec.ROLE_INST_ADMIN])
    sim.enroll(CONTEXT_ID, "admin-1", [spec.ROLE_INSTRUCTOR])
    admin = requests.Session()
    assert sim.launch(admin, "admin-1", CONTEXT_ID).status_code == 200
    page = admin.get(tool.url + "/admin/")
    assert page.status_code == 200 and "Every check passes" in page.text, page.text[page.text.find("<h2"):][:1500]

    sim.fail_next(f"/api/lti/courses/{CONTEXT_ID}", 500, times=50)
    _award(tool, ags)
    worker = _worker(tool)
    worker.run_once()
    health = admin.get(tool.url + "/admin/health.json").json()
    failing = next(c for c in health["checks"] if c["name"] == "deliveries failing (retrying)")
    assert health["ok"] is False and failing == {"name": failing["name"], "ok": False, "detail": "1"}
    page = admin.get(tool.url + "/admin/")
    assert "Checks that need attention: 1" in page.text and 'state state-failed' in page.text
    scraped = _scrape(tool)
    assert scraped[("lti_badger_deliveries_failing", ())] == 1
    assert scraped[("lti_badger_delivery_attempts_total", (("destination", "ags"), ("outcome", "retry")))] >= 1

    sim.failures.clear()  # the LMS is back: the retry goes through and the page is green again
    _drain(worker, tool.sessions)
    assert "Every check passes" in admin.get(tool.url + "/admin/").text


def test_under_several_processes_a_scrape_adds_up_every_process(tmp_path, engine, database_url):
    """What gunicorn's processes do with PROMETHEUS_MULTIPROC_DIR: each counts in its own file,
    and whichever process answers /metrics reports the sum."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = "from lti_badger.metrics import AWARDS; AWARDS.labels('rule').inc({n})"
    for n in (2, 3):
        subprocess.run([sys.executable, "-c", count.format(n=n)], env=env, check=True)
    scrape = ("import sys; from lti_badger.db import make_engine, make_sessionmaker; "
              "from lti_badger.metrics import exposition; "
              "sys.stdout.write(exposition(make_sessionmaker(make_engine(sys.argv[1]))).decode())")
    body = subprocess.run([sys.executable, "-c", scrape, database_url], env=env, check=True,
                          capture_output=True, text=True).stdout
    scraped = samples(body)
    assert scraped[("lti_badger_awards_total", (("awarded_by", "rule"),))] == 5
    assert ("lti_badger_deliveries", (("status", "pending"),)) in scraped


def test_behind_a_proxy_the_allow_list_sees_the_client_not_the_proxy(app_settings):
    app = create_app({**app_settings, "proxy_hops": 1})
    client = app.test_client()
    forwarded = {"X-Forwarded-For": "203.0.113.9"}  # the proxy itself connects from 127.0.0.1
    assert client.get("/metrics", headers=forwarded).status_code == 403
    assert client.get("/metrics").status_code == 200
    page = client.get("/no-such-page", headers={"X-Forwarded-Prefix": "/badges"}).get_data(as_text=True)
    assert 'href="/badges/assets/' in page  # under a path of a shared host, links keep the path
    app.extensions["lti_badger"].engine.dispose()
