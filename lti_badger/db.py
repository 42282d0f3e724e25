"""One engine and one sessionmaker per app; the edge (request, CLI command, worker job) owns
the transaction and commits, services flush at most."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from .errors import BadInput
from .outage import Outage

# While the database cannot be reached, the web answers 503 with this Retry-After (seconds).
RETRY_AFTER_SECONDS = 5
database_outage = Outage("database")
T = TypeVar("T")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - wiring
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work for CLI commands and worker jobs: commit on success, roll back on error."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _dialect(session: Session) -> str:
    name = session.get_bind().dialect.name
    if name not in _INSERTS:
        raise BadInput(f"the {name} database is not supported (use PostgreSQL or SQLite)")
    return name


def dialect_insert(session: Session, target):
    """The database's own INSERT (a table or a mapped class), so ON CONFLICT ... DO NOTHING /
    DO UPDATE reads the same on SQLite and PostgreSQL."""
    return _INSERTS[_dialect(session)](target)


def per_dialect(build: Callable[[Callable], T]) -> Callable[[Session], T]:
    """A statement built once for each database from `build(insert)` (`insert` the dialect's
    own), for the session's database: executed with its values as parameters, it hits
    SQLAlchemy's compiled cache without being built and cache-keyed again on every call (an
    award's INSERTs, issue 17)."""
    built = {name: build(insert) for name, insert in _INSERTS.items()}
    return lambda session: built[_dialect(session)]


_BURST = "lti_badger_burst"


@contextmanager
def burst(session: Session) -> Iterator[None]:
    """Many awards in one transaction (a burst of events evaluated together, issue 17): rows
    given to `add_later` (audit events, outbox deliveries) are inserted when the burst ends,
    one multi-row INSERT per table instead of one per award, and `burst_memo` keeps what every
    award would read again (the open status lists). Nested bursts join the outer one. Nothing
    inside may roll back a SAVEPOINT that made awards: their deferred rows would still be added."""
    if _BURST in session.info:
        yield
        return
    session.info[_BURST] = {"rows": [], "memo": {}}
    try:
        yield
        rows = session.info[_BURST]["rows"]
        if rows:
            session.add_all(rows)
            session.flush()
    finally:
        session.info.pop(_BURST, None)


def add_later(session: Session, rows: list) -> None:
    """Add `rows` at the end of the current burst, or now (unflushed) outside one."""
    state = session.info.get(_BURST)
    if state is None:
        session.add_all(rows)
    else:
        state["rows"].extend(rows)


def burst_memo(session: Session) -> dict | None:
    """A dict that lives as long as the current burst (None outside one)."""
    state = session.info.get(_BURST)
    return None if state is None else state["memo"]
