"""The 1EdTech OB 3.0 API as a host, end to end over the app: a wallet registers (RFC 7591),
the learner consents on a page of their launched session, the wallet swaps the code for
tokens with PKCE, reads the learner's credentials (paged) and profile, stores a verified
credential and a profile; tokens expire, refresh once, are scoped, and read only their own
learner. Every bad request gets a 4xx (OAuth error or Imsx_StatusInfo) and stores nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from jsonschema import Draft201909Validator
from sqlalchemy import func, select

from lti_badger.app import create_app
from lti_badger.awards import services as awards
from lti_badger.credentials.services import IssuerProfile
from lti_badger.credentials.vcapi import issue_posted
from lti_badger.hostapi.services import SCOPES
from lti_badger.keys import KIND_ISSUER
from lti_badger.models import Base, OAuthToken
from tests.factories_web import token_for
from tests.functional.web.conftest import PageClient
from tests.functional.web.test_learner_pages import make_badge

SCHEMAS = Path(__file__).resolve().parents[2] / "data" / "ob3-schema"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
REDIRECT = "https://wallet.example/callback"
P = "/ims/ob/v3p0"


def _schema(name: str) -> Draft201909Validator:
    return Draft201909Validator(json.loads((SCHEMAS / name).read_text()))


def _openapi_schema(name: str) -> Draft201909Validator:
    doc = json.loads((SCHEMAS / "ob_v3p0_openapi.json").read_text())
    return Draft201909Validator({"$ref": f"#/components/schemas/{name}", "components": doc["components"]})


def _counts(app) -> dict[str, int]:
    with app.extensions["lti_badger"].sessions() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@pytest.fixture
def world(app, courses):
    a, b = courses
    app.extensions["lti_badger"].keys.ensure(KIND_ISSUER)
    badge = make_badge(app, a, {"type": "course_grade", "min_percent": 50}, name="Cell Explorer")
    other = make_badge(app, a, {"type": "course_grade", "min_percent": 60}, name="Genetics Lab Pro")
    with app.extensions["lti_badger"].sessions() as s:
        for person, achievement in ((a.learners[0], badge), (a.learners[0], other), (a.learners[1], badge)):
            awards.award_manually(s, a.course.id, achievement, person.id, a.instructor.id, "done", NOW)
        s.commit()
    return a, b


def register(client, **overrides):
    body = {"client_name": "Example Wallet", "client_uri": "https://wallet.example", "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "scope": " ".join(SCOPES), "token_endpoint_auth_method": "client_secret_basic", **overrides}
    return client.post(f"{P}/oauth/register", json=body)


def consent(page_client, client_id, *, scope=" ".join(SCOPES), decision="allow", challenge=None, state="xyz"):
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": scope,
             "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}
    url = f"{P}/oauth/authorize?{urlencode({k: v for k, v in query.items() if v is not None})}"
    page = page_client.get(url)
    answer = page_client.post(url, {"decision": decision}) if page.status_code == 200 else None
    return page, answer


def token_request(client, registered, **form):
    auth = base64.b64encode(f"{registered['client_id']}:{registered['client_secret']}".encode()).decode()
    return client.post(f"{P}/oauth/token", data=form, headers={"Authorization": f"Basic {auth}"})


def connect(client, page_client, registered, scope=" ".join(SCOPES)) -> dict:
    verifier, challenge = _pkce()
    _page, answer = consent(page_client, registered["client_id"], scope=scope, challenge=challenge)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    tokens = token_request(client, registered, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                           code_verifier=verifier)
    assert tokens.status_code == 200, tokens.get_json()
    return tokens.get_json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_discovery_is_a_valid_service_description_document(client):
    answer = client.get(f"{P}/discovery")
    assert answer.status_code == 200
    doc = answer.get_json()
    assert list(_openapi_schema("ServiceDescriptionDocument").iter_errors(doc)) == []
    scheme = doc["components"]["securitySchemes"]["OAuth2ACG"]
    assert scheme["x-imssf-registrationUrl"].endswith(f"{P}/oauth/register")
    assert set(scheme["flows"]["authorizationCode"]["scopes"]) == set(SCOPES)
    assert {"/credentials", "/profile", "/discovery"} <= set(doc["paths"])
    for url in (doc["info"]["termsOfService"], doc["info"]["x-imssf-privacyPolicyUrl"]):
        assert client.get(urlsplit(url).path).status_code == 200


def test_a_wallet_pulls_the_learners_credentials_with_consent(app, client, world, as_person):
    a, _ = world
    learner = as_person(a, a.learners[0], "learner")
    registered = register(client)
    assert registered.status_code == 201, registered.get_json()
    registered = registered.get_json()
    assert registered["client_secret"] and registered["redirect_uris"] == [REDIRECT]

    verifier, challenge = _pkce()
    page, answer = consent(learner, registered["client_id"], challenge=challenge)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Example Wallet" in text and "wallet.example" in text and "read your badges and other credentials" in text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]  # no clickjacking of Allow
    assert page.headers["X-Frame-Options"] == "DENY"
    assert answer.status_code == 302 and answer.headers["Location"].startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["xyz"]
    code = query["code"][0]

    wrong = token_request(client, registered, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                          code_verifier="x" * 43)
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_grant"
    tokens = token_request(client, registered, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                           code_verifier=verifier)
    assert tokens.status_code == 200, tokens.get_json()
    tokens = tokens.get_json()
    assert tokens["token_type"].lower() == "bearer" and tokens["expires_in"] == 3600 and tokens["refresh_token"]
    with app.extensions["lti_badger"].sessions() as s:  # hashed at rest
        row = s.scalar(select(OAuthToken))
        assert row.access_hash == hashlib.sha256(tokens["access_token"].encode()).hexdigest()

    listing = client.get(f"{P}/credentials", headers=bearer(tokens["access_token"]))
    assert listing.status_code == 200 and listing.headers["X-Total-Count"] == "2"
    body = listing.get_json()
    assert set(body) == {"credential"} and {c["name"] for c in body["credential"]} == {"Cell Explorer",
                                                                                       "Genetics Lab Pro"}
    assert all(c["credentialSubject"]["identifier"] for c in body["credential"])
    first = client.get(f"{P}/credentials?limit=1", headers=bearer(tokens["access_token"]))
    assert len(first.get_json()["credential"]) == 1 and first.headers["X-Total-Count"] == "2"
    assert 'rel="next"' in first.headers["Link"] and "offset=1" in first.headers["Link"]
    later = client.get(f"{P}/credentials?{urlencode({'since': (NOW + timedelta(days=1)).isoformat()})}",
                       headers=bearer(tokens["access_token"]))
    assert later.get_json() == {"credential": []} and later.headers["X-Total-Count"] == "0"

    profile = client.get(f"{P}/profile", headers=bearer(tokens["access_token"])).get_json()
    assert list(_schema("ob_v3p0_profile_schema.json").iter_errors(profile)) == []
    assert profile["name"] == a.learners[0].name and profile["id"].startswith("urn:uuid:")
    put = client.put(f"{P}/profile", json={**profile, "name": "Lena L."}, headers=bearer(tokens["access_token"]))
    assert put.status_code == 200 and put.get_json()["name"] == "Lena L."
    assert client.get(f"{P}/profile", headers=bearer(tokens["access_token"])).get_json()["name"] == "Lena L."

    # refresh: a new access token, the old refresh token is spent
    refreshed = token_request(client, registered, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.get_json()
    again = token_request(client, registered, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert again.status_code == 400
    new_access = refreshed.get_json()["access_token"]
    assert client.get(f"{P}/credentials", headers=bearer(new_access)).status_code == 200

    # a code works once; its second use revokes what it granted
    reuse = token_request(client, registered, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                          code_verifier=verifier)
    assert reuse.status_code == 400
    assert client.get(f"{P}/credentials", headers=bearer(new_access)).status_code == 401


def test_a_token_reads_only_its_learner_and_only_its_scopes_until_it_expires(app, client, world, as_person):
    a, _ = world
    registered = register(client).get_json()
    readonly = connect(client, as_person(a, a.learners[1], "learner"), registered,
                       scope="https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly")
    listing = client.get(f"{P}/credentials", headers=bearer(readonly["access_token"])).get_json()
    assert [c["name"] for c in listing["credential"]] == ["Cell Explorer"]  # learner 2 holds one badge
    names = {c["credentialSubject"]["identifier"][1]["identityHash"] for c in listing["credential"]}
    assert len(names) == 1
    for method, path in (("GET", "/profile"), ("PUT", "/profile"), ("POST", "/credentials")):
        answer = client.open(f"{P}{path}", method=method, json={}, headers=bearer(readonly["access_token"]))
        assert answer.status_code == 403, (method, path)
        assert list(_schema("ob_v3p0_imsx_statusinfo_schema.json").iter_errors(answer.get_json())) == []
    with app.extensions["lti_badger"].sessions() as s:
        for row in s.scalars(select(OAuthToken)):
            row.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
        s.commit()
    expired = client.get(f"{P}/credentials", headers=bearer(readonly["access_token"]))
    assert expired.status_code == 401 and expired.get_json()["imsx_codeMajor"] == "failure"
    assert "Bearer" in expired.headers["WWW-Authenticate"]


def test_upsert_stores_a_verified_credential_once(app, client, world, as_person):
    a, _ = world
    tokens = connect(client, as_person(a, a.learners[0], "learner"), register(client).get_json())
    services = app.extensions["lti_badger"]
    issuer = IssuerProfile.from_settings(services.settings)
    badge = json.loads((SCHEMAS.parent / "ob3-examples" / "basicOpenBadgeCredential.json").read_text())
    badge["issuer"]["id"] = issuer.did
    signed = issue_posted({"credential": badge}, issuer, services.keys, NOW)
    first = client.post(f"{P}/credentials", json=signed, headers=bearer(tokens["access_token"]))
    assert first.status_code == 201 and first.get_json() == signed
    assert client.post(f"{P}/credentials", json=signed, headers=bearer(tokens["access_token"])).status_code == 200
    listing = client.get(f"{P}/credentials", headers=bearer(tokens["access_token"]))
    assert listing.headers["X-Total-Count"] == "3" and signed in listing.get_json()["credential"]

    before = _counts(app)
    tampered = {**signed, "name": "Another badge"}
    presentation = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:a-presentation",
                    "type": ["VerifiablePresentation"], "verifiableCredential": [signed]}
    for body, kwargs in ((tampered, {}), ({**signed, "proof": []}, {}), ("not json", {"content_type": "text/plain"}),
                         ({"id": "urn:x"}, {}), (presentation, {})):
        call = dict(headers=bearer(tokens["access_token"]), **kwargs)
        answer = (client.post(f"{P}/credentials", data=body, **call) if isinstance(body, str)
                  else client.post(f"{P}/credentials", json=body, **call))
        assert answer.status_code == 400, (body if isinstance(body, str) else body.get("name"), answer.get_json())
        assert list(_schema("ob_v3p0_imsx_statusinfo_schema.json").iter_errors(answer.get_json())) == []
    bad_profile = client.put(f"{P}/profile", json={"type": ["Profile"]}, headers=bearer(tokens["access_token"]))
    assert bad_profile.status_code == 400 and "id" in bad_profile.get_json()["imsx_description"]
    assert _counts(app) == before


def test_refusals_store_nothing(app, client, world, as_person):
    a, _ = world
    registered = register(client).get_json()
    before = _counts(app)
    for overrides in ({"redirect_uris": []}, {"redirect_uris": ["http://wallet.example/cb"]},
                      {"redirect_uris": ["javascript:alert(1)"]}, {"client_name": ""}):
        answer = register(client, **overrides)
        assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_client_metadata", overrides
    not_json = client.post(f"{P}/oauth/register", data="x", content_type="text/plain")
    assert not_json.status_code == 415 and not_json.is_json
    learner = as_person(a, a.learners[0], "learner")
    # no launch: no consent page
    assert client.get(f"{P}/oauth/authorize?client_id={registered['client_id']}").status_code == 401
    _v, challenge = _pkce()
    for query in ({"client_id": "nope"}, {"redirect_uri": "https://evil.example/cb"}, {"code_challenge": None}):
        params = {"response_type": "code", "client_id": registered["client_id"], "redirect_uri": REDIRECT,
                  "scope": SCOPES[0], "code_challenge": challenge, "code_challenge_method": "S256", **query}
        page = learner.get(f"{P}/oauth/authorize?{urlencode({k: v for k, v in params.items() if v is not None})}")
        assert page.status_code == 400 and "cannot be accepted" in page.get_data(as_text=True), query
        assert "Location" not in page.headers
    page, denied = consent(learner, registered["client_id"], decision="deny", challenge=challenge)
    assert denied.status_code == 302 and parse_qs(urlsplit(denied.headers["Location"]).query)["error"] == \
        ["access_denied"]
    no_csrf = learner.post(f"{P}/oauth/authorize?client_id={registered['client_id']}", {"decision": "allow"},
                           csrf=False)
    assert no_csrf.status_code == 400
    bad_tokens = (dict(grant_type="authorization_code", code="forged", redirect_uri=REDIRECT, code_verifier="x" * 43),
                  dict(grant_type="password", username="u", password="p"),
                  dict(grant_type="refresh_token", refresh_token="forged"))
    for form in bad_tokens:
        assert token_request(client, registered, **form).status_code == 400, form
    assert token_request(client, {**registered, "client_secret": "wrong"}, grant_type="refresh_token",
                         refresh_token="x").status_code == 401
    for headers in ({}, bearer("forged"), {"Authorization": "Basic abc"}):
        answer = client.get(f"{P}/credentials", headers=headers)
        assert answer.status_code == 401 and answer.get_json()["imsx_codeMinor"]["imsx_codeMinorField"][0][
            "imsx_codeMinorFieldValue"] == "unauthorizedrequest"
    assert _counts(app) == before


def test_bad_paging_parameters_are_refused(client, world, as_person):
    a, _ = world
    tokens = connect(client, as_person(a, a.learners[0], "learner"), register(client).get_json())
    for query in ("limit=0", "limit=101", "offset=-1", "limit=ten", "since=yesterday", "since=2024-01-01T00:00:00"):
        answer = client.get(f"{P}/credentials?{query}", headers=bearer(tokens["access_token"]))
        assert answer.status_code == 400 and answer.get_json()["imsx_codeMinor"]["imsx_codeMinorField"][0][
            "imsx_codeMinorFieldValue"] == "invalid_data", query


def test_a_public_client_uses_pkce_without_a_secret(app, client, world, as_person):
    a, _ = world
    registered = register(client, token_endpoint_auth_method="none").get_json()
    assert not registered.get("client_secret")
    verifier, challenge = _pkce()
    _page, answer = consent(as_person(a, a.learners[0], "learner"), registered["client_id"], challenge=challenge)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": registered["client_id"]}
    assert client.post(f"{P}/oauth/token", data=form).status_code == 400  # no verifier: refused
    tokens = client.post(f"{P}/oauth/token", data={**form, "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.get_json()
    assert client.get(f"{P}/credentials", headers=bearer(tokens.get_json()["access_token"])).status_code == 200


def test_the_learner_sees_and_stops_the_apps_they_allowed(app, client, world, as_person):
    a, _ = world
    learner = as_person(a, a.learners[0], "learner")
    registered = register(client).get_json()
    tokens = connect(client, learner, registered)
    page = learner.get("/me/apps").get_data(as_text=True)
    assert "Example Wallet" in page and "read your badges and other credentials" in page
    assert "/me/apps" in learner.get("/me/badges").get_data(as_text=True)
    with app.extensions["lti_badger"].sessions() as s:
        client_row = s.scalar(select(OAuthToken)).client_id
    other = as_person(a, a.learners[1], "learner")
    assert "Example Wallet" not in other.get("/me/apps").get_data(as_text=True)
    before = _counts(app)
    assert other.post(f"/me/apps/{client_row}/revoke").status_code == 404
    assert learner.post(f"/me/apps/{client_row}/revoke", csrf=False).status_code == 400
    assert _counts(app) == before
    assert client.get(f"{P}/credentials", headers=bearer(tokens["access_token"])).status_code == 200
    stopped = learner.post(f"/me/apps/{client_row}/revoke")
    assert stopped.status_code == 303
    assert client.get(f"{P}/credentials", headers=bearer(tokens["access_token"])).status_code == 401
    assert token_request(client, registered, grant_type="refresh_token",
                         refresh_token=tokens["refresh_token"]).status_code == 400
    assert "No app can read your badges." in learner.get("/me/apps").get_data(as_text=True)


def test_behind_a_tls_proxy_the_public_https_url_counts(app_settings, world, as_person):
    """The app sees http://tool.internal (TLS ended at the proxy); its public URL is https."""
    a, _ = world
    proxied = create_app({**app_settings, "base_url": "https://badges.example.edu"})
    proxied.testing = True
    client = proxied.test_client()
    registered = client.post(f"{P}/oauth/register", base_url="http://tool.internal", json={
        "client_name": "Example Wallet", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"]}).get_json()
    learner = PageClient(proxied, proxied.test_client(), token_for(proxied, a, a.learners[0], "learner"))
    verifier, challenge = _pkce()
    query = urlencode({"response_type": "code", "client_id": registered["client_id"], "redirect_uri": REDIRECT,
                       "scope": SCOPES[0], "code_challenge": challenge, "code_challenge_method": "S256"})
    page = learner.get(f"{P}/oauth/authorize?{query}", base_url="http://tool.internal")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    answer = learner.post(f"{P}/oauth/authorize?{query}", {"decision": "allow"}, base_url="http://tool.internal")
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    tokens = client.post(f"{P}/oauth/token", base_url="http://tool.internal", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": registered["client_id"], "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.get_json()
    proxied.extensions["lti_badger"].engine.dispose()


def test_registration_is_rate_limited_per_address(app, client):
    answers = [register(client).status_code for _ in range(12)]
    assert answers[:10] == [201] * 10 and answers[10:] == [429, 429]
    assert register(client).get_json()["error"] == "temporarily_unavailable"
    with app.extensions["lti_badger"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(Base.metadata.tables["oauth_client"])) == 10
