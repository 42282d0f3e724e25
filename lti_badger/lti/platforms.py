"""Platforms (one LMS installation: issuer + client_id, endpoints, deployments): add, list,
get, remove. Used by the CLI, the admin pages and dynamic registration."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..errors import BadInput, Conflict, NotFound
from ..models import Deployment, IssuerProfileRecord, Platform


def check_url(value: str, what: str) -> str:
    """An absolute http(s) URL with a host, without a fragment."""
    value = (value or "").strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"{what} must be an absolute http(s) URL, got {value!r}")
    if parts.fragment:
        raise BadInput(f"{what} must not have a #fragment")
    return value


def find_platform(session: Session, issuer: str, client_id: str) -> Platform | None:
    return session.scalar(select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id))


def get_platform(session: Session, platform_id: int) -> Platform:
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise NotFound(f"no platform with id {platform_id}")
    return platform


def list_platforms(session: Session) -> list[Platform]:
    return list(session.scalars(select(Platform).order_by(Platform.id)))


def _deployment_name(name: str | None) -> str | None:
    name = " ".join((name or "").split())
    if len(name) > 200:
        raise BadInput("a deployment name must be at most 200 characters")
    return name or None


def add_deployment(session: Session, platform: Platform, deployment_id: str, name: str | None = None) -> Deployment:
    """The platform's deployment with this id, added if it is new (a name given renames it)."""
    deployment_id = (deployment_id or "").strip()
    if not deployment_id or len(deployment_id) > 255:
        raise BadInput("a deployment id must be 1 to 255 characters")
    name = _deployment_name(name)
    for existing in platform.deployments:
        if existing.deployment_id == deployment_id:
            if name:
                existing.name = name
                session.flush()
            return existing
    deployment = Deployment(deployment_id=deployment_id, name=name)
    platform.deployments.append(deployment)
    session.flush()
    return deployment


def add_platform(session: Session, *, issuer: str, client_id: str, auth_login_url: str, auth_token_url: str,
                 key_set_url: str, deployment_ids: Iterable[str] = (), name: str = "",
                 auth_audience: str | None = None, registered_via: str = "manual",
                 registration: dict[str, Any] | None = None, product_family: str | None = None) -> Platform:
    """Register an LMS. Duplicate (issuer, client_id) pairs are refused."""
    issuer = check_url(issuer, "issuer")  # kept exactly: it is compared with the `iss` claim
    client_id = (client_id or "").strip()
    if not client_id or len(client_id) > 255:
        raise BadInput("client_id must be 1 to 255 characters")
    if find_platform(session, issuer, client_id) is not None:
        raise Conflict(f"a platform with issuer {issuer} and client_id {client_id} is already registered")
    platform = Platform(
        name=(name or urlsplit(issuer).hostname or issuer)[:200], issuer=issuer, client_id=client_id,
        auth_login_url=check_url(auth_login_url, "auth login URL"),
        auth_token_url=check_url(auth_token_url, "auth token URL"),
        key_set_url=check_url(key_set_url, "key set URL"),
        auth_audience=auth_audience or None, registered_via=registered_via, registration=registration,
        product_family=product_family,
    )
    session.add(platform)
    session.flush()
    for deployment_id in deployment_ids:
        add_deployment(session, platform, deployment_id)
    return platform


def update_platform(session: Session, platform: Platform, *, name: str, auth_login_url: str, auth_token_url: str,
                    key_set_url: str, auth_audience: str | None = None) -> Platform:
    """Change what an admin may change: the shown name and the LMS's endpoints (an LMS moved or
    rotated its key set URL). Issuer and client_id identify the platform in every launch, so
    they never change; register a new platform instead."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise BadInput("the name must be 1 to 200 characters")
    urls = {"auth_login_url": check_url(auth_login_url, "auth login URL"),
            "auth_token_url": check_url(auth_token_url, "auth token URL"),
            "key_set_url": check_url(key_set_url, "key set URL")}
    audience = (auth_audience or "").strip() or None
    if audience is not None and len(audience) > 1000:
        raise BadInput("the auth audience must be at most 1000 characters")
    for field, value in urls.items():
        if len(value) > 1000:
            raise BadInput(f"{field.replace('_', ' ')} must be at most 1000 characters")
    platform.name, platform.auth_audience = name, audience
    for field, value in urls.items():
        setattr(platform, field, value)
    session.flush()
    return platform


def remove_platform(session: Session, platform_id: int) -> None:
    """Forget a registration and everything recorded from it (courses, people, awards and its
    issuer profile cascade)."""
    platform = get_platform(session, platform_id)
    session.execute(delete(IssuerProfileRecord).where(IssuerProfileRecord.platform_id == platform.id))
    session.delete(platform)
    session.flush()


def rename_deployment(session: Session, platform: Platform, deployment_id: str, name: str | None) -> Deployment:
    """Give a deployment the name admins know it by (empty clears it)."""
    deployment = _get_deployment(platform, deployment_id)
    deployment.name = _deployment_name(name)
    session.flush()
    return deployment


def remove_deployment(session: Session, platform: Platform, deployment_id: str) -> None:
    """Stop accepting launches from one deployment; courses launched from it keep their data."""
    platform.deployments.remove(_get_deployment(platform, deployment_id))
    session.flush()


def _get_deployment(platform: Platform, deployment_id: str) -> Deployment:
    for existing in platform.deployments:
        if existing.deployment_id == deployment_id:
            return existing
    raise NotFound(f"platform {platform.id} has no deployment {deployment_id!r}")
