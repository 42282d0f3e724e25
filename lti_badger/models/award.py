"""An Award is the fact that a learner earned an achievement. At most one active (or
suspended) award per learner and achievement, enforced by a partial unique index
(invariant 2); revoked and expired awards stay as history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .achievement import Achievement, AchievementVersion
from .base import Base, utcnow
from .course import Person

AWARD_ACTIVE = "active"
AWARD_SUSPENDED = "suspended"
AWARD_REVOKED = "revoked"
AWARD_EXPIRED = "expired"

# The live-award predicate of the partial unique index (also the ON CONFLICT target).
LIVE_AWARD = text("status IN ('active', 'suspended')")


class Award(Base):
    __tablename__ = "award"
    __table_args__ = (
        Index(
            "uq_award_live_person_achievement",
            "person_id",
            "achievement_id",
            unique=True,
            sqlite_where=LIVE_AWARD,
            postgresql_where=LIVE_AWARD,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievement.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("achievement_version.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=AWARD_ACTIVE)
    # Who decided: "rule", "instructor", "system"; and why, in words.
    awarded_by: Mapped[str] = mapped_column(String(20), default="rule")
    awarded_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    awarded_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[datetime | None]
    status_changed_at: Mapped[datetime | None]
    status_reason: Mapped[str | None] = mapped_column(Text)
    needs_review: Mapped[bool] = mapped_column(default=False)

    achievement: Mapped[Achievement] = relationship()
    version: Mapped[AchievementVersion] = relationship()
    person: Mapped[Person] = relationship(foreign_keys=[person_id])


class AuditEvent(Base):
    """Who did what to which thing, why, with the state before and after. Append-only."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platform.id", ondelete="SET NULL"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="SET NULL"), index=True)
    actor_type: Mapped[str] = mapped_column(String(20))  # user | rule | system | cli
    actor_id: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
