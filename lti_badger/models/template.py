"""Institution criteria policy of one registration (platform): criteria templates an LMS admin
publishes, which badge a template made (and how its roles were mapped), defaults by course
group, the approval switch, and approval requests of instructors' badges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

APPROVAL_PENDING = "pending"
APPROVAL_APPROVED = "approved"
APPROVAL_REJECTED = "rejected"


class CriteriaTemplate(Base):
    """A rule whose activities and modules are *roles* ("role:final_exam") an instructor maps
    to the course's own, with badge fields the admin may lock."""

    __tablename__ = "criteria_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    # [{"key": "final", "label": "Final exam", "kind": "activity" | "module"}]
    roles: Mapped[list[Any]] = mapped_column(default=list)
    rule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Badge fields the template sets: achievement_type, validity_days, details (EU elements...).
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Groups of fields an instructor may not change (templates.LOCK_GROUPS).
    locked: Mapped[list[Any]] = mapped_column(default=list)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TemplateAttachment(Base):
    """The badge a template made in a course, with the instructor's role mapping."""

    __tablename__ = "template_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievement.id", ondelete="CASCADE"), unique=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("criteria_template.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    # {"role key": ["lms id", ...]}
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attached_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    attached_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupDefault(Base):
    """Attach `template_id` to every course of a group (a term, a Canvas sub-account, a Moodle
    category) when such a course first launches."""

    __tablename__ = "template_group_default"
    __table_args__ = (UniqueConstraint("platform_id", "group_kind", "group_value", "template_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    group_kind: Mapped[str] = mapped_column(String(20))  # term | account | category
    group_value: Mapped[str] = mapped_column(String(255))
    template_id: Mapped[int] = mapped_column(ForeignKey("criteria_template.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CriteriaPolicy(Base):
    """A registration's switches: whether instructors' badges wait for an admin's approval."""

    __tablename__ = "criteria_policy"

    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), primary_key=True)
    approval_required: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ApprovalRequest(Base):
    """An instructor asks that a badge issue under the institution's name; the latest request
    of a badge is its approval state."""

    __tablename__ = "approval_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievement.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    version_number: Mapped[int] = mapped_column()
    state: Mapped[str] = mapped_column(String(20), default=APPROVAL_PENDING)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str] = mapped_column(Text, default="")
