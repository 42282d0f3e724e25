"""Loading snapshots from the database. The batch loader reads a course's structure once and
the progress of many learners in one query per table, restricted to the activities a rule can
look at, so previewing a rule over a large course is a handful of queries plus in-memory work."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import DateTime, Select, String, and_, bindparam, case, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session

from lti_badger.errors import NotFound
from lti_badger.models import Achievement, AchievementVersion, Activity, Award, Enrollment, Module, Progress
from lti_badger.models.award import AWARD_ACTIVE, AWARD_SUSPENDED
from lti_badger.models.course import ENROLLMENT_ACTIVE, ROLE_LEARNER

from .evaluate import (
    AGGREGATE_KINDS, KIND_COURSE_GRADE, SOURCE_COMPUTED, ActivityInfo, ActivityProgress, CourseStructure, ModuleInfo,
    ModuleTotals, Snapshot,
)
from .rules import References

LIVE_AWARD_STATES = (AWARD_ACTIVE, AWARD_SUSPENDED)
_CHUNK = 5000  # bound parameters per IN (...) list, well under every backend's limit


def _chunks(values: Collection[Any]) -> Iterator[list[Any]]:
    items = list(values)
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def load_structure(session: Session, course_id: int) -> CourseStructure:
    """Modules, activities and badge names of one course."""
    return _structure_and_keys(session, course_id)[0]


# The statements every evaluation of new progress runs, built once with the course (and the
# learners, activities, badges) as bound values: SQLAlchemy finds their compiled form without
# building and cache-keying them on every call (issue 17).
_COURSE_ID = bindparam("course_id")
_MODULES = (select(Module.id, Module.lms_id, Module.title, Module.has_completion)
            .where(Module.course_id == _COURSE_ID).order_by(Module.position, Module.id))
_ACTIVITIES = (select(Activity.id, Activity.lms_id, Activity.module_id, Activity.title, Activity.kind,
                      Activity.max_points, Activity.deep_link, Activity.completion_required, Activity.grades_released)
               .where(Activity.course_id == _COURSE_ID).order_by(Activity.position, Activity.id))
_BADGE_NAMES = (select(Achievement.id, AchievementVersion.name)
                .join(AchievementVersion, AchievementVersion.id == Achievement.current_version_id)
                .where(Achievement.course_id == _COURSE_ID))


def _in(name: str) -> Any:
    return bindparam(name, expanding=True)


def _structure_and_keys(session: Session, course_id: int) -> tuple[CourseStructure, dict[int, tuple[str, int | None, str]]]:
    """The course structure, and the activity keys of `_activity_keys` from the same rows."""
    course = {"course_id": course_id}
    modules = {m.id: m for m in session.execute(_MODULES, course)}
    activities = []
    keys: dict[int, tuple[str, int | None, str]] = {}
    for a in session.execute(_ACTIVITIES, course):
        module = modules.get(a.module_id) if a.module_id is not None else None
        activities.append(ActivityInfo(
            lms_id=a.lms_id, title=a.title, module=module.lms_id if module else None, kind=a.kind,
            max_points=a.max_points, deep_link=a.deep_link, completion_required=a.completion_required,
            released=a.grades_released,
        ))
        keys[a.id] = (a.lms_id, a.module_id, a.kind)
    names = dict(session.execute(_BADGE_NAMES, course).all())
    mods = [ModuleInfo(lms_id=m.lms_id, title=m.title, has_completion=m.has_completion) for m in modules.values()]
    return CourseStructure.build(activities, mods, names), keys


def _activity_keys(session: Session, course_id: int) -> dict[int, tuple[str, int | None, str]]:
    """activity database id -> (LMS id, module database id, kind) for the course."""
    rows = session.execute(select(Activity.id, Activity.lms_id, Activity.module_id, Activity.kind)
                           .where(Activity.course_id == course_id)).all()
    return {aid: (lms_id, module_id, kind) for aid, lms_id, module_id, kind in rows}


def activity_ids_for(session: Session, course_id: int, refs: References | None,
                     keys: dict[int, tuple[str, int | None, str]] | None = None) -> list[int] | None:
    """Database ids of the activities a rule can look at (None: all of them). A course grade
    reads only the LMS's course total when one is synced, every graded activity otherwise."""
    if refs is None:
        return None
    keys = keys if keys is not None else _activity_keys(session, course_id)
    if refs.course_grade and not any(kind == KIND_COURSE_GRADE for _l, _m, kind in keys.values()):
        return None
    module_ids = set()
    if refs.modules:
        module_ids = set(session.scalars(select(Module.id).where(
            Module.course_id == course_id, Module.lms_id.in_(sorted(refs.modules)))))
    return sorted(aid for aid, (lms_id, module_id, kind) in keys.items()
                  if lms_id in refs.activities or (module_id is not None and module_id in module_ids)
                  or (refs.course_grade and kind == KIND_COURSE_GRADE))


_ACTIVE_LEARNERS = select(Enrollment.person_id, Enrollment.enrolled_at).where(
    Enrollment.course_id == _COURSE_ID, Enrollment.status == ENROLLMENT_ACTIVE,
    Enrollment.role == ROLE_LEARNER)
_ACTIVE_LEARNERS_AMONG = _ACTIVE_LEARNERS.where(Enrollment.person_id.in_(_in("person_ids")))


def active_learners(session: Session, course_id: int, person_ids: Iterable[int] | None = None) -> dict[int, datetime]:
    """person id -> enrolment date, for learners whose enrolment is active."""
    if person_ids is None:
        return dict(session.execute(_ACTIVE_LEARNERS, {"course_id": course_id}).all())
    out: dict[int, datetime] = {}
    for chunk in _chunks(set(person_ids)):
        out.update(session.execute(_ACTIVE_LEARNERS_AMONG, {"course_id": course_id, "person_ids": chunk}).all())
    return out


@cache
def _live_awards_query(of_badges: bool, of_people: bool) -> Select:
    """Live awards of a course, of the badges `:achievement_ids` and the people `:person_ids`
    when asked."""
    stmt = select(Award.person_id, Award.achievement_id).where(
        Award.course_id == _COURSE_ID, Award.status.in_(LIVE_AWARD_STATES))
    if of_badges:
        stmt = stmt.where(Award.achievement_id.in_(_in("achievement_ids")))
    return stmt.where(Award.person_id.in_(_in("person_ids"))) if of_people else stmt


def load_live_awards(session: Session, course_id: int, person_ids: Collection[int] | None = None,
                     achievement_ids: Collection[int] | None = None) -> dict[int, set[int]]:
    """person id -> achievements held with a live (active or suspended) award in this course."""
    values: dict[str, Any] = {"course_id": course_id}
    if achievement_ids is not None:
        if not achievement_ids:
            return {}
        values["achievement_ids"] = sorted(achievement_ids)
    query = _live_awards_query(achievement_ids is not None, person_ids is not None)
    out: dict[int, set[int]] = {}
    for chunk in ([None] if person_ids is None else _chunks(person_ids)):
        params = values if chunk is None else {**values, "person_ids": chunk}
        for person_id, achievement_id in session.execute(query, params):
            out.setdefault(person_id, set()).add(achievement_id)
    return out


def load_snapshots(
    session: Session,
    course_id: int,
    enrolments: dict[int, datetime | None],
    *,
    structure: CourseStructure | None = None,
    refs: References | None = None,
    badge_ids: Collection[int] | None = None,
    summarise_modules: bool = False,
) -> dict[int, Snapshot]:
    """Snapshots for the given learners (person id -> enrolment date), in a few queries.

    With `refs` only the progress a rule can look at is read; `badge_ids` limits which live
    awards are read (None: all of the course's). With `summarise_modules` (preview) the
    modules the rule reads outside date windows are summed by the database per learner
    instead of read item by item: the same decisions, module explanations without items."""
    if not enrolments:
        return {}
    if structure is None:
        structure, keys = _structure_and_keys(session, course_id)
    else:
        keys = _activity_keys(session, course_id)
    progress: dict[int, dict[str, ActivityProgress]] = {pid: {} for pid in enrolments}
    # activity database id -> (LMS id, grades released), so no join is needed per row.
    lookup = {aid: (lms_id, structure.activities[lms_id].released if lms_id in structure.activities else True)
              for aid, (lms_id, _m, _k) in keys.items()}
    # A computed course grade (no LMS total synced, not inside a date window) is summed by the
    # database: one row per learner instead of every progress row of the course.
    summed = (refs is not None and refs.course_grade and not refs.course_grade_windowed
              and structure.course_grade_activity is None)
    summarised: frozenset[str] = frozenset()
    if summarise_modules and refs is not None:
        summarised = frozenset(m for m in refs.modules - refs.modules_rowwise if m in structure.modules)
    row_refs = refs
    if refs is not None and (summed or summarised):
        row_refs = replace(refs, course_grade=refs.course_grade and not summed, modules=refs.modules - summarised)
    activity_ids = activity_ids_for(session, course_id, row_refs, keys)
    # Not the model's UTCDateTime decorator: up to a million rows go through here. SQLite keeps
    # naive UTC text, parsed below by the C ISO parser with the zone appended (half the cost of
    # parse-then-replace); PostgreSQL returns aware datetimes. Every column comes from the
    # covering index ix_progress_course_activity_state.
    as_text = session.get_bind().dialect.name == "sqlite"
    everyone = len(enrolments) > _CHUNK
    values: dict[str, Any] = {"course_id": course_id}
    if activity_ids is not None:
        values["activity_ids"] = activity_ids
    stmt = _progress_rows_query(as_text, activity_ids is not None, not everyone)
    wanted = progress.get
    queries = [] if activity_ids is not None and not activity_ids else (
        [values] if everyone else [{**values, "person_ids": c} for c in _chunks(enrolments)])
    conn = session.connection()
    parse = datetime.fromisoformat
    # What ActivityProgress(...) does, without its Python-level __new__ (a call per row).
    build, kind = tuple.__new__, ActivityProgress
    for query in queries:
        # fetchall: one driver call for the whole result instead of one per row.
        for pid, activity_id, score, max_score, completed, passed, at, source in conn.execute(stmt, query).fetchall():
            mine = wanted(pid)
            # An activity that an event created after `structure` was read is not in it yet:
            # its progress is read with the structure that knows it, at the next evaluation.
            known = lookup.get(activity_id)
            if mine is not None and known is not None:
                if as_text and at is not None:
                    at = parse(at + "+00:00")
                lms_id, released = known
                mine[lms_id] = build(kind, (score, max_score, bool(completed), passed, at, source, released))
    totals: dict[int, ActivityProgress] = {}
    nobody: ActivityProgress | None = None
    if summed:
        totals, nobody = _course_totals(session, course_id, structure, None if everyone else list(enrolments))
    module_sums: dict[int, dict[str, ModuleTotals]] = {}
    module_defaults: dict[str, ModuleTotals] | None = None
    if summarised:
        module_sums, module_defaults = _module_totals(session, course_id, structure, summarised,
                                                      None if everyone else list(enrolments))
    if badge_ids is not None and not badge_ids:
        earned: dict[int, set[int]] = {}
    else:
        earned = load_live_awards(session, course_id, None if everyone else list(enrolments), badge_ids)
    empty: frozenset[int] = frozenset()
    return {
        pid: Snapshot(structure, progress[pid], enrolled_at,
                      frozenset(earned[pid]) if pid in earned else empty, pid, totals.get(pid, nobody),
                      ({**module_defaults, **module_sums[pid]} if pid in module_sums else module_defaults)
                      if module_defaults is not None else None)
        for pid, enrolled_at in enrolments.items()
    }


@cache
def _progress_rows_query(as_text: bool, of_activities: bool, of_people: bool) -> Select:
    """The progress rows of a course (of the activities `:activity_ids` and the people
    `:person_ids` when asked), `occurred_at` as text on SQLite (see `load_snapshots`)."""
    occurred = type_coerce(Progress.occurred_at, String if as_text else DateTime(timezone=True))
    stmt = (select(Progress.person_id, Progress.activity_id, Progress.score, Progress.max_score, Progress.completed,
                   Progress.passed, occurred, Progress.source)
            .where(Progress.course_id == _COURSE_ID))
    if of_activities:
        stmt = stmt.where(Progress.activity_id.in_(_in("activity_ids")))
    return stmt.where(Progress.person_id.in_(_in("person_ids"))) if of_people else stmt


def _when(condition, value, otherwise):
    """CASE WHEN condition THEN value ELSE otherwise, or just `value` when the condition is
    known to hold for every row (None): the database then skips one test per row."""
    return value if condition is None else case((condition, value), else_=otherwise)


class _Facts(NamedTuple):
    """What holds for every activity a sum covers, so that its per-row tests can be dropped
    (read from the same activity rows the sum joins, not from a possibly stale structure)."""

    graded: bool  # every activity has a positive maximum
    required: bool  # every activity requires completion
    released: bool  # no activity's grades are held back


def _facts(session: Session, *where) -> _Facts:
    rows = session.execute(select(Activity.max_points, Activity.completion_required, Activity.grades_released)
                           .where(*where)).all()
    return _Facts(all(m is not None and m > 0 for m, _r, _g in rows), all(r is True for _m, r, _g in rows),
                  not any(g is False for _m, _r, g in rows))


def _latest_at(session: Session, condition):
    """max(occurred_at) over the rows meeting `condition`, and how to turn it into an aware
    datetime: on SQLite the naive UTC text is parsed by the C ISO parser (not the column
    type's per-row regex and replace), PostgreSQL returns aware datetimes."""
    if session.get_bind().dialect.name == "sqlite":
        parse = datetime.fromisoformat
        return (func.max(_when(condition, type_coerce(Progress.occurred_at, String), None)),
                lambda at: None if at is None else parse(at + "+00:00"))
    return func.max(_when(condition, Progress.occurred_at, None)), lambda at: at


def _has_max(facts: _Facts):
    """Rows with a maximum score (their own, else the activity's); None: every row."""
    return None if facts.graded else or_(Progress.max_score > 0, Activity.max_points > 0)


def _graded_sums(session: Session, facts: _Facts) -> tuple:
    """The aggregates module and course totals share, over a learner's graded rows: the score
    sum, what the rows' own maxima add to the activities' maxima, the latest graded time, and
    whether a grade behind them is unreleased (1) or not (0); and the parser of that time."""
    has_max = _has_max(facts)
    latest, parse = _latest_at(session, has_max)
    activity_max = Activity.max_points if facts.graded else func.coalesce(Activity.max_points, 0.0)
    return (
        func.sum(_when(has_max, func.coalesce(Progress.score, 0.0), 0.0)),
        func.sum(case((Progress.max_score > 0, Progress.max_score - activity_max), else_=0.0)),
        latest,
        literal(0) if facts.released else
        func.max(case((and_(Progress.max_score > 0, Activity.grades_released.is_(False)), 1), else_=0)),
    ), parse


def _module_totals(session: Session, course_id: int, structure: CourseStructure, modules: frozenset[str],
                   person_ids: list[int] | None) -> tuple[dict[int, dict[str, ModuleTotals]], dict[str, ModuleTotals]]:
    """Per learner and module, what `evaluate` would derive from the module's item rows
    (completed required items, percentage and point sums over graded items, latest times,
    unreleased grades), summed by the database; and the value for a learner with no rows."""
    ids = dict(session.execute(select(Module.id, Module.lms_id).where(
        Module.course_id == course_id, Module.lms_id.in_(sorted(modules)))).all())
    static: dict[str, tuple[int, float, bool]] = {}
    for lms_id in modules:
        items = [structure.activities[a] for a in structure.modules[lms_id].activities if a in structure.activities]
        graded = [a for a in items if a.max_points]
        static[lms_id] = (len(graded), float(sum(a.max_points for a in graded)), any(not a.released for a in graded))
    covered = (Activity.course_id == course_id, Activity.module_id.in_(sorted(ids)),
               Activity.kind.not_in(sorted(AGGREGATE_KINDS)))
    facts = _facts(session, *covered)
    has_max = _has_max(facts)
    effective_max = case((Progress.max_score > 0, Progress.max_score), else_=Activity.max_points)
    required = None if facts.required else Activity.completion_required.is_(True)
    # As evaluate's `_completion`: marked completed, or a full score (`full_score`).
    completed = or_(Progress.completed.is_(True), and_(effective_max > 0, Progress.score >= effective_max))
    required_latest, parse = _latest_at(session, required)
    graded_sums, _same = _graded_sums(session, facts)
    stmt = (select(
        Progress.person_id, Activity.module_id,
        func.sum(case((completed if required is None else and_(required, completed), 1), else_=0)),
        required_latest,
        literal(0) if facts.graded else  # no row can have a maximum its activity lacks
        func.sum(case((and_(Progress.max_score > 0, func.coalesce(Activity.max_points, 0.0) <= 0), 1), else_=0)),
        func.sum(_when(has_max, func.coalesce(Progress.score, 0.0) * 100.0 / effective_max, 0.0)),
        *graded_sums)
        .join(Activity, Activity.id == Progress.activity_id)
        .where(Progress.course_id == course_id, *covered[1:])
        .group_by(Progress.person_id, Activity.module_id))
    out: dict[int, dict[str, ModuleTotals]] = {}
    for chunk in ([None] if person_ids is None else _chunks(person_ids)):
        query = stmt if chunk is None else stmt.where(Progress.person_id.in_(chunk))
        for pid, module_id, done, req_at, extra, pct_sum, score_sum, extra_max, graded_at, unreleased in \
                session.execute(query).fetchall():
            lms_id = ids[module_id]
            count, max_sum, hidden = static[lms_id]
            out.setdefault(pid, {})[lms_id] = ModuleTotals(
                int(done or 0), parse(req_at), count + int(extra or 0), float(pct_sum or 0.0),
                float(score_sum or 0.0), max_sum + float(extra_max or 0.0), parse(graded_at),
                not (hidden or bool(unreleased)))
    defaults = {lms_id: ModuleTotals(0, None, count, 0.0, 0.0, max_sum, None, not hidden)
                for lms_id, (count, max_sum, hidden) in static.items()}
    return out, defaults


def _course_totals(session: Session, course_id: int, structure: CourseStructure,
                   person_ids: list[int] | None) -> tuple[dict[int, ActivityProgress], ActivityProgress]:
    """Per learner, what `evaluate` would sum for a computed course grade: the scores and
    maxima (the progress row's maximum, else the activity's) over every graded activity, the
    latest time, and whether a grade behind it is unreleased. Also the value for a learner
    with no graded progress at all."""
    graded = [a for a in structure.activities.values() if a.kind not in AGGREGATE_KINDS and a.max_points]
    static_max = float(sum(a.max_points for a in graded))
    static_hidden = any(not a.released for a in graded)
    facts = _facts(session, Activity.course_id == course_id, Activity.kind.not_in(sorted(AGGREGATE_KINDS)))
    graded_sums, parse = _graded_sums(session, facts)
    stmt = (select(Progress.person_id, *graded_sums)
            .join(Activity, Activity.id == Progress.activity_id)
            .where(Progress.course_id == course_id, Activity.kind.not_in(sorted(AGGREGATE_KINDS)))
            .group_by(Progress.person_id))
    out: dict[int, ActivityProgress] = {}
    for chunk in ([None] if person_ids is None else _chunks(person_ids)):
        query = stmt if chunk is None else stmt.where(Progress.person_id.in_(chunk))
        for pid, score, extra_max, latest, unreleased in session.execute(query).fetchall():
            out[pid] = ActivityProgress(float(score or 0.0), static_max + float(extra_max or 0.0), False, None,
                                        parse(latest),
                                        SOURCE_COMPUTED, not (static_hidden or bool(unreleased)))
    return out, ActivityProgress(0.0, static_max, False, None, None, SOURCE_COMPUTED, not static_hidden)


def load_snapshot(session: Session, course_id: int, person_id: int, *,
                  structure: CourseStructure | None = None) -> Snapshot:
    """One learner's snapshot in one course (any enrolment status: a learner who left still
    sees why); NotFound if the person is not enrolled in this course."""
    enrolled_at = session.scalar(select(Enrollment.enrolled_at).where(
        Enrollment.course_id == course_id, Enrollment.person_id == person_id))
    if enrolled_at is None:
        raise NotFound("this person is not enrolled in this course")
    return load_snapshots(session, course_id, {person_id: enrolled_at}, structure=structure)[person_id]
