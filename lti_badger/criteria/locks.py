"""Serialising evaluations that could otherwise miss each other's writes on PostgreSQL.

Under READ COMMITTED an evaluation sees what was committed before its statements ran. Two
cases would then lose an award for good:
- two events of one learner committed at once (activity 1 and activity 2 of a badge that
  needs both): each transaction sees only its own progress and neither awards;
- an event arriving while an instructor enables a badge: the event's evaluation still sees the
  badge as a draft, the retroactive evaluation does not see the event's progress yet.

Transaction-scoped advisory locks close both: an event evaluation holds the course's lock
shared and its learners' locks exclusive (taken after its progress is written, in one fixed
order so that batches cannot deadlock); enabling a badge or re-evaluating a course holds the
course's lock exclusive. The waiting side then runs after the other's commit and sees it.
SQLite needs nothing: its single writer holds the database from the first write to commit.
Course locks use the one-key space and learner locks the two-key space, which never overlap."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


_LOCK_LEARNERS = text(
    "SELECT CASE WHEN p IS NULL THEN pg_advisory_xact_lock_shared(CAST(c AS bigint)) "
    "ELSE pg_advisory_xact_lock(c, p) END "
    "FROM unnest(CAST(:courses AS integer[]), CAST(:people AS integer[])) WITH ORDINALITY AS t(c, p, n) ORDER BY n")


def lock_learners(session: Session, learners: set[tuple[int, int]]) -> None:
    """Before evaluating new progress of these (course, learner) pairs."""
    if not learners or not _postgresql(session):
        return
    courses = sorted({course for course, _ in learners})
    pairs = sorted(learners)
    session.execute(_LOCK_LEARNERS, {"courses": courses + [c for c, _ in pairs],
                                     "people": [None] * len(courses) + [p for _, p in pairs]})


def lock_course(session: Session, course_id: int) -> None:
    """Before evaluating every learner of a course after its badges changed."""
    if _postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(CAST(:c AS bigint))"), {"c": course_id})
