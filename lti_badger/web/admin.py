"""Blueprint: admin pages (LMS admin role or a tool admin): platforms and deployments,
progress sources, issuer profile, keys, deliveries, audit log, health."""

from __future__ import annotations

from flask import Blueprint, render_template

from .auth import ROLE_ADMIN, require_scope

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@require_scope(ROLE_ADMIN)
def index():
    return render_template("admin/index.html")
