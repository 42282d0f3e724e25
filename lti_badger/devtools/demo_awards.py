"""Demo steps for the awards flow, run by `lti-badger demo --headless` after the launches: pull
the grades the LMS already holds (AGS results), design two badges with real criteria, enable them
(retroactive awards), let a new grade arrive (an award by rule), revoke one award as the
instructor, wait until the LMS gradebook has every score, and write `gradebook.json` (what the
simulator's AGS received) and `audit.json` (every decision) beside `summary.json`."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from ..awards import services as awards
from ..awards.audit import export_audit
from ..db import transaction

if TYPE_CHECKING:
    from .demo import DemoRun

REVOKE_REASON = "demo: the instructor found the quiz was taken twice"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _ids(run: "DemoRun") -> tuple[int, dict[str, int], int]:
    from ..models import Course, Person
    from .demo import DEMO_CONTEXT_ID, INSTRUCTOR

    with transaction(run.sessions) as s:
        course = s.scalars(select(Course).where(Course.platform_id == run.platform_id,
                                                Course.context_id == DEMO_CONTEXT_ID)).one()
        people = dict(s.execute(select(Person.sub, Person.id).where(Person.platform_id == run.platform_id)).all())
        return course.id, people, people[INSTRUCTOR[0]]


def _sync(run: "DemoRun") -> dict[str, Any]:
    from ..lti.advantage import AdvantageClient
    from ..models import Course, Platform
    from ..progress.lti_sync import sync_course

    course_id, _, _ = _ids(run)
    with transaction(run.sessions) as s:
        course = s.get(Course, course_id)
        outcome = sync_course(s, course, AdvantageClient(s, s.get(Platform, run.platform_id), run.keys), _now(),
                              force=True)
        return {"errors": list(outcome.errors) if outcome else []}


def step_sync_grades(run: "DemoRun") -> None:
    run.summary.setdefault("awards", {})["sync"] = _sync(run)


def step_design_badges(run: "DemoRun") -> None:
    """Two badges as an instructor would write them, then enabled: current qualifiers earn them."""
    from ..criteria.achievements import activate, create_achievement

    url = lambda a: run.sim.lineitem_url(run.activities[a])  # noqa: E731
    course_id, _, instructor_id = _ids(run)
    badges = {
        "Cell Explorer": {"type": "all", "rules": [
            {"type": "activity_score", "activity": url("cells-reading"), "min_percent": 100},
            {"type": "activity_score", "activity": url("cells-quiz"), "min_percent": 75}]},
        "Genetics Lab Pro": {"type": "activity_score", "activity": url("genetics-lab"), "min_percent": 80},
    }
    out = run.summary.setdefault("awards", {})
    out["badges"] = {}
    with transaction(run.sessions) as s:
        for name, rule in badges.items():
            ach = create_achievement(s, course_id, {"name": name, "description": f"{name} (demo badge)",
                                                    "rule": rule}, instructor_id, _now())
            activate(s, course_id, ach.id, _now())
            created = awards.on_activate(s, ach, _now(), actor=awards.Actor.user(instructor_id))
            out["badges"][name] = {"id": ach.id, "public_id": ach.public_id,
                                   "retroactive_awards": len(created)}


def step_new_grade(run: "DemoRun") -> None:
    """A new grade in the LMS gradebook: the next pull awards the badge by rule."""
    from .demo import DEMO_CONTEXT_ID

    item = run.activities["cells-quiz"]
    run.sim.grade(DEMO_CONTEXT_ID, item, "demo-learner-3", round(item.score_maximum * 0.9, 2))
    run.summary["awards"]["after_new_grade"] = _sync(run)


def _deliver_all(run: "DemoRun", timeout: float = 30.0) -> dict[str, int]:
    """Wait for the worker (the in-process one, or one run here when it is off) to send everything."""
    from ..deliveries.runner import EXTENSION_KEY
    from ..deliveries.worker import Worker
    from ..models import Delivery

    own = None if run.app.extensions.get(EXTENSION_KEY) else Worker(
        run.sessions, run.settings, run.keys, poll_seconds=0.05, backoff_base=0.5)
    deadline = time.monotonic() + timeout
    while True:
        if own is not None:
            own.run_once()
        with transaction(run.sessions) as s:
            counts = dict(s.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
        if not counts.get("pending") or time.monotonic() > deadline:
            return counts
        time.sleep(0.1)


def step_deliver(run: "DemoRun") -> None:
    run.summary["awards"]["deliveries_after_awards"] = _deliver_all(run)


def step_revoke(run: "DemoRun") -> None:
    """The instructor revokes one award with a reason; the LMS gets score 0 with the reason."""
    course_id, people, instructor_id = _ids(run)
    badge = run.summary["awards"]["badges"]["Cell Explorer"]
    with transaction(run.sessions) as s:
        award = awards.find_live_award(s, badge["id"], people["demo-learner-2"])
        if award is not None:
            awards.revoke(s, course_id, award.id, instructor_id, REVOKE_REASON, _now())
    run.summary["awards"]["revoked"] = award is not None
    run.summary["awards"]["deliveries_after_revoke"] = _deliver_all(run)


def step_write_outputs(run: "DemoRun") -> None:
    """gradebook.json: what the simulator's AGS received; audit.json: every award decision."""
    from ..models import Award, Person
    from .demo import DEMO_CONTEXT_ID

    course_id, _, _ = _ids(run)
    gradebook = {"line_items": [i for i in run.sim.line_items(DEMO_CONTEXT_ID) if i.get("tag") == "lti_badger"],
                 "scores": [s for s in run.sim.scores(DEMO_CONTEXT_ID)]}
    with transaction(run.sessions) as s:
        audit = json.loads(export_audit(s, course_id=course_id))
        held = s.execute(select(Person.sub, Award.status).join(Person, Person.id == Award.person_id)
                         .where(Award.course_id == course_id).order_by(Award.id)).all()
    summary = run.summary["awards"]
    summary["awards"] = [{"learner": sub, "status": status} for sub, status in held]
    summary["scores_received"] = len(gradebook["scores"])
    summary["audit_events"] = len(audit)
    deliveries = summary.get("deliveries_after_revoke", {})
    summary["ok"] = (bool(summary.get("revoked")) and not deliveries.get("pending") and not deliveries.get("dead")
                     and any(s["scoreGiven"] == 0 for s in gradebook["scores"])
                     and sum(1 for s in gradebook["scores"] if s["scoreGiven"] == 1) >= 3)
    if run.out is not None:
        run.out.mkdir(parents=True, exist_ok=True)
        (run.out / "gradebook.json").write_text(json.dumps(gradebook, indent=2))
        (run.out / "audit.json").write_text(json.dumps(audit, indent=2))


AWARD_STEPS = (
    ("sync_grades", step_sync_grades),
    ("design_badges", step_design_badges),
    ("new_grade", step_new_grade),
    ("deliver", step_deliver),
    ("revoke", step_revoke),
    ("write_outputs", step_write_outputs),
)
