"""`lti-badger demo`: headless it launches every demo person through the simulator and writes a
summary; interactive it seeds the same badges and awards, prints browser links that really launch
the tool (badges with earners, a learner with an earned badge and others to go), pulls a grade
entered on the LMS page, and stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import re
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
from lti_badger.devtools.demo_programs import PROGRAM_NAME
from lti_badger.devtools.lms_sim import parse_form
from lti_badger.models import AchievementVersion, Award, Course, Person, Platform


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


def _browser_launch(link: str, http: requests.Session | None = None) -> requests.Response:
    """What a browser does with the printed link: run the auto-submitting forms."""
    http = http or requests.Session()
    page = http.get(link, timeout=10)
    for _ in range(2):  # LMS -> tool login -> LMS auth -> tool launch
        action, fields = parse_form(page.text)
        assert action, page.text[:300]
        page = http.post(action, data=fields, timeout=10)
    return page


def _badge_rows(page: str) -> dict[str, int]:
    """The instructor's badge list: badge name -> earners."""
    rows = re.findall(r'<th scope="row">\s*(?:<img [^>]*>)?\s*([^<\n]+?)\s*<.*?<td class="num">\s*(\d+)\s*</td>', page, re.S)
    return {name: int(n) for name, n in rows}


def _learner_badges(page: str) -> dict[str, bool]:
    """The learner's badges: name -> earned."""
    cards = re.findall(r"<h2><a [^>]*>([^<]+)</a></h2>\s*<p>(.*?)</p>", page, re.S)
    return {name.strip(): "Earned" in state for name, state in cards}


def _line_item_id(lms: str, label: str) -> str:
    page = requests.get(lms + "/", timeout=5).text
    [value] = re.findall(r'<option value="([^"]+)">' + re.escape(label) + r" \(max", page)
    return value


def _gradebook_row(page: str, name: str) -> str:
    match = re.search(r"<tr><th scope=row>" + re.escape(name) + r"</th>(.*?)</tr>", page)
    return match.group(1) if match else ""


def test_interactive_demo_is_seeded_prints_links_that_launch_and_stops_on_ctrl_c(app_settings, sessionmaker_):
    # The test database (SQLite or PostgreSQL, as the run is configured), migrated by the demo itself.
    env = {**os.environ, "LTI_BADGER_INSTANCE_PATH": app_settings["instance_path"],
           "LTI_BADGER_DATABASE_URL": app_settings["database_url"], "PYTHONUNBUFFERED": "1"}
    env.pop("LTI_BADGER_REDIS_URL", None)
    if app_settings["redis_url"]:
        env["LTI_BADGER_REDIS_URL"] = app_settings["redis_url"]
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
        while "backpack" not in links and time.monotonic() < deadline:  # the "what to try" list
            line = proc.stdout.readline()
            if not line:
                break
            if "as Canvas's user navigation opens it" in line:
                links["all_badges"] = line.rsplit(": ", 1)[1].strip()
            elif "the backpack connection" in line:
                links["backpack"] = line.rsplit(": ", 1)[1].strip()
        assert {"all_badges", "backpack"} <= set(links), "the demo did not link All my badges and the backpack"

        tool_url = links["tool"]
        pages, browsers = {}, {}
        for who in ("instructor", "learner"):
            browsers[who] = requests.Session()
            landed = pages[who] = _browser_launch(links[who], browsers[who])
            assert landed.status_code == 200 and landed.url.startswith(tool_url), (who, landed.url)
            assert not landed.url.endswith("/lti/launch")  # redirected past the launch to a page of the tool

        # Seeded like the headless scenario: badges with earners for the instructor...
        badges = _badge_rows(pages["instructor"].text)
        assert {"Cell Explorer", "Genetics Lab Pro", "Biology 101 Pathway"} <= set(badges), badges
        assert badges["Cell Explorer"] == 2 and all(n >= 1 for n in badges.values()), badges
        # the earners page with its chart, and the review queue with the award suspended for review
        teacher, badges_url = browsers["instructor"], pages["instructor"].url
        earners = teacher.get(badges_url.replace("/course/badges", "/course/earners"), timeout=10)
        assert earners.status_code == 200 and "Awards over time" in earners.text and "Earned" in earners.text
        review = teacher.get(badges_url.replace("/course/badges", "/course/review"), timeout=10)
        assert review.status_code == 200 and "Grace Hopper" in review.text and "plagiarism" in review.text
        # ...and for the learner one badge earned and others with their "why not yet".
        learner = pages["learner"].text
        assert "There are no badges" not in learner
        earned = _learner_badges(learner)
        assert earned["Cell Explorer"] is True and earned["Genetics Lab Pro"] is False, earned
        assert "Why not yet" in learner and "Lab report: Pea plants" in learner
        # The cross-course page and the backpack instructions, launched without a course.
        everything = _browser_launch(links["all_badges"])
        assert everything.url.startswith(f"{tool_url}/me/all") and "Cell Explorer" in everything.text
        # The three-course program: the featured learner holds Biology's badge, two are left.
        assert "Life Sciences Foundations (program)" in everything.text
        assert "1 of 3 course badges earned." in everything.text and "Lab Safety in Chemistry 101 (demo)" in everything.text
        with sessionmaker_() as s:  # Grace Hopper holds the three course badges, so the program
            program = s.scalar(select(AchievementVersion).where(AchievementVersion.name == PROGRAM_NAME))
            holders = s.scalars(select(Person.sub).join(Award, Award.person_id == Person.id).where(
                Award.achievement_id == program.achievement_id, Award.status == "active")).all()
            assert holders == ["demo-learner-1"]
        backpack = _browser_launch(links["backpack"])
        assert backpack.url.startswith(f"{tool_url}/me/backpack") and "Make an app password" in backpack.text

        # A grade entered on the LMS page reaches the tool by a pull and comes back as a badge score.
        lms = links["instructor"].split("/launch", 1)[0]
        page = requests.post(f"{lms}/courses/{DEMO_CONTEXT_ID}/grades", timeout=10,
                             data={"sub": "demo-learner-3", "line_item": _line_item_id(lms, "Quiz: Parts of a cell"),
                                   "score": "18"})
        assert page.status_code == 200 and "Gradebook" in page.text
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _gradebook_row(requests.get(lms + "/", timeout=5).text,
                                                            "Katherine Johnson").count("1 / 1") < 1:
            time.sleep(0.5)
        assert _gradebook_row(requests.get(lms + "/", timeout=5).text, "Katherine Johnson").count("1 / 1") == 1

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
