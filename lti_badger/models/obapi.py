"""The standard APIs' state: operator API tokens (W3C VC-API issuing), and the 1EdTech OB 3.0
API's OAuth 2.0 clients (registered dynamically, RFC 7591), authorization codes and tokens,
and what a learner's wallet stored on the tool (credentials and profile). A code or token
belongs to one person, i.e. one registration + `sub`: it reads only that learner's
credentials. Only sha256 hashes of secrets are stored (each secret has >= 160 random bits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .course import Person


class ApiToken(Base):
    """An operator's bearer token for `POST /credentials/issue`, made with the CLI."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class OAuthClient(Base):
    """A wallet or backpack registered with RFC 7591; its metadata as registered."""

    __tablename__ = "oauth_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    client_name: Mapped[str] = mapped_column(String(200))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthCode(Base):
    """An authorization code the learner's consent produced, PKCE-bound, used once."""

    __tablename__ = "oauth_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_client.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    client: Mapped[OAuthClient] = relationship()
    person: Mapped[Person] = relationship()


class OAuthToken(Base):
    """An access token (and its refresh token) for one client and one learner."""

    __tablename__ = "oauth_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_client.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    client: Mapped[OAuthClient] = relationship()
    person: Mapped[Person] = relationship()


class HostedCredential(Base):
    """A credential a learner's client stored on the tool (OB 3.0 `upsertCredential`),
    keyed by the credential's own `id` per learner."""

    __tablename__ = "hosted_credential"
    __table_args__ = (UniqueConstraint("person_id", "credential_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1000))
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class HostedProfile(Base):
    """The learner's OB 3.0 Profile as their client last put it (`putProfile`)."""

    __tablename__ = "hosted_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
