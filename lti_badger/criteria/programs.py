"""Programs: badges of a registration (not of a course) earned by holding badges of its courses.

A program is an Achievement of the registration's *program home*, a course row the tool makes
for itself (its `context_id` is `PROGRAM_HOME_CONTEXT`, no LMS launches it), so that awards,
credentials, status lists, versions and public pages stay the ones course badges use, and the
credential is issued under the registration's issuer profile. Its rule is not a course rule:

    {"type": "program", "badges": [achievement ids of courses of the registration],
     "min": N (default: all), "within_days": D (optional: N of them earned within D days)}

A program can only require course badges, never another program, so no cycle can form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_badger.errors import BadInput, NotFound
from lti_badger.models import Achievement, AchievementVersion, Award, Course, Person
from lti_badger.models.achievement import STATE_ACTIVE, STATE_ARCHIVED
from lti_badger.models.award import AWARD_ACTIVE, AWARD_SUSPENDED
from lti_badger.models.course import GRADEBOOK_NONE, PROGRAM_HOME_CONTEXT

from .achievements import _clean_versioned, _new_version

PROGRAM_RULE = "program"
PROGRAM_FIELDS = ("name", "description", "criteria_narrative", "achievement_type", "details", "validity_days")
MAX_BADGES = 100
MAX_WINDOW_DAYS = 36500


@dataclass(frozen=True)
class Requirement:
    """One course badge a program asks for, with the names a person recognises it by."""

    achievement_id: int
    badge: str
    course: str
    award: Award | None = None


@dataclass(frozen=True)
class ProgramProgress:
    program: Achievement
    requirements: tuple[Requirement, ...]
    needed: int
    within_days: int | None
    met: bool
    held: Award | None = None

    @property
    def done(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.award is not None)

    @property
    def left(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.award is None)


def is_program_rule(rule: Mapping[str, Any] | None) -> bool:
    return bool(rule) and rule.get("type") == PROGRAM_RULE


def program_home(session: Session, platform_id: int, now: datetime) -> Course:
    """The registration's program home, made on first use (no gradebook: it is no LMS course)."""
    home = find_program_home(session, platform_id)
    if home is None:
        home = Course(platform_id=platform_id, context_id=PROGRAM_HOME_CONTEXT, title="Programs",
                      gradebook_mode=GRADEBOOK_NONE, created_at=now, updated_at=now)
        session.add(home)
        session.flush()
    return home


def find_program_home(session: Session, platform_id: int) -> Course | None:
    return session.scalar(select(Course).where(Course.platform_id == platform_id,
                                               Course.context_id == PROGRAM_HOME_CONTEXT))


def course_badges(session: Session, platform_id: int) -> list[tuple[Course, Achievement, AchievementVersion]]:
    """Every non-archived badge of every course of the registration the tool knows, by course
    and badge name: what a program may require."""
    return list(session.execute(
        select(Course, Achievement, AchievementVersion)
        .join(Achievement, Achievement.course_id == Course.id)
        .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
        .where(Course.platform_id == platform_id, Course.context_id != PROGRAM_HOME_CONTEXT,
               Achievement.state != STATE_ARCHIVED)
        .order_by(Course.title, Course.id, AchievementVersion.name, Achievement.id)).all())


def validate_program_rule(session: Session, platform_id: int, rule: Any) -> dict[str, Any]:
    """The rule in canonical form, or BadInput naming the field: only badges of courses of this
    registration (never a program, so no cycle), a count between 1 and their number, a window
    in whole days."""
    if not isinstance(rule, Mapping) or rule.get("type") != PROGRAM_RULE:
        raise BadInput("a program rule must be an object of type 'program'", detail={"field": "rule"})
    unknown = sorted(set(rule) - {"type", "badges", "min", "within_days"})
    if unknown:
        raise BadInput(f"unknown fields in the program rule: {', '.join(unknown)}", detail={"field": "rule"})
    badges = rule.get("badges")
    if (not isinstance(badges, list) or not badges or len(badges) > MAX_BADGES
            or not all(isinstance(b, int) and not isinstance(b, bool) for b in badges)):
        raise BadInput(f"choose between 1 and {MAX_BADGES} course badges", detail={"field": "badges"})
    if len(set(badges)) != len(badges):
        raise BadInput("a course badge is listed twice", detail={"field": "badges"})
    known = {a.id for _, a, _ in course_badges(session, platform_id)}
    foreign = sorted(set(badges) - known)
    if foreign:
        programs = set(session.scalars(select(Achievement.id).join(Course, Course.id == Achievement.course_id).where(
            Achievement.id.in_(foreign), Course.platform_id == platform_id, Course.context_id == PROGRAM_HOME_CONTEXT)))
        if programs:
            raise BadInput("a program cannot require another program (it could form a cycle)",
                           detail={"field": "badges", "achievements": sorted(programs)})
        raise BadInput(f"not a badge of a course of this registration: {', '.join(map(str, foreign))}",
                       detail={"field": "badges", "achievements": foreign})
    needed = rule.get("min", len(badges))
    if isinstance(needed, bool) or not isinstance(needed, int) or not 1 <= needed <= len(badges):
        raise BadInput(f"the number of badges needed must be between 1 and {len(badges)}", detail={"field": "min"})
    out: dict[str, Any] = {"type": PROGRAM_RULE, "badges": sorted(badges), "min": needed}
    within = rule.get("within_days")
    if within is not None:
        if isinstance(within, bool) or not isinstance(within, int) or not 1 <= within <= MAX_WINDOW_DAYS:
            raise BadInput(f"'within' must be a whole number of days between 1 and {MAX_WINDOW_DAYS}",
                           detail={"field": "within_days"})
        out["within_days"] = within
    return out


def _values(session: Session, platform_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise BadInput("program data must be an object")
    unknown = sorted(set(data) - set(PROGRAM_FIELDS) - {"rule"})
    if unknown:
        raise BadInput(f"unknown fields: {', '.join(unknown)}", detail={"fields": unknown})
    values = _clean_versioned({f: data.get(f) for f in PROGRAM_FIELDS if f in data})
    values["rule"] = validate_program_rule(session, platform_id, data.get("rule"))
    return values


def create_program(session: Session, platform_id: int, data: Mapping[str, Any], created_by: int | None,
                   now: datetime) -> Achievement:
    """A new draft program with its first version; every field is checked before anything is written."""
    values = _values(session, platform_id, data)
    home = program_home(session, platform_id, now)
    program = Achievement(course_id=home.id, created_at=now, updated_at=now)
    session.add(program)
    session.flush()
    _new_version(session, program, 1, values, created_by, now)
    return program


def update_program(session: Session, platform_id: int, program_id: int, data: Mapping[str, Any],
                   updated_by: int | None, now: datetime) -> AchievementVersion:
    """A new version when anything it certifies changed (earlier awards keep theirs)."""
    program = get_program(session, platform_id, program_id)
    values = _values(session, platform_id, data)
    current = program.current_version
    if all(getattr(current, f) == v for f, v in values.items()):
        return current
    number = max(v.number for v in program.versions) + 1
    version = _new_version(session, program, number, values, updated_by, now)
    program.updated_at = now
    return version


def get_program(session: Session, platform_id: int, program_id: int) -> Achievement:
    """The program if it belongs to this registration; NotFound otherwise (even if it exists elsewhere)."""
    program = session.scalar(select(Achievement).join(Course, Course.id == Achievement.course_id).where(
        Achievement.id == program_id, Course.platform_id == platform_id, Course.context_id == PROGRAM_HOME_CONTEXT))
    if program is None:
        raise NotFound("no such program in this registration")
    return program


def list_programs(session: Session, platform_id: int, *, active_only: bool = False) -> list[Achievement]:
    stmt = (select(Achievement).join(Course, Course.id == Achievement.course_id)
            .where(Course.platform_id == platform_id, Course.context_id == PROGRAM_HOME_CONTEXT))
    if active_only:
        stmt = stmt.where(Achievement.state == STATE_ACTIVE)
    return list(session.scalars(stmt.order_by(Achievement.created_at, Achievement.id)))


def set_program_state(session: Session, platform_id: int, program_id: int, state: str, now: datetime) -> Achievement:
    program = get_program(session, platform_id, program_id)
    program.state, program.updated_at = state, now
    session.flush()
    return program


def dependent_programs(session: Session, platform_id: int, achievement_id: int, *,
                       active_only: bool = True) -> list[Achievement]:
    """Programs of the registration (active ones, or any not archived) whose current rule asks
    for this course badge."""
    return [p for p in list_programs(session, platform_id, active_only=active_only)
            if p.state != STATE_ARCHIVED and p.current_version is not None
            and achievement_id in p.current_version.rule.get("badges", ())]


def window_met(times: list[datetime], needed: int, within_days: int | None) -> bool:
    """`needed` of these moments, and, with a window, `needed` of them inside `within_days` days."""
    if len(times) < needed:
        return False
    if within_days is None:
        return True
    ordered = sorted(times)
    span = timedelta(days=within_days)
    return any(ordered[i + needed - 1] - ordered[i] <= span for i in range(len(ordered) - needed + 1))


def program_progress(session: Session, program: Achievement, person_id: int) -> ProgramProgress:
    """What the learner holds of the program's current rule, in which course, and whether it is met."""
    rule = program.current_version.rule
    names = {a.id: (v.name, c.title or c.context_id) for c, a, v in session.execute(
        select(Course, Achievement, AchievementVersion)
        .join(Achievement, Achievement.course_id == Course.id)
        .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
        .where(Achievement.id.in_(rule["badges"])))}
    live = {a.achievement_id: a for a in session.scalars(select(Award).where(
        Award.person_id == person_id, Award.achievement_id.in_(rule["badges"] + [program.id]),
        Award.status.in_((AWARD_ACTIVE, AWARD_SUSPENDED))))}
    # A suspended course badge does not count until it is reinstated.
    active = {aid: a for aid, a in live.items() if a.status == AWARD_ACTIVE}
    requirements = tuple(Requirement(aid, *names.get(aid, ("?", "?")), award=active.get(aid))
                         for aid in rule["badges"])
    needed, within = rule["min"], rule.get("within_days")
    met = window_met([r.award.awarded_at for r in requirements if r.award is not None], needed, within)
    return ProgramProgress(program, requirements, needed, within, met, live.get(program.id))


def learner_programs(session: Session, platform_id: int, person_id: int) -> list[ProgramProgress]:
    """The active programs a learner is part of: they hold one of its badges, or the program itself."""
    out = []
    for program in list_programs(session, platform_id, active_only=True):
        progress = program_progress(session, program, person_id)
        if progress.held is not None or progress.done:
            out.append(progress)
    return out


def program_evidence(progress: ProgramProgress, credential_urls: Mapping[int, str]) -> dict[str, Any]:
    """The award evidence of a program: the rule's hash and the course credentials it rests on."""
    version = progress.program.current_version
    return {"version": version.number, "rule_hash": version.rule_hash, "program": True,
            "rests_on": [{"badge": r.badge, "course": r.course, "credential": credential_urls.get(r.award.id),
                          "awarded_at": r.award.awarded_at.isoformat()} for r in progress.done]}


def flagged_awards(session: Session, program: Achievement) -> list[Award]:
    """Live awards of the program waiting for the admin's review (a course badge was revoked)."""
    return list(session.scalars(select(Award).where(
        Award.achievement_id == program.id, Award.needs_review.is_(True),
        Award.status.in_((AWARD_ACTIVE, AWARD_SUSPENDED))).order_by(Award.id)))


@dataclass(frozen=True)
class ProgramPreview:
    """Who across the registration meets the program's current rule now, and who is one
    course badge away from it (names, for the admin)."""

    meets: tuple[str, ...]
    one_away: tuple[str, ...]


def preview_program(session: Session, program: Achievement) -> ProgramPreview:
    holders = session.scalars(select(Person).join(Award, Award.person_id == Person.id).where(
        Award.achievement_id.in_(program.current_version.rule["badges"]), Award.status == AWARD_ACTIVE)
        .distinct().order_by(Person.name, Person.id)).all()
    meets, one_away = [], []
    for person in holders:
        progress = program_progress(session, program, person.id)
        if progress.met:
            meets.append(person.name or person.sub)
        elif len(progress.done) == progress.needed - 1:
            one_away.append(person.name or person.sub)
    return ProgramPreview(tuple(meets), tuple(one_away))
