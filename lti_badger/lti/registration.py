"""How an LMS learns about the tool: the Canvas developer-key JSON, and LTI Dynamic
Registration 1.0 (https://www.imsglobal.org/spec/lti-dr/v1p0): read the platform's
openid-configuration, POST our client registration, store the new platform."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy.orm import Session

from ..errors import BadInput, UpstreamError
from ..models import Platform
from . import claims as c
from .platforms import LOOPBACK_HOSTS, add_deployment, add_platform, check_url, find_platform

log = logging.getLogger(__name__)

TOOL_TITLE = "lti_badger"
TOOL_DESCRIPTION = ("Open Badges 3.0 for your course: learners earn signed badges the moment they meet "
                    "the criteria, and the result is written back to the gradebook.")
# Canvas placements that launch without a course (no context claim): they open "All my badges".
PERSON_PLACEMENTS = ("user_navigation", "global_navigation")
PERSON_LABEL = "My badges"
PERSON_CUSTOM = {c.CUSTOM_VIEW: c.VIEW_ALL}
CLAIMS_WANTED = ["sub", "iss", "name", "given_name", "family_name", "email", "picture", "locale"]
HTTP_TIMEOUT = 15


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
        "custom_fields": {"canvas_user_id": "$Canvas.user.id", "canvas_course_id": "$Canvas.course.id"},
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


def _https_or_loopback(url: str, what: str) -> str:
    url = check_url(url, what)
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
        raise BadInput(f"{what} must use https (plain http only on loopback)")
    return url


def _json(response: requests.Response, what: str) -> dict[str, Any]:
    if not response.ok:
        raise UpstreamError(f"{what} answered {response.status_code}: {response.text[:300]}",
                            detail={"status": response.status_code})
    try:
        body = response.json()
    except ValueError as e:
        raise UpstreamError(f"{what} did not answer JSON") from e
    if not isinstance(body, dict):
        raise UpstreamError(f"{what} did not answer a JSON object")
    return body


def fetch_platform_config(http: requests.Session, openid_configuration: str, token: str | None) -> dict[str, Any]:
    """The platform's openid-configuration, checked: its issuer's host is the host we fetched it from."""
    url = _https_or_loopback(openid_configuration, "openid_configuration")
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        config = _json(http.get(url, headers=headers, timeout=HTTP_TIMEOUT), "the platform's openid-configuration")
    except requests.RequestException as e:
        raise UpstreamError(f"could not read the platform's openid-configuration: {e}") from e
    issuer = config.get("issuer")
    if not isinstance(issuer, str) or urlsplit(issuer).hostname != urlsplit(url).hostname:
        raise BadInput("the platform's issuer does not match the host of its openid-configuration URL",
                       detail={"issuer": str(issuer), "openid_configuration": url})
    for key in ("authorization_endpoint", "registration_endpoint", "jwks_uri", "token_endpoint"):
        if not isinstance(config.get(key), str):
            raise BadInput(f"the platform's openid-configuration has no {key}")
        _https_or_loopback(config[key], key)
    return config


def register_platform(session: Session, http: requests.Session, urls: ToolUrls, openid_configuration: str,
                      registration_token: str | None) -> Platform:
    """Run dynamic registration against one platform and store what it answered."""
    config = fetch_platform_config(http, openid_configuration, registration_token)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        response = http.post(config["registration_endpoint"], json=client_registration(urls, config),
                             headers=headers, timeout=HTTP_TIMEOUT)
    except requests.RequestException as e:
        raise UpstreamError(f"could not reach the platform's registration endpoint: {e}") from e
    answer = _json(response, "the platform's registration endpoint")
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
    log.info("platform registered dynamically", extra={"platform_id": platform.id, "issuer": issuer})
    return platform
