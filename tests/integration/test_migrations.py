"""The schema is built by migrations only, and the models never drift from them."""

from sqlalchemy import inspect

from lti_badger.migrate import drift
from lti_badger.models import Base


def test_models_and_migrations_agree(engine):
    assert drift(engine) == []


def test_every_model_table_exists(engine):
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
