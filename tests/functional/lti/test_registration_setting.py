"""`dynamic_registration`: "open" (the default) lets /lti/register fetch the LMS's
openid_configuration and register it; "closed" answers 403 with how to turn it on, without
fetching anything or storing a platform."""

from __future__ import annotations

import html

import pytest
import requests

from lti_badger.models import Platform
from lti_badger.settings import load_settings

from .conftest import start_tool


@pytest.mark.parametrize("value", ["open", None])
def test_open_registration_registers_the_platform(app_settings, sim, value):
    settings = {**app_settings, **({"dynamic_registration": value} if value else {})}
    tool, server = start_tool(settings)
    try:
        assert tool.app.extensions["lti_badger"].settings.dynamic_registration == "open"
        page = requests.get(sim.start_registration_url(f"{tool.url}/lti/register"), timeout=30)
        assert page.status_code == 200, page.text[:500]
        assert tool.count(Platform) == 1
        assert [r for r in sim.received if "openid-configuration" in r.path]  # what "closed" must not do
    finally:
        server.stop()
        tool.app.extensions["lti_badger"].engine.dispose()


def test_closed_registration_is_refused_without_fetching_anything(app_settings, sim):
    tool, server = start_tool({**app_settings, "dynamic_registration": "closed"})
    try:
        page = requests.get(sim.start_registration_url(f"{tool.url}/lti/register"), timeout=30)
        assert page.status_code == 403
        text = html.unescape(page.text)
        assert "dynamic registration is turned off" in text and 'dynamic_registration = "open"' in text
        assert "lti-badger platform add" in text
        as_json = requests.get(sim.start_registration_url(f"{tool.url}/lti/register"), timeout=30,
                               headers={"Accept": "application/json"})
        assert as_json.status_code == 403 and as_json.json()["error"] == "forbidden"
        assert not [r for r in sim.received if "openid-configuration" in r.path or r.path == "/register"]
        assert tool.count(Platform) == 0
    finally:
        server.stop()
        tool.app.extensions["lti_badger"].engine.dispose()


def test_the_setting_accepts_only_open_or_closed():
    assert load_settings(environ={"LTI_BADGER_DYNAMIC_REGISTRATION": "closed"}).dynamic_registration == "closed"
    assert load_settings(environ={}).dynamic_registration == "open"
    with pytest.raises(ValueError, match="dynamic_registration must be one of open, closed"):
        load_settings({"dynamic_registration": "ajar"}, environ={})
