"""The backpack a learner's LMS profile reads their badges from (Moodle's OB 2.0 backpack
client). An LTI learner has no password, so they create an *app password* for one LMS
account: it belongs to one person, i.e. one registration + `sub`, and every token it grants
reads only that person's badges. Only hashes of the secrets are stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .course import Person

TOKEN_ACCESS = "access"
TOKEN_REFRESH = "refresh"


class AppPassword(Base):
    __tablename__ = "backpack_app_password"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    # The public first part of the password: finds the row without trying every hash.
    lookup: Mapped[str] = mapped_column(String(16), unique=True)
    # sha256 (hex) of the secret part; the secret has 160 random bits, so no slow hash is needed.
    secret_hash: Mapped[str] = mapped_column(String(64))
    # The e-mail address the LMS types as the user name (the learner's address at creation).
    login: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Consecutive failed logins, and the lockout they caused (counted in the database so the
    # lockout holds across every web process).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]

    person: Mapped[Person] = relationship()


class BackpackToken(Base):
    """An access or refresh token granted to an app password; a refresh token is used once."""

    __tablename__ = "backpack_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_password_id: Mapped[int] = mapped_column(ForeignKey("backpack_app_password.id", ondelete="CASCADE"),
                                                 index=True)
    kind: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
