"""How an LMS learns about the tool: the Canvas developer-key JSON, and LTI Dynamic
Registration 1.0 (https://www.imsglobal.org/spec/lti-dr/v1p0): read the platform's
openid-configuration, POST our client registration, store the new platform.

Registration makes the tool fetch a URL its visitor chose, so it is closed by default: it
opens for one LMS with a one-time invite (`lti-badger platform invite`, 24 hours, stored
hashed, used up by the registration that succeeds) or for the issuer hosts the operator names
in `registration_allowed_hosts`. Every request goes through the outbound client."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import BadInput, Conflict, Forbidden, UpstreamError
from ..models import Platform, RegistrationInvite
from ..outbound import METADATA_MAX_BYTES, OutboundClient, OutboundResponse
from . import claims as c
from .platforms import add_deployment, add_platform, check_url, find_platform

log = logging.getLogger(__name__)

TOOL_TITLE = "lti_badger"
TOOL_DESCRIPTION = ("Open Badges 3.0 for your course: learners earn signed badges the moment they meet "
                    "the criteria, and the result is written back to the gradebook.")
# Canvas placements that launch without a course (no context claim): they open "All my badges".
PERSON_PLACEMENTS = ("user_navigation", "global_navigation")
PERSON_LABEL = "My badges"
PERSON_CUSTOM = {c.CUSTOM_VIEW: c.VIEW_ALL}
CLAIMS_WANTED = ["sub", "iss", "name", "given_name", "family_name", "email", "picture", "locale"]
INVITE_LIFETIME = timedelta(hours=24)
OPENID_CONFIGURATION = "the platform's openid-configuration"
REGISTRATION_ENDPOINT = "the platform's registration endpoint"
CLOSED = ("dynamic registration is closed on this tool: ask its operator for a registration link "
          "(`lti-badger platform invite`), or to name your LMS's host in registration_allowed_hosts")


@dataclass(frozen=True)
class ToolUrls:
    """The tool's fixed URLs under its public base URL."""

    base_url: str

    @property
    def login(self) -> str:
        return f"{self.base_url}/lti/login"

    @property
    def launch(self) -> str:
        return f"{self.base_url}/lti/launch"

    @property
    def jwks(self) -> str:
        return f"{self.base_url}/.well-known/jwks.json"

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc


def canvas_config(urls: ToolUrls) -> dict[str, Any]:
    """Canvas developer key JSON (Admin > Developer Keys > + LTI Key > Paste JSON / Enter URL)."""
    placement_course = {"placement": "course_navigation", "message_type": c.MSG_RESOURCE_LINK,
                        "text": "Badges", "target_link_uri": urls.launch, "enabled": True}
    deep_linking = [{"placement": placement, "message_type": c.MSG_DEEP_LINKING, "text": "Badges",
                     "target_link_uri": urls.launch, "selection_height": 600, "selection_width": 800}
                    for placement in ("link_selection", "assignment_selection")]
    person = [{"placement": placement, "message_type": c.MSG_RESOURCE_LINK, "text": PERSON_LABEL,
               "target_link_uri": urls.launch, "enabled": True, "custom_fields": PERSON_CUSTOM}
              for placement in PERSON_PLACEMENTS]
    return {
        "title": TOOL_TITLE,
        "description": TOOL_DESCRIPTION,
        "oidc_initiation_url": urls.login,
        "target_link_uri": urls.launch,
        "public_jwk_url": urls.jwks,
        "scopes": list(c.TOOL_SCOPES),
        "extensions": [{
            "domain": urls.domain,
            "tool_id": "lti-badger",
            "platform": "canvas.instructure.com",
            "privacy_level": "public",
            "settings": {"text": "Badges", "placements": [placement_course, *person, *deep_linking]},
        }],
        "custom_fields": {"canvas_user_id": "$Canvas.user.id", "canvas_course_id": "$Canvas.course.id",
                          # course groups for template defaults (lti.services.course_groups)
                          "canvas_term_name": "$Canvas.term.name", "canvas_account_name": "$Canvas.account.name"},
    }


def client_registration(urls: ToolUrls, platform_config: dict[str, Any]) -> dict[str, Any]:
    """Our OpenID client registration with the LTI tool configuration claim (DR 1.0 §3.4)."""
    supported = platform_config.get("scopes_supported")
    scopes = [s for s in c.TOOL_SCOPES if not isinstance(supported, list) or s in supported]
    product = (platform_config.get(c.PLATFORM_CONFIGURATION) or {}).get("product_family_code", "")
    moodle = product == "moodle"
    deep_link_placements = ["ContentItemSelectionRequest"] if moodle else ["link_selection", "assignment_selection"]
    person = [] if moodle else [{"type": c.MSG_RESOURCE_LINK, "target_link_uri": urls.launch, "label": PERSON_LABEL,
                                 "placements": list(PERSON_PLACEMENTS), "custom_parameters": PERSON_CUSTOM}]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login,
        "redirect_uris": [urls.launch],
        "client_name": TOOL_TITLE,
        "jwks_uri": urls.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        c.TOOL_CONFIGURATION: {
            "domain": urls.domain,
            "description": TOOL_DESCRIPTION,
            "target_link_uri": urls.launch,
            "claims": CLAIMS_WANTED,
            "custom_parameters": {},
            "messages": [
                {"type": c.MSG_RESOURCE_LINK, "target_link_uri": urls.launch, "label": "Badges",
                 "placements": ["course_navigation"]},
                *person,
                {"type": c.MSG_DEEP_LINKING, "target_link_uri": urls.launch, "label": "Badges",
                 "placements": deep_link_placements},
            ],
            "https://canvas.instructure.com/lti/privacy_level": "public",
        },
    }


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(session: Session, now: datetime, note: str = "") -> str:
    """A new one-time registration invite; returns its secret (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(RegistrationInvite(token_hash=_hash(token), note=note[:200], created_at=now,
                                   expires_at=now + INVITE_LIFETIME))
    session.flush()
    return token


def host_allowed(host: str, allowed_hosts: str) -> bool:
    """Whether `registration_allowed_hosts` (names separated by commas or spaces; `*.example.edu`
    for every subdomain) names this host."""
    host = host.lower().rstrip(".")
    for entry in allowed_hosts.replace(",", " ").lower().split():
        entry = entry.rstrip(".")
        if host == entry or (entry.startswith("*.") and host.endswith(entry[1:])):
            return True
    return False


def open_registration(session: Session, openid_configuration: str, invite: str, allowed_hosts: str,
                      now: datetime) -> RegistrationInvite | None:
    """Whether this registration may start, before anything is fetched: the invite it carries
    (returned, to be used up on success), or an allowed issuer host (None). `Forbidden` otherwise."""
    if invite:
        row = session.scalar(select(RegistrationInvite).where(RegistrationInvite.token_hash == _hash(invite)))
        if row is None:
            raise Forbidden("this registration link is not valid: ask the tool's operator for a new one "
                            "(`lti-badger platform invite`)")
        if row.used_at is not None:
            raise Forbidden("this registration link was already used: ask the tool's operator for a new one")
        if row.expires_at <= now:
            raise Forbidden("this registration link has expired: ask the tool's operator for a new one")
        return row
    if not host_allowed(urlsplit(openid_configuration).hostname or "", allowed_hosts):
        raise Forbidden(CLOSED)
    return None


def _object(response: OutboundResponse) -> dict[str, Any]:
    body = response.raise_for_status().json()
    if not isinstance(body, dict):
        raise UpstreamError(f"{response.purpose} did not answer a JSON object")
    return body


def fetch_platform_config(http: OutboundClient, openid_configuration: str, token: str | None) -> dict[str, Any]:
    """The platform's openid-configuration, checked: its issuer's host is the host we fetched it
    from, and its endpoints are URLs our outbound policy reaches."""
    url = check_url(openid_configuration, "openid_configuration")
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    config = _object(http.request("GET", url, purpose=OPENID_CONFIGURATION, headers=headers,
                                  max_bytes=METADATA_MAX_BYTES))
    issuer = config.get("issuer")
    if not isinstance(issuer, str) or urlsplit(issuer).hostname != urlsplit(url).hostname:
        log.warning("platform issuer on another host", extra={"issuer": str(issuer)[:300], "url": url})
        raise BadInput("the platform's issuer does not match the host of its openid-configuration URL",
                       detail={"openid_configuration": url})
    for key in ("authorization_endpoint", "registration_endpoint", "jwks_uri", "token_endpoint"):
        if not isinstance(config.get(key), str):
            raise BadInput(f"the platform's openid-configuration has no {key}")
        http.vet(check_url(config[key], key), f"the platform's {key}")
    return config


def register_platform(session: Session, http: OutboundClient, urls: ToolUrls, openid_configuration: str,
                      registration_token: str | None, *, invite: RegistrationInvite | None,
                      now: datetime) -> Platform:
    """Run dynamic registration against one platform, store what it answered, and use up the
    invite it came with (a failed registration leaves the invite as it was)."""
    config = fetch_platform_config(http, openid_configuration, registration_token)
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    answer = _object(http.request("POST", config["registration_endpoint"], purpose=REGISTRATION_ENDPOINT,
                                  json=client_registration(urls, config), headers=headers,
                                  max_bytes=METADATA_MAX_BYTES))
    client_id = answer.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise UpstreamError("the platform's registration answer has no client_id")
    tool_config = answer.get(c.TOOL_CONFIGURATION) or {}
    deployment_id = tool_config.get("deployment_id") if isinstance(tool_config, dict) else None
    platform_config = config.get(c.PLATFORM_CONFIGURATION) or {}
    issuer = config["issuer"]
    platform = find_platform(session, issuer, client_id)
    if platform is None:
        platform = add_platform(
            session, issuer=issuer, client_id=client_id, auth_login_url=config["authorization_endpoint"],
            auth_token_url=config["token_endpoint"], key_set_url=config["jwks_uri"],
            name=str(platform_config.get("https://canvas.instructure.com/lti/account_name") or ""),
            registered_via="dynamic", registration={"openid_configuration": config, "client": answer},
            product_family=str(platform_config.get("product_family_code") or "") or None,
        )
    if isinstance(deployment_id, str) and deployment_id:
        add_deployment(session, platform, deployment_id)
    if invite is not None:
        used = session.execute(update(RegistrationInvite).where(
            RegistrationInvite.id == invite.id, RegistrationInvite.used_at.is_(None)).values(
            used_at=now, platform_id=platform.id))
        if used.rowcount != 1:
            raise Conflict("this registration link was used by another registration at the same time")
    log.info("platform registered dynamically", extra={"platform_id": platform.id, "issuer": issuer,
                                                       "invite_id": invite.id if invite else None})
    return platform
