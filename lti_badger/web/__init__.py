"""The web layer: blueprints per audience. Views parse, authorise, call one service, render."""

from __future__ import annotations

from flask import Blueprint, Flask

from . import (admin, admin_policy, backpack, course_templates, endorsements, events, instructor, learner, lti, obapi, ops,
               public, reports, vcapi, wallet)
from .db import init_db_session
from .errors import register_error_handlers
from .csrf import init_csrf
from .i18n import init_i18n
from .limits import init_limits
from .navigation import NavigationPosts
from .security import init_security
from .templating import init_templating

static_assets = Blueprint("static_assets", __name__, static_folder="static", static_url_path="/assets")

BLUEPRINTS = (lti.bp, public.bp, instructor.bp, learner.bp, admin.bp, admin_policy.bp, course_templates.bp, reports.bp,
              endorsements.bp, endorsements.public_bp, events.bp, wallet.bp, backpack.bp, vcapi.bp,
              obapi.oauth_bp, obapi.bp, ops.bp)


def init_app(app: Flask) -> None:
    ops.init_ops(app)
    init_db_session(app)
    init_security(app)
    register_error_handlers(app)
    init_i18n(app)
    init_limits(app)
    init_csrf(app)
    init_templating(app)
    app.register_blueprint(static_assets)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    backpack.init_rate_limit(app)
    obapi.init_app(app)
    app.wsgi_app = NavigationPosts(app.wsgi_app)  # type: ignore[method-assign]
