"""Endorsements (OB 3.0 `EndorsementCredential`): an LMS admin invites an endorser (an employer,
a professional body) to endorse a badge of their registration by a one-time link; the endorser
signs through the tool, which holds a key for the endorser's organisation under its own did:web
(`credentials/endorsements.py`, docs/credentials.md). An `Endorser` is that organisation, known
by the e-mail domain the invitation went to; each `Endorsement` has its own revocation bit in
the endorser's status list (`status_index`, unique per endorser)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_uuid, utcnow

ENDORSEMENT_INVITED = "invited"
ENDORSEMENT_SIGNED = "signed"
ENDORSEMENT_WITHDRAWN = "withdrawn"


class Endorser(Base):
    __tablename__ = "endorser"
    __table_args__ = (UniqueConstraint("platform_id", "email_domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # In the endorser's DID (did:web:HOST:endorsers:<public_id>) and its status list URL.
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The domain of the address the one-time link was sent to: what the tool vouches for.
    email_domain: Mapped[str] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Endorsement(Base):
    __tablename__ = "endorsement"
    __table_args__ = (UniqueConstraint("endorser_id", "status_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievement.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=ENDORSEMENT_INVITED)
    # The invitation: sha256 of the one-time secret (never the secret), its deadline.
    invited_email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    invited_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # What the endorser gave and signed.
    endorser_id: Mapped[int | None] = mapped_column(ForeignKey("endorser.id", ondelete="CASCADE"), index=True)
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signer_email: Mapped[str | None] = mapped_column(String(320))
    comment: Mapped[str | None] = mapped_column(Text)
    version_number: Mapped[int | None] = mapped_column(Integer)
    document: Mapped[str | None] = mapped_column(Text)  # the signed EndorsementCredential, as served
    signed_at: Mapped[datetime | None]
    status_index: Mapped[int | None] = mapped_column(Integer)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
