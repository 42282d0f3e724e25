"""Shared fixtures. The database is SQLite by default; set LTI_BADGER_TEST_DATABASE_URL to a
PostgreSQL URL (any database on the server: each run creates and drops its own) and
LTI_BADGER_TEST_REDIS_URL to run the same suite on PostgreSQL + Redis. The schema is always
built by running the Alembic migrations."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from lti_badger.app import create_app
from lti_badger.db import make_engine, make_sessionmaker
from lti_badger.migrate import upgrade
from lti_badger.models import Base

PG_URL = os.environ.get("LTI_BADGER_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("LTI_BADGER_TEST_REDIS_URL", "")
LOOPBACK = "127.0.0.0/8 ::1 localhost"

# Invariant 3: every credential any test issues must pass the independent verifier.
pytest_plugins = ["tests.ob3_everywhere"]


def _create_pg_database(server_url: str) -> str:
    url = make_url(server_url)
    name = f"lti_badger_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(db_url: str) -> None:
    url = make_url(db_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    if PG_URL:
        url = _create_pg_database(PG_URL)
        yield url
        _drop_pg_database(url)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def engine(database_url) -> Iterator[Engine]:
    eng = make_engine(database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


def wipe(engine: Engine) -> None:
    """Delete every row (functional tests commit for real, so they cannot roll back)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # a transaction a test left open fails the test, not hangs the run
            conn.execute(text("SET LOCAL lock_timeout = '30s'"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def db(engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back at the end of the test."""
    conn = engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        conn.close()


@pytest.fixture
def instance_dir(tmp_path) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def clean_engine(engine) -> Iterator[Engine]:
    """For tests that commit for real: an empty database to start with, and an empty one
    left behind, since the next test may count rows through the rolled-back `db` session."""
    wipe(engine)
    yield engine
    wipe(engine)


@pytest.fixture
def app_settings(database_url, instance_dir, clean_engine) -> dict:
    return {
        "database_url": database_url,
        "redis_url": REDIS_URL,
        "instance_path": str(instance_dir),
        "secret_key": "test-secret-" + uuid.uuid4().hex,
        "in_process_worker": False,
        "outbound_allow": LOOPBACK,  # the simulator and test servers listen on loopback
    }


@pytest.fixture
def app(app_settings):
    app = create_app(app_settings)
    app.testing = True
    yield app
    app.extensions["lti_badger"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class LiveServer:
    """A real HTTP server on a free loopback port, running a WSGI app in a thread."""

    def __init__(self, wsgi_app) -> None:
        self._server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "LiveServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)


@pytest.fixture
def sessionmaker_(engine):
    return make_sessionmaker(engine)
