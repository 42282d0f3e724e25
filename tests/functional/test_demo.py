"""`lti-badger demo`: headless it launches every demo person through the simulator and writes a
summary; interactive it prints browser links that really launch the tool, and stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from click.testing import CliRunner
from sqlalchemy import select

from lti_badger.cli import main
from lti_badger.devtools.demo import DEMO_CONTEXT_ID
from lti_badger.devtools.lms_sim import parse_form
from lti_badger.models import Course, Platform


def run_headless(app_settings, out: Path):
    env = {"LTI_BADGER_DATABASE_URL": app_settings["database_url"],
           "LTI_BADGER_INSTANCE_PATH": app_settings["instance_path"],
           "LTI_BADGER_REDIS_URL": app_settings["redis_url"]}
    return CliRunner().invoke(main, ["demo", "--headless", "--out", str(out), "--port", "0"], env=env,
                              catch_exceptions=False)


def test_headless_demo_launches_everyone_and_writes_a_summary(app_settings, sessionmaker_, tmp_path):
    answer = run_headless(app_settings, tmp_path / "out")
    assert answer.exit_code == 0, answer.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())

    assert summary["ok"] is True
    assert summary["tool_url"].startswith("http://127.0.0.1:") and not summary["tool_url"].endswith(":5000")
    modules = summary["course"]["modules"]
    assert len(modules) == 2 and all(len(m["activities"]) >= 2 for m in modules)
    assert all(a["lineitem"].startswith(summary["lms_url"]) for m in modules for a in m["activities"])
    launches = summary["launches"]
    assert [launch["role"] for launch in launches] == ["instructor"] + ["learner"] * 5
    for launch in launches:
        assert launch["ok"] and launch["status"] == 200, launch
        assert launch["landed"].startswith(summary["tool_url"]) and not launch["landed"].endswith("/lti/launch")
    assert summary["tool"]["people"] == 6
    assert summary["tool"]["enrollments"] == {"instructor": 1, "learner": 5}
    assert [s["name"] for s in summary["steps"]][:3] == ["launch_instructor", "launch_learners", "tool_records"]

    with sessionmaker_() as s:
        platform = s.scalar(select(Platform))
        assert platform.issuer == summary["lms_url"] and platform.registered_via == "demo"
        course = s.scalar(select(Course).where(Course.context_id == DEMO_CONTEXT_ID))
        assert course.platform_id == platform.id
        assert course.ags_lineitems_url == f"{summary['lms_url']}/api/lti/courses/{DEMO_CONTEXT_ID}/line_items"


def test_headless_needs_an_output_folder(app_settings):
    env = {"LTI_BADGER_DATABASE_URL": app_settings["database_url"],
           "LTI_BADGER_INSTANCE_PATH": app_settings["instance_path"]}
    answer = CliRunner().invoke(main, ["demo", "--headless"], env=env)
    assert answer.exit_code == 1 and "--out" in answer.output


def _browser_launch(link: str) -> requests.Response:
    """What a browser does with the printed link: run the auto-submitting forms."""
    http = requests.Session()
    page = http.get(link, timeout=10)
    for _ in range(2):  # LMS -> tool login -> LMS auth -> tool launch
        action, fields = parse_form(page.text)
        assert action, page.text[:300]
        page = http.post(action, data=fields, timeout=10)
    return page


def test_interactive_demo_prints_links_that_launch_and_stops_on_ctrl_c(tmp_path):
    env = {**os.environ, "LTI_BADGER_INSTANCE_PATH": str(tmp_path / "instance"),
           "LTI_BADGER_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite'}", "PYTHONUNBUFFERED": "1"}
    env.pop("LTI_BADGER_REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "lti_badger", "demo", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        links: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while "learner" not in links and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("lti_badger (tool)"):
                links["tool"] = line.split()[-1]
            elif line.startswith("Open as instructor:"):
                links["instructor"] = line.split(":", 1)[1].strip()
            elif line.startswith("Open as a learner:"):
                links["learner"] = line.split(":", 1)[1].strip()
        assert set(links) == {"tool", "instructor", "learner"}, "the demo did not print its launch links"

        tool_url = links["tool"]
        for who in ("instructor", "learner"):
            landed = _browser_launch(links[who])
            assert landed.status_code == 200 and landed.url.startswith(tool_url), (who, landed.url)
            assert not landed.url.endswith("/lti/launch")  # redirected past the launch to a page of the tool

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
