"""A wallet exchange: a one-time, short-lived VC-API exchange through which a learner's
wallet collects their credential. Only a hash of the secret in the exchange URL is stored,
so the table alone cannot be used to collect anything."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class WalletExchange(Base):
    __tablename__ = "wallet_exchange"

    # sha256 (hex) of the random secret that names the exchange in its URLs
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credential.id", ondelete="CASCADE"), index=True)
    challenge: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    collected_at: Mapped[datetime | None]
    # the DID that proved control of its key when collecting
    holder: Mapped[str | None] = mapped_column(String(500))
