"""A Credential is the signed OpenBadgeCredential of an award; status lists carry its
revocation and suspension bits at randomly allocated, unique indexes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .award import Award
from .base import Base, new_uuid, utcnow

PURPOSE_REVOCATION = "revocation"
PURPOSE_SUSPENSION = "suspension"


class Credential(Base):
    __tablename__ = "credential"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id", ondelete="CASCADE"), index=True)
    # The exact JSON text we signed and serve (JSONB would reorder keys).
    document: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(255))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]

    award: Mapped[Award] = relationship()
    status_entries: Mapped[list[StatusEntry]] = relationship(back_populates="credential")


class StatusList(Base):
    __tablename__ = "status_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    # One bit per entry, most significant bit of byte 0 is index 0 (Bitstring Status List).
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatusEntry(Base):
    __tablename__ = "status_entry"
    __table_args__ = (UniqueConstraint("status_list_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_list.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credential.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))

    status_list: Mapped[StatusList] = relationship()
    credential: Mapped[Credential] = relationship(back_populates="status_entries")
