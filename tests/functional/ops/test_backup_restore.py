"""The backup and restore of docs/operations.md, run for real: the database (SQLite's online
`.backup`, or `pg_dump` + `psql` on PostgreSQL) and the instance's keys and secret (`tar`), restored
into an empty instance and an empty database, after which the credentials issued before verify
again (and the revoked one still shows revoked) and new ones are signed with the same key."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import make_url

from lti_badger.app import build_services, create_app
from lti_badger.awards import services as awards
from lti_badger.cli import main
from lti_badger.credentials.verify import REVOKED
from lti_badger.db import transaction
from lti_badger.settings import load_settings
from tests.conftest import PG_URL, _create_pg_database, _drop_pg_database
from tests.integration.credentials.test_cli import NOW, _issue, instance  # noqa: F401


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup_database(url: str, target) -> None:
    if url.startswith("sqlite"):
        subprocess.run(["sqlite3", make_url(url).database, f".backup '{target}'"], check=True)
    else:
        subprocess.run(["pg_dump", "--no-owner", "--no-privileges", "-f", str(target), libpq(url)], check=True)


def restore_database(backup, url: str) -> None:
    if url.startswith("sqlite"):
        shutil.copyfile(backup, make_url(url).database)
    else:
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(backup), libpq(url)], check=True,
                       stdout=subprocess.DEVNULL)


@pytest.fixture
def empty_database(tmp_path):
    if PG_URL:
        url = _create_pg_database(PG_URL)
        yield url
        _drop_pg_database(url)
    else:
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"


def test_a_restored_backup_verifies_old_credentials_and_keeps_signing_with_the_same_key(
        instance, tmp_path, empty_database, monkeypatch):  # noqa: F811
    if not shutil.which("sqlite3" if not PG_URL else "pg_dump"):
        pytest.skip("needs the database's backup tool")
    instance.settings.secret()  # the session key `init` would have made
    kept, _png, _svg = _issue(instance)
    revoked, _png, _svg = _issue(instance)
    with transaction(instance.sessions) as s:
        award = revoked.award
        awards.revoke(s, award.course_id, award.id, None, "issued by mistake", NOW)
    old_kid = json.loads(kept.document)["proof"][0]["verificationMethod"]

    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    backup_database(instance.settings.sqlalchemy_url, backup_dir / "database.dump")
    subprocess.run(["tar", "-C", str(instance.settings.instance_dir), "-czf", str(backup_dir / "instance.tgz"),
                    "keys", "secret_key"], check=True)

    restored_dir = tmp_path / "restored-instance"
    restored_dir.mkdir()
    subprocess.run(["tar", "-C", str(restored_dir), "-xzf", str(backup_dir / "instance.tgz")], check=True)
    restore_database(backup_dir / "database.dump", empty_database)
    monkeypatch.setenv("LTI_BADGER_DATABASE_URL", empty_database)
    monkeypatch.setenv("LTI_BADGER_INSTANCE_PATH", str(restored_dir))

    for credential, verdict, code in ((kept, "VERIFIED", 0), (revoked, REVOKED, 1)):
        path = tmp_path / f"{uuid.uuid4()}.json"
        path.write_text(credential.document)
        result = CliRunner().invoke(main, ["verify", str(path)])
        assert result.exit_code == code and verdict in result.output, result.output

    restored = build_services(load_settings())
    try:
        assert (restored_dir / "secret_key").read_text() == instance.settings.secret()
        app = create_app(load_settings({"in_process_worker": False}))
        assert app.test_client().get("/readyz").json["checks"]["database"]["schema"] == "at_head"
        app.extensions["lti_badger"].engine.dispose()
        fresh, _png, _svg = _issue(restored)
        assert json.loads(fresh.document)["proof"][0]["verificationMethod"] == old_kid
        assert sorted(os.listdir(restored_dir / "keys")) == sorted(os.listdir(instance.settings.instance_dir / "keys"))
    finally:
        restored.engine.dispose()
