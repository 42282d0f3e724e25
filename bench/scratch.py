"""Scratch databases for the page benches: a temporary SQLite file and, when PostgreSQL answers,
a database of its own that is dropped afterwards, so one run measures both side by side."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from lti_badger.app import create_app
from lti_badger.db import make_engine
from lti_badger.migrate import upgrade

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_databases(folder: str, prefix: str, sqlite_only: bool = False) -> Iterator[list[tuple[str, str]]]:
    """Yields (name, URL) pairs; a bench without PostgreSQL still reports SQLite."""
    targets = [("SQLite", f"sqlite:///{folder}/bench.sqlite")]
    admin, pg_name = None, None
    if not sqlite_only:
        try:
            admin = create_engine(DEFAULT_PG, isolation_level="AUTOCOMMIT")
            pg_name = f"{prefix}_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
            targets.append(("PostgreSQL", make_url(DEFAULT_PG).set(database=pg_name).render_as_string(False)))
        except Exception as err:  # noqa: BLE001 - reported, SQLite goes on
            print(f"PostgreSQL skipped: {err.__class__.__name__}")
            pg_name = None
    try:
        yield targets
    finally:
        if pg_name:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


def bench_app(database_url: str, instance: str) -> Flask:
    """The app over a freshly migrated scratch database, without an in-process worker: the
    page benches time requests only."""
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    return create_app({"database_url": database_url, "instance_path": instance, "secret_key": "bench",
                       "in_process_worker": False})


def analyze(session: Session) -> None:
    """What autovacuum does after a bulk load: PostgreSQL needs statistics to plan the queries."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()


def print_page_bench(prefix: str, time_requests, sqlite_only: bool, width: int) -> None:
    """Runs `time_requests(url, folder)` -> [(label, median ms, bytes)] on each scratch database
    and prints one table."""
    with tempfile.TemporaryDirectory() as tmp, scratch_databases(tmp, prefix, sqlite_only) as targets:
        print(f"{'database':<11} {'request':<{width}} {'median ms':>10} {'KiB':>6}")
        for name, url in targets:
            for label, ms, size in time_requests(url, tmp):
                print(f"{name:<11} {label:<{width}} {ms:>10.1f} {size / 1024:>6.0f}")
