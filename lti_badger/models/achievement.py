"""An Achievement is a badge definition in a course; every edit of what it certifies makes a
new AchievementVersion, and awards point at the version they were earned under."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, new_uuid, utcnow

STATE_DRAFT = "draft"
STATE_ACTIVE = "active"
STATE_ARCHIVED = "archived"


class Achievement(Base):
    __tablename__ = "achievement"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=STATE_DRAFT)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("achievement_version.id", use_alter=True, ondelete="SET NULL")
    )
    # Policies: what a grade regression after an award does ("none" | "suspend"), and what an
    # edit does to earlier earners ("keep" | "award_new" | "flag").
    regression_policy: Mapped[str] = mapped_column(String(20), default="none")
    # AGS line item created for this badge in the course gradebook.
    lineitem_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    current_version: Mapped[AchievementVersion | None] = relationship(foreign_keys=[current_version_id], post_update=True)
    versions: Mapped[list[AchievementVersion]] = relationship(
        foreign_keys="AchievementVersion.achievement_id", back_populates="achievement", order_by="AchievementVersion.number"
    )


class AchievementVersion(Base):
    __tablename__ = "achievement_version"
    __table_args__ = (UniqueConstraint("achievement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievement.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    criteria_narrative: Mapped[str] = mapped_column(Text, default="")
    # The machine rule (criteria/ schema) and its canonical hash, quoted in evidence.
    rule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rule_hash: Mapped[str] = mapped_column(String(64), default="")
    achievement_type: Mapped[str] = mapped_column(String(60), default="Badge")
    # Everything else OB3 can say: tags, alignments, EU micro-credential fields, language,
    # evidence options ({"include_grades": bool}), image data url or template.
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    image_type: Mapped[str | None] = mapped_column(String(40))
    image: Mapped[bytes | None] = mapped_column(LargeBinary)
    validity_days: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    achievement: Mapped[Achievement] = relationship(foreign_keys=[achievement_id], back_populates="versions")
