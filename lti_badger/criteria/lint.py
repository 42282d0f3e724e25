"""The linter: a well-formed rule can still never fire or surprise its author (an activity
that is not in the course, a module without completion requirements, a feed that stopped,
dates that exclude each other). Each warning names the node it is about."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_badger.errors import NotFound
from lti_badger.models import Achievement, Activity, Course, Progress, ProgressSource
from lti_badger.models.achievement import STATE_ACTIVE, STATE_ARCHIVED

from .achievements import badge_graph
from .evaluate import AGGREGATE_KINDS, CourseStructure
from .roles import role_key
from .rules import parse_date, pointer, references, validate_rule, walk
from .snapshots import load_structure

# A feed with nothing new for this long is probably broken (or the course is over).
STALE_AFTER = timedelta(days=7)

ERROR = "error"  # the node can never be met
WARNING = "warning"  # it can be met, but probably not the way the author thinks
INFO = "info"


@dataclass(frozen=True)
class LintWarning:
    code: str
    message: str
    pointer: str
    severity: str = WARNING

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "pointer": self.pointer, "severity": self.severity}


def lint(session: Session, course_id: int, rule: Mapping[str, Any], now: datetime) -> list[LintWarning]:
    """Warnings about a rule in the context of its course (the rule must be valid: a broken
    rule raises BadInput as in `validate_rule`)."""
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound("no such course")
    graph = badge_graph(session, course_id)
    validate_rule(rule, known_achievements=set(graph))
    structure = load_structure(session, course_id)
    out: list[LintWarning] = []
    _lint_nodes(rule, structure, now, out)
    _lint_badges(session, course_id, rule, out)
    _lint_sources(session, course, rule, structure, now, out)
    return out


def _lint_nodes(rule: Mapping[str, Any], structure: CourseStructure, now: datetime, out: list[LintWarning]) -> None:
    acts, mods = structure.activities, structure.modules
    _lint_windows(rule, (), None, None, out)
    for path, node in walk(rule):
        ptr, kind = pointer(path), node["type"]
        if kind in ("activity_completed", "activity_score"):
            info = acts.get(node["activity"])
            if info is None:
                out.append(_not_in_course(node, path, "activity"))
                continue
            if kind == "activity_score":
                if "min_points" in node and info.max_points is not None and node["min_points"] > info.max_points:
                    out.append(LintWarning("score.above_max", f"{node['min_points']} points asked, but "
                                           f"{info.title or info.lms_id!r} is out of {info.max_points:g}",
                                           pointer(path + ("min_points",)), ERROR))
                if "min_percent" in node and not info.max_points:
                    out.append(LintWarning("score.no_max", f"{info.title or info.lms_id!r} has no maximum score; a "
                                           "percentage works only if the source reports one", ptr, WARNING))
                if not info.released:
                    out.append(LintWarning("grade.unreleased", f"grades of {info.title or info.lms_id!r} are not "
                                           "released: learners see the condition but not their score", ptr, INFO))
            elif node.get("require_pass") and info.kind in AGGREGATE_KINDS:
                out.append(LintWarning("activity.no_pass", "this item has no pass/fail state", ptr, WARNING))
        elif kind in ("module_completed", "module_score"):
            mod = mods.get(node["module"])
            if mod is None:
                out.append(_not_in_course(node, path, "module"))
                continue
            items = [acts[a] for a in mod.activities if a in acts]
            if kind == "module_completed" and node.get("mode") == "lms":
                if mod.completion_activity is None:
                    out.append(LintWarning("module.no_lms_completion", f"the LMS reports no completion for module "
                                           f"{mod.title or mod.lms_id!r}; use mode 'requirements'", ptr, ERROR))
            elif kind == "module_completed" and not any(a.completion_required for a in items):
                out.append(LintWarning("module.no_requirements", f"module {mod.title or mod.lms_id!r} has no items "
                                       "that require completion", ptr, ERROR))
            if kind == "module_score":
                graded = [a for a in items if a.max_points]
                if not graded:
                    out.append(LintWarning("module.no_graded_items", f"module {mod.title or mod.lms_id!r} has no "
                                           "graded items with a maximum score", ptr, ERROR))
                elif "min_points" in node and node.get("aggregate") == "sum" and \
                        node["min_points"] > sum(a.max_points for a in graded):
                    out.append(LintWarning("score.above_max", "more points asked than the module's items are worth",
                                           pointer(path + ("min_points",)), ERROR))
        elif kind == "course_grade":
            if structure.course_grade_activity is None and not any(
                    a.max_points for a in acts.values() if a.kind not in AGGREGATE_KINDS):
                out.append(LintWarning("grade.no_source", "no course grade is synced and no activity is graded",
                                       ptr, ERROR))
        elif kind == "at_least":
            if node["count"] > len(node["rules"]):
                out.append(LintWarning("at_least.impossible", f"asks for {node['count']} of {len(node['rules'])} "
                                       "conditions", pointer(path + ("count",)), ERROR))
            elif node["count"] == len(node["rules"]) and len(node["rules"]) > 1:
                out.append(LintWarning("at_least.is_all", "asks for all of its conditions; 'all' says so", ptr, INFO))
        elif kind == "before":
            when = parse_date(node["date"])
            if when <= now:
                if "rule" in node:
                    out.append(LintWarning("date.past", "this deadline has passed: only progress already recorded "
                                           "before it counts", pointer(path + ("date",)), WARNING))
                else:
                    out.append(LintWarning("date.past", "this date has passed: the rule can no longer be met",
                                           pointer(path + ("date",)), ERROR))


def _not_in_course(node: Mapping[str, Any], path: tuple, kind: str) -> LintWarning:
    """A node names an activity or module (`kind`) the course lacks: a template's role not
    mapped yet, or an id of no item of this course."""
    if not role_key(node[kind]):
        return LintWarning(f"{kind}.unknown", f"{kind} {node[kind]!r} is not in this course", pointer(path + (kind,)),
                           ERROR)
    role = node.get("label") or role_key(node[kind])
    return LintWarning("template.unmapped", f"the template's role {role!r} is not mapped to "
                       f"{'an activity' if kind == 'activity' else 'a module'} of this course",
                       pointer(path + (kind,)), ERROR)


def _lint_windows(node: Mapping[str, Any], path: tuple, lo: datetime | None, hi: datetime | None,
                  out: list[LintWarning]) -> None:
    """Dates that exclude each other: an 'after' at or past an enclosing 'before', and
    'before'/'after' siblings of an 'all' whose ranges do not meet."""
    kind = node["type"]
    if kind in ("before", "after"):
        when = parse_date(node["date"])
        if kind == "before":
            hi = when if hi is None else min(hi, when)
        else:
            lo = when if lo is None else max(lo, when)
        if lo is not None and hi is not None and lo >= hi:
            out.append(LintWarning("date.contradictory", "this date excludes an enclosing date condition: "
                                   "the window is empty", pointer(path + ("date",)), ERROR))
            return
        if "rule" in node:
            _lint_windows(node["rule"], path + ("rule",), lo, hi, out)
        return
    if kind in ("all", "any", "at_least"):
        if kind == "all":
            sib_lo, sib_hi = lo, hi
            for child in node["rules"]:
                if child["type"] == "after" and "rule" not in child:
                    d = parse_date(child["date"])
                    sib_lo = d if sib_lo is None else max(sib_lo, d)
                elif child["type"] == "before" and "rule" not in child:
                    d = parse_date(child["date"])
                    sib_hi = d if sib_hi is None else min(sib_hi, d)
            if sib_lo is not None and sib_hi is not None and sib_lo >= sib_hi and (sib_lo, sib_hi) != (lo, hi):
                out.append(LintWarning("date.contradictory", "the 'after' and 'before' conditions of this group "
                                       "cannot hold at the same time", pointer(path), ERROR))
        for i, child in enumerate(node["rules"]):
            _lint_windows(child, path + ("rules", i), lo, hi, out)


def _lint_badges(session: Session, course_id: int, rule: Mapping[str, Any], out: list[LintWarning]) -> None:
    wanted = references(rule).achievements
    if not wanted:
        return
    states = dict(session.execute(select(Achievement.id, Achievement.state).where(
        Achievement.course_id == course_id, Achievement.id.in_(sorted(wanted)))).all())
    for path, node in walk(rule):
        if node["type"] != "badge_earned":
            continue
        state = states.get(node["achievement"])
        if state == STATE_ARCHIVED:
            out.append(LintWarning("badge.archived", "the required badge is archived: nobody new can earn it",
                                   pointer(path + ("achievement",)), WARNING))
        elif state != STATE_ACTIVE:
            out.append(LintWarning("badge.inactive", "the required badge is not active yet: it is only awarded "
                                   "by hand until it is", pointer(path + ("achievement",)), WARNING))


def _lint_sources(session: Session, course: Course, rule: Mapping[str, Any], structure: CourseStructure,
                  now: datetime, out: list[LintWarning]) -> None:
    refs = references(rule)
    if not (refs.activities or refs.modules or refs.course_grade):
        return
    sources = session.execute(select(ProgressSource.kind, ProgressSource.last_event_at, ProgressSource.last_sync_at)
                              .where(ProgressSource.platform_id == course.platform_id,
                                     ProgressSource.enabled.is_(True))).all()
    latest_progress = session.scalar(select(func.max(Progress.recorded_at)).where(Progress.course_id == course.id))
    if not sources and latest_progress is None:
        out.append(LintWarning("source.not_configured", "no progress source is configured for this LMS and no "
                               "progress has arrived for this course: the rule cannot fire", "", ERROR))
        return
    times = [t for _k, e, s in sources for t in (e, s) if t is not None]
    if latest_progress is not None:
        times.append(latest_progress)
    freshest = max(times) if times else None
    if freshest is None:
        out.append(LintWarning("source.stale", "progress sources are configured but none has delivered anything yet",
                               "", WARNING))
    elif now - freshest > STALE_AFTER:
        out.append(LintWarning("source.stale", f"no progress has arrived since {freshest.date().isoformat()}: check "
                               "the LMS feeds", "", WARNING))
    # Referenced activities that nobody has any progress on yet: probably not fed by any source.
    lms_ids = set(refs.activities)
    for m in refs.modules:
        if m in structure.modules:
            lms_ids.update(structure.modules[m].activities)
    if not lms_ids:
        return
    fed = set(session.scalars(select(Activity.lms_id).join(Progress, Progress.activity_id == Activity.id)
                              .where(Activity.course_id == course.id, Activity.lms_id.in_(sorted(lms_ids)))
                              .distinct()))
    for path, node in walk(rule):
        if node["type"] in ("activity_completed", "activity_score") and node["activity"] in structure.activities \
                and node["activity"] not in fed:
            out.append(LintWarning("activity.no_progress", "no learner has any progress on this activity yet: is a "
                                   "source sending it?", pointer(path), INFO))
