"""Programs: badges of a registration (not of a course) earned across its courses.

A program is an Achievement of the registration's *program home*, a course row the tool makes
for itself (its `context_id` is `PROGRAM_HOME_CONTEXT`, no LMS launches it), so that awards,
credentials, status lists, versions and public pages stay the ones course badges use, and the
credential is issued under the registration's issuer profile. Its rule is not a course rule:

    {"type": "program", "requirements": [piece, ...], "min": N (default: all),
     "within_days": D (optional: the N pieces done within D days),
     "ordered": true (optional: the N pieces done in the order listed)}

where a piece is one of
    {"kind": "badge", "achievement": id}            a badge of a course of the registration
    {"kind": "grade", "course": id, "min_percent": P} the course grade reaches P %
    {"kind": "completion", "course": id}             the LMS reports the course completed (or,
                                                     without that, every required activity is)
    {"kind": "activity", "course": id, "rule": {...}} any course rule, read in that course
    {"kind": "program", "program": id}               another program of the registration
                                                     (never one that requires this one: cycles
                                                     are refused)

The first form, `{"type": "program", "badges": [ids], "min": N, "within_days": D}`, stays
valid and canonical for badge-only programs (its rule hash is unchanged).

A piece is done at a moment (the award, or the latest progress the course rule read), which
`ordered` and `within_days` compare. Evaluation is a pure function of those moments
(`decide`), fed one learner at a time (`program_progress`) or in bulk (`evaluate_programs`,
for previews and activation).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from lti_badger.errors import BadInput, NotFound
from lti_badger.models import Achievement, AchievementVersion, Activity, Award, Course, Enrollment, Module, Person
from lti_badger.models.achievement import STATE_ACTIVE, STATE_ARCHIVED
from lti_badger.models.award import AWARD_ACTIVE, AWARD_SUSPENDED
from lti_badger.models.course import GRADEBOOK_NONE, PROGRAM_HOME_CONTEXT

from .achievements import REGRESSION_POLICIES, _clean_versioned, _new_version
from .evaluate import AGGREGATE_KINDS, KIND_COURSE_COMPLETION, CourseStructure, Explanation, evaluate
from .rules import References, _path_to, canonical_json, references, validate_rule
from .snapshots import load_snapshots, load_structure

PROGRAM_RULE = "program"
PROGRAM_FIELDS = ("name", "description", "criteria_narrative", "achievement_type", "details", "validity_days")
KIND_BADGE, KIND_GRADE, KIND_COMPLETION, KIND_ACTIVITY, KIND_PROGRAM = (
    "badge", "grade", "completion", "activity", "program")
COURSE_KINDS = frozenset({KIND_GRADE, KIND_COMPLETION, KIND_ACTIVITY})
PIECE_FIELDS = {KIND_BADGE: {"achievement"}, KIND_PROGRAM: {"program"}, KIND_GRADE: {"course", "min_percent"},
                KIND_COMPLETION: {"course"}, KIND_ACTIVITY: {"course", "rule"}}
MAX_BADGES = 100
MAX_WINDOW_DAYS = 36500
_CHUNK = 5000


@dataclass(frozen=True)
class Requirement:
    """One piece of a program, named as a person recognises it (the badge or program, or what
    is asked in which course) and, for one learner, when it was done."""

    kind: str
    name: str  # the badge's or program's name; the rule's label for an activity piece
    course: str  # the course's name ("" for a program)
    achievement_id: int | None = None
    min_percent: float | None = None
    award_id: int | None = None  # the live award it rests on (badge and program pieces)
    done_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.done_at is not None

    def describe(self) -> str:
        """Plain English for evidence (the pages translate by kind)."""
        where = f" in {self.course}" if self.course else ""
        if self.kind == KIND_GRADE:
            return f"final grade of at least {self.min_percent:g} %{where}"
        if self.kind == KIND_COMPLETION:
            return f"completion of {self.course}"
        return f"{self.name or 'course rule'}{where}"


@dataclass(frozen=True)
class ProgramProgress:
    program: Achievement
    requirements: tuple[Requirement, ...]
    needed: int
    within_days: int | None
    met: bool
    held: Award | None = None
    ordered: bool = False

    @property
    def done(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.done)

    @property
    def left(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if not r.done)

    @property
    def badges_only(self) -> bool:
        return all(r.kind == KIND_BADGE for r in self.requirements)


def is_program_rule(rule: Mapping[str, Any] | None) -> bool:
    return bool(rule) and rule.get("type") == PROGRAM_RULE


def pieces_of(rule: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rule's pieces in order (the first form's badges become badge pieces)."""
    if "requirements" in rule:
        return list(rule["requirements"])
    return [{"kind": KIND_BADGE, "achievement": a} for a in rule.get("badges", ())]


def required_awards(rule: Mapping[str, Any]) -> set[int]:
    """Achievement ids (course badges and programs) whose award the rule reads."""
    return {p.get("achievement", p.get("program")) for p in pieces_of(rule) if p["kind"] in (KIND_BADGE, KIND_PROGRAM)}


def required_courses(rule: Mapping[str, Any]) -> set[int]:
    """Courses whose progress the rule reads."""
    return {p["course"] for p in pieces_of(rule) if p["kind"] in COURSE_KINDS}


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


def known_courses(session: Session, platform_id: int) -> list[Course]:
    """The courses of the registration the tool knows (launched or synced), by name."""
    return list(session.scalars(select(Course).where(
        Course.platform_id == platform_id, Course.context_id != PROGRAM_HOME_CONTEXT)
        .order_by(Course.title, Course.context_id, Course.id)))


# --- validation -------------------------------------------------------------------------------

def _reject(message: str, field: str = "requirements", **detail: Any) -> BadInput:
    return BadInput(message, detail={"field": field, **detail})


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_course_rule(session: Session, course: Course, rule: Any, index: int) -> dict[str, Any]:
    """A course rule read in `course`: well formed, and naming only that course's activities,
    modules and badges."""
    badges = set(session.scalars(select(Achievement.id).where(Achievement.course_id == course.id)))
    try:
        validate_rule(rule, known_achievements=badges)
    except BadInput as err:
        raise _reject(f"piece {index + 1} ({course.title or course.context_id}): {err.message}",
                      index=index, pointer=(err.detail or {}).get("pointer")) from err
    refs = references(rule)
    for model, wanted, what in ((Activity, refs.activities, "activity"), (Module, refs.modules, "module")):
        known = set(session.scalars(select(model.lms_id).where(model.course_id == course.id))) if wanted else set()
        missing = sorted(wanted - known)
        if missing:
            raise _reject(f"piece {index + 1}: no {what} {', '.join(missing)} in "
                          f"{course.title or course.context_id}", index=index)
    return rule


def _check_piece(session: Session, platform_id: int, piece: Any, index: int, courses: Mapping[int, Course],
                 badges: Collection[int], programs: Collection[int]) -> dict[str, Any]:
    if not isinstance(piece, Mapping) or piece.get("kind") not in PIECE_FIELDS:
        raise _reject(f"piece {index + 1}: 'kind' must be one of {', '.join(PIECE_FIELDS)}", index=index)
    kind = piece["kind"]
    extra = sorted(set(piece) - PIECE_FIELDS[kind] - {"kind"})
    missing = sorted(PIECE_FIELDS[kind] - set(piece))
    if extra or missing:
        raise _reject(f"piece {index + 1} ({kind}): " + "; ".join(
            ([f"unknown fields {', '.join(extra)}"] if extra else []) + ([f"missing {', '.join(missing)}"] if missing
                                                                         else [])), index=index)
    if kind == KIND_BADGE:
        target = piece["achievement"]
        if not _whole(target) or target not in badges:
            raise _reject(f"not a badge of a course of this registration: {target}", index=index,
                          achievements=[target])
        return {"kind": kind, "achievement": target}
    if kind == KIND_PROGRAM:
        target = piece["program"]
        if not _whole(target) or target not in programs:
            raise _reject(f"not a program of this registration: {target}", index=index)
        return {"kind": kind, "program": target}
    course = courses.get(piece["course"]) if _whole(piece["course"]) else None
    if course is None:
        raise _reject(f"not a course of this registration: {piece['course']}", index=index)
    out: dict[str, Any] = {"kind": kind, "course": course.id}
    if kind == KIND_GRADE:
        pct = piece["min_percent"]
        if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 < pct <= 100:
            raise _reject(f"piece {index + 1}: the grade must be a percentage above 0 and at most 100",
                          "min_percent", index=index)
        out["min_percent"] = pct
    elif kind == KIND_ACTIVITY:
        out["rule"] = _check_course_rule(session, course, piece["rule"], index)
    return out


def program_graph(session: Session, platform_id: int) -> dict[int, set[int]]:
    """program id -> the programs its current rule requires."""
    return {p.id: {x["program"] for x in pieces_of(p.current_version.rule) if x["kind"] == KIND_PROGRAM}
            for p in list_programs(session, platform_id) if p.current_version is not None}


def _check_cycles(session: Session, platform_id: int, program_id: int | None, required: Iterable[int]) -> None:
    """A program may require programs, never one that requires it back (directly or not)."""
    graph = program_graph(session, platform_id)
    names = {p.id: p.current_version.name for p in list_programs(session, platform_id)}
    for target in required:
        if target == program_id:
            raise _reject("a program cannot require itself", programs=[target])
        chain = _path_to(graph, target, program_id) if program_id is not None else None
        if chain is not None:
            cycle = " → ".join(names.get(p, str(p)) for p in [program_id, *chain])
            raise _reject(f"cycle through program prerequisites: {cycle}", programs=[program_id, *chain])


def validate_program_rule(session: Session, platform_id: int, rule: Any, *,
                          program_id: int | None = None) -> dict[str, Any]:
    """The rule in canonical form, or BadInput naming the field: only courses, badges and
    programs of this registration, no cycle through programs, a count between 1 and the
    number of pieces, a window in whole days."""
    if not isinstance(rule, Mapping) or rule.get("type") != PROGRAM_RULE:
        raise BadInput("a program rule must be an object of type 'program'", detail={"field": "rule"})
    unknown = sorted(set(rule) - {"type", "badges", "requirements", "min", "within_days", "ordered"})
    if unknown:
        raise BadInput(f"unknown fields in the program rule: {', '.join(unknown)}", detail={"field": "rule"})
    if ("badges" in rule) == ("requirements" in rule):
        raise BadInput("give either 'badges' or 'requirements'", detail={"field": "requirements"})
    legacy = "badges" in rule
    raw = rule.get("badges") if legacy else rule.get("requirements")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_BADGES:
        raise BadInput(f"choose between 1 and {MAX_BADGES} course badges or pieces",
                       detail={"field": "badges" if legacy else "requirements"})
    if legacy:
        if not all(_whole(b) for b in raw):
            raise BadInput("course badges are given by their ids", detail={"field": "badges"})
        raw = [{"kind": KIND_BADGE, "achievement": b} for b in raw]
    courses = {c.id: c for c in known_courses(session, platform_id)}
    badges = {a.id for _, a, _ in course_badges(session, platform_id)}
    programs = {p.id for p in list_programs(session, platform_id) if p.state != STATE_ARCHIVED}
    pieces = [_check_piece(session, platform_id, p, i, courses, badges, programs) for i, p in enumerate(raw)]
    keys = [canonical_json(p) for p in pieces]
    if len(set(keys)) != len(keys):
        raise BadInput("a piece is listed twice", detail={"field": "badges" if legacy else "requirements"})
    _check_cycles(session, platform_id, program_id, [p["program"] for p in pieces if p["kind"] == KIND_PROGRAM])
    needed = rule.get("min", len(pieces))
    if not _whole(needed) or not 1 <= needed <= len(pieces):
        raise BadInput(f"the number of badges needed must be between 1 and {len(pieces)}", detail={"field": "min"})
    ordered = rule.get("ordered", False)
    if not isinstance(ordered, bool):
        raise BadInput("'ordered' is true or false", detail={"field": "ordered"})
    out: dict[str, Any] = {"type": PROGRAM_RULE}
    if legacy and not ordered:
        out["badges"] = sorted(p["achievement"] for p in pieces)
    else:
        out["requirements"] = pieces
    out["min"] = needed
    within = rule.get("within_days")
    if within is not None:
        if not _whole(within) or not 1 <= within <= MAX_WINDOW_DAYS:
            raise BadInput(f"'within' must be a whole number of days between 1 and {MAX_WINDOW_DAYS}",
                           detail={"field": "within_days"})
        out["within_days"] = within
    if ordered:
        out["ordered"] = True
    return out


def _values(session: Session, platform_id: int, data: Mapping[str, Any],
            program_id: int | None = None) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise BadInput("program data must be an object")
    unknown = sorted(set(data) - set(PROGRAM_FIELDS) - {"rule", "regression_policy"})
    if unknown:
        raise BadInput(f"unknown fields: {', '.join(unknown)}", detail={"fields": unknown})
    if data.get("regression_policy", "none") not in REGRESSION_POLICIES:
        raise BadInput(f"regression_policy must be one of {', '.join(REGRESSION_POLICIES)}",
                       detail={"field": "regression_policy"})
    values = _clean_versioned({f: data.get(f) for f in PROGRAM_FIELDS if f in data})
    values["rule"] = validate_program_rule(session, platform_id, data.get("rule"), program_id=program_id)
    return values


def create_program(session: Session, platform_id: int, data: Mapping[str, Any], created_by: int | None,
                   now: datetime) -> Achievement:
    """A new draft program with its first version; every field is checked before anything is written."""
    values = _values(session, platform_id, data)
    home = program_home(session, platform_id, now)
    program = Achievement(course_id=home.id, created_at=now, updated_at=now,
                          regression_policy=data.get("regression_policy") or "none")
    session.add(program)
    session.flush()
    _new_version(session, program, 1, values, created_by, now)
    return program


def update_program(session: Session, platform_id: int, program_id: int, data: Mapping[str, Any],
                   updated_by: int | None, now: datetime) -> AchievementVersion:
    """A new version when anything it certifies changed (earlier awards keep theirs)."""
    program = get_program(session, platform_id, program_id)
    values = _values(session, platform_id, data, program_id)
    program.regression_policy = data.get("regression_policy") or program.regression_policy
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


# Built once: every evaluation of new progress asks for the registration's programs (issue 17).
_PROGRAMS = (select(Achievement).join(Course, Course.id == Achievement.course_id)
             .where(Course.platform_id == bindparam("platform_id"), Course.context_id == PROGRAM_HOME_CONTEXT)
             .order_by(Achievement.created_at, Achievement.id))
_ACTIVE_PROGRAMS = _PROGRAMS.where(Achievement.state == STATE_ACTIVE)


def list_programs(session: Session, platform_id: int, *, active_only: bool = False) -> list[Achievement]:
    return list(session.scalars(_ACTIVE_PROGRAMS if active_only else _PROGRAMS, {"platform_id": platform_id}))


def set_program_state(session: Session, platform_id: int, program_id: int, state: str, now: datetime) -> Achievement:
    program = get_program(session, platform_id, program_id)
    program.state, program.updated_at = state, now
    session.flush()
    return program


def dependent_programs(session: Session, platform_id: int, achievement_id: int, *,
                       active_only: bool = True) -> list[Achievement]:
    """Programs of the registration (active ones, or any not archived) whose current rule asks
    for this course badge or program."""
    return [p for p in list_programs(session, platform_id, active_only=active_only)
            if p.state != STATE_ARCHIVED and p.current_version is not None
            and achievement_id in required_awards(p.current_version.rule)]


def course_programs(session: Session, platform_id: int, course_id: int, *,
                    active_only: bool = True) -> list[Achievement]:
    """Programs whose current rule reads progress of this course (grade, completion, activity)."""
    return [p for p in list_programs(session, platform_id, active_only=active_only)
            if p.state != STATE_ARCHIVED and p.current_version is not None
            and course_id in required_courses(p.current_version.rule)]


# --- evaluation -------------------------------------------------------------------------------

def window_met(times: list[datetime], needed: int, within_days: int | None) -> bool:
    """`needed` of these moments, and, with a window, `needed` of them inside `within_days` days."""
    if len(times) < needed:
        return False
    if within_days is None:
        return True
    ordered = sorted(times)
    span = timedelta(days=within_days)
    return any(ordered[i + needed - 1] - ordered[i] <= span for i in range(len(ordered) - needed + 1))


def decide(moments: list[datetime | None], needed: int, within_days: int | None, ordered: bool) -> bool:
    """Whether the pieces done (their moments, in the rule's order; None: not done) meet the
    rule: `needed` of them, within the window, and, when ordered, done in the order listed."""
    done = [t for t in moments if t is not None]
    if not ordered or len(done) < needed:
        return window_met(done, needed, within_days)
    span = timedelta(days=within_days) if within_days is not None else None
    for start, first in enumerate(done[:len(done) - needed + 1]):
        # The longest run in list order whose moments never go back, starting at `first`.
        tails: list[datetime] = []
        for t in done[start:]:
            if t < first or (span is not None and t - first > span):
                continue
            k = bisect_right(tails, t)
            tails[k:k + 1] = [t]
        if len(tails) >= needed:
            return True
    return False


def _moment(exp: Explanation) -> datetime | None:
    """When a met course rule was met: the latest progress it read."""
    times = [t for t in (exp.as_of, *(_moment(c) for c in exp.children)) if t is not None]
    return max(times) if times else None


def course_rule(piece: Mapping[str, Any], structure: CourseStructure) -> dict[str, Any] | None:
    """The course rule a course piece stands for (None: the course cannot tell completion)."""
    if piece["kind"] == KIND_GRADE:
        return {"type": "course_grade", "min_percent": piece["min_percent"]}
    if piece["kind"] == KIND_ACTIVITY:
        return piece["rule"]
    lms = [a.lms_id for a in structure.activities.values() if a.kind == KIND_COURSE_COMPLETION]
    if lms:
        return {"type": "activity_completed", "activity": lms[0]}
    required = sorted(a.lms_id for a in structure.activities.values()
                      if a.completion_required and a.kind not in AGGREGATE_KINDS)
    if not required:
        return None
    return {"type": "all", "rules": [{"type": "activity_completed", "activity": a} for a in required]}


def _chunks(values: Collection[int]) -> Iterable[list[int]]:
    items = sorted(values)
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def _award_moments(session: Session, achievement_ids: Collection[int],
                   person_ids: Collection[int] | None) -> dict[tuple[int, int], tuple[int, datetime]]:
    """(person, achievement) -> (award id, awarded at) of active awards."""
    if not achievement_ids:
        return {}
    stmt = select(Award.person_id, Award.achievement_id, Award.id, Award.awarded_at).where(
        Award.achievement_id.in_(sorted(achievement_ids)), Award.status == AWARD_ACTIVE)
    rows = (session.execute(stmt).all() if person_ids is None else
            [r for chunk in _chunks(person_ids) for r in session.execute(stmt.where(Award.person_id.in_(chunk)))])
    return {(pid, aid): (award_id, at) for pid, aid, award_id, at in rows}


def _course_moments(session: Session, course_id: int, pieces: list[tuple[str, dict[str, Any]]],
                    person_ids: Collection[int] | None, now: datetime) -> dict[tuple[int, str], datetime]:
    """(person, piece key) -> when the learner met that piece of this course, for learners
    enrolled in it (any status: a course finished long ago still counts)."""
    stmt = select(Enrollment.person_id, Enrollment.enrolled_at).where(Enrollment.course_id == course_id)
    enrolments = (dict(session.execute(stmt).all()) if person_ids is None else
                  {p: e for chunk in _chunks(person_ids) for p, e in session.execute(
                      stmt.where(Enrollment.person_id.in_(chunk))).all()})
    if not enrolments:
        return {}
    structure = load_structure(session, course_id)
    rules = [(i, r) for i, p in pieces if (r := course_rule(p, structure)) is not None]
    if not rules:
        return {}
    refs = [references(r) for _, r in rules]
    merged = References(
        activities=frozenset().union(*(r.activities for r in refs)),
        modules=frozenset().union(*(r.modules for r in refs)),
        achievements=frozenset().union(*(r.achievements for r in refs)),
        course_grade=any(r.course_grade for r in refs),
        course_grade_windowed=any(r.course_grade_windowed for r in refs))
    snapshots = load_snapshots(session, course_id, enrolments, structure=structure, refs=merged,
                               badge_ids=merged.achievements)
    out: dict[tuple[int, str], datetime] = {}
    for pid, snap in snapshots.items():
        for key, rule in rules:
            decision = evaluate(rule, snap, now)
            if decision.met:
                out[pid, key] = _moment(decision.explanation) or now
    return out


@dataclass(frozen=True)
class _Facts:
    """What a program's pieces need for a set of learners (loaded once, read per learner)."""

    awards: dict[tuple[int, int], tuple[int, datetime]]
    courses: dict[tuple[int, str], datetime]


def _piece_keys(rule: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Per piece, where its moment is found: ("course", piece key) or ("award", achievement id)."""
    return [("course", canonical_json(p)) if p["kind"] in COURSE_KINDS
            else ("award", p.get("achievement", p.get("program"))) for p in pieces_of(rule)]


def _load_facts(session: Session, rules: Iterable[Mapping[str, Any]], person_ids: Collection[int] | None,
                now: datetime) -> _Facts:
    """The facts of every piece of these rules: a piece several programs share is read once."""
    by_course: dict[int, dict[str, dict[str, Any]]] = {}
    achievements: set[int] = set()
    for rule in rules:
        achievements |= required_awards(rule)
        for p in pieces_of(rule):
            if p["kind"] in COURSE_KINDS:
                by_course.setdefault(p["course"], {})[canonical_json(p)] = p
    courses: dict[tuple[int, str], datetime] = {}
    for course_id, mine in sorted(by_course.items()):
        courses.update(_course_moments(session, course_id, list(mine.items()), person_ids, now))
    return _Facts(_award_moments(session, achievements, person_ids), courses)


def _piece_moments(keys: list[tuple[str, Any]], facts: _Facts,
                   person_id: int) -> list[tuple[int | None, datetime | None]]:
    return [(None, facts.courses.get((person_id, key))) if where == "course"
            else facts.awards.get((person_id, key), (None, None)) for where, key in keys]


def _names(session: Session, rule: Mapping[str, Any]) -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    """achievement id -> (name, course name) and course id -> name, for the rule's pieces."""
    achievements = {a.id: (v.name, "" if c.context_id == PROGRAM_HOME_CONTEXT else c.title or c.context_id)
                    for c, a, v in session.execute(
                        select(Course, Achievement, AchievementVersion)
                        .join(Achievement, Achievement.course_id == Course.id)
                        .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
                        .where(Achievement.id.in_(sorted(required_awards(rule)))))}
    courses = {c.id: c.title or c.context_id for c in session.scalars(
        select(Course).where(Course.id.in_(sorted(required_courses(rule)))))}
    return achievements, courses


def _requirements(rule: Mapping[str, Any], names: tuple[dict[int, tuple[str, str]], dict[int, str]],
                  moments: list[tuple[int | None, datetime | None]]) -> tuple[Requirement, ...]:
    achievements, courses = names
    out = []
    for p, (award_id, at) in zip(pieces_of(rule), moments):
        if p["kind"] in COURSE_KINDS:
            label = p["rule"].get("label", "") if p["kind"] == KIND_ACTIVITY else ""
            out.append(Requirement(p["kind"], label, courses.get(p["course"], "?"), None, p.get("min_percent"),
                                   None, at))
        else:
            aid = p.get("achievement", p.get("program"))
            name, course = achievements.get(aid, ("?", "?"))
            out.append(Requirement(p["kind"], name, course, aid, None, award_id, at))
    return tuple(out)


def program_progress(session: Session, program: Achievement, person_id: int,
                     now: datetime | None = None, *, facts: _Facts | None = None) -> ProgramProgress:
    """What the learner has done of the program's current rule, in which course, and whether it
    is met (`facts`: already loaded for this learner, e.g. for all programs at once)."""
    rule = program.current_version.rule
    now = now or datetime.now(timezone.utc)
    facts = facts or _load_facts(session, [rule], [person_id], now)
    moments = _piece_moments(_piece_keys(rule), facts, person_id)
    held = session.scalar(select(Award).where(
        Award.person_id == person_id, Award.achievement_id == program.id,
        Award.status.in_((AWARD_ACTIVE, AWARD_SUSPENDED))).limit(1))
    needed, within, ordered = rule["min"], rule.get("within_days"), bool(rule.get("ordered"))
    met = decide([t for _, t in moments], needed, within, ordered)
    return ProgramProgress(program, _requirements(rule, _names(session, rule), moments), needed, within, met,
                           held, ordered)


def evaluate_programs(session: Session, program: Achievement, now: datetime,
                      person_ids: Collection[int] | None = None) -> dict[int, list[datetime | None]]:
    """Bulk: person id -> the moments of the pieces they did (None: not done), for everyone of
    the registration with any piece done (or only `person_ids`), in a few queries per course."""
    rule = program.current_version.rule
    facts = _load_facts(session, [rule], person_ids, now)
    keys = _piece_keys(rule)
    people = {p for p, _ in facts.awards} | {p for p, _ in facts.courses}
    return {pid: [t for _, t in _piece_moments(keys, facts, pid)] for pid in sorted(people)}


def candidates(session: Session, program: Achievement, now: datetime) -> list[int]:
    """Who meets the program's current rule now (person ids): those an activation awards."""
    rule = program.current_version.rule
    needed, within, ordered = rule["min"], rule.get("within_days"), bool(rule.get("ordered"))
    return [pid for pid, moments in evaluate_programs(session, program, now).items()
            if decide(moments, needed, within, ordered)]


def learner_programs(session: Session, platform_id: int, person_id: int) -> list[ProgramProgress]:
    """The active programs a learner is part of: they did one of its pieces, or hold the program."""
    out = []
    active = list_programs(session, platform_id, active_only=True)
    now = datetime.now(timezone.utc)
    facts = _load_facts(session, [p.current_version.rule for p in active], [person_id], now)
    for program in active:
        progress = program_progress(session, program, person_id, now, facts=facts)
        if progress.held is not None or progress.done:
            out.append(progress)
    return out


def program_evidence(progress: ProgramProgress, credential_urls: Mapping[int, str]) -> dict[str, Any]:
    """The award evidence of a program: the rule's hash and the credentials (course badges and
    programs) and course results it rests on."""
    version = progress.program.current_version
    rests_on = []
    for r in progress.done:
        item: dict[str, Any] = {"kind": r.kind, "badge": r.name if r.award_id else r.describe(), "course": r.course,
                                "awarded_at": r.done_at.isoformat()}
        if r.award_id is not None:
            item["credential"] = credential_urls.get(r.award_id)
        rests_on.append(item)
    return {"version": version.number, "rule_hash": version.rule_hash, "program": True, "rests_on": rests_on}


def flagged_awards(session: Session, program: Achievement) -> list[Award]:
    """Live awards of the program waiting for the admin's review (a course badge was revoked)."""
    return list(session.scalars(select(Award).where(
        Award.achievement_id == program.id, Award.needs_review.is_(True),
        Award.status.in_((AWARD_ACTIVE, AWARD_SUSPENDED))).order_by(Award.id)))


@dataclass(frozen=True)
class ProgramPreview:
    """Who across the registration meets the program's current rule now, and who is one piece
    (one course) away from it (names, for the admin)."""

    meets: tuple[str, ...]
    one_away: tuple[str, ...]


def one_piece_away(moments: list[datetime | None], needed: int, within: int | None, ordered: bool,
                   now: datetime) -> bool:
    """Not met, but would be if one piece left were done now."""
    if sum(t is not None for t in moments) < needed - 1 or decide(moments, needed, within, ordered):
        return False
    return any(decide(moments[:i] + [now] + moments[i + 1:], needed, within, ordered)
               for i, t in enumerate(moments) if t is None)


def preview_program(session: Session, program: Achievement, now: datetime | None = None) -> ProgramPreview:
    now = now or datetime.now(timezone.utc)
    rule = program.current_version.rule
    needed, within, ordered = rule["min"], rule.get("within_days"), bool(rule.get("ordered"))
    meets, one_away = [], []
    for pid, moments in evaluate_programs(session, program, now).items():
        if decide(moments, needed, within, ordered):
            meets.append(pid)
        elif one_piece_away(moments, needed, within, ordered, now):
            one_away.append(pid)
    names = {pid: name or sub for chunk in _chunks(meets + one_away) for pid, name, sub in session.execute(
        select(Person.id, Person.name, Person.sub).where(Person.id.in_(chunk)))}
    return ProgramPreview(tuple(sorted(names[p] for p in meets)), tuple(sorted(names[p] for p in one_away)))
