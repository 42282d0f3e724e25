"""W3C VC-API issuing: `POST /credentials/issue` with an operator token from the CLI signs a
posted credential (eddsa-rdfc-2022, the issuer key); the result verifies through
`POST /credentials/verify` and Digital Bazaar's verifier. The W3C vc-di-eddsa vector's
unsigned credential goes through unchanged but for the proof. Each bad request gets a 4xx
JSON error and stores nothing."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from lti_badger.cli import main
from lti_badger.credentials.did import did_document
from lti_badger.credentials.jsonld import canonicalize
from lti_badger.keys import KIND_ISSUER
from lti_badger.models import ApiToken, Base
from tests.factories_credentials import OB3_VERIFY_DIR

DATA = Path(__file__).resolve().parents[2] / "data"
VECTOR = DATA / "test-vectors" / "eddsa-rdfc-2022"


def _cli(app_settings, *args):
    env = {"LTI_BADGER_DATABASE_URL": app_settings["database_url"],
           "LTI_BADGER_INSTANCE_PATH": app_settings["instance_path"]}
    return CliRunner().invoke(main, ["api-token", *args], env=env, catch_exceptions=False)


@pytest.fixture
def token(app, app_settings):
    answer = _cli(app_settings, "create", "--name", "W3C vc-di-eddsa suite")
    assert answer.exit_code == 0, answer.output
    return answer.output.strip().splitlines()[-1]


@pytest.fixture
def did(app):
    services = app.extensions["lti_badger"]
    services.keys.ensure(KIND_ISSUER)
    return f"did:web:{services.settings.public_base_url.split('://', 1)[1].replace(':', '%3A')}"


def _issue(client, token, credential, options=None):
    body = {"credential": credential, **({"options": options} if options is not None else {})}
    return client.post("/credentials/issue", json=body, headers={"Authorization": f"Bearer {token}"})


def test_token_is_stored_hashed_listed_and_revocable(app, app_settings, client, token, did):
    with app.extensions["lti_badger"].sessions() as s:
        row = s.scalar(select(ApiToken))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash
    listed = _cli(app_settings, "list").output
    assert "W3C vc-di-eddsa suite" in listed and "active" in listed and token not in listed
    assert _cli(app_settings, "revoke", str(row.id)).exit_code == 0
    assert "revoked" in _cli(app_settings, "list").output
    unsigned = json.loads((VECTOR / "unsigned.json").read_text()) | {"issuer": did}
    assert _issue(client, token, unsigned).status_code == 401
    assert _cli(app_settings, "revoke", "999").exit_code == 1


def test_w3c_vector_is_issued_unchanged_but_for_the_proof_and_verifies(app, client, token, did):
    unsigned = json.loads((VECTOR / "unsigned.json").read_text())
    unsigned["issuer"] = did
    answer = _issue(client, token, unsigned, {"created": "2023-02-24T23:36:38Z"})
    assert answer.status_code == 201, answer.get_json()
    signed = answer.get_json()["verifiableCredential"]
    proof = signed.pop("proof")
    assert signed == unsigned
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["created"] == "2023-02-24T23:36:38Z" and proof["verificationMethod"].startswith(did + "#")
    # the document part is the vector's own, so its canonical hash is the vector's once the issuer is restored
    assert hashlib.sha256(canonicalize({**signed, "issuer": "https://vc.example/issuers/5678"}).encode()).hexdigest() \
        == (VECTOR / "docHashDataInt.txt").read_text().strip()
    verified = client.post("/credentials/verify", json={"verifiableCredential": {**signed, "proof": proof}}).get_json()
    assert verified["verified"] is True, verified
    tampered = {**signed, "proof": proof, "credentialSubject": {**signed["credentialSubject"], "alumniOf": "Elsewhere"}}
    assert client.post("/credentials/verify", json={"verifiableCredential": tampered}).get_json()["verified"] is False


def test_vc_1_1_credential_gets_the_data_integrity_context(app, client, token, did):
    credential = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
                  "issuer": did, "issuanceDate": "2024-01-01T00:00:00Z",
                  "credentialSubject": {"id": "did:example:abc"}}
    answer = _issue(client, token, credential)
    assert answer.status_code == 201, answer.get_json()
    signed = answer.get_json()["verifiableCredential"]
    assert signed["@context"][-1] == "https://w3id.org/security/data-integrity/v2"
    assert client.post("/credentials/verify", json={"verifiableCredential": signed}).get_json()["verified"] is True


def test_open_badge_issued_through_the_api_passes_digital_bazaars_verifier(app, client, token, did, tmp_path):
    badge = json.loads((DATA / "ob3-examples" / "basicOpenBadgeCredential.json").read_text())
    badge["issuer"]["id"] = did
    answer = _issue(client, token, badge)
    assert answer.status_code == 201, answer.get_json()
    (tmp_path / "vc.json").write_text(json.dumps(answer.get_json()["verifiableCredential"]))
    keys = app.extensions["lti_badger"].keys
    (tmp_path / "docs.json").write_text(json.dumps({did: did_document(did, keys)}))
    proc = subprocess.run(["node", str(OB3_VERIFY_DIR / "verify.mjs"), str(tmp_path / "vc.json"),
                           "--docs", str(tmp_path / "docs.json"), "-q"], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "VERIFIED", proc.stdout + proc.stderr


def _row_counts(app) -> dict[str, int]:
    with app.extensions["lti_badger"].sessions() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def _bad_cases(did):
    good = json.loads((VECTOR / "unsigned.json").read_text()) | {"issuer": did}
    return {
        "someone else's issuer": ({"credential": {**good, "issuer": "https://vc.example/issuers/5678"}}, 400),
        "unknown context": ({"credential": {**good, "@context": [*good["@context"], "https://evil.example/ctx"]}}, 400),
        "undefined term": ({"credential": {**good, "@context": ["https://www.w3.org/ns/credentials/v2"],
                                           "type": ["VerifiableCredential"], "nickname": "x"}}, 400),
        "no VerifiableCredential type": ({"credential": {**good, "type": ["AlumniCredential"]}}, 400),
        "context order": ({"credential": {**good, "@context": list(reversed(good["@context"]))}}, 400),
        "bad validFrom": ({"credential": {**good, "validFrom": "yesterday"}}, 400),
        "empty subject": ({"credential": {**good, "credentialSubject": {}}}, 400),
        "already has a proof": ({"credential": {**good, "proof": {"type": "DataIntegrityProof"}}}, 400),
        "unknown option": ({"credential": good, "options": {"mandatoryPointers": ["/issuer"]}}, 400),
        "bad created": ({"credential": good, "options": {"created": "soon"}}, 400),
        "no credential": ({"verifiableCredential": good}, 400),
        "credential not an object": ({"credential": "eyJ..."}, 400),
    }


def test_bad_requests_get_a_json_4xx_and_store_nothing(app, client, token, did):
    before = _row_counts(app)
    for name, (body, status) in _bad_cases(did).items():
        answer = client.post("/credentials/issue", json=body, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == status, (name, answer.get_json())
        assert answer.is_json and answer.get_json()["message"], name
    for headers, status in (({}, 401), ({"Authorization": "Bearer lbk_wrong"}, 401),
                            ({"Authorization": "Basic abc"}, 401)):
        answer = client.post("/credentials/issue", json={"credential": {}}, headers=headers)
        assert answer.status_code == status and answer.is_json
    for data in (b"{not json", b"[]", b"x" * (1024 * 1024 + 10)):
        answer = client.post("/credentials/issue", data=data, content_type="application/json",
                             headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code in (400, 413) and answer.is_json, data[:10]
    after = _row_counts(app)
    assert after == before
