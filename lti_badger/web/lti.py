"""Blueprint: LTI 1.3 endpoints (OIDC login, launch, JWKS, Canvas config, dynamic registration)."""

from flask import Blueprint

bp = Blueprint("lti", __name__)
