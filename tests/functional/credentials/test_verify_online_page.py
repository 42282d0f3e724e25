"""The `/verify` page and `POST /credentials/verify` online: a status list on a real HTTP server
on loopback (the outbound allow-list opened for 127.0.0.0/8, as the demo does) is fetched
through the app's outbound client, and both say what they fetched and how long ago."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.credentials.test_verify_online import _credential, server  # noqa: F401 (fixture)


@pytest.fixture
def app_settings(app_settings):
    return {**app_settings, "outbound_allow": "127.0.0.0/8"}


def test_page_and_vc_api_say_what_they_fetched_and_when(client, server):
    credential = _credential(server, "/lists/7", 3, {5}, {"Cache-Control": "max-age=60"})
    page = client.post("/verify", data={"credential": json.dumps(credential)},
                       headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Valid credential" in page
    assert f"{server.url}/lists/7" in page and re.search(r"fetched \d+ s ago", page)
    answer = client.post("/credentials/verify", json={"verifiableCredential": credential}).get_json()
    assert answer["verified"] is True
    fetched = answer["result"]["fetched"]
    assert [f["url"] for f in fetched] == [f"{server.url}/lists/7"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fetched[0]["fetched_at"]) and fetched[0]["age_seconds"] >= 0
    assert server.requests[0][0] == "/lists/7"


def test_a_revoked_credential_fails_on_its_status_online(client, server):
    credential = _credential(server, "/lists/8", 5, {5}, {"Cache-Control": "no-store"})
    answer = client.post("/credentials/verify", json={"verifiableCredential": credential}).get_json()
    assert answer["verified"] is False
    assert {"check": "status", "message": "revoked by its issuer"} in answer["errors"]
