"""Blueprint: W3C VC-API issuing, `POST /credentials/issue`, for operators holding an API
token (`lti-badger api-token create`); bearer-authenticated, so no CSRF token. Verification
(`POST /credentials/verify`) is public and lives with the public pages."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, request

from ..credentials.safety import parse_json
from ..credentials.services import IssuerProfile
from ..credentials.vcapi import check_api_token, issue_posted
from .csrf import csrf_exempt
from .db import db

bp = Blueprint("vcapi", __name__)

MAX_ISSUE_BYTES = 1024 * 1024


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer ...` header, if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@bp.post("/credentials/issue")
@csrf_exempt
def issue():
    """`{"credential": {...}, "options": {...}}` -> 201 `{"verifiableCredential": {...}}`."""
    now = datetime.now(timezone.utc)
    services = current_app.extensions["lti_badger"]
    check_api_token(db(), bearer_token(), now)
    body = parse_json(request.get_data(cache=False)[: MAX_ISSUE_BYTES + 1], max_bytes=MAX_ISSUE_BYTES)
    signed = issue_posted(body, IssuerProfile.from_settings(services.settings), services.keys, now)
    return {"verifiableCredential": signed}, 201
