"""`lti-badger verify` (JSON, baked PNG, baked SVG; --status files; exit codes) and
`lti-badger keys rotate|list`, through Click's runner against a real instance."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from lti_badger.app import build_services
from lti_badger.cli import main
from lti_badger.credentials import IssuerProfile, issue_credential, set_status
from lti_badger.credentials.baking import badge_images, bake_png, bake_svg
from lti_badger.credentials.compose import status_entries
from lti_badger.credentials.services import LocalSource
from lti_badger.credentials.verify import REVOKED, TAMPERED
from lti_badger.db import transaction
from lti_badger.keys import KIND_ISSUER, KIND_LTI
from lti_badger.models import Credential
from lti_badger.settings import load_settings
from tests.factories_credentials import make_award

NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def instance(tmp_path, database_url, clean_engine, monkeypatch):
    env = {"LTI_BADGER_DATABASE_URL": database_url, "LTI_BADGER_INSTANCE_PATH": str(tmp_path / "instance"),
           "LTI_BADGER_BASE_URL": "https://badges.example.edu"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    services = build_services(load_settings())
    services.keys.ensure(KIND_ISSUER)
    yield services
    services.engine.dispose()


def _issue(services):
    issuer = IssuerProfile.from_settings(services.settings)
    with transaction(services.sessions) as session:
        credential = issue_credential(session, make_award(session, awarded_at=NOW), issuer, services.keys, NOW)
        version = credential.award.version
        png, svg = badge_images(version.name, version.image, version.image_type)
    return credential, png, svg


def test_verify_json_png_and_svg(instance, tmp_path):
    credential, png, svg = _issue(instance)
    files = {"c.json": credential.document.encode(), "c.png": bake_png(png.data, credential.document),
             "c.svg": bake_svg(svg.data, credential.document)}
    runner = CliRunner()
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        result = runner.invoke(main, ["verify", str(path)])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("VERIFIED")
        assert "not revoked as of" in result.output and "not suspended as of" in result.output


def test_verify_fails_with_exit_1_when_revoked_tampered_or_expired(instance, tmp_path):
    credential, _png, _svg = _issue(instance)
    path = tmp_path / "c.json"
    path.write_text(credential.document)
    runner = CliRunner()
    expired = runner.invoke(main, ["verify", str(path), "--now", "2099-01-01T00:00:00Z"])
    assert expired.exit_code == 0  # no validUntil: it never expires
    tampered = json.loads(credential.document)
    tampered["name"] = "Forged"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(tampered))
    result = runner.invoke(main, ["verify", str(bad)])
    assert result.exit_code == 1 and TAMPERED in result.output
    with transaction(instance.sessions) as session:
        set_status(session, session.get(Credential, credential.id), "revocation", True)
    result = runner.invoke(main, ["verify", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"FAILED: {REVOKED}"


def test_verify_offline_with_status_files(instance, tmp_path):
    credential, _png, _svg = _issue(instance)
    document = json.loads(credential.document)
    issuer = IssuerProfile.from_settings(instance.settings)
    with transaction(instance.sessions) as session:
        source = LocalSource(session, issuer, instance.keys)
        lists = [source.get(e["statusListCredential"]) for e in status_entries(document)]
        set_status(session, session.get(Credential, credential.id), "revocation", True)
    args = ["verify", str(tmp_path / "c.json")]
    (tmp_path / "c.json").write_text(credential.document)
    for i, listing in enumerate(lists):
        (tmp_path / f"s{i}.json").write_text(json.dumps(listing))
        args += ["--status", str(tmp_path / f"s{i}.json")]
    # the files were fetched before the revocation: as of then (their validFrom), it was valid
    result = CliRunner().invoke(main, args + ["--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["revoked"] is False and answer["suspended"] is False
    assert answer["status_as_of"] == lists[0]["validFrom"]
    result = CliRunner().invoke(main, ["verify", str(tmp_path / "c.json")])
    assert result.exit_code == 1 and REVOKED in result.output


def test_verify_rejects_hostile_files(instance, tmp_path):
    path = tmp_path / "evil.svg"
    path.write_bytes(b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>')
    result = CliRunner().invoke(main, ["verify", str(path)])
    assert result.exit_code == 1 and "DTD entities or external" in result.output
    deep = tmp_path / "deep.json"
    deep.write_text('{"a": ' + "[" * 10_000 + "]" * 10_000 + "}")
    result = CliRunner().invoke(main, ["verify", str(deep)])
    assert result.exit_code == 1 and "nested" in result.output


def test_keys_rotate_keeps_old_credentials_verifiable_until_retired(instance, tmp_path):
    credential, _png, _svg = _issue(instance)
    instance.keys.ensure(KIND_LTI)
    runner = CliRunner()
    vague = runner.invoke(main, ["keys", "rotate"])
    assert vague.exit_code == 1 and "--lti or --issuer" in vague.output
    result = runner.invoke(main, ["keys", "rotate", "--issuer"])
    assert result.exit_code == 0, result.output
    assert "rotating the issuer key (current: key-1)" in result.output
    assert "new current issuer key: key-2" in result.output
    assert "old key key-1: no longer signs, stays published until `lti-badger keys retire`" in result.output
    assert "2 issuer key(s) now in the DID document (did:web:badges.example.edu)" in result.output
    listing = runner.invoke(main, ["keys", "list"]).output
    assert "key-1" in listing and "superseded" in listing and "current" in listing
    (tmp_path / "c.json").write_text(credential.document)
    assert runner.invoke(main, ["verify", str(tmp_path / "c.json")]).exit_code == 0
    _new, _png, _svg = _issue(instance)
    assert json.loads(_new.document)["proof"][0]["verificationMethod"].endswith("#key-2")
    (tmp_path / "new.json").write_text(_new.document)

    current = runner.invoke(main, ["keys", "retire", "--issuer", "--kid", "key-2", "--yes"])
    assert current.exit_code == 1 and "rotate first" in current.output
    assert runner.invoke(main, ["keys", "retire", "--issuer"], input="n\n").exit_code == 1  # asked, declined
    retired = runner.invoke(main, ["keys", "retire", "--issuer", "--yes"])
    assert retired.exit_code == 0 and "retired issuer key key-1" in retired.output
    assert "1 issuer key(s) now in the DID document" in retired.output
    assert runner.invoke(main, ["verify", str(tmp_path / "c.json")]).exit_code == 1  # signed by the retired key
    assert runner.invoke(main, ["verify", str(tmp_path / "new.json")]).exit_code == 0

    lti = runner.invoke(main, ["keys", "rotate", "--lti", "--overlap", "2h"])
    assert lti.exit_code == 0 and "new current lti key" in lti.output and "stays published until 20" in lti.output
    assert "2 lti key(s) now in the JWKS (https://badges.example.edu/.well-known/jwks.json)" in lti.output
    assert runner.invoke(main, ["keys", "rotate", "--lti", "--overlap", "soon"]).exit_code == 1
