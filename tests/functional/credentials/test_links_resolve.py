"""Everything a credential links to answers: every URL (and our did:web) in every credential
the demo issues, and in credentials issued here under the configured profile and under a
registration's own profile, is GET through the app and answers 200, for machines (JSON-LD)
and for people (HTML). The only URLs outside the tool are alignment targets (frameworks such
as the EQF), web sites an admin typed in and 1EdTech's published schema."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from lti_badger.app import create_app
from lti_badger.credentials import issue_credential
from lti_badger.credentials.issuer_profiles import ProfileChanges, issuer_profile_for_course, save_issuer_profile
from lti_badger.credentials.services import IssuerProfile
from lti_badger.db import transaction
from lti_badger.keys import KIND_ISSUER
from lti_badger.models import Course
from tests.factories_credentials import make_award
from tests.functional.test_demo import run_headless

NOW = datetime.now(timezone.utc).replace(microsecond=0)
# Keys whose value may name a page outside the tool: an alignment's framework, an admin's web site.
EXTERNAL_OK = {"targetUrl", "url", "furtherInformation"}
# Published by 1EdTech: the OB 3.0 JSON schema a credential names in `credentialSchema`.
SPEC_PREFIX = "https://purl.imsglobal.org/spec/"
# Identifiers that merely look like URLs: the LMS's platform id in an IdentityObject.
NOT_LINKS = {"@context", "identityHash"}


def links(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(key, value) of every string in `node` that is an http(s) URL or a did:web."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from links(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from links(item, key)
    elif isinstance(node, str) and node.startswith(("http://", "https://", "did:web:")):
        yield key, node


def local_path(url: str, base_url: str, did: str) -> str | None:
    """The path to GET on the tool for `url`, or None when it is not ours."""
    bare = url.split("#", 1)[0]
    if bare == did:
        return "/.well-known/did.json"
    if bare.startswith(did + ":"):  # a did:web below the tool's own (an endorser's organisation)
        return "/" + "/".join(bare[len(did) + 1:].split(":")) + "/did.json"
    if url.startswith(base_url + "/"):
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return None


def assert_links_answer(client, document: dict, base_url: str, did: str) -> int:
    checked = 0
    for key, url in links(document):
        if key in NOT_LINKS:
            continue
        path = local_path(url, base_url, did)
        if path is None:
            assert key in EXTERNAL_OK or url.startswith(SPEC_PREFIX), f"{key}={url} points outside the tool"
            continue
        for accept in ("application/ld+json", "text/html"):
            answer = client.get(path, headers={"Accept": accept})
            assert answer.status_code == 200, (key, url, accept, answer.status_code)
        checked += 1
    return checked


def _issue(app, own_profile: bool) -> tuple[dict, IssuerProfile]:
    services = app.extensions["lti_badger"]
    services.keys.ensure(KIND_ISSUER)
    with transaction(services.sessions) as session:
        award = make_award(session, awarded_at=NOW)
        if own_profile:
            save_issuer_profile(session, session.get(Course, award.course_id).platform_id,
                                ProfileChanges(name="Universidad de Ejemplo", description="Cursos abiertos."), NOW)
        issuer = issuer_profile_for_course(session, services.settings, award.course_id)
        credential = issue_credential(session, award, issuer, services.keys, NOW)
    return json.loads(credential.document), issuer


@pytest.mark.parametrize("own_profile", [False, True], ids=["configured-profile", "registration-profile"])
def test_every_link_of_an_issued_credential_answers(app, client, own_profile):
    document, issuer = _issue(app, own_profile)
    assert document["issuer"]["url"].startswith(issuer.base_url + "/issuers/")
    checked = assert_links_answer(client, document, issuer.base_url, issuer.did)
    # id, issuer id + url, achievement id, criteria id, image id, creator id + url, 2 status entries x 2
    assert checked >= 11
    page = client.get(urlsplit(document["issuer"]["url"]).path, headers={"Accept": "text/html"}).get_data(as_text=True)
    achievement = document["credentialSubject"]["achievement"]
    assert issuer.name in page and achievement["name"] in page and achievement["criteria"]["narrative"] in page
    if own_profile:
        assert "Cursos abiertos." in page


def test_issuer_page_lists_only_its_registrations_badges(app, client):
    first, _ = _issue(app, own_profile=True)
    second, _ = _issue(app, own_profile=True)
    page = client.get(urlsplit(first["issuer"]["url"]).path).get_data(as_text=True)
    assert first["credentialSubject"]["achievement"]["id"] in page
    assert second["credentialSubject"]["achievement"]["id"] not in page
    profile = client.get(urlsplit(first["issuer"]["url"]).path, headers={"Accept": "application/ld+json"}).get_json()
    assert profile["type"] == ["Profile"] and profile["name"] == "Universidad de Ejemplo"
    assert client.get("/issuers/no-such-issuer").status_code == 404


def test_every_link_of_every_demo_credential_answers(app_settings, tmp_path):
    out = tmp_path / "out"
    assert run_headless(app_settings, out).exit_code == 0
    summary = json.loads((out / "summary.json").read_text())
    base_url = summary["tool_url"].rstrip("/")
    app = create_app({**app_settings, "base_url": base_url})
    app.testing = True
    client = app.test_client()
    did = summary["credentials"]["issuer"]
    documents = [json.loads(path.read_text()) for path in (out / "credentials").glob("*.json")]
    assert len(documents) == summary["credentials"]["count"] >= 1
    for document in documents:
        assert assert_links_answer(client, document, base_url, did) >= 11
    app.extensions["lti_badger"].engine.dispose()
