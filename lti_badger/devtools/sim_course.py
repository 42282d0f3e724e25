"""One course on the LMS simulator and in a running tool's database, seeded directly (no
launches): what the end-to-end benchmark and the deployment tests start from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, select

from ..app import build_services
from ..criteria.achievements import activate, create_achievement
from ..db import transaction
from ..lti.platforms import add_platform
from ..models import Course, Enrollment, Person
from ..progress.sources import add_source
from ..settings import Settings
from .lms_sim import LmsSimulator
from .lms_sim.spec import ROLE_LEARNER


@dataclass(frozen=True)
class SimCourse:
    context_id: str
    achievement_id: int
    person_ids: dict[str, int]
    xapi_auth: tuple[str, str]


def seed_sim_course(settings: Settings, sim: LmsSimulator, tool_url: str, context_id: str, subs: list[str],
                    rule: dict[str, Any]) -> SimCourse:
    """The simulator registered at `tool_url`; a course whose one active badge `rule` earns
    (written to a badge column); the learners `subs` enrolled on both sides; an xAPI source."""
    services = build_services(settings)
    sim.register_tool(tool_url)
    sim.add_course(context_id, "Chemistry 101")
    for sub in subs:
        sim.add_user(sub, f"Learner {sub}", f"{sub}@example.edu")
        sim.enroll(context_id, sub, [ROLE_LEARNER])
    now = datetime.now(timezone.utc)
    with transaction(services.sessions) as s:
        platform = add_platform(s, issuer=sim.issuer, client_id="lti-badger-sim", auth_login_url=sim.auth_url,
                                auth_token_url=sim.token_url, key_set_url=sim.jwks_url, deployment_ids=("d1",),
                                name="Simulator")
        course = Course(platform_id=platform.id, context_id=context_id, title="Chemistry 101",
                        ags_lineitems_url=sim.lineitems_url(context_id), gradebook_mode="columns")
        s.add(course)
        s.flush()
        s.execute(insert(Person), [{"platform_id": platform.id, "sub": sub, "name": f"Learner {sub}",
                                    "created_at": now} for sub in subs])
        ids = dict(s.execute(select(Person.sub, Person.id).where(Person.platform_id == platform.id)).all())
        s.execute(insert(Enrollment), [{"course_id": course.id, "person_id": ids[sub], "role": "learner",
                                        "status": "active"} for sub in subs])
        achievement = create_achievement(s, course.id, {"name": "Lab Safety", "description": "Knows the lab rules.",
                                                        "rule": rule}, None, now)
        activate(s, course.id, achievement.id, now)
        source = add_source(s, platform.id, "xapi", now=now)
        seeded = SimCourse(context_id, achievement.id, ids, (source.key, source.secret))
    services.engine.dispose()
    return seeded
