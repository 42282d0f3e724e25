"""The criteria verbs that touch the database: preview a draft rule over a course, and
re-evaluate the badges a progress change can affect, handing met rules to the awards service.

Both load progress in bulk (a few queries per course, restricted to what the rules read) and
evaluate in memory with the pure `evaluate`."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from lti_badger.errors import BadInput, NotFound
from lti_badger.models import Achievement, AchievementVersion, Activity, Award, Module
from lti_badger.models.achievement import STATE_ACTIVE

from .achievements import badge_graph, get_achievement
from .evaluate import Decision, evaluate
from .rules import References, references, rule_hash, validate_rule
from .snapshots import LIVE_AWARD_STATES, active_learners, load_snapshot, load_snapshots, load_structure

log = logging.getLogger(__name__)


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """A preview allocates a few hundred thousand small immutable objects and frees none of
    them until it ends; the cyclic collector would rescan them over and over (measured: half
    of the evaluation time). Reference counting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


OnMet = Callable[[Session, Achievement, AchievementVersion, int, Decision, datetime], Any]


@dataclass(frozen=True)
class PreviewResult:
    """Who a rule would award now, compared with who holds the badge today."""

    rule_hash: str
    learners: int
    would_earn: list[int]
    would_keep: list[int]
    would_lose: list[int]
    one_step_away: list[int]
    decisions: Mapping[int, Decision] = field(repr=False)
    elapsed_ms: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        return {"learners": self.learners, "would_earn": len(self.would_earn), "would_keep": len(self.would_keep),
                "would_lose": len(self.would_lose), "one_step_away": len(self.one_step_away)}


def _rule_of(draft: Any) -> dict[str, Any]:
    if isinstance(draft, AchievementVersion):
        return draft.rule
    if isinstance(draft, Mapping) and "type" in draft:
        return dict(draft)
    if isinstance(draft, Mapping) and isinstance(draft.get("rule"), Mapping):
        return dict(draft["rule"])
    raise BadInput("give a rule, or a badge draft with a 'rule'", detail={"pointer": ""})


def _achievement_of(session: Session, course_id: int, current: Any) -> Achievement | None:
    if current is None:
        return None
    if isinstance(current, AchievementVersion):
        achievement_id = current.achievement_id
    elif isinstance(current, Achievement):
        achievement_id = current.id
    else:
        achievement_id = int(current)
    return get_achievement(session, course_id, achievement_id)


def preview(session: Session, course_id: int, rule_or_achievement_draft: Any, now: datetime, *,
            current_version: Any = None) -> PreviewResult:
    """Dry run of a rule over every active learner of the course: who would earn it now, who
    holds it under `current_version`'s achievement but would not meet the new rule (would
    lose), and who is one step away. Nothing is written."""
    started = time.perf_counter()
    rule = _rule_of(rule_or_achievement_draft)
    achievement = _achievement_of(session, course_id, current_version)
    graph = badge_graph(session, course_id)
    if achievement is not None:
        graph[achievement.id] = set(references(rule).achievements) if rule else set()
    validate_rule(rule, badge_graph=graph, achievement_id=achievement.id if achievement else None,
                  known_achievements=set(graph))
    refs = references(rule)
    learners = active_learners(session, course_id)
    badge_ids = set(refs.achievements) | ({achievement.id} if achievement else set())
    structure = load_structure(session, course_id)
    earn, keep, lose, near = [], [], [], []
    decisions: dict[int, Decision] = {}
    with _no_gc_pauses():
        snapshots = load_snapshots(session, course_id, learners, structure=structure, refs=refs, badge_ids=badge_ids,
                                   summarise_modules=True)
        for pid, snap in snapshots.items():
            decision = evaluate(rule, snap, now)
            decisions[pid] = decision
            holder = achievement is not None and achievement.id in snap.earned_badges
            if decision.met:
                (keep if holder else earn).append(pid)
            elif holder:
                lose.append(pid)
            elif decision.explanation.steps_remaining == 1:
                near.append(pid)
        # Free the snapshots (every progress row read) while the collector is still paused:
        # when it resumes, its first pass then scans only the decisions that are kept.
        count = len(snapshots)
        snapshots.clear()
    result = PreviewResult(rule_hash(rule), count, sorted(earn), sorted(keep), sorted(lose), sorted(near),
                           decisions, round((time.perf_counter() - started) * 1000, 1))
    log.info("criteria preview", extra={"course_id": course_id, **result.counts, "elapsed_ms": result.elapsed_ms})
    return result


@dataclass(frozen=True)
class Reevaluation:
    evaluated: int
    met: list[tuple[int, int]]  # (achievement id, person id) met by learners without the badge
    achievements: list[int]  # the badges re-evaluated, prerequisites first
    regressed: list[tuple[int, int]] = field(default_factory=list)  # holders who no longer meet it


# Built once (issue 17): every evaluation of new progress runs these.
_CHANGED_ACTIVITIES = (select(Activity.lms_id, Module.lms_id).outerjoin(Module, Module.id == Activity.module_id)
                       .where(Activity.course_id == bindparam("course_id"),
                              Activity.id.in_(bindparam("activity_ids", expanding=True))))
_ACTIVE_BADGES = (select(Achievement)
                  .where(Achievement.course_id == bindparam("course_id"), Achievement.state == STATE_ACTIVE,
                         Achievement.current_version_id.is_not(None))
                  .options(joinedload(Achievement.current_version)))


def _affected(session: Session, course_id: int, rules: Mapping[int, References],
              activity_ids: Collection[int] | None, awarded_badges: Collection[int] | None) -> set[int]:
    if awarded_badges is not None:
        return _with_dependants(rules, awarded_badges) - set(awarded_badges)
    if activity_ids is None:
        return set(rules)
    rows = session.execute(_CHANGED_ACTIVITIES,
                           {"course_id": course_id, "activity_ids": sorted(set(activity_ids))}).all()
    if not rows:
        return set()
    lms_ids = {a for a, _m in rows}
    module_ids = {m for _a, m in rows if m is not None}
    direct = {aid for aid, refs in rules.items()
              if refs.course_grade or refs.activities & lms_ids or refs.modules & module_ids}
    return _with_dependants(rules, direct)


def _with_dependants(rules: Mapping[int, References], seeds: Iterable[int]) -> set[int]:
    """Badges requiring an affected badge (through badge_earned chains) are affected too."""
    out = set(seeds)
    changed = True
    while changed:
        changed = False
        for aid, refs in rules.items():
            if aid not in out and refs.achievements & out:
                out.add(aid)
                changed = True
    return out


def _dependency_order(rules: Mapping[int, References], ids: Iterable[int]) -> list[int]:
    """Prerequisite badges first, so a pathway badge sees an award made in the same pass."""
    ordered: list[int] = []
    seen: set[int] = set()

    def visit(aid: int, trail: frozenset[int]) -> None:
        if aid in seen or aid in trail:
            return
        for dep in sorted(rules[aid].achievements if aid in rules else ()):
            if dep in wanted:
                visit(dep, trail | {aid})
        seen.add(aid)
        ordered.append(aid)

    wanted = set(ids)
    for aid in sorted(wanted):
        visit(aid, frozenset())
    return ordered


def reevaluate(session: Session, course_id: int, person_ids: Iterable[int], now: datetime, *,
               activity_ids: Collection[int] | None = None, awarded_badges: Collection[int] | None = None,
               on_met: OnMet | None = None, on_unmet: OnMet | None = None) -> Reevaluation:
    """Re-evaluate the active badges that the changed activities (database ids; None: any
    change) can affect, or, given `awarded_badges`, the badges that require those (a pathway
    whose prerequisite was just awarded by hand), for the given learners with an active enrolment, and call
    `on_met(session, achievement, version, person_id, decision, now)` for every rule met by a
    learner who holds no live award of that badge yet. `on_unmet` (same arguments, e.g.
    `awards.services.handle_regression`) is called for holders of a live award who no longer
    meet the current rule. Without callables it only reports."""
    # Current versions joined in the same query, not one per badge; held by `achievements`, they stay
    # in the identity map for the on_met / on_unmet callables too.
    achievements = {a.id: a for a in session.scalars(_ACTIVE_BADGES, {"course_id": course_id})}
    rules = {aid: references(a.current_version.rule) for aid, a in achievements.items() if a.current_version.rule}
    targets = _dependency_order(rules, _affected(session, course_id, rules, activity_ids, awarded_badges))
    if not targets:
        return Reevaluation(0, [], [], [])
    learners = active_learners(session, course_id, person_ids)
    if not learners:
        return Reevaluation(0, [], targets, [])
    merged = References(
        activities=frozenset().union(*(rules[a].activities for a in targets)),
        modules=frozenset().union(*(rules[a].modules for a in targets)),
        course_grade=any(rules[a].course_grade for a in targets),
        course_grade_windowed=any(rules[a].course_grade_windowed for a in targets),
    )
    prerequisites = set().union(*(rules[a].achievements for a in targets))
    badge_ids = set(targets) | prerequisites
    snapshots = load_snapshots(session, course_id, learners, refs=merged, badge_ids=badge_ids)
    met: list[tuple[int, int]] = []
    regressed: list[tuple[int, int]] = []
    evaluated = 0
    for aid in targets:
        achievement = achievements[aid]
        version = achievement.current_version
        for pid in sorted(snapshots):
            snap = snapshots[pid]
            holder = aid in snap.earned_badges
            if holder and on_unmet is None:
                continue
            evaluated += 1
            decision = evaluate(version.rule, snap, now)
            if holder:
                if not decision.met:
                    on_unmet(session, achievement, version, pid, decision, now)
                    regressed.append((aid, pid))
                continue
            if not decision.met:
                continue
            met.append((aid, pid))
            if on_met is None:
                continue
            awarded = on_met(session, achievement, version, pid, decision, now)
            # A later badge of this pass that requires this one must see the award.
            if aid in prerequisites and (awarded is not None or _holds_live_award(session, course_id, aid, pid)):
                snapshots[pid] = replace(snap, earned_badges=snap.earned_badges | {aid})
    log.info("criteria reevaluated", extra={"course_id": course_id, "achievements": targets,
                                            "learners": len(learners), "evaluated": evaluated, "met": len(met)})
    return Reevaluation(evaluated, met, targets, regressed)


def _holds_live_award(session: Session, course_id: int, achievement_id: int, person_id: int) -> bool:
    return session.scalar(select(Award.id).where(
        Award.course_id == course_id, Award.achievement_id == achievement_id, Award.person_id == person_id,
        Award.status.in_(LIVE_AWARD_STATES)).limit(1)) is not None


def explain(session: Session, course_id: int, achievement_id: int, person_id: int, now: datetime, *,
            for_learner: bool = True) -> Decision:
    """One learner's decision on one badge of the course under its current version: the
    learner's "why not yet" (with unreleased grades hidden unless `for_learner=False`)."""
    achievement = _achievement_of(session, course_id, achievement_id)
    version = achievement.current_version
    if version is None or not version.rule:
        raise NotFound("this badge has no rule: it is awarded by hand")
    snap = load_snapshot(session, course_id, person_id)
    decision = evaluate(version.rule, snap, now)
    return decision.for_learner() if for_learner else decision


def qualifies(session: Session, course_id: int, rule: Mapping[str, Any], person_id: int, now: datetime) -> bool:
    """Whether a learner meets a rule now (e.g. for the awards "flag" edit policy)."""
    return evaluate(rule, load_snapshot(session, course_id, person_id), now).met
