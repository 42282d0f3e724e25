"""E-mail over real SMTP (a tiny loopback SMTP receiver), `lti-badger audit export`, and
`lti-badger serve` (development server and gunicorn) answering over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from lti_badger.awards import services
from lti_badger.cli import main
from lti_badger.db import transaction
from lti_badger.deliveries.senders import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_webhook
from lti_badger.models import Achievement, Delivery
from tests.factories_awards import make_world
from tests.functional.deliveries.test_worker import _award, _drain, _worker

ROOT = Path(__file__).resolve().parents[3]


def test_email_over_smtp_and_refused_recipient_is_dead(sessions, worker_settings, keys, smtp):
    settings = replace(worker_settings, mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=smtp.server_address[1])
    _, address = _award(sessions)
    with transaction(sessions) as s:
        w = make_world(s, lineitems_url=None)
        w.learners[0].email = "nobody@refused.invalid"
        s.flush()
        services.award_from_rule(s, w.achievement, w.version, w.learners[0].id, None, datetime.now(timezone.utc))
    _drain(_worker(sessions, settings, keys), sessions)
    [msg] = smtp.messages
    assert msg["to"] == [address] and "You earned the badge Python Basics" in msg["data"]
    with transaction(sessions) as s:
        statuses = sorted(d.status for d in s.scalars(select(Delivery).where(Delivery.destination == "email")))
        dead = s.scalars(select(Delivery).where(Delivery.status == "dead")).one()
    assert statuses == ["dead", "done"] and "refused" in dead.last_error


def _env(settings) -> dict[str, str]:
    return {"LTI_BADGER_DATABASE_URL": settings.database_url, "LTI_BADGER_INSTANCE_PATH": settings.instance_path,
            "LTI_BADGER_BASE_URL": settings.base_url, "LTI_BADGER_IN_PROCESS_WORKER": "false",
            "LTI_BADGER_OUTBOUND_ALLOW": settings.outbound_allow}


def test_audit_export_cli_json_and_csv(sessions, worker_settings, tmp_path):
    _award(sessions)
    runner = CliRunner()
    out = runner.invoke(main, ["audit", "export"], env=_env(worker_settings))
    assert out.exit_code == 0, out.output
    [event] = json.loads(out.output)
    assert event["action"] == "award.create" and event["actor_type"] == "rule"
    target = tmp_path / "audit.csv"
    out = runner.invoke(main, ["audit", "export", "--format", "csv", "--out", str(target)], env=_env(worker_settings))
    assert out.exit_code == 0 and target.read_text().splitlines()[0].startswith("id,at,platform_id,course_id")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("extra", [[], ["--workers", "2"]], ids=["dev-server", "gunicorn"])
def test_serve_answers_http(sessions, worker_settings, extra):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "lti_badger", "serve", "--port", str(port), *extra], cwd=ROOT,
                            env={**os.environ, **_env(worker_settings)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                resp = requests.get(f"http://127.0.0.1:{port}/xapi/about", timeout=1)
                break
            except requests.RequestException:
                assert proc.poll() is None, "serve exited"
                assert time.monotonic() < deadline, "serve did not answer"
                time.sleep(0.2)
        assert resp.status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)


def test_webhook_registered_from_the_cli_receives_signed_awards(sessions, worker_settings, keys, receiver):
    with transaction(sessions) as s:
        w = make_world(s, lineitems_url=None, learners=1)
        w.learners[0].email = None
        platform_id, ach_id, person_id = w.platform.id, w.achievement.id, w.learners[0].id
    runner, env = CliRunner(), _env(worker_settings)
    assert runner.invoke(main, ["webhooks", "add", str(platform_id), "http://example.org/hook"], env=env).exit_code == 1
    assert "no platform" in runner.invoke(main, ["webhooks", "add", "999999", receiver.url], env=env).output
    added = runner.invoke(main, ["webhooks", "add", str(platform_id), receiver.url], env=env)
    assert added.exit_code == 0, added.output
    secret = added.output.split("signing secret (shown once): ")[1].strip()
    assert receiver.url in runner.invoke(main, ["webhooks", "list"], env=env).output
    with transaction(sessions) as s:
        ach = s.get(Achievement, ach_id)
        services.award_from_rule(s, ach, ach.current_version, person_id, None, datetime.now(timezone.utc))
    _drain(_worker(sessions, worker_settings, keys), sessions)
    [req] = receiver.requests
    assert verify_webhook(secret, req["headers"][TIMESTAMP_HEADER], req["body"], req["headers"][SIGNATURE_HEADER])
    endpoint_id = added.output.split()[1]
    assert runner.invoke(main, ["webhooks", "remove", endpoint_id], env=env).exit_code == 0
    assert "no webhooks" in runner.invoke(main, ["webhooks", "list"], env=env).output
