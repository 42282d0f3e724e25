"""`lti-badger platform add|list|remove` through Click's runner against the migrated test
database: what an admin types, what is stored, and clear failures for bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from lti_badger.cli import main
from lti_badger.models import Deployment, Platform

CANVAS = [
    "--issuer", "https://canvas.instructure.com",
    "--client-id", "10000000000042",
    "--auth-login-url", "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "--auth-token-url", "https://sso.canvaslms.com/login/oauth2/token",
    "--key-set-url", "https://sso.canvaslms.com/api/lti/security/jwks",
    "--deployment-id", "1:abc",
    "--deployment-id", "2:def",
    "--name", "Our Canvas",
]


@pytest.fixture
def cli(app_settings):
    runner = CliRunner()
    env = {"LTI_BADGER_DATABASE_URL": app_settings["database_url"],
           "LTI_BADGER_INSTANCE_PATH": app_settings["instance_path"],
           "LTI_BADGER_SECRET_KEY": app_settings["secret_key"]}

    def run(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    return run


def count(sessionmaker_, model) -> int:
    with sessionmaker_() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_add_list_remove_by_id(cli, sessionmaker_):
    added = cli("platform", "add", *CANVAS)
    assert added.exit_code == 0, added.output
    assert "platform" in added.output and "1:abc, 2:def" in added.output
    with sessionmaker_() as s:
        platform = s.scalar(select(Platform))
        assert (platform.issuer, platform.client_id, platform.name) == (
            "https://canvas.instructure.com", "10000000000042", "Our Canvas")
        assert platform.registered_via == "cli"
        assert [d.deployment_id for d in platform.deployments] == ["1:abc", "2:def"]
        pid = platform.id

    listed = cli("platform", "list")
    assert listed.exit_code == 0 and "Our Canvas" in listed.output and "10000000000042" in listed.output
    as_json = json.loads(cli("platform", "list", "--json").output)
    assert as_json[0]["deployment_ids"] == ["1:abc", "2:def"] and as_json[0]["id"] == pid

    refused = cli("platform", "remove", str(pid), input="n\n")
    assert refused.exit_code != 0 and count(sessionmaker_, Platform) == 1
    removed = cli("platform", "remove", str(pid), "--yes")
    assert removed.exit_code == 0 and "removed" in removed.output
    assert count(sessionmaker_, Platform) == 0 and count(sessionmaker_, Deployment) == 0
    assert "no platforms registered" in cli("platform", "list").output


def test_remove_by_issuer_and_client_id(cli, sessionmaker_):
    assert cli("platform", "add", *CANVAS).exit_code == 0
    answer = cli("platform", "remove", "--issuer", "https://canvas.instructure.com", "--client-id", "10000000000042",
                 input="y\n")
    assert answer.exit_code == 0, answer.output
    assert count(sessionmaker_, Platform) == 0


def test_duplicate_is_refused_and_nothing_changes(cli, sessionmaker_):
    assert cli("platform", "add", *CANVAS).exit_code == 0
    again = cli("platform", "add", *CANVAS)
    assert again.exit_code == 1
    assert "already registered" in again.output
    assert count(sessionmaker_, Platform) == 1 and count(sessionmaker_, Deployment) == 2


@pytest.mark.parametrize("option, value, message", [
    ("--auth-login-url", "not a url", "auth login URL must be an absolute http(s) URL"),
    ("--auth-token-url", "ftp://sso.example/token", "auth token URL must be an absolute http(s) URL"),
    ("--key-set-url", "https:///jwks", "key set URL must be an absolute http(s) URL"),
    ("--issuer", "canvas", "issuer must be an absolute http(s) URL"),
    ("--client-id", "   ", "client_id"),
    ("--deployment-id", "   ", "deployment id"),
])
def test_bad_input_is_refused_with_a_clear_message(cli, sessionmaker_, option, value, message):
    args = list(CANVAS)
    args[args.index(option) + 1] = value
    answer = cli("platform", "add", *args)
    assert answer.exit_code == 1
    assert message in answer.output
    assert count(sessionmaker_, Platform) == 0 and count(sessionmaker_, Deployment) == 0


def test_missing_deployment_id_is_a_usage_error(cli):
    args = [a for a in CANVAS if a not in ("--deployment-id", "1:abc", "2:def")]
    answer = cli("platform", "add", *args)
    assert answer.exit_code == 2 and "--deployment-id" in answer.output


def test_unknown_platform(cli):
    assert "no platform with id 99" in cli("platform", "remove", "99", "--yes").output
    answer = cli("platform", "remove", "--issuer", "https://nowhere.example", "--client-id", "x", "--yes")
    assert answer.exit_code == 1 and "no platform with issuer https://nowhere.example" in answer.output
    neither = cli("platform", "remove")
    assert neither.exit_code == 1 and "give either a platform id" in neither.output
    half = cli("platform", "remove", "--issuer", "https://nowhere.example")
    assert half.exit_code == 1 and "--issuer and --client-id go together" in half.output


def test_deployments_can_be_added_and_removed(cli, sessionmaker_):
    assert cli("platform", "add", *CANVAS).exit_code == 0
    with sessionmaker_() as s:
        pid = s.scalar(select(Platform.id))
    assert cli("platform", "add-deployment", str(pid), "3:ghi").exit_code == 0
    assert cli("platform", "remove-deployment", str(pid), "1:abc").exit_code == 0
    missing = cli("platform", "remove-deployment", str(pid), "1:abc")
    assert missing.exit_code == 1 and "has no deployment '1:abc'" in missing.output
    with sessionmaker_() as s:
        assert sorted(s.scalars(select(Deployment.deployment_id))) == ["2:def", "3:ghi"]


def test_deployments_have_names(cli, sessionmaker_):
    assert cli("platform", "add", *CANVAS).exit_code == 0
    with sessionmaker_() as s:
        pid = s.scalar(select(Platform.id))
    assert cli("platform", "add-deployment", str(pid), "3:ghi", "--name", "Faculty of Law").exit_code == 0
    assert cli("platform", "rename-deployment", str(pid), "1:abc", "Science").exit_code == 0
    too_long = cli("platform", "rename-deployment", str(pid), "2:def", "x" * 201)
    assert too_long.exit_code == 1 and "at most 200 characters" in too_long.output
    missing = cli("platform", "rename-deployment", str(pid), "9:zzz", "X")
    assert missing.exit_code == 1 and "has no deployment '9:zzz'" in missing.output
    listed = cli("platform", "list").output
    assert "deployments=Science (1:abc), 2:def, Faculty of Law (3:ghi)" in listed
    as_json = json.loads(cli("platform", "list", "--json").output)
    assert as_json[0]["deployments"][0] == {"id": "1:abc", "name": "Science"}
    with sessionmaker_() as s:
        assert dict(s.execute(select(Deployment.deployment_id, Deployment.name)).all()) == {
            "1:abc": "Science", "2:def": None, "3:ghi": "Faculty of Law"}


def test_uninitialised_database_says_run_init(tmp_path):
    runner = CliRunner()
    answer = runner.invoke(main, ["platform", "list"], env={
        "LTI_BADGER_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}",
        "LTI_BADGER_INSTANCE_PATH": str(tmp_path / "instance")})
    assert answer.exit_code == 1 and "lti-badger init" in answer.output


def test_open_edx_is_registered_by_hand_with_its_product_family(cli, sessionmaker_):
    """Open edX has no dynamic registration and sends no tool_platform claim: the admin says
    which product it is, so the tool applies its AGS rules (docs/openedx.md)."""
    added = cli("platform", "add", "--issuer", "https://lms.example.org", "--client-id", "6c2f1a0e-openedx",
                "--auth-login-url", "https://lms.example.org/api/lti_consumer/v1/launch/",
                "--auth-token-url", "https://lms.example.org/api/lti_consumer/v1/token/block-v1:X",
                "--key-set-url", "https://lms.example.org/api/lti_consumer/v1/public_keysets/block-v1:X",
                "--deployment-id", "1", "--product-family", "openedx")
    assert added.exit_code == 0, added.output
    with sessionmaker_() as s:
        platform = s.scalar(select(Platform))
        assert platform.product_family == "openedx" and [d.deployment_id for d in platform.deployments] == ["1"]
