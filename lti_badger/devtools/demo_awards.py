"""Demo steps for the awards flow. Both demo modes seed with `SEED_STEPS` after the launches:
pull the grades the LMS already holds (AGS results), design three badges with real criteria
(two per module, one pathway stacking them), enable them (retroactive awards). The headless
scenario goes on with `AWARD_STEPS`: let a new grade arrive (an award by rule), revoke one award as the
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


def pull_grades(run: "DemoRun") -> dict[str, Any]:
    """Roster and grades of the demo course through the real LTI Advantage sync (NRPS + AGS
    results): ingesting them awards by rule whoever now qualifies."""
    from ..lti.advantage import AdvantageClient
    from ..models import Course, Platform
    from ..progress.lti_sync import sync_course

    course_id, _, _ = _ids(run)
    with transaction(run.sessions) as s:
        course = s.get(Course, course_id)
        client = AdvantageClient(s, s.get(Platform, run.platform_id), run.keys,
                                 run.app.extensions["lti_badger"].outbound)
        outcome = sync_course(s, course, client, _now(), force=True)
        return {"errors": list(outcome.errors) if outcome else []}


def step_sync_grades(run: "DemoRun") -> None:
    run.summary.setdefault("awards", {})["sync"] = pull_grades(run)


# The demo's badges as an instructor would design them: real criteria over the synced
# activities, a generated image, skills and European micro-credential details.
# (name, image colour, image text, criteria narrative)
BADGES: tuple[tuple[str, str, str, str], ...] = (
    ("Cell Explorer", "#1b6e3a", "CELL", "Finished the reading on cells and scored at least 75 % on the quiz."),
    ("Genetics Lab Pro", "#7a2e8c", "LAB", "Scored at least 80 % on the pea plant lab report."),
    ("Biology 101 Pathway", "#0a4f8f", "BIO 101", "Earned both module badges of Biology 101."),
)
def _esco(uri: str) -> dict[str, str]:
    """An ESCO concept of the shipped starter index as an alignment."""
    from ..skills.services import find_concept

    return find_concept(uri).alignment()


SKILLS = {
    "Cell Explorer": ["http://data.europa.eu/esco/skill/4fabca9a-7435-4f33-b1da-3cdb00340fdc",
                      "http://data.europa.eu/esco/skill/4707da90-9cfc-46ca-8de0-38a0b7bfb137"],
    "Genetics Lab Pro": ["http://data.europa.eu/esco/skill/08b04e53-ed25-41a2-9f90-0b9cd939ba3d",
                         "http://data.europa.eu/esco/skill/00b9a3aa-7070-4bb5-8020-f228a97cf42f"],
    "Biology 101 Pathway": ["http://data.europa.eu/esco/occupation/eee68e13-8248-43bb-a9fb-959832a6c217",
                            "http://data.europa.eu/esco/skill/60c78287-22eb-4103-9c8c-28deaa460da0"],
}
# Every European micro-credential element the designer offers; the pathway badge carries them all.
EU_ELEMENTS = {
    "participation": "online", "assessment": "testing", "supervision": "supervised online",
    "identity_checked": True, "quality_assurance": "internal", "prerequisites": "None: open to every learner",
    "further_information": "https://europa.eu/europass/en/description-eight-eqf-levels",
}
OUTCOMES = {
    "Cell Explorer": ["Names the parts of a cell and what each does"],
    "Genetics Lab Pro": ["Designs and runs an inheritance experiment", "Reports results as a lab report"],
    "Biology 101 Pathway": ["Explains cell structure and function", "Designs, runs and reports a genetics experiment"],
}
DESCRIPTIONS = {
    "Cell Explorer": "Can name the parts of a cell and explain what each does (Module 1 of Biology 101).",
    "Genetics Lab Pro": "Designed, ran and reported a pea plant inheritance experiment (Module 2 of Biology 101).",
    "Biology 101 Pathway": "Completed the Biology 101 pathway: cells and genetics, theory and lab work.",
}


def _rule(run: "DemoRun", name: str, ids: dict[str, int]) -> dict[str, Any]:
    url = lambda a: run.sim.lineitem_url(run.activities[a])  # noqa: E731
    if name == "Cell Explorer":
        return {"type": "all", "rules": [
            {"type": "activity_score", "activity": url("cells-reading"), "min_percent": 100},
            {"type": "activity_score", "activity": url("cells-quiz"), "min_percent": 75}]}
    if name == "Genetics Lab Pro":
        return {"type": "activity_score", "activity": url("genetics-lab"), "min_percent": 80}
    return {"type": "all", "rules": [{"type": "badge_earned", "achievement": ids["Cell Explorer"]},
                                     {"type": "badge_earned", "achievement": ids["Genetics Lab Pro"]}]}


def _badge_data(run: "DemoRun", name: str, colour: str, text: str, narrative: str,
                ids: dict[str, int]) -> dict[str, Any]:
    from ..credentials.images import generate_png

    image = generate_png("hexagon" if "Pathway" in name else "circle", colour, text)
    return {"name": name, "description": DESCRIPTIONS[name], "criteria_narrative": narrative,
            "rule": _rule(run, name, ids), "image": image.data, "image_type": image.media_type,
            "achievement_type": "MicroCredential" if "Pathway" in name else "Badge",
            "details": {"alignments": [_esco(uri) for uri in SKILLS[name]], "tags": ["biology", "demo"],
                        "language": "en", "eqf_level": 4, "workload_hours": 30 if "Pathway" in name else 10,
                        "credits_ects": 1 if "Pathway" in name else None, **EU_ELEMENTS,
                        "stackability": "integrated" if "Pathway" in name else "stackable",
                        "learning_outcomes": OUTCOMES[name],
                        "image_template": {"template": "hexagon" if "Pathway" in name else "circle",
                                           "colour": colour, "text": text},
                        "evidence": {"include_grades": False, "include_activities": True,
                                     "include_narrative": True}}}


def step_design_badges(run: "DemoRun") -> None:
    """Three badges as an instructor would design them, then enabled: current qualifiers earn
    them (the pathway badge stacks the two others)."""
    from ..credentials.issuer_profiles import ProfileChanges, find_profile_record, save_issuer_profile
    from ..criteria.achievements import activate, create_achievement, list_achievements

    course_id, _, instructor_id = _ids(run)
    out = run.summary.setdefault("awards", {})
    out["badges"] = {}
    ids: dict[str, int] = {}
    with transaction(run.sessions) as s:
        # The institution's issuer profile names its country (an EU micro-credential element).
        if find_profile_record(s, run.platform_id) is None:
            save_issuer_profile(s, run.platform_id, ProfileChanges(name=run.settings.issuer_name or "lti_badger",
                                                                   country="ES"), _now())
        # A demo run again on the same database and LMS port finds its course: keep its badges.
        existing = {a.current_version.name: a for a in list_achievements(s, course_id) if a.current_version}
        for name, colour, text, narrative in BADGES:
            if name in existing:
                ach = existing[name]
                ids[name] = ach.id
                out["badges"][name] = {"id": ach.id, "public_id": ach.public_id, "retroactive_awards": 0}
                continue
            data = _badge_data(run, name, colour, text, narrative, ids)
            data["details"] = {k: v for k, v in data["details"].items() if v is not None}
            ach = create_achievement(s, course_id, data, instructor_id, _now())
            ids[name] = ach.id
            activate(s, course_id, ach.id, _now())
            created = awards.on_activate(s, ach, _now(), actor=awards.Actor.user(instructor_id))
            out["badges"][name] = {"id": ach.id, "public_id": ach.public_id,
                                   "retroactive_awards": len(created)}


def step_new_grade(run: "DemoRun") -> None:
    """A new grade in the LMS gradebook: the next pull awards the badge by rule."""
    from .demo import DEMO_CONTEXT_ID

    item = run.activities["cells-quiz"]
    run.sim.grade(DEMO_CONTEXT_ID, item, "demo-learner-3", round(item.score_maximum * 0.9, 2))
    run.summary["awards"]["after_new_grade"] = pull_grades(run)


def deliver_pending(run: "DemoRun", timeout: float = 30.0) -> dict[str, int]:
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
    run.summary["awards"]["deliveries_after_awards"] = deliver_pending(run)


def step_revoke(run: "DemoRun") -> None:
    """The instructor revokes one award with a reason; the LMS gets score 0 with the reason."""
    course_id, people, instructor_id = _ids(run)
    badge = run.summary["awards"]["badges"]["Cell Explorer"]
    with transaction(run.sessions) as s:
        award = awards.find_live_award(s, badge["id"], people["demo-learner-2"])
        if award is not None:
            awards.revoke(s, course_id, award.id, instructor_id, REVOKE_REASON, _now())
    run.summary["awards"]["revoked"] = award is not None
    run.summary["awards"]["deliveries_after_revoke"] = deliver_pending(run)


SUSPEND_REASON = "demo: the lab report is being checked for plagiarism"


def step_suspend_for_review(run: "DemoRun") -> None:
    """The interactive demo's review queue is not empty: one award is suspended pending review."""
    course_id, people, instructor_id = _ids(run)
    badge = run.summary["awards"]["badges"]["Genetics Lab Pro"]
    with transaction(run.sessions) as s:
        award = awards.find_live_award(s, badge["id"], people["demo-learner-1"])
        fresh = award is not None and award.status == "active"  # not already suspended by an earlier run
        if fresh:
            awards.suspend(s, course_id, award.id, instructor_id, SUSPEND_REASON, _now(), needs_review=True)
    run.summary["awards"]["suspended_for_review"] = fresh


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


# What both demo modes seed (after the launches): grades pulled from the LMS, badges enabled.
SEED_STEPS = (
    ("sync_grades", step_sync_grades),
    ("design_badges", step_design_badges),
)
# What the headless scenario goes on with.
AWARD_STEPS = (
    ("new_grade", step_new_grade),
    ("deliver", step_deliver),
    ("revoke", step_revoke),
    ("write_outputs", step_write_outputs),
)
