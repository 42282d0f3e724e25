"""The demo behind `lti-badger demo`: the tool and the built-in LMS simulator side by side on loopback, wired
to each other, with a seeded course, so a newcomer sees launches work without owning an LMS.

Interactive mode prints browser links and waits for Ctrl-C. `--headless --out DIR` runs the
scenario of `headless_scenario` (a list of steps that later parts extend) and writes
`DIR/summary.json`."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ..db import transaction
from ..errors import BadInput
from ..keys import KIND_ISSUER, KIND_LTI
from ..lti.claims import CUSTOM_VIEW, VIEW_ALL, VIEW_BACKPACK
from ..settings import Settings
from .lms_sim import ROLE_INSTRUCTOR, ROLE_LEARNER, LaunchFailed, LmsSimulator
from .lms_sim.state import LineItem

if TYPE_CHECKING:
    from ..cli_context import Context

log = logging.getLogger(__name__)

DEMO_CLIENT_ID = "lti-badger-demo"
DEMO_DEPLOYMENT_ID = "demo-deployment"
DEMO_DEPLOYMENT_NAME = "Faculty of Science"
DEMO_CONTEXT_ID = "demo-bio101"
DEMO_COURSE_TITLE = "Biology 101 (demo)"
INSTRUCTOR = ("demo-instructor", "Ada Lovelace", "ada.lovelace@example.edu")
LEARNERS = (
    ("demo-learner-1", "Grace Hopper", "grace.hopper@example.edu"),
    ("demo-learner-2", "Alan Turing", "alan.turing@example.edu"),
    ("demo-learner-3", "Katherine Johnson", "katherine.johnson@example.edu"),
    ("demo-learner-4", "Tim Berners-Lee", "tim.berners-lee@example.edu"),
    ("demo-learner-5", "Margaret Hamilton", "margaret.hamilton@example.edu"),
)
# The learner whose launch link the demo prints: one badge earned, others still to earn.
FEATURED_LEARNER = LEARNERS[1]
# The learner one step away from a badge (the quiz at 55 %, 75 % needed): the "what to try".
NEARLY_THERE = LEARNERS[2]
# Two modules of activities: (module id, title, [(activity id, label, points)]).
MODULES = (
    ("m1", "Module 1: Cells", (("cells-reading", "Reading: The cell", 10), ("cells-quiz", "Quiz: Parts of a cell", 20))),
    ("m2", "Module 2: Genetics", (("dna-reading", "Reading: DNA", 10), ("genetics-quiz", "Quiz: Inheritance", 20),
                                  ("genetics-lab", "Lab report: Pea plants", 50))),
)
# How far each learner got, as a fraction of the points of each activity (None: not started).
SEED_GRADES = {
    "demo-learner-1": {"cells-reading": 1.0, "cells-quiz": 0.95, "dna-reading": 1.0, "genetics-quiz": 0.9,
                       "genetics-lab": 0.88},
    "demo-learner-2": {"cells-reading": 1.0, "cells-quiz": 0.8},
    "demo-learner-3": {"cells-reading": 1.0, "cells-quiz": 0.55, "dna-reading": 1.0},
    "demo-learner-4": {"cells-reading": 1.0},
}


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class DemoRun:
    """Everything a demo step may use: the running tool and simulator, and the summary it fills."""

    settings: Settings
    app: Flask
    tool_url: str
    sim: LmsSimulator
    platform_id: int
    activities: dict[str, LineItem]
    out: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def sessions(self):
        return self.app.extensions["lti_badger"].sessions

    @property
    def keys(self):
        return self.app.extensions["lti_badger"].keys


class ToolServer:
    """The tool on a loopback port, its base URL set to the port actually bound."""

    def __init__(self, settings: Settings, host: str, port: int) -> None:
        from ..app import create_app

        holder: dict[str, Flask] = {}
        try:
            self.server: BaseWSGIServer = make_server(
                host, port, lambda environ, start: holder["app"](environ, start), threaded=True,
                request_handler=_QuietHandler)
        except OSError as e:
            raise BadInput(f"cannot listen on {host}:{port} ({e.strerror}); choose another with --port") from e
        self.url = f"http://{host}:{self.server.server_port}"
        # The simulator listens on the same loopback host: open it (only it) to the outbound client.
        self.settings = replace(settings, base_url=self.url, outbound_allow=f"{settings.outbound_allow} {host}".strip())
        self.app = holder["app"] = create_app(self.settings)
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="lti-badger-demo", daemon=True)

    def start(self) -> "ToolServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        try:
            from ..deliveries.runner import stop_in_process_worker

            stop_in_process_worker(self.app)
        finally:
            self.server.shutdown()
            self.server.server_close()
            self._thread.join(5)
            self.app.extensions["lti_badger"].engine.dispose()


def prepare_instance(ctx: "Context") -> None:
    """What `lti-badger init` does: migrate the database, create missing keys and the secret."""
    from ..migrate import upgrade

    upgrade(ctx.services.engine)
    ctx.services.keys.ensure(KIND_LTI)
    ctx.services.keys.ensure(KIND_ISSUER)
    ctx.settings.secret()
    ctx.services.engine.dispose()


def seed_simulator(sim: LmsSimulator, tool_url: str) -> dict[str, LineItem]:
    """Register the tool in the LMS and create the demo course: two modules of graded activities,
    one instructor, five learners, and some grades already entered."""
    sim.register_tool(tool_url, client_id=DEMO_CLIENT_ID, deployment_ids=(DEMO_DEPLOYMENT_ID,))
    sim.add_course(DEMO_CONTEXT_ID, DEMO_COURSE_TITLE, "BIO101")
    sub, name, email = INSTRUCTOR
    sim.add_user(sub, name, email)
    sim.enroll(DEMO_CONTEXT_ID, sub, [ROLE_INSTRUCTOR])
    for sub, name, email in LEARNERS:
        sim.add_user(sub, name, email)
        sim.enroll(DEMO_CONTEXT_ID, sub, [ROLE_LEARNER])
    activities: dict[str, LineItem] = {}
    for module_id, title, items in MODULES:
        sim.add_module(DEMO_CONTEXT_ID, module_id, title)
        for activity_id, label, points in items:
            activities[activity_id] = sim.add_line_item(DEMO_CONTEXT_ID, label, points, resource_id=activity_id,
                                                        tag=module_id, module_id=module_id)
    for sub, grades in SEED_GRADES.items():
        for activity_id, fraction in grades.items():
            item = activities[activity_id]
            sim.grade(DEMO_CONTEXT_ID, item, sub, round(item.score_maximum * fraction, 2))
    return activities


def register_platform(sessions, sim: LmsSimulator) -> int:
    """The simulator as a platform of the tool (kept if an earlier demo registered the same issuer)."""
    from ..lti import platforms

    with transaction(sessions) as session:
        platform = platforms.find_platform(session, sim.issuer, DEMO_CLIENT_ID)
        if platform is None:
            platform = platforms.add_platform(
                session, issuer=sim.issuer, client_id=DEMO_CLIENT_ID, auth_login_url=sim.auth_url,
                auth_token_url=sim.token_url, key_set_url=sim.jwks_url, deployment_ids=[DEMO_DEPLOYMENT_ID],
                name=f"LMS simulator ({sim.product_family})", registered_via="demo",
                product_family=sim.product_family)
        platforms.add_deployment(session, platform, DEMO_DEPLOYMENT_ID, DEMO_DEPLOYMENT_NAME)
        return platform.id


# -- the headless scenario ---------------------------------------------------------------

def _launch(run: DemoRun, sub: str, name: str, role: str) -> dict[str, Any]:
    http = requests.Session()
    entry: dict[str, Any] = {"sub": sub, "name": name, "role": role}
    try:
        answer = sim_launch(run, http, sub)
    except (LaunchFailed, requests.RequestException) as e:
        return {**entry, "ok": False, "error": str(e)}
    entry.update(status=answer.status_code, landed=answer.url.split("?", 1)[0],
                 shows_course=DEMO_COURSE_TITLE in answer.text, shows_name=name in answer.text)
    entry["ok"] = answer.status_code == 200 and entry["landed"].startswith(run.tool_url)
    return entry


def sim_launch(run: DemoRun, http: requests.Session, sub: str) -> requests.Response:
    return run.sim.launch(http, sub, DEMO_CONTEXT_ID, resource_link_id="demo-badges")


def step_launch_instructor(run: DemoRun) -> None:
    sub, name, _ = INSTRUCTOR
    run.summary["launches"].append(_launch(run, sub, name, "instructor"))


def step_launch_learners(run: DemoRun) -> None:
    for sub, name, _ in LEARNERS:
        run.summary["launches"].append(_launch(run, sub, name, "learner"))


def step_tool_records(run: DemoRun) -> None:
    """What the tool stored from the launches (course, people, enrolments)."""
    from ..models import Course, Enrollment, Person

    with transaction(run.sessions) as session:
        course = session.scalar(select(Course).where(Course.platform_id == run.platform_id,
                                                     Course.context_id == DEMO_CONTEXT_ID))
        people = session.scalar(select(func.count()).select_from(Person).where(Person.platform_id == run.platform_id))
        roles: dict[str, int] = {}
        if course is not None:
            for role, n in session.execute(select(Enrollment.role, func.count()).where(
                    Enrollment.course_id == course.id).group_by(Enrollment.role)):
                roles[role] = n
        run.summary["tool"]["course"] = (
            {"id": course.id, "context_id": course.context_id, "title": course.title,
             "ags_lineitems_url": course.ags_lineitems_url, "nrps_url": course.nrps_url} if course else None)
        run.summary["tool"]["people"] = people
        run.summary["tool"]["enrollments"] = roles


def step_gradebook_columns(run: DemoRun) -> None:
    """The demo's instructor chose one gradebook column per badge, so the simulator's gradebook
    shows each badge (the demo's link has no grade item for the default, feedback)."""
    from datetime import datetime, timezone

    from ..deliveries.gradebook import set_gradebook_mode
    from ..models import Course
    from ..models.course import GRADEBOOK_COLUMNS

    with transaction(run.sessions) as session:
        course = session.scalar(select(Course).where(Course.platform_id == run.platform_id,
                                                     Course.context_id == DEMO_CONTEXT_ID))
        if course is not None:
            set_gradebook_mode(session, course.id, GRADEBOOK_COLUMNS, datetime.now(timezone.utc),
                               base_url=run.settings.public_base_url)


def step_course_modules(run: DemoRun) -> None:
    """Tell the tool the course's modules, as a Canvas (REST) or Moodle (Web Services) source
    does: AGS line items carry no modules, and the instructor's criteria builder groups the
    activities by module. The simulator's gradebook columns keep their AGS ids."""
    from ..models import Course
    from ..progress.structure import ActivityIn, ModuleIn, sync_structure

    modules = [ModuleIn(module_id, title, n) for n, (module_id, title, _items) in enumerate(MODULES, 1)]
    rows = [(module_id, a, label, points) for module_id, _title, items in MODULES for a, label, points in items]
    activities = [ActivityIn(run.sim.lineitem_url(run.activities[a]), label, kind="lineitem", module_lms_id=module_id,
                             position=n, max_points=float(points), lineitem_url=run.sim.lineitem_url(run.activities[a]))
                  for n, (module_id, a, label, points) in enumerate(rows)]
    with transaction(run.sessions) as session:
        course = session.scalars(select(Course).where(Course.platform_id == run.platform_id,
                                                      Course.context_id == DEMO_CONTEXT_ID)).one()
        result = sync_structure(session, course.id, modules, activities, "demo")
    run.summary["tool"]["modules"] = result.modules_created + result.modules_updated


def run_steps(run: DemoRun, steps) -> None:
    """Run demo steps in order, timing each into `run.summary["steps"]`."""
    for name, step in steps:
        started = time.monotonic()
        step(run)
        run.summary["steps"].append({"name": name, "seconds": round(time.monotonic() - started, 3)})
        log.info("demo step done", extra={"step": name})


def gradebook_version(sim: LmsSimulator) -> int:
    """Changes whenever a grade is entered in the simulator or a tool posts a score."""
    with sim.lock:
        return len(sim.score_log)


def what_to_try(run: DemoRun) -> str:
    """The interactive demo's short tour, printed under the launch links."""
    quiz = run.activities["cells-quiz"]
    return "\n".join([
        "\nWhat to try:",
        "  - As instructor: the course's badges with their earners; Earners for everyone's status, the"
        " awards chart and the criteria funnel (open a cell to award or revoke by hand); Review for an"
        " award suspended pending review.",
        f"  - As {FEATURED_LEARNER[1]}: an earned badge (download PNG / SVG / JSON, verification link) and"
        " the \"why not yet\" checklist of the others.",
        f"  - On the LMS page ({run.sim.url}/), enter a grade for {NEARLY_THERE[1]}: {quiz.label} ="
        f" {quiz.score_maximum * 0.9:g} of {quiz.score_maximum:g} -> within seconds the tool pulls it, awards"
        " \"Cell Explorer\" and posts the badge score back to the LMS gradebook.",
        "  - Verify a downloaded badge file on the tool's verify page: " + run.tool_url + "/verify",
        f"  - All of {FEATURED_LEARNER[1]}'s badges from every course, as Canvas's user navigation opens it"
        f" (a launch without a course): {run.summary['links']['learner_all_badges']}",
        "  - Show those badges on a Moodle profile (the backpack connection: an app password and what to type"
        f" in Moodle, docs/moodle.md): {run.summary['links']['learner_backpack']}",
    ])


def base_summary(run: DemoRun) -> dict[str, Any]:
    return {
        "tool_url": run.tool_url,
        "lms_url": run.sim.url,
        "platform_id": run.platform_id,
        "client_id": DEMO_CLIENT_ID,
        "deployment_id": DEMO_DEPLOYMENT_ID,
        "course": {
            "context_id": DEMO_CONTEXT_ID,
            "title": DEMO_COURSE_TITLE,
            "modules": [{"id": module_id, "title": title,
                         "activities": [{"id": a, "label": label, "points": points,
                                         "lineitem": run.sim.lineitem_url(run.activities[a])}
                                        for a, label, points in items]}
                        for module_id, title, items in MODULES],
            "instructor": INSTRUCTOR[0],
            "learners": [sub for sub, _, _ in LEARNERS],
        },
        "links": {
            "lms": run.sim.url + "/",
            "instructor_launch": run.sim.launch_page_url(INSTRUCTOR[0], DEMO_CONTEXT_ID, resource_link_id="demo-badges"),
            "learner_launch": run.sim.launch_page_url(FEATURED_LEARNER[0], DEMO_CONTEXT_ID,
                                                      resource_link_id="demo-badges"),
            # Launches without a course, as Canvas's user navigation sends them.
            "learner_all_badges": run.sim.launch_page_url(FEATURED_LEARNER[0], None, resource_link_id="demo-me",
                                                          custom={CUSTOM_VIEW: VIEW_ALL}),
            "learner_backpack": run.sim.launch_page_url(FEATURED_LEARNER[0], None, resource_link_id="demo-me",
                                                        custom={CUSTOM_VIEW: VIEW_BACKPACK}),
        },
        "steps": [],
        "launches": [],
        "tool": {},
    }
