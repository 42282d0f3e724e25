"""Languages: English and Spanish. The locale comes from the LTI launch's `locale` claim
(kept in the launch scope), else from the browser's Accept-Language, else English."""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import Babel

from ..errors import BadgerError
from .auth import find_scope

SUPPORTED_LOCALES = ("en", "es")
DEFAULT_LOCALE = "en"


def normalise_locale(tag: str | None) -> str | None:
    """'es-ES', 'es_MX', 'ES' -> 'es'; unsupported or empty -> None."""
    if not tag:
        return None
    primary = tag.replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in SUPPORTED_LOCALES else None


def select_locale() -> str:
    if "locale" in g:
        return g.locale
    locale = None
    try:
        scope = find_scope()
    except BadgerError:
        scope = None
    if scope is not None:
        locale = normalise_locale(scope.locale)
    if locale is None:
        locale = request.accept_languages.best_match(SUPPORTED_LOCALES)
    g.locale = locale or DEFAULT_LOCALE
    return g.locale


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    Babel(app, locale_selector=select_locale)

    @app.context_processor
    def _locale() -> dict:
        return {"current_locale": select_locale()}
