"""The web layer: blueprints per audience. Views parse, authorise, call one service, render."""

from __future__ import annotations

from flask import Flask

from . import admin, instructor, learner, lti, public, events
from .db import init_db_session
from .errors import register_error_handlers
from .security import init_security

BLUEPRINTS = (lti.bp, public.bp, instructor.bp, learner.bp, admin.bp, events.bp)


def init_app(app: Flask) -> None:
    init_db_session(app)
    init_security(app)
    register_error_handlers(app)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
