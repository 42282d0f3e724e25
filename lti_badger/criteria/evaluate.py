"""Evaluation: a pure function of (rule, one learner's snapshot, now). No database, no clock,
no I/O, so the same inputs always give the same decision, and preview, the learner's
"why not yet" and the automatic award all agree.

The decision carries an explanation tree mirroring the rule: per node, met or not, what was
observed against which threshold, from which source and as of when, the activity's deep link,
a stable reason code and how many steps remain (None when the node cannot be met any more)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from .rules import parse_date, pointer

# Activities that are not learner work but the LMS's own aggregate state.
KIND_MODULE_COMPLETION = "module"
KIND_COURSE_GRADE = "course_grade"
KIND_COURSE_COMPLETION = "course"
AGGREGATE_KINDS = frozenset({KIND_MODULE_COMPLETION, KIND_COURSE_GRADE, KIND_COURSE_COMPLETION})
# The source named for a course grade that we computed from the activities' scores.
SOURCE_COMPUTED = "computed"

# Stable reason codes: the UI translates them, tests and API clients match on them.
REASONS = {
    "activity.completed": "the LMS marks the activity completed",
    "activity.completed_by_score": "a full score, which counts as completed (the rule does not ask for the LMS's completion status)",
    "activity.not_completed_status": "the LMS has not marked the activity completed (the rule asks for its completion status: a score does not count)",
    "activity.passed": "the activity is completed and passed",
    "activity.not_started": "no progress recorded for the activity yet",
    "activity.not_completed": "the activity is not completed yet",
    "activity.not_passed": "the activity is not passed yet",
    "activity.unknown": "the activity is not (or no longer) in the course",
    "score.met": "the score reaches the threshold",
    "score.missing": "no score recorded yet",
    "score.below_threshold": "the score is below the threshold",
    "score.no_max": "the activity has no maximum score, so a percentage cannot be computed",
    "score.above_max": "the threshold is above the maximum possible score",
    "module.completed": "the module is completed",
    "module.not_completed": "some required items of the module are not completed",
    "module.unknown": "the module is not (or no longer) in the course",
    "module.no_requirements": "the module has no items that require completion",
    "module.no_lms_completion": "the LMS does not report completion for this module",
    "module.no_graded_items": "the module has no graded items",
    "grade.met": "the course grade reaches the threshold",
    "grade.below_threshold": "the course grade is below the threshold",
    "grade.missing": "no course grade available yet",
    "all.met": "every condition is met",
    "all.not_met": "some conditions are not met",
    "any.met": "at least one condition is met",
    "any.not_met": "none of the conditions is met",
    "at_least.met": "enough conditions are met",
    "at_least.not_met": "not enough conditions are met",
    "at_least.impossible": "asks for more conditions than there are",
    "date.open": "the date has not passed yet",
    "date.closed": "the date has passed",
    "date.not_yet": "the date has not come yet",
    "date.reached": "the date has come",
    "window.met": "met within the time window",
    "window.not_met": "not met within the time window",
    "window.closed": "not met before the deadline, which has passed",
    "badge.earned": "the required badge is earned",
    "badge.not_earned": "the required badge is not earned yet",
    "enrolment.days_met": "enrolled long enough",
    "enrolment.too_recent": "not enrolled long enough yet",
    "enrolment.unknown": "enrolment date unknown",
}


@dataclass(frozen=True, slots=True)
class ActivityInfo:
    """An activity of the course as the rule sees it (keyed by its LMS id)."""

    lms_id: str
    title: str = ""
    module: str | None = None
    kind: str = "assignment"
    max_points: float | None = None
    deep_link: str | None = None
    completion_required: bool = True
    released: bool = True


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    lms_id: str
    title: str = ""
    has_completion: bool = False
    activities: tuple[str, ...] = ()
    # The activity (kind "module") that carries the LMS's own completion of this module.
    completion_activity: str | None = None


@dataclass(frozen=True, slots=True)
class CourseStructure:
    """Modules and activities of one course; shared by every learner's snapshot."""

    activities: Mapping[str, ActivityInfo] = field(default_factory=dict)
    modules: Mapping[str, ModuleInfo] = field(default_factory=dict)
    achievements: Mapping[int, str] = field(default_factory=dict)
    course_grade_activity: str | None = None

    @classmethod
    def build(
        cls,
        activities: Iterable[ActivityInfo],
        modules: Iterable[ModuleInfo] = (),
        achievements: Mapping[int, str] | None = None,
    ) -> CourseStructure:
        """Index activities and fill each module's item list and LMS-completion activity."""
        acts = {a.lms_id: a for a in activities}
        items: dict[str, list[str]] = {}
        completion: dict[str, str] = {}
        grade_activity = None
        for a in acts.values():
            if a.kind == KIND_COURSE_GRADE:
                grade_activity = grade_activity or a.lms_id
            elif a.module is not None and a.kind == KIND_MODULE_COMPLETION:
                completion.setdefault(a.module, a.lms_id)
            elif a.module is not None and a.kind not in AGGREGATE_KINDS:
                items.setdefault(a.module, []).append(a.lms_id)
        mods = {}
        for m in modules:
            listed = m.activities or tuple(items.get(m.lms_id, ()))
            mods[m.lms_id] = replace(m, activities=listed,
                                     completion_activity=m.completion_activity or completion.get(m.lms_id))
        return cls(acts, mods, dict(achievements or {}), grade_activity)


class ActivityProgress(NamedTuple):
    """A learner's latest state on one activity (a named tuple: a million of them are built
    for a large preview, and they must stay immutable)."""

    score: float | None = None
    max_score: float | None = None
    completed: bool = False
    passed: bool | None = None
    occurred_at: datetime | None = None
    source: str = ""
    released: bool = True


class ModuleTotals(NamedTuple):
    """A learner's state on one module as the database summed it (for a preview of a whole
    course): the same numbers evaluation derives from the item rows, without the items."""

    done: int  # items requiring completion that are completed
    required_as_of: datetime | None  # latest progress on those items
    graded: int  # items with a maximum score
    pct_sum: float  # sum of their percentages (missing scores count as 0)
    score_sum: float
    max_sum: float
    graded_as_of: datetime | None
    released: bool  # no grade behind the sums is unreleased


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything evaluation may know about one learner in one course."""

    structure: CourseStructure
    progress: Mapping[str, ActivityProgress] = field(default_factory=dict)
    enrolled_at: datetime | None = None
    earned_badges: frozenset[int] = frozenset()
    person_id: int | None = None
    # The computed course grade summed by the database (score and max over every graded
    # activity, latest time, released unless a graded item is not): set by the bulk loader so
    # a course_grade rule need not read every progress row. None: computed from `progress`.
    course_total: ActivityProgress | None = None
    # Per module LMS id, sums used instead of item rows (set by the preview loader; module
    # nodes then explain without per-item children). None: computed from `progress`.
    module_totals: Mapping[str, ModuleTotals] | None = None


class Explanation(NamedTuple):
    """One node of the explanation tree (immutable; a named tuple because a preview builds
    hundreds of thousands of them)."""

    type: str
    pointer: str
    met: bool
    reason: str
    observed: Any = None
    threshold: Any = None
    unit: str | None = None
    source: str | None = None
    as_of: datetime | None = None
    activity: str | None = None
    module: str | None = None
    achievement: int | None = None
    title: str | None = None
    label: str | None = None
    deep_link: str | None = None
    steps_remaining: int | None = 0
    hidden: bool = False
    children: tuple[Explanation, ...] = ()

    def for_learner(self) -> Explanation:
        """The same tree with every value resting on an unreleased grade removed; met, reason
        and threshold stay, so the learner still sees what is missing."""
        kids = tuple(c.for_learner() for c in self.children)
        if self.hidden:
            return self._replace(observed=None, children=kids)
        return self._replace(children=kids) if kids else self

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "pointer": self.pointer, "met": self.met, "reason": self.reason,
                               "steps_remaining": self.steps_remaining}
        for name in ("observed", "threshold", "unit", "source", "activity", "module", "achievement",
                     "title", "label", "deep_link"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        if self.hidden:
            out["hidden"] = True
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out


@dataclass(frozen=True, slots=True)
class Decision:
    met: bool
    explanation: Explanation
    evaluated_at: datetime

    @property
    def steps_remaining(self) -> int | None:
        return self.explanation.steps_remaining

    @property
    def one_step_away(self) -> bool:
        return not self.met and self.explanation.steps_remaining == 1

    def for_learner(self) -> Decision:
        return replace(self, explanation=self.explanation.for_learner())

    def to_dict(self, *, for_learner: bool = False) -> dict[str, Any]:
        exp = self.explanation.for_learner() if for_learner else self.explanation
        return {"met": self.met, "evaluated_at": self.evaluated_at.isoformat(),
                "steps_remaining": exp.steps_remaining, "explanation": exp.to_dict()}


def evaluate(rule: Mapping[str, Any], snapshot: Snapshot, now: datetime) -> Decision:
    """Decide whether the learner meets the (validated) rule now, and explain why."""
    ctx = _Ctx(snapshot, now, None, None, snapshot.progress.get)
    exp = _eval(rule, (), ctx)
    return Decision(exp.met, exp, now)


# ---------------------------------------------------------------------------------------------

class _Ctx(NamedTuple):
    snap: Snapshot
    now: datetime
    after: datetime | None  # progress must have happened at or after
    before: datetime | None  # progress must have happened strictly before
    progress: Callable[[str], ActivityProgress | None]  # the learner's progress, within the window

    def within(self, after: datetime | None, before: datetime | None) -> _Ctx:
        """The same learner seen only through progress that happened in [after, before)."""
        get = self.snap.progress.get

        def windowed(lms_id: str) -> ActivityProgress | None:
            p = get(lms_id)
            if p is None:
                return None
            at = p.occurred_at
            if at is None or (after is not None and at < after) or (before is not None and at >= before):
                return None
            return p

        return _Ctx(self.snap, self.now, after, before, windowed)


_date = lru_cache(maxsize=1024)(parse_date)
_pointer = lru_cache(maxsize=4096)(pointer)  # paths repeat for every learner


def _eval(node: Mapping[str, Any], path: tuple[str | int, ...], ctx: _Ctx) -> Explanation:
    return _EVALUATORS[node["type"]](node, path, ctx)


def _pct(score: float, maximum: float) -> float:
    return round(score * 100.0 / maximum, 2)


def _activity_fields(info: ActivityInfo) -> dict[str, Any]:
    return {"activity": info.lms_id, "title": info.title or None, "deep_link": info.deep_link}


def _activity_completed(node, path, ctx) -> Explanation:
    lms_id = node["activity"]
    info = ctx.snap.structure.activities.get(lms_id)
    if info is None:
        return Explanation("activity_completed", _pointer(path), False, "activity.unknown", activity=lms_id,
                           label=node.get("label"), steps_remaining=None)
    return _completion(info, ctx.progress(lms_id), _pointer(path), bool(node.get("require_pass")), node.get("label"),
                       require_status=bool(node.get("require_status")))


def full_score(info: ActivityInfo, p: ActivityProgress) -> bool:
    """A score at the maximum (the progress row's, else the activity's): the learner did
    everything the activity asks, which counts as completing it."""
    maximum = p.max_score or info.max_points
    return p.score is not None and bool(maximum) and maximum > 0 and p.score >= maximum


def _completion(info: ActivityInfo, p: ActivityProgress | None, ptr: str, require_pass: bool,
                label: str | None, *, require_status: bool = False) -> Explanation:
    """The completion state of one activity (also each item of a module). Completed means the
    LMS says so or, unless the rule asks for the completion status, a full score."""
    threshold = "passed" if require_pass else "completed"
    if p is None:
        return Explanation("activity_completed", ptr, False, "activity.not_started", None, threshold, None, None,
                           None, info.lms_id, None, None, info.title or None, label, info.deep_link, 1)
    by_score = not p.completed and not require_pass and not require_status and full_score(info, p)
    completed = p.completed or by_score
    if require_pass:
        observed = "passed" if p.passed else ("failed" if p.passed is False else
                                              ("completed" if p.completed else "in_progress"))
    else:
        observed = "completed" if completed else "in_progress"
    if not completed:
        reason, met = ("activity.not_completed_status" if require_status and p.score is not None
                       else "activity.not_completed"), False
    elif require_pass and p.passed is not True:
        reason, met = "activity.not_passed", False
    elif by_score:
        reason, met = "activity.completed_by_score", True
    else:
        reason, met = ("activity.passed" if require_pass else "activity.completed"), True
    hidden = (require_pass or by_score) and not (p.released and info.released)
    return Explanation("activity_completed", ptr, met, reason, observed, threshold, None, p.source or None,
                       p.occurred_at, info.lms_id, None, None, info.title or None, label, info.deep_link,
                       0 if met else 1, hidden)


def _score_explanation(kind: str, ptr: str, node, info: ActivityInfo, p: ActivityProgress | None,
                       label: str | None) -> Explanation:
    common = _activity_fields(info)
    if "min_percent" in node:
        threshold, unit = float(node["min_percent"]), "percent"
    else:
        threshold, unit = float(node["min_points"]), "points"
    maximum = (p.max_score if p is not None and p.max_score else None) or info.max_points
    if unit == "points" and maximum is not None and threshold > maximum:
        return Explanation(kind, ptr, False, "score.above_max", threshold=threshold, unit=unit, label=label,
                           steps_remaining=None, **common)
    if unit == "percent" and not maximum:
        return Explanation(kind, ptr, False, "score.no_max", threshold=threshold, unit=unit, label=label,
                           steps_remaining=None, **common)
    if p is None or p.score is None:
        return Explanation(kind, ptr, False, "score.missing", threshold=threshold, unit=unit, label=label,
                           source=p.source if p else None, as_of=p.occurred_at if p else None,
                           steps_remaining=1, **common)
    observed = _pct(p.score, maximum) if unit == "percent" else p.score
    met = observed >= threshold
    return Explanation(kind, ptr, met, "score.met" if met else "score.below_threshold", observed=observed,
                       threshold=threshold, unit=unit, source=p.source or None, as_of=p.occurred_at, label=label,
                       hidden=not (p.released and info.released), steps_remaining=0 if met else 1, **common)


def _activity_score(node, path, ctx) -> Explanation:
    lms_id = node["activity"]
    info = ctx.snap.structure.activities.get(lms_id)
    if info is None:
        return Explanation("activity_score", _pointer(path), False, "activity.unknown", activity=lms_id,
                           label=node.get("label"), steps_remaining=None)
    return _score_explanation("activity_score", _pointer(path), node, info, ctx.progress(lms_id), node.get("label"))


def _latest(progress: Iterable[ActivityProgress | None]) -> tuple[str | None, datetime | None]:
    best: ActivityProgress | None = None
    for p in progress:
        if p is not None and p.occurred_at is not None and (best is None or p.occurred_at > best.occurred_at):
            best = p
    return (best.source or None, best.occurred_at) if best else (None, None)


_REQUIRED: dict[tuple[int, str], tuple[CourseStructure, tuple[ActivityInfo, ...]]] = {}


def _required_items(structure: CourseStructure, mod_id: str) -> tuple[ActivityInfo, ...]:
    """The module's items that require completion, in order: the same for every learner of a
    preview, so listed once per structure, not once per learner. (A structure holds dicts,
    so it is not hashable: the cache is keyed by identity and keeps the structure alive,
    so an identity is never reused while its entry exists.)"""
    key = (id(structure), mod_id)
    hit = _REQUIRED.get(key)
    if hit is not None and hit[0] is structure:
        return hit[1]
    acts = structure.activities
    items = tuple(acts[a] for a in structure.modules[mod_id].activities if a in acts and acts[a].completion_required)
    if len(_REQUIRED) >= 256:
        _REQUIRED.clear()
    _REQUIRED[key] = (structure, items)
    return items


def _module_completed(node, path, ctx) -> Explanation:
    ptr, label, mod_id = _pointer(path), node.get("label"), node["module"]
    structure = ctx.snap.structure
    mod = structure.modules.get(mod_id)
    if mod is None:
        return Explanation("module_completed", ptr, False, "module.unknown", module=mod_id, label=label,
                           steps_remaining=None)
    get = ctx.progress
    summed = ctx.snap.module_totals.get(mod_id) if ctx.snap.module_totals and ctx.after is None \
        and ctx.before is None and node.get("mode") != "lms" else None
    if summed is not None:
        required = len(_required_items(structure, mod_id))
        if not required:
            return Explanation("module_completed", ptr, False, "module.no_requirements", module=mod_id,
                               title=mod.title or None, label=label, steps_remaining=None)
        remaining = required - summed.done
        return Explanation("module_completed", ptr, remaining == 0,
                           "module.completed" if remaining == 0 else "module.not_completed", observed=summed.done,
                           threshold=required, unit="items", as_of=summed.required_as_of, module=mod_id,
                           title=mod.title or None, label=label, steps_remaining=remaining)
    items = _required_items(structure, mod_id)
    seen = [get(info.lms_id) for info in items]
    kids = [_completion(info, p, ptr, False, None) for info, p in zip(items, seen)]
    done = sum(1 for kid in kids if kid.met)
    remaining = len(kids) - done
    title = mod.title or None
    if node.get("mode") == "lms":
        if mod.completion_activity is None:
            return Explanation("module_completed", ptr, False, "module.no_lms_completion", module=mod_id, title=title,
                               label=label, steps_remaining=None, children=tuple(kids))
        p = get(mod.completion_activity)
        met = p is not None and p.completed
        return Explanation("module_completed", ptr, met, "module.completed" if met else "module.not_completed",
                           observed="completed" if met else "not_completed", threshold="completed",
                           source=p.source if p else None, as_of=p.occurred_at if p else None, module=mod_id,
                           title=title, label=label, steps_remaining=0 if met else max(1, remaining),
                           children=tuple(kids))
    if not kids:
        return Explanation("module_completed", ptr, False, "module.no_requirements", module=mod_id, title=title,
                           label=label, steps_remaining=None)
    met = remaining == 0
    source, as_of = _latest(seen)
    return Explanation("module_completed", ptr, met, "module.completed" if met else "module.not_completed",
                       observed=done, threshold=len(kids), unit="items", source=source, as_of=as_of, module=mod_id,
                       title=title, label=label, steps_remaining=remaining, children=tuple(kids))


def _graded(structure: CourseStructure, ids: Iterable[str], ctx: _Ctx) -> list[tuple[ActivityInfo, ActivityProgress | None, float]]:
    out = []
    for lms_id in ids:
        info = structure.activities.get(lms_id)
        if info is None or info.kind in AGGREGATE_KINDS:
            continue
        p = ctx.progress(lms_id)
        maximum = (p.max_score if p is not None and p.max_score else None) or info.max_points
        if maximum:
            out.append((info, p, float(maximum)))
    return out


def _module_score(node, path, ctx) -> Explanation:
    ptr, label, mod_id = _pointer(path), node.get("label"), node["module"]
    structure = ctx.snap.structure
    mod = structure.modules.get(mod_id)
    if mod is None:
        return Explanation("module_score", ptr, False, "module.unknown", module=mod_id, label=label,
                           steps_remaining=None)
    common = {"module": mod_id, "title": mod.title or None, "label": label}
    if "min_percent" in node:
        threshold, unit = float(node["min_percent"]), "percent"
    else:
        threshold, unit = float(node["min_points"]), "points"
    summed = ctx.snap.module_totals.get(mod_id) if ctx.snap.module_totals and ctx.after is None \
        and ctx.before is None else None
    kids: tuple[Explanation, ...] = ()
    if summed is not None:
        count, pct_sum, score_sum, max_sum = summed.graded, summed.pct_sum, summed.score_sum, summed.max_sum
        hidden, source, as_of = not summed.released, None, summed.graded_as_of
    else:
        graded = _graded(structure, mod.activities, ctx)
        pct_node = {"min_percent": 0}
        kids = tuple(_score_explanation("activity_score", ptr, pct_node, info, p, None) for info, p, _m in graded)
        scores = [(p.score if p is not None and p.score is not None else 0.0) for _i, p, _m in graded]
        count, max_sum = len(graded), sum(m for _i, _p, m in graded)
        pct_sum = sum(s * 100.0 / m for s, (_i, _p, m) in zip(scores, graded))
        score_sum = sum(scores)
        hidden = any(not (info.released and (p is None or p.released)) for info, p, _m in graded)
        source, as_of = _latest(p for _i, p, _m in graded)
    if not count:
        return Explanation("module_score", ptr, False, "module.no_graded_items", threshold=threshold, unit=unit,
                           steps_remaining=None, **common)
    if node.get("aggregate") == "sum":
        best = max_sum if unit == "points" else 100.0
        observed = round(score_sum, 2) if unit == "points" else _pct(score_sum, max_sum)
    elif unit == "percent":
        best, observed = 100.0, round(pct_sum / count, 2)
    else:
        best, observed = max_sum / count, round(score_sum / count, 2)
    if threshold > best:
        return Explanation("module_score", ptr, False, "score.above_max", observed=observed, threshold=threshold,
                           unit=unit, source=source, as_of=as_of, hidden=hidden, steps_remaining=None,
                           children=kids, **common)
    met = observed >= threshold
    return Explanation("module_score", ptr, met, "score.met" if met else "score.below_threshold", observed=observed,
                       threshold=threshold, unit=unit, source=source, as_of=as_of, hidden=hidden,
                       steps_remaining=0 if met else 1, children=kids, **common)


def _course_grade(node, path, ctx) -> Explanation:
    ptr, label = _pointer(path), node.get("label")
    structure = ctx.snap.structure
    threshold = float(node["min_percent"])
    if structure.course_grade_activity is not None:
        info = structure.activities[structure.course_grade_activity]
        p = ctx.progress(info.lms_id)
        maximum = (p.max_score if p is not None and p.max_score else None) or info.max_points or 100.0
        if p is None or p.score is None:
            return Explanation("course_grade", ptr, False, "grade.missing", threshold=threshold, unit="percent",
                               label=label, steps_remaining=1, deep_link=info.deep_link)
        observed = _pct(p.score, maximum)
        met = observed >= threshold
        return Explanation("course_grade", ptr, met, "grade.met" if met else "grade.below_threshold",
                           observed=observed, threshold=threshold, unit="percent", source=p.source or None,
                           as_of=p.occurred_at, label=label, hidden=not (p.released and info.released),
                           deep_link=info.deep_link, steps_remaining=0 if met else 1)
    # Computed: total points over every graded activity, missing scores counting as 0.
    summed = ctx.snap.course_total
    if summed is not None and ctx.after is None and ctx.before is None:
        total, maximum, as_of, hidden = summed.score or 0.0, summed.max_score or 0.0, summed.occurred_at, \
            not summed.released
    else:
        graded = _graded(structure, structure.activities, ctx)
        total = sum(p.score for _i, p, _m in graded if p is not None and p.score is not None)
        maximum = sum(m for _i, _p, m in graded)
        hidden = any(not (info.released and (p is None or p.released)) for info, p, _m in graded)
        as_of = _latest(p for _i, p, _m in graded)[1]
    if not maximum:
        return Explanation("course_grade", ptr, False, "grade.missing", threshold=threshold, unit="percent",
                           label=label, steps_remaining=None)
    observed = _pct(total, maximum)
    met = observed >= threshold
    return Explanation("course_grade", ptr, met, "grade.met" if met else "grade.below_threshold", observed=observed,
                       threshold=threshold, unit="percent", source=SOURCE_COMPUTED, as_of=as_of, label=label,
                       hidden=hidden, steps_remaining=0 if met else 1)


@lru_cache(maxsize=4096)
def _child_paths(path: tuple[str | int, ...], count: int) -> tuple[tuple[str | int, ...], ...]:
    """The paths of a group's children (the same for every learner of a preview)."""
    return tuple(path + ("rules", i) for i in range(count))


def _group(node, path, ctx) -> Explanation:
    kind = node["type"]
    rules = node["rules"]
    evaluators = _EVALUATORS
    kids = tuple([evaluators[child["type"]](child, child_path, ctx)
                  for child, child_path in zip(rules, _child_paths(path, len(rules)))])
    met_count = unmet_impossible = 0
    unmet_steps = []
    for k in kids:
        if k.met:
            met_count += 1
        elif k.steps_remaining is None:
            unmet_impossible += 1
        else:
            unmet_steps.append(k.steps_remaining)
    unmet_steps.sort()
    if kind == "all":
        need = len(kids)
    elif kind == "any":
        need = 1
    else:
        need = int(node["count"])
    met = met_count >= need
    missing = max(0, need - met_count)
    if met:
        steps: int | None = 0
    elif kind == "all" and unmet_impossible:
        steps = None
    elif len(unmet_steps) < missing:
        steps = None
    else:
        steps = sum(unmet_steps[:missing])
    if kind == "at_least" and need > len(kids):
        reason = "at_least.impossible"
    else:
        reason = f"{kind}.{'met' if met else 'not_met'}"
    return Explanation(kind, _pointer(path), met, reason, observed=met_count, threshold=need, unit="rules",
                       label=node.get("label"), steps_remaining=steps, children=kids)


def _dated(node, path, ctx: _Ctx) -> Explanation:
    kind, ptr, label = node["type"], _pointer(path), node.get("label")
    when = _date(node["date"])
    if "rule" not in node:
        if kind == "before":
            met = ctx.now < when
            return Explanation(kind, ptr, met, "date.open" if met else "date.closed", observed=ctx.now.isoformat(),
                               threshold=when.isoformat(), unit="date", label=label,
                               steps_remaining=0 if met else None)
        met = ctx.now >= when
        return Explanation(kind, ptr, met, "date.reached" if met else "date.not_yet", observed=ctx.now.isoformat(),
                           threshold=when.isoformat(), unit="date", label=label, steps_remaining=0 if met else 1)
    if kind == "before":
        bound = when if ctx.before is None else min(when, ctx.before)
        inner = ctx.within(ctx.after, bound)
    else:
        bound = when if ctx.after is None else max(when, ctx.after)
        inner = ctx.within(bound, ctx.before)
    child = _eval(node["rule"], path + ("rule",), inner)
    if child.met:
        reason, steps = "window.met", 0
    elif kind == "before" and ctx.now >= when:
        reason, steps = "window.closed", None
    else:
        reason, steps = "window.not_met", child.steps_remaining
    return Explanation(kind, ptr, child.met, reason, threshold=when.isoformat(), unit="date", label=label,
                       source=child.source, as_of=child.as_of, steps_remaining=steps, children=(child,))


def _badge_earned(node, path, ctx) -> Explanation:
    target = int(node["achievement"])
    met = target in ctx.snap.earned_badges
    return Explanation("badge_earned", _pointer(path), met, "badge.earned" if met else "badge.not_earned",
                       achievement=target, title=ctx.snap.structure.achievements.get(target),
                       label=node.get("label"), steps_remaining=0 if met else 1)


def _enrolled_days(node, path, ctx) -> Explanation:
    ptr, label, need = _pointer(path), node.get("label"), int(node["min_days"])
    if ctx.snap.enrolled_at is None:
        return Explanation("enrolled_days", ptr, False, "enrolment.unknown", threshold=need, unit="days",
                           label=label, steps_remaining=None)
    days = (ctx.now - ctx.snap.enrolled_at).days
    met = days >= need
    return Explanation("enrolled_days", ptr, met, "enrolment.days_met" if met else "enrolment.too_recent",
                       observed=days, threshold=need, unit="days", as_of=ctx.snap.enrolled_at, label=label,
                       steps_remaining=0 if met else 1)


_EVALUATORS: dict[str, Callable[[Mapping[str, Any], tuple[str | int, ...], _Ctx], Explanation]] = {
    "activity_completed": _activity_completed,
    "activity_score": _activity_score,
    "module_completed": _module_completed,
    "module_score": _module_score,
    "course_grade": _course_grade,
    "all": _group,
    "any": _group,
    "at_least": _group,
    "before": _dated,
    "after": _dated,
    "badge_earned": _badge_earned,
    "enrolled_days": _enrolled_days,
}
