"""The issuer profile an LMS admin sets for their institution: the name, web site, e-mail,
description and image that credentials of that registration's courses show. Keyed by the
platform (registration: issuer + client id), never the issuer string: Canvas cloud gives
every institution the same issuer. Any field left empty falls back to the configuration
(`issuer_name`, ...). The signing identity (did:web) is not here: it is the tool's, one for
all LMSs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_uuid, utcnow


class IssuerProfileRecord(Base):
    __tablename__ = "issuer_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    # In the public image URL; the issuer string is a URL itself and stays out of paths.
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(1000))
    email: Mapped[str | None] = mapped_column(String(320))
    description: Mapped[str | None] = mapped_column(Text)
    image_type: Mapped[str | None] = mapped_column(String(40))
    image: Mapped[bytes | None] = mapped_column(LargeBinary)
    # ISO 3166-1 alpha-2 code of the issuer's country (EU micro-credential element).
    country: Mapped[str | None] = mapped_column(String(2))
    # "one": one revocation entry in each credential, valid under the official OB 3.0 schema
    # (the default); "two": revocation and suspension entries, as VC 2.0 / OB 3.1 allow.
    status_entries: Mapped[str] = mapped_column(String(8), default="one", server_default="one")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<IssuerProfileRecord {self.id} platform {self.platform_id}>"
