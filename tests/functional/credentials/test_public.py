"""The public routes over HTTP (Flask test client): DID document, credential content
negotiation, baked downloads, status lists with caching headers, achievement pages, and the
verify page and API with hostile input."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from lti_badger.credentials import IssuerProfile, issue_credential, set_status
from lti_badger.credentials.baking import extract, extract_credential
from lti_badger.credentials.compose import status_entries
from lti_badger.credentials.verify import REVOKED, TAMPERED
from lti_badger.db import transaction
from lti_badger.keys import KIND_ISSUER
from lti_badger.models import Credential
from tests.factories_credentials import make_award, ob3_verify

NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def issued(app):
    services = app.extensions["lti_badger"]
    services.keys.ensure(KIND_ISSUER)
    issuer = IssuerProfile.from_settings(services.settings)
    with transaction(services.sessions) as session:
        award = make_award(session, awarded_at=NOW)
        credential = issue_credential(session, award, issuer, services.keys, NOW)
        public_id = award.achievement.public_id
    return {"id": credential.id, "document": json.loads(credential.document), "issuer": issuer,
            "achievement": public_id}


def _set(app, credential_id, purpose, bit):
    services = app.extensions["lti_badger"]
    with transaction(services.sessions) as session:
        set_status(session, session.get(Credential, credential_id), purpose, bit)


def test_did_document(client, issued):
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == "did:web:127.0.0.1%3A5000" == issued["document"]["issuer"]["id"]
    assert body["assertionMethod"] == [f"{body['id']}#key-1"]
    assert body["verificationMethod"][0]["type"] == "Multikey"


def test_credential_content_negotiation(client, issued):
    cid = issued["id"]
    html = client.get(f"/credentials/{cid}", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert html.status_code == 200 and html.mimetype == "text/html"
    page = html.get_data(as_text=True)
    assert 'property="og:image"' in page and f"/credentials/{cid}.png" in page
    assert "Python Basics" in page and "Not revoked or suspended" in page
    for media in ("application/ld+json", "application/vc"):
        response = client.get(f"/credentials/{cid}", headers={"Accept": media})
        assert response.mimetype == media and json.loads(response.data) == issued["document"]
    assert client.get(f"/credentials/{cid}.json").get_json() == issued["document"]
    assert client.get("/credentials/00000000-0000-4000-8000-000000000000").status_code == 404
    assert client.get("/credentials/not-a-uuid").status_code == 404


def test_baked_downloads_carry_the_credential(client, issued):
    cid = issued["id"]
    png = client.get(f"/credentials/{cid}.png")
    svg = client.get(f"/credentials/{cid}.svg")
    assert png.mimetype == "image/png" and svg.mimetype == "image/svg+xml"
    assert extract(png.data) == issued["document"]
    assert extract(svg.data) == issued["document"]


def test_status_list_is_signed_and_cacheable(client, issued):
    url = status_entries(issued["document"])[0]["statusListCredential"]
    path = url.split("5000", 1)[1]
    response = client.get(path)
    assert response.status_code == 200
    assert "max-age=60" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    body = response.get_json()
    assert body["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert body["credentialSubject"]["encodedList"].startswith("u")
    assert body["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    _set(client.application, issued["id"], "revocation", True)
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert client.get("/status/999999").status_code == 404


def test_served_documents_pass_the_independent_verifier(client, issued, tmp_path):
    document = client.get(f"/credentials/{issued['id']}.json").get_json()
    docs = {issued["issuer"].did: client.get("/.well-known/did.json").get_json()}
    for entry in status_entries(document):
        url = entry["statusListCredential"]
        docs[url] = client.get(url.split("5000", 1)[1]).get_json()
    ok, line = ob3_verify(document, docs, tmp_path, now=datetime.now(timezone.utc))
    assert ok, line


def test_achievement_pages(client, issued):
    public_id = issued["achievement"]
    assert "Criteria" in client.get(f"/achievements/{public_id}").get_data(as_text=True)
    body = client.get(f"/achievements/{public_id}/versions/1", headers={"Accept": "application/ld+json"}).get_json()
    assert body["id"] == issued["document"]["credentialSubject"]["achievement"]["id"]
    assert body["type"] == ["Achievement"]
    image = client.get(f"/achievements/{public_id}/versions/1/image")
    assert image.status_code == 200 and image.mimetype in ("image/png", "image/svg+xml")
    assert client.get("/achievements/nope").status_code == 404


def test_verify_api_and_page(client, issued):
    cid = issued["id"]
    ok = client.post("/verify", data=json.dumps(issued["document"]), content_type="application/json")
    assert ok.status_code == 200 and ok.get_json()["valid"] is True
    assert ok.get_json()["verdict"] == "VERIFIED"
    png = client.get(f"/credentials/{cid}.png").data
    upload = client.post("/verify", data={"file": (__import__("io").BytesIO(png), "badge.png")},
                         headers={"Accept": "application/json"})
    assert upload.get_json()["valid"] is True
    page = client.post("/verify", data={"credential": json.dumps(issued["document"])}, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Valid credential" in page.get_data(as_text=True)
    assert client.get("/verify").status_code == 200
    assert "VERIFIED" in client.get(f"/verify?credential={cid}").get_data(as_text=True)

    tampered = json.loads(json.dumps(issued["document"]))
    tampered["name"] = "Forged"
    bad = client.post("/verify", data=json.dumps(tampered), content_type="application/json").get_json()
    assert bad["valid"] is False and bad["verdict"] == f"FAILED: {TAMPERED}"

    _set(client.application, cid, "revocation", True)
    revoked = client.post("/verify", data=json.dumps(issued["document"]), content_type="application/json").get_json()
    assert revoked["verdict"] == f"FAILED: {REVOKED}"


@pytest.mark.parametrize("body,content_type,status", [
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>', "image/svg+xml", 400),
    (b'{"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "application/json", 400),
    (b"{" + b" " * (3 * 1024 * 1024) + b"}", "application/json", 413),
    (b"not a credential", "text/plain", 400),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml", 400),
    (__import__("tests.unit.credentials.test_baking", fromlist=["_bomb_png"])._bomb_png(), "image/png", 400),
    (b"", "application/json", 400),
])
def test_hostile_input_gets_a_clear_4xx(client, issued, body, content_type, status):
    response = client.post("/verify", data=body, content_type=content_type, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert response.get_json()["message"]


CORPUS = Path(__file__).resolve().parents[2] / "data" / "verify-corpus"


def _corpus(name: str) -> Any:
    return extract_credential((CORPUS / "generated" / name).read_bytes())


def test_vc_api_verifies_any_issuers_credential_and_jwt(client, issued):
    ours = client.post("/credentials/verify", json={"verifiableCredential": issued["document"]})
    assert ours.status_code == 200 and ours.get_json()["verified"] is True
    assert ours.get_json()["checks"] == ["format", "proof", "issuer key", "issuer identity", "dates", "status", "schema"]
    # a third party's did:key credential: nothing to fetch, verified here
    theirs = client.post("/credentials/verify", json={"verifiableCredential": _corpus("key-did-key-rdfc.json")})
    assert theirs.get_json()["verified"] is True and theirs.get_json()["result"]["issuer_name"] == "Example College"
    token = _corpus("jwt-es256-did-jwk.jwt")
    assert client.post("/credentials/verify", json={"verifiableCredential": token}).get_json()["verified"] is True
    ecdsa = client.post("/credentials/verify", json={"verifiableCredential": _corpus("suite-ecdsa-rdfc-2019-p384.json")})
    assert ecdsa.get_json()["verified"] is True  # vc-di-ecdsa, a P-384 did:key
    expired = client.post("/credentials/verify", json={"verifiableCredential": _corpus("dates-expired.json")})
    assert expired.status_code == 400  # the VC-API's verifier test suite: a credential that does not verify
    assert expired.get_json()["verified"] is False
    assert expired.get_json()["errors"] == [{"check": "dates", "message": "the credential expired on 2024-05-01"}]
    no_context = {k: v for k, v in issued["document"].items() if k != "@context"}
    refused = client.post("/credentials/verify", json={"verifiableCredential": no_context})
    assert refused.status_code == 400 and refused.get_json()["verified"] is False


def test_verify_page_shows_issuer_achievement_learner_dates_and_every_check(client):
    page = client.post("/verify", data={"credential": json.dumps(_corpus("dates-still-valid.json"))},
                       headers={"Accept": "text/html"}).get_data(as_text=True)
    for shown in ("Valid credential", "Example College", "Lab Safety", "Ada Learner", "2030-01-01", "Signature",
                  "s identity", "valid until 2030-01-01"):
        assert shown in page, shown
    tampered = client.post("/verify", data={"credential": json.dumps(_corpus("tamper-name.json"))},
                           headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Not valid" in tampered and TAMPERED in tampered


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"verifiableCredential": 42}', b"{}"])
def test_vc_api_bad_input_is_400(client, body):
    answer = client.post("/credentials/verify", data=body, content_type="application/json")
    assert answer.status_code == 400 and answer.get_json()["error"] == "bad_input"


def test_verification_is_rate_limited_per_client(client):
    document = {"verifiableCredential": _corpus("key-did-key-rdfc.json")}
    codes = [client.post("/credentials/verify", json=document,
                         environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code for _ in range(31)]
    assert codes[:30] == [200] * 30 and codes[30] == 429
    other = client.post("/credentials/verify", json=document, environ_base={"REMOTE_ADDR": "203.0.113.10"})
    assert other.status_code == 200


def test_our_extension_context_is_served_at_the_url_credentials_name(client):
    from lti_badger.credentials.jsonld import EU_CONTEXT_PATH, eu_context

    response = client.get(EU_CONTEXT_PATH)
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    assert response.get_json() == eu_context() and "max-age=86400" in response.headers["Cache-Control"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_suspension_in_the_default_mode_is_reported_by_the_page_and_apis_and_reinstatement_clears_it(
        app, client, issued):
    """One status entry (revocation) by default: the suspension is the award's status, which
    the credential page, the verify page, POST /verify and the VC-API all read."""
    from lti_badger.awards.services import reinstate, suspend
    from lti_badger.credentials.verify import SUSPENDED

    cid, document = issued["id"], issued["document"]
    assert isinstance(document["credentialStatus"], dict)
    services = app.extensions["lti_badger"]

    def verdicts():
        api = client.post("/credentials/verify", json={"verifiableCredential": document}).get_json()
        raw = client.post("/verify", data=json.dumps(document), content_type="application/json").get_json()
        page = client.get(f"/verify?credential={cid}").get_data(as_text=True)
        public = client.get(f"/credentials/{cid}", headers={"Accept": "text/html"}).get_data(as_text=True)
        return api, raw, page, public

    api, raw, page, public = verdicts()
    assert api["verified"] is True and raw["suspended"] is False and "not suspended" in api["result"]["checks"][5][
        "reason"]
    with transaction(services.sessions) as session:
        award = session.get(Credential, cid).award
        suspend(session, award.course_id, award.id, None, "under review", NOW)
    api, raw, page, public = verdicts()
    assert api["verified"] is False and api["errors"][0]["message"].startswith(SUSPENDED)
    assert raw["suspended"] is True and raw["verdict"].startswith(f"FAILED: {SUSPENDED}")
    assert SUSPENDED in page and "Not revoked or suspended" not in public
    with transaction(services.sessions) as session:
        award = session.get(Credential, cid).award
        reinstate(session, award.course_id, award.id, None, "cleared", NOW)
    api, raw, page, public = verdicts()
    assert api["verified"] is True and raw["suspended"] is False and "Not revoked or suspended" in public


def test_a_link_to_a_credential_pasted_into_the_verifier_verifies_what_it_serves(client, issued):
    """An employer gets a learner's link, not a file: pasted into /verify (or sent to the
    VC-API), one of our links is read from our database; any other one is fetched online."""
    link = issued["document"]["id"]
    assert link.endswith(f"/credentials/{issued['id']}")
    answer = client.post("/verify", data={"credential": link}, headers={"Accept": "application/json"}).get_json()
    assert answer["valid"] is True and answer["credential_id"] == link, answer["verdict"]
    api = client.post("/credentials/verify", json={"verifiableCredential": link})
    assert api.status_code == 200 and api.get_json()["verified"] is True
    unknown = link[: -len(issued["id"])] + "00000000-0000-4000-8000-000000000000"
    missing = client.post("/verify", data={"credential": unknown}, headers={"Accept": "application/json"}).get_json()
    assert missing["valid"] is False and "could not be retrieved" in missing["verdict"]
