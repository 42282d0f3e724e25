"""Run Alembic from code (init, tests) against the project's `migrations/` folder."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from .models import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def drift(engine: Engine) -> list:
    """Differences between the models and the migrated database (empty when in step)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)


SCHEMA_AT_HEAD = "at_head"
SCHEMA_BEHIND = "behind"
SCHEMA_AHEAD = "ahead"


@lru_cache(maxsize=1)
def _revisions() -> tuple[frozenset[str], frozenset[str]]:
    """This release's head revision(s) and every revision it knows (read from disk once)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(script.get_heads()), frozenset(rev.revision for rev in script.walk_revisions())


def schema_state(conn: Connection) -> str:
    """Where the database stands against this release: at its head, behind it (an upgrade is
    due: not ready), or ahead (a newer release migrated first; its migrations keep the older
    release working, see docs/operations.md)."""
    heads, known = _revisions()
    current = set(MigrationContext.configure(conn).get_current_heads())
    if current == heads:
        return SCHEMA_AT_HEAD
    return SCHEMA_AHEAD if current and not current & known else SCHEMA_BEHIND
