"""A wallet collects a learner's credential through the VC-API exchange, as the DCC Learner
Credential Wallet does: the learner opens a one-time link on the badge page, the test wallet
(a did:key made with PyNaCl) reads the interaction URL, asks the exchange for its request,
answers with a signed DID Authentication presentation and receives the credential, which
passes our verifier and ob3-verify. Every refusal is a 4xx that changes nothing."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from nacl.signing import SigningKey
from sqlalchemy import func, select

from lti_badger.credentials import IssuerProfile, verify_credential
from lti_badger.credentials.compose import status_entries
from lti_badger.credentials.services import LocalSource
from lti_badger.criteria import achievements
from lti_badger.models import AuditEvent, Award, WalletExchange
from tests.factories_credentials import OB3_VERIFY_DIR, ob3_verify
from tests.factories_wallet import DidKeyWallet

def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def earned(app, courses, as_person):
    """Course A's first learner holds an active badge awarded by the instructor."""
    a, _b = courses
    with app.extensions["lti_badger"].sessions() as s:
        achievement = achievements.create_achievement(s, a.course.id, {"name": "Wallet badge", "rule": {
            "type": "course_grade", "min_percent": 50}}, None, datetime.now(timezone.utc))
        achievement.state = "active"
        s.commit()
        achievement_id = achievement.id
    teacher = as_person(a, a.instructor, "instructor")
    awarded = teacher.post("/course/awards", {"person_id": a.learners[0].id, "achievement_id": achievement_id,
                                              "reason": "oral exam"})
    assert awarded.status_code == 303
    return {"world": a, "achievement_id": achievement_id, "teacher": teacher,
            "learner": as_person(a, a.learners[0], "learner")}


def open_link(earned) -> dict:
    """The learner presses "Add to a wallet"; the page shows the QR code and both links."""
    learner = earned["learner"]
    before = learner.get(f"/me/badges/{earned['achievement_id']}").get_data(as_text=True)
    assert "Add to a wallet" in before and 'class="qr' not in before
    response = learner.post(f"/me/badges/{earned['achievement_id']}/wallet")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert page.count("<svg") == 1 and "QR code that opens the Learner Credential Wallet" in page
    lcw = html.unescape(re.search(r'<a class="button" href="([^"]+)">Open in Learner Credential Wallet', page)[1])
    interaction = html.unescape(re.search(r'id="interaction-link" readonly value="([^"]+)"', page)[1])
    assert "expires at" in page
    return {"lcw": lcw, "interaction": interaction}


def start(client, interaction: str) -> tuple[str, dict]:
    """What a wallet does with an interaction URL: read the protocols, POST {} to the exchange."""
    protocols = client.get(path_of(interaction), headers={"Accept": "application/json"})
    assert protocols.status_code == 200 and protocols.headers["Access-Control-Allow-Origin"] == "*"
    exchange_url = protocols.get_json()["protocols"]["vcapi"]
    request = client.post(path_of(exchange_url), json={})
    assert request.status_code == 200, request.get_data(as_text=True)
    return exchange_url, request.get_json()["verifiablePresentationRequest"]


def collected(app) -> list[tuple]:
    with app.extensions["lti_badger"].sessions() as s:
        rows = s.execute(select(WalletExchange.collected_at, WalletExchange.holder)).all()
        audits = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "credential.collect"))
    return [tuple(r) for r in rows] + [("audits", audits)]


def test_a_wallet_collects_the_credential(app, client, earned, tmp_path):
    links = open_link(earned)
    invitation = json.loads(parse_qs(urlsplit(links["lcw"]).query)["request"][0])
    assert links["lcw"].startswith("https://lcw.app/request?request=")
    assert invitation["credentialRequestOrigin"] == "http://127.0.0.1:5000"
    assert urlsplit(links["interaction"]).query == "iuv=1"

    people = client.get(path_of(links["interaction"]), headers={"Accept": "text/html"})
    assert people.status_code == 200 and "This link is for a wallet app" in people.get_data(as_text=True)

    exchange_url, vpr = start(client, links["interaction"])
    assert exchange_url == invitation["protocols"]["vcapi"]
    preflight = client.options(path_of(exchange_url), headers={
        "Origin": "https://wallet.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert vpr["query"][0]["type"] == "DIDAuthentication"
    assert vpr["domain"] == "127.0.0.1:5000" and len(vpr["challenge"]) >= 32
    assert vpr["interact"]["service"][0]["serviceEndpoint"] == exchange_url

    wallet = DidKeyWallet()
    answer = client.post(path_of(exchange_url),
                         json={"verifiablePresentation": wallet.presentation(vpr["challenge"], vpr["domain"])})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    presentation = answer.get_json()["verifiablePresentation"]
    credential = presentation["verifiableCredential"][0]
    assert presentation["type"] == ["VerifiablePresentation"]

    served = client.get(urlsplit(credential["id"]).path + ".json").get_json()
    assert credential == served  # as issued: the subject stays the learner's hashed identity
    services = app.extensions["lti_badger"]
    with services.sessions() as s:
        ours = verify_credential(credential, status_source=LocalSource(s, IssuerProfile.from_settings(services.settings),
                                                                       services.keys), now=datetime.now(timezone.utc))
    assert ours.verdict == "VERIFIED"
    docs = {credential["issuer"]["id"]: client.get("/.well-known/did.json").get_json()}
    for entry in status_entries(credential):
        docs[entry["statusListCredential"]] = client.get(path_of(entry["statusListCredential"])).get_json()
    ok, line = ob3_verify(credential, docs, tmp_path, now=datetime.now(timezone.utc))
    assert ok, line

    [(when, holder), audits] = collected(app)
    assert holder == wallet.did and when is not None and audits == ("audits", 1)
    # single use: the same presentation again, or a fresh start, is refused
    again = client.post(path_of(exchange_url), json={"verifiablePresentation": wallet.presentation(
        vpr["challenge"], vpr["domain"])})
    assert again.status_code == 409 and again.get_json()["error"] == "conflict"
    assert client.post(path_of(exchange_url), json={}).status_code == 409
    assert client.get(path_of(links["interaction"]), headers={"Accept": "application/json"}).status_code == 409
    assert collected(app)[-1] == ("audits", 1)


def test_eddsa_rdfc_2022_presentations_are_accepted_too(app, client, earned):
    exchange_url, vpr = start(client, open_link(earned)["interaction"])
    vp = DidKeyWallet().presentation(vpr["challenge"], vpr["domain"], suite="eddsa-rdfc-2022")
    answer = client.post(path_of(exchange_url), json={"verifiablePresentation": vp})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["verifiablePresentation"]["verifiableCredential"][0]["type"][0] == "VerifiableCredential"


# A wallet built on Digital Bazaar's `vc` library (what the DCC wallets use), from the interop
# verifier's node_modules: createPresentation + signPresentation with eddsa-rdfc-2022 and a did:key.
NODE_DID_AUTH = """
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {keyFromSeed} from './keys.mjs';
import {createDocumentLoader} from './loader.mjs';
const [challenge, domain, seedHex] = process.argv.slice(1);
const key = await keyFromSeed({seedHex});
const suite = new DataIntegrityProof({signer: key.signer(), cryptosuite});
process.stdout.write(JSON.stringify(await vc.signPresentation({
  presentation: vc.createPresentation({holder: key.did}), suite, challenge, domain,
  documentLoader: createDocumentLoader()})));
"""


@pytest.mark.skipif(shutil.which("node") is None or not (OB3_VERIFY_DIR / "keys.mjs").exists(),
                    reason="needs node and ob3-verify")
def test_a_presentation_signed_by_digital_bazaar_vc_is_accepted(app, client, earned):
    exchange_url, vpr = start(client, open_link(earned)["interaction"])
    proc = subprocess.run(["node", "--input-type=module", "-e", NODE_DID_AUTH, "--", vpr["challenge"], vpr["domain"],
                           SigningKey.generate().encode().hex()],
                          cwd=OB3_VERIFY_DIR, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    vp = json.loads(proc.stdout)
    answer = client.post(path_of(exchange_url), json={"verifiablePresentation": vp})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert collected(app)[0][1] == vp["holder"]


def _refused(app, client, exchange_url: str, status: int, wanted: str | None = None, **send) -> None:
    """POST `send` (json=... or data=...) to the exchange: refused with `status`, nothing changed."""
    before = collected(app)
    response = client.post(path_of(exchange_url), **send)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    if wanted:
        assert wanted in response.get_json()["message"]
    assert collected(app) == before


def test_bad_presentations_are_refused_and_change_nothing(app, client, earned):
    exchange_url, vpr = start(client, open_link(earned)["interaction"])
    wallet, other = DidKeyWallet(), DidKeyWallet()
    challenge, domain = vpr["challenge"], vpr["domain"]

    _refused(app, client, exchange_url, 401, "challenge",
             json={"verifiablePresentation": wallet.presentation("not-ours", domain)})
    _refused(app, client, exchange_url, 401, "domain",
             json={"verifiablePresentation": wallet.presentation(challenge, "evil.example")})
    forged = wallet.presentation(challenge, domain, key=other.key)  # claims our DID, signed by another key
    _refused(app, client, exchange_url, 401, "signature", json={"verifiablePresentation": forged})
    tampered = wallet.presentation(challenge, domain)
    tampered["holder"] = other.did
    _refused(app, client, exchange_url, 401, "verificationMethod", json={"verifiablePresentation": tampered})
    wrong_purpose = wallet.presentation(challenge, domain)
    wrong_purpose["proof"]["proofPurpose"] = "assertionMethod"
    _refused(app, client, exchange_url, 401, "purpose", json={"verifiablePresentation": wrong_purpose})
    changed = wallet.presentation(challenge, domain)
    changed["proof"]["created"] = "2020-01-01T00:00:00Z"
    _refused(app, client, exchange_url, 401, "signature", json={"verifiablePresentation": changed})
    web_holder = wallet.presentation(challenge, domain)
    web_holder["holder"] = "did:web:evil.example"
    _refused(app, client, exchange_url, 400, "did:key", json={"verifiablePresentation": web_holder})
    unsigned = {k: v for k, v in wallet.presentation(challenge, domain).items() if k != "proof"}
    _refused(app, client, exchange_url, 400, "no proof", json={"verifiablePresentation": unsigned})
    _refused(app, client, exchange_url, 400, json={"verifiablePresentation": "a string"})
    _refused(app, client, exchange_url, 400, json=["not", "an", "object"])
    _refused(app, client, exchange_url, 400, "JSON", data=b"{not json", content_type="application/json")
    unknown_context = wallet.presentation(challenge, domain)
    unknown_context["@context"].append("https://evil.example/context.json")
    _refused(app, client, exchange_url, 400, "not available offline", json={"verifiablePresentation": unknown_context})

    # after all that, the right presentation still works
    ok = client.post(path_of(exchange_url), json={"verifiablePresentation": wallet.presentation(challenge, domain)})
    assert ok.status_code == 200


def test_unknown_and_expired_exchanges(app, client, earned):
    assert client.post("/workflows/collect/exchanges/no-such-exchange", json={}).status_code == 404
    assert client.get("/interactions/no-such-exchange?iuv=1", headers={"Accept": "application/json"}).status_code == 404
    assert client.post("/workflows/other/exchanges/x", json={}).status_code == 404
    exchange_url, vpr = start(client, open_link(earned)["interaction"])
    with app.extensions["lti_badger"].sessions() as s:
        row = s.scalars(select(WalletExchange)).one()
        row.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
        s.commit()
    vp = DidKeyWallet().presentation(vpr["challenge"], vpr["domain"])
    _refused(app, client, exchange_url, 410, "expired", json={"verifiablePresentation": vp})
    _refused(app, client, exchange_url, 410, json={})


def test_only_the_learner_who_holds_an_active_badge_gets_a_link(app, client, courses, earned, as_person):
    a, b = courses
    achievement_id = earned["achievement_id"]
    classmate = as_person(a, a.learners[1], "learner")
    assert classmate.post(f"/me/badges/{achievement_id}/wallet").status_code == 404
    stranger = as_person(b, b.learners[0], "learner")
    assert stranger.post(f"/me/badges/{achievement_id}/wallet").status_code == 404
    assert earned["learner"].post(f"/me/badges/{achievement_id}/wallet", csrf=False).status_code == 400
    with app.extensions["lti_badger"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(WalletExchange)) == 0


def test_a_revoked_credential_is_not_handed_out(app, client, earned):
    exchange_url, vpr = start(client, open_link(earned)["interaction"])
    teacher = earned["teacher"]
    with app.extensions["lti_badger"].sessions() as s:
        award_id = s.scalars(select(Award.id)).one()
    assert teacher.post(f"/course/awards/{award_id}/revoke", {"reason": "mistake"}).status_code == 303
    vp = DidKeyWallet().presentation(vpr["challenge"], vpr["domain"])
    _refused(app, client, exchange_url, 409, "not active", json={"verifiablePresentation": vp})
    learner = earned["learner"]
    page = learner.get(f"/me/badges/{earned['achievement_id']}").get_data(as_text=True)
    assert "Add to a wallet" not in page
    assert learner.post(f"/me/badges/{earned['achievement_id']}/wallet").status_code == 409
