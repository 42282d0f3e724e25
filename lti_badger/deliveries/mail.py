"""The e-mails people get, in their launch language (English or Spanish): a badge change for a
learner and the daily digest for a teacher, each as plain text and HTML from the templates in
`templates/`, with a one-click unsubscribe link carrying a signed token (RFC 8058)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import escape
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..errors import N_, BadInput
from ..settings import Settings

TEMPLATES = Path(__file__).resolve().parent / "templates"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LANGUAGES = ("en", "es")
UNSUBSCRIBE_SALT = "lti-badger.unsubscribe"
# What an unsubscribe token turns off: a learner's badge e-mails, a teacher's digest.
TOPIC_BADGES = "badges"
TOPIC_DIGEST = "digest"
TOPICS = (TOPIC_BADGES, TOPIC_DIGEST)
BAD_LINK = N_("this unsubscribe link is not valid (it may be cut short or altered)")


def language(tag: str | None) -> str:
    """'es-MX', 'es_ES' -> 'es'; anything else (or none) -> 'en'."""
    primary = (tag or "").replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in LANGUAGES else "en"


def mail_enabled(settings: Settings) -> bool:
    """Notifications go out only with a configured mail backend: SMTP, or the development file
    sink; "off" (the default, no SMTP configured) queues no e-mail at all."""
    return settings.mail_backend in ("smtp", "file")


@lru_cache(maxsize=len(LANGUAGES))
def _environment(lang: str) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    catalogue = Translations.load(str(TRANSLATIONS), [lang]) if lang != "en" else NullTranslations()
    env.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
    return env


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


def _escaped(value: Any) -> Any:
    """Data made safe for HTML before rendering, so text shared by both parts (templates
    included from the .txt ones, which do not escape) cannot inject markup."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escaped(v) for v in value]
    return value


def render(kind: str, lang: str, **context: Any) -> Mail:
    """Subject, plain text and HTML of the e-mail `kind` ("badge" or "digest") in `lang`."""
    lang = language(lang)
    env = _environment(lang)
    context["lang"] = lang
    subject = env.get_template(f"{kind}.subject.txt").render(**context)
    text = env.get_template(f"{kind}.txt").render(**context)
    html = env.get_template(f"{kind}.html").render(**_escaped(context))
    return Mail(" ".join(subject.split()), text, html)


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret(), salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(settings: Settings, person_id: int, topic: str) -> str:
    return _serializer(settings).dumps({"p": person_id, "t": topic})


def read_unsubscribe_token(settings: Settings, token: str) -> tuple[int, str]:
    """(person id, topic) of a token we signed; anything else is a BadInput."""
    try:
        data = _serializer(settings).loads(token)
    except BadSignature as err:
        raise BadInput(BAD_LINK) from err
    if not isinstance(data, dict) or not isinstance(data.get("p"), int) or data.get("t") not in TOPICS:
        raise BadInput(BAD_LINK)
    return data["p"], data["t"]


def unsubscribe_url(settings: Settings, person_id: int, topic: str) -> str:
    return f"{settings.public_base_url}/unsubscribe/{unsubscribe_token(settings, person_id, topic)}"
