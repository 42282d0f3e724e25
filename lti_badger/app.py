"""The application factory: settings, one engine and sessionmaker, the key store, every
blueprint, the one error mapping, and the in-process worker when configured."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping

from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from .db import make_engine, make_sessionmaker
from .keys import FileKeyStore, KeyStore
from .logging import configure_logging
from .outbound import OutboundClient, shared_client
from .progress.grouping import EventGroups
from .progress.sources import PushSources
from .settings import Settings, load_settings

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What every part of the app shares, found at `app.extensions["lti_badger"]`."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keys: KeyStore
    outbound: OutboundClient = field(default_factory=OutboundClient)  # the one door to URLs others chose
    event_groups: EventGroups = field(init=False)  # pushed events of concurrent requests, ingested together
    push_sources: PushSources = field(default_factory=PushSources)  # xAPI / Caliper credentials seen lately

    def __post_init__(self) -> None:
        self.event_groups = EventGroups(self.sessions)


def build_services(settings: Settings) -> Services:
    from .awards.context import bind_context

    engine = make_engine(settings.sqlalchemy_url)
    svc = Services(settings, engine, make_sessionmaker(engine), FileKeyStore(settings.instance_dir / "keys"),
                   shared_client(settings.outbound_allow))
    bind_context(svc.sessions, settings, svc.keys)  # award callbacks find issuer settings and keys
    return svc


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    settings = config if isinstance(config, Settings) else load_settings(config)
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    configure_logging(settings.log_format)

    app = Flask(__name__, instance_path=str(settings.instance_dir), instance_relative_config=True)
    app.config.update(
        SECRET_KEY=settings.secret(),
        MAX_CONTENT_LENGTH=settings.max_content_length,
        PREFERRED_URL_SCHEME="https" if settings.public_base_url.startswith("https") else "http",
        SESSION_COOKIE_NAME="lti_badger_session",
        # Pages live in the LMS iframe: over https the session cookie must be a third-party
        # cookie (SameSite=None needs Secure; Partitioned keeps it under CHIPS). Plain http
        # (loopback development) keeps the browser defaults; the launch token covers the rest.
        **({"SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_PARTITIONED": True}
           if settings.public_base_url.startswith("https://") else {}),
    )
    app.extensions["lti_badger"] = build_services(settings)
    if settings.proxy_hops:  # the client's address, scheme and path prefix as the proxy saw them
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_prefix=hops)

    from .web import init_app as init_web

    init_web(app)
    if settings.in_process_worker and not app.testing:
        from .deliveries.runner import start_in_process_worker

        start_in_process_worker(app)
    return app


def warm_up(app: Flask) -> None:
    """For a server process, before it takes requests: open a database connection and pay the
    credential stack's one-off costs, so that no learner's first event waits for them. A
    database that is down does not stop the process (gunicorn would stop every worker after
    one that fails to boot): it answers 503 until the database is back."""
    from .credentials.services import warm_up as warm_up_credentials

    warm_up_credentials()
    try:
        with services(app).engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as e:
        log.warning("database not reachable at start; serving anyway", extra={"cause": type(e).__name__})


def services(app: Flask) -> Services:
    return app.extensions["lti_badger"]
