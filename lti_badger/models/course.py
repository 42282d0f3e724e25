"""A Course is an LTI context on a platform; it holds Modules of Activities, and People
enrolled in it with roles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .platform import Platform

ROLE_INSTRUCTOR = "instructor"
ROLE_LEARNER = "learner"
ROLE_ADMIN = "admin"

ENROLLMENT_ACTIVE = "active"
ENROLLMENT_INACTIVE = "inactive"
ENROLLMENT_DELETED = "deleted"

# Gradebook write-back of a course (deliveries.gradebook): a column per badge, a comment on
# the LTI link's own grade item with its score unchanged, or nothing.
GRADEBOOK_COLUMNS = "columns"
GRADEBOOK_FEEDBACK = "feedback"
GRADEBOOK_NONE = "none"
GRADEBOOK_MODES = (GRADEBOOK_COLUMNS, GRADEBOOK_FEEDBACK, GRADEBOOK_NONE)

# The context id of a registration's program home: the course row that holds its programs
# (criteria.programs). No LMS launches or knows it, so LMS pulls skip it.
PROGRAM_HOME_CONTEXT = "urn:lti-badger:programs"


class Course(Base):
    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id", ondelete="SET NULL"))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    label: Mapped[str] = mapped_column(String(255), default="")
    # LTI Advantage endpoints and scopes, as the latest launch gave them.
    ags_lineitems_url: Mapped[str | None] = mapped_column(String(1000))
    ags_lineitem_url: Mapped[str | None] = mapped_column(String(1000))
    ags_scopes: Mapped[list[Any]] = mapped_column(default=list)
    # The resource link whose launch gave `ags_lineitem_url` (the LTI link's own grade item).
    ags_resource_link_id: Mapped[str | None] = mapped_column(String(255))
    # Where badges go in the LMS gradebook: "columns" (one per badge), "feedback" (a comment
    # on the link's own grade item, score unchanged) or "none" (deliveries.gradebook).
    gradebook_mode: Mapped[str] = mapped_column(String(20), default=GRADEBOOK_FEEDBACK,
                                                server_default=GRADEBOOK_FEEDBACK)
    nrps_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_synced_at: Mapped[datetime | None]
    # The groups the LMS says the course is in ({"term": ..., "account": ..., "category": ...},
    # lti.services.course_groups), and when group default templates were applied (once).
    groups: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    group_defaults_at: Mapped[datetime | None]

    platform: Mapped[Platform] = relationship()


class Module(Base):
    __tablename__ = "module"
    __table_args__ = (UniqueConstraint("course_id", "lms_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    lms_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Whether the LMS itself tracks completion of this module (Canvas requirements, Moodle section).
    has_completion: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(40), default="manual")

    activities: Mapped[list[Activity]] = relationship(back_populates="module", order_by="Activity.position")


class Activity(Base):
    __tablename__ = "activity"
    __table_args__ = (UniqueConstraint("course_id", "lms_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int | None] = mapped_column(ForeignKey("module.id", ondelete="SET NULL"), index=True)
    lms_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str] = mapped_column(String(60), default="assignment")
    position: Mapped[int] = mapped_column(Integer, default=0)
    max_points: Mapped[float | None] = mapped_column(Float)
    due_at: Mapped[datetime | None]
    deep_link: Mapped[str | None] = mapped_column(String(1000))
    completion_required: Mapped[bool] = mapped_column(Boolean, default=True)
    grades_released: Mapped[bool] = mapped_column(Boolean, default=True)
    lineitem_url: Mapped[str | None] = mapped_column(String(1000))
    # The LTI resource link this activity is or grades (an LTI activity's own id, an AGS line
    # item's resourceLinkId): one LTI link seen by two sources is shown once in the builder.
    resource_link_id: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(40), default="manual")

    module: Mapped[Module | None] = relationship(back_populates="activities")


class Person(Base):
    """An LTI user of one platform (the `sub` claim); the same human on two LMSs is two people."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(300), default="")
    given_name: Mapped[str] = mapped_column(String(200), default="")
    family_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    picture: Mapped[str | None] = mapped_column(String(1000))
    locale: Mapped[str | None] = mapped_column(String(35))
    # The LMS's own user id (Canvas user id, Moodle user id) for REST/WS sources.
    lms_user_id: Mapped[str | None] = mapped_column(String(255))
    institution_roles: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Notifications (deliveries.notify): e-mail on each badge change (on unless the person
    # turned it off), and for a teacher a daily digest (off unless they opt in), with the UTC
    # day of the last digest queued ("YYYY-MM-DD"; a conditional UPDATE makes it once a day).
    notify_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    digest_daily: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    digest_sent_on: Mapped[str | None] = mapped_column(String(10))


class Enrollment(Base):
    __tablename__ = "enrollment"
    __table_args__ = (UniqueConstraint("course_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    # Our mapped role (instructor / learner / admin) and the raw LIS role URIs.
    role: Mapped[str] = mapped_column(String(20), default=ROLE_LEARNER)
    lti_roles: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default=ENROLLMENT_ACTIVE)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_launch_at: Mapped[datetime | None]
    # A learner's choice for their public credential pages: "name" or "initials" or "anonymous".
    public_display: Mapped[str] = mapped_column(String(20), default="name")

    person: Mapped[Person] = relationship()
    course: Mapped[Course] = relationship()


class ResourceLink(Base):
    __tablename__ = "resource_link"
    __table_args__ = (UniqueConstraint("course_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    # What the link opens, set by deep linking: {"view": "badges"} or {"view": "badge", "achievement": id}
    target: Mapped[dict[str, Any]] = mapped_column(default=dict)
    description: Mapped[str | None] = mapped_column(Text)
