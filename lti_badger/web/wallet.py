"""Blueprint: the public side of wallet exchanges (VC-API / VCALM), called by wallet apps,
not by launched pages. The secret in the URL names a one-time exchange a learner opened;
the wallet's DID Authentication is checked by the service. CORS is open (browser wallets),
no cookies are read, no CSRF token is asked (`csrf.EXEMPT_BLUEPRINTS`), and the exchange's
answers, refusals included, are JSON."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, render_template, request, url_for

from ..credentials.exchanges import check_open, domain_of, exchange_step, lcw_deep_link, protocols
from ..credentials.safety import MAX_DOCUMENT_BYTES
from ..errors import PayloadTooLarge
from ..jsonbody import parse_json
from .db import db

bp = Blueprint("wallet", __name__)

# The exchange lives under /workflows/ (VCALM's path layout), where errors are always JSON.
WORKFLOW = "collect"


def _base_url() -> str:
    return current_app.extensions["lti_badger"].settings.public_base_url


def exchange_url(secret: str) -> str:
    return _base_url() + url_for("wallet.exchange", secret=secret)


def interaction_url(secret: str) -> str:
    return _base_url() + url_for("wallet.interaction", secret=secret, iuv=1)


def wallet_links(secret: str) -> dict[str, str]:
    """What a learner's page shows: the Learner Credential Wallet link and the interaction URL
    any VCALM wallet understands."""
    parts = urlsplit(_base_url())
    return {"lcw": lcw_deep_link(f"{parts.scheme}://{parts.netloc}", exchange_url(secret)),
            "interaction": interaction_url(secret)}


def _json(body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


@bp.after_request
def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/interactions/<secret>")
def interaction(secret: str):
    """The interaction URL: the protocols map for wallets (Accept: application/json), a page
    with directions for people."""
    check_open(db(), secret, datetime.now(timezone.utc))
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return _json(protocols(exchange_url(secret)))
    return render_template("public/wallet_interaction.html", links=wallet_links(secret))


def _message() -> Any:
    data = request.get_data(cache=False)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise PayloadTooLarge(f"the message is larger than {MAX_DOCUMENT_BYTES // 1024} KiB")
    if not data.strip():
        return {}
    return parse_json(data, "the exchange message")


@bp.post(f"/workflows/{WORKFLOW}/exchanges/<secret>")
def exchange(secret: str):
    """Participate in the exchange: `{}` gets the DID Authentication request, the signed
    presentation gets the credential."""
    body = exchange_step(db(), secret, _message(), exchange_url=exchange_url(secret), domain=domain_of(_base_url()),
                         now=datetime.now(timezone.utc))
    return _json(body)
