"""A Delivery is one push of an award change to one destination, written in the same
transaction as the award (outbox) and retried by workers until done or dead."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .award import Award
from .base import Base, utcnow

DELIVERY_PENDING = "pending"
DELIVERY_DONE = "done"
DELIVERY_DEAD = "dead"


class Delivery(Base):
    __tablename__ = "delivery"
    __table_args__ = (
        Index("ix_delivery_due", "status", "next_attempt_at"),
        # the few scores waiting to be read back, found by idle workers without a scan
        Index("ix_delivery_read_back", "id", postgresql_where=text("confirmation = 'later'"),
              sqlite_where=text("confirmation = 'later'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The award the change is about; none for a teacher's daily digest (destination "digest").
    award_id: Mapped[int | None] = mapped_column(ForeignKey("award.id", ondelete="CASCADE"), index=True)
    destination: Mapped[str] = mapped_column(String(20))  # ags | email | webhook | digest
    action: Mapped[str] = mapped_column(String(20))  # award | revoke | suspend | reinstate
    status: Mapped[str] = mapped_column(String(20), default=DELIVERY_PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A worker holds a lease while sending; an expired lease means the worker died.
    leased_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    # AGS only: the gradebook mode and award status a successful send wrote, and whether the
    # LMS's results showed it afterwards ("confirmed", "not_shown" or "unchecked").
    gradebook_mode: Mapped[str | None] = mapped_column(String(20))
    gradebook_status: Mapped[str | None] = mapped_column(String(20))
    confirmation: Mapped[str | None] = mapped_column(String(20))

    award: Mapped[Award | None] = relationship()
    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(back_populates="delivery", order_by="DeliveryAttempt.id")


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    delivery: Mapped[Delivery] = relationship(back_populates="attempt_log")


class PlatformCircuit(Base):
    """The delivery circuit of one LMS, shared by every worker: while `open_until` is ahead, no
    worker sends that platform's gradebook deliveries (a failing LMS sees a few probes per window
    instead of one request per pending delivery). `failures` counts consecutive failed windows
    (the next window grows exponentially, never shorter than the LMS's Retry-After); a success
    deletes the row."""

    __tablename__ = "platform_circuit"

    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), primary_key=True)
    open_until: Mapped[datetime]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEndpoint(Base):
    """An institution's URL that receives signed award notifications for one platform."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
