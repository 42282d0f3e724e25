"""Issue 12 finding 2: dynamic registration is closed by default. Without an operator's invite
(`lti-badger platform invite`) or an issuer host named in `registration_allowed_hosts`,
/lti/register answers 403 with a clear page and fetches nothing. An invite is single use,
expires after 24 hours, is stored hashed, and is used up only by a registration that succeeds."""

from __future__ import annotations

import hashlib
import html
from datetime import timedelta

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select, update

from lti_badger.cli import main
from lti_badger.lti.registration import host_allowed
from lti_badger.models import Platform, RegistrationInvite
from lti_badger.models.base import utcnow
from lti_badger.settings import load_settings

from .conftest import invite_url


def _fetches(sim) -> list[str]:
    """What the tool asked of the LMS during registration."""
    return [r.path for r in sim.received if "openid-configuration" in r.path or r.path == "/register"]


def test_closed_by_default_answers_403_and_fetches_nothing(make_tool, sim):
    tool = make_tool()
    assert tool.app.extensions["lti_badger"].settings.registration_allowed_hosts == ""
    page = requests.get(sim.start_registration_url(f"{tool.url}/lti/register"), timeout=30)
    assert page.status_code == 403
    text = html.unescape(page.text)
    assert "dynamic registration is closed on this tool" in text and "lti-badger platform invite" in text
    as_json = requests.get(sim.start_registration_url(f"{tool.url}/lti/register"), timeout=30,
                           headers={"Accept": "application/json"})
    assert as_json.status_code == 403 and as_json.json()["error"] == "forbidden"
    assert _fetches(sim) == [] and tool.count(Platform) == 0


def test_the_cli_invite_registers_once(make_tool, sim, app_settings, monkeypatch):
    tool = make_tool()
    for name in ("database_url", "instance_path", "secret_key"):
        monkeypatch.setenv(f"LTI_BADGER_{name.upper()}", app_settings[name])
    monkeypatch.setenv("LTI_BADGER_BASE_URL", tool.url)
    out = CliRunner().invoke(main, ["platform", "invite", "--note", "Moodle of Example U"])
    assert out.exit_code == 0, out.output
    link = out.stdout.strip().splitlines()[0]
    assert link.startswith(f"{tool.url}/lti/register?invite=")
    assert "It works once" in out.stderr and "24 hours" in out.stderr
    secret = link.split("invite=")[1]
    with tool.sessions() as s:
        [invite] = s.scalars(select(RegistrationInvite)).all()
        assert invite.token_hash == hashlib.sha256(secret.encode()).hexdigest()  # only the hash is stored
        assert invite.note == "Moodle of Example U" and invite.used_at is None
        assert abs((invite.expires_at - invite.created_at) - timedelta(hours=24)) < timedelta(seconds=1)

    page = requests.get(sim.start_registration_url(link), timeout=30)
    assert page.status_code == 200, page.text[:500]
    with tool.sessions() as s:
        [platform] = s.scalars(select(Platform)).all()
        invite = s.scalars(select(RegistrationInvite)).one()
        assert invite.used_at is not None and invite.platform_id == platform.id

    fetched = len(_fetches(sim))
    again = requests.get(sim.start_registration_url(link), timeout=30)
    assert again.status_code == 403 and "already used" in html.unescape(again.text)
    assert len(_fetches(sim)) == fetched and tool.count(Platform) == 1


def test_a_failed_registration_keeps_the_invite(make_tool, sim):
    tool = make_tool()
    link = invite_url(tool)
    forged = requests.get(link, params={"openid_configuration": sim.openid_configuration_url,
                                        "registration_token": "forged"}, timeout=30)
    assert forged.status_code == 502 and tool.count(Platform) == 0
    with tool.sessions() as s:
        assert s.scalars(select(RegistrationInvite.used_at)).one() is None
    assert requests.get(sim.start_registration_url(link), timeout=30).status_code == 200
    assert tool.count(Platform) == 1


@pytest.mark.parametrize("case", ["expired", "unknown"])
def test_an_expired_or_unknown_invite_is_refused_without_fetching(make_tool, sim, case):
    tool = make_tool()
    link = invite_url(tool)
    if case == "expired":
        with tool.sessions() as s:
            s.execute(update(RegistrationInvite).values(expires_at=utcnow() - timedelta(seconds=1)))
            s.commit()
    else:
        link = link[:-4] + "AAAA"
    page = requests.get(sim.start_registration_url(link), timeout=30)
    assert page.status_code == 403
    assert ("has expired" if case == "expired" else "is not valid") in html.unescape(page.text)
    assert _fetches(sim) == [] and tool.count(Platform) == 0


def test_allowed_hosts_open_registration_for_those_hosts_only(make_tool, sim):
    other = make_tool(registration_allowed_hosts="moodle.example.edu, *.instructure.com")
    assert requests.get(sim.start_registration_url(f"{other.url}/lti/register"), timeout=30).status_code == 403
    assert _fetches(sim) == []
    allowed = make_tool(registration_allowed_hosts="127.0.0.1")
    page = requests.get(sim.start_registration_url(f"{allowed.url}/lti/register"), timeout=30)
    assert page.status_code == 200, page.text[:500]
    assert allowed.count(Platform) == 1 and _fetches(sim)


def test_host_matching():
    allowed = "moodle.example.edu, *.instructure.com"
    assert host_allowed("moodle.example.edu", allowed) and host_allowed("MOODLE.example.edu.", allowed)
    assert host_allowed("school.instructure.com", allowed)
    assert not host_allowed("instructure.com", allowed) and not host_allowed("evilinstructure.com", allowed)
    assert not host_allowed("moodle.example.edu.evil.test", allowed) and not host_allowed("", allowed)
    assert not host_allowed("moodle.example.edu", "")


def test_the_old_open_setting_is_refused_with_how_to_open_registration():
    with pytest.raises(ValueError, match="platform invite"):
        load_settings({"dynamic_registration": "open"}, environ={})
    assert load_settings(environ={"LTI_BADGER_REGISTRATION_ALLOWED_HOSTS": "a.example"}).registration_allowed_hosts \
        == "a.example"
