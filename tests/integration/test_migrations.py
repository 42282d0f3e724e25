"""The schema is built by migrations only, and the models never drift from them."""

from contextlib import contextmanager
from datetime import datetime, timezone

from alembic import command
from sqlalchemy import inspect, text

from lti_badger.db import make_engine
from lti_badger.migrate import alembic_config, drift
from lti_badger.models import Base
from tests.conftest import PG_URL, _create_pg_database, _drop_pg_database

CANVAS = "https://canvas.instructure.com"


def test_models_and_migrations_agree(engine):
    assert drift(engine) == []


def test_every_model_table_exists(engine):
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def _fresh_url(tmp_path):
    if PG_URL:
        return _create_pg_database(PG_URL)
    return f"sqlite:///{tmp_path / 'migrate.sqlite'}"


@contextmanager
def _scratch_database(tmp_path):
    """An empty database of the test's kind and its Alembic config, dropped afterwards."""
    url = _fresh_url(tmp_path)
    engine = make_engine(url)
    try:
        yield engine, alembic_config(url)
    finally:
        engine.dispose()
        if PG_URL:
            _drop_pg_database(url)


def _migrate(engine, cfg, revision: str, *, down: bool = False) -> None:
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_0006_gives_every_registration_of_an_issuer_its_own_copy_of_the_profile(tmp_path):
    """Profiles keyed by issuer (0004) become one per registration: the oldest keeps the row
    and its public id, a later one of the same issuer gets a copy, an orphan is dropped."""
    with _scratch_database(tmp_path) as (engine, cfg):
        _migrate(engine, cfg, "0004")
        now = datetime(2026, 1, 1, tzinfo=timezone.utc)
        with engine.begin() as conn:
            for pid, client_id in ((1, "c1"), (2, "c2")):
                conn.execute(text("INSERT INTO platform (id, name, issuer, client_id, auth_login_url, auth_token_url,"
                                  " key_set_url, registered_via, created_at) VALUES (:id, '', :iss, :cid, 'u', 'u',"
                                  " 'u', 'cli', :now)"), {"id": pid, "iss": CANVAS, "cid": client_id, "now": now})
            for public_id, issuer, name in (("p-canvas", CANVAS, "Shared"), ("p-gone", "https://gone.example", "Gone")):
                conn.execute(text("INSERT INTO issuer_profile (public_id, platform_issuer, name, updated_at)"
                                  " VALUES (:p, :i, :n, :now)"), {"p": public_id, "i": issuer, "n": name, "now": now})
        _migrate(engine, cfg, "head")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT platform_id, public_id, name FROM issuer_profile ORDER BY platform_id")).all()
        assert [(r[0], r[2]) for r in rows] == [(1, "Shared"), (2, "Shared")]
        assert rows[0][1] == "p-canvas" and rows[1][1] not in ("p-canvas", "p-gone")
        assert drift(engine) == []
        _migrate(engine, cfg, "0004", down=True)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT platform_issuer, public_id FROM issuer_profile")).all() == [
                (CANVAS, "p-canvas")]


def test_0008_h13a_keeps_columns_where_a_badge_column_exists_and_defaults_to_feedback(tmp_path):
    """A course that already has a badge column keeps one column per badge (nothing it shows
    changes); every other course gets the new default, feedback on the link's own grade item."""
    with _scratch_database(tmp_path) as (engine, cfg):
        _migrate(engine, cfg, "0007")
        now = datetime(2026, 1, 1, tzinfo=timezone.utc)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO platform (id, name, issuer, client_id, auth_login_url, auth_token_url,"
                              " key_set_url, registered_via, created_at) VALUES (1, '', :iss, 'c1', 'u', 'u', 'u',"
                              " 'cli', :now)"), {"iss": CANVAS, "now": now})
            for cid in (1, 2):
                conn.execute(text("INSERT INTO course (id, platform_id, context_id, title, label, ags_scopes,"
                                  " created_at, updated_at) VALUES (:id, 1, :ctx, '', '', '[]', :now, :now)"),
                             {"id": cid, "ctx": f"ctx{cid}", "now": now})
            conn.execute(text("INSERT INTO achievement (id, public_id, course_id, state, regression_policy, lineitem_url,"
                              " created_at, updated_at) VALUES (1, 'a1', 1, 'active', 'none', :li, :now, :now)"),
                         {"li": "https://lms.example/line_items/7", "now": now})
        _migrate(engine, cfg, "head")
        with engine.connect() as conn:
            modes = conn.execute(text("SELECT id, gradebook_mode FROM course ORDER BY id")).all()
        assert [tuple(m) for m in modes] == [(1, "columns"), (2, "feedback")]
        assert drift(engine) == []
        _migrate(engine, cfg, "0007", down=True)
        with engine.connect() as conn:
            assert "gradebook_mode" not in {c["name"] for c in inspect(conn).get_columns("course")}
