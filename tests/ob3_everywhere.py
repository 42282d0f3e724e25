"""Pytest plugin for invariant 3: *every* credential the test suite issues, whichever part's
test issued it, must pass the independent verifier (ob3-verify).

Every issuance goes through `credentials.services.check_own_output` (schema + our own
signature check). This plugin wraps it for the whole session and records each signed
credential with its key. When the session ends it runs `ob3-verify --strict
--require-status` on every distinct credential. The docs map holds a DID document with the
signing key and, for each status list, a status list credential signed by the same key with
every bit clear (the state at issuance). Any FAILED verdict fails the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lti_badger.credentials import services as credential_services
from lti_badger.credentials.compose import status_entries
from lti_badger.credentials.eddsa import Signer, sign
from lti_badger.credentials.jsonld import served_contexts
from lti_badger.credentials.status import LIST_SIZE, encode_list

# Our interop verifier (tests/interop, `npm ci` there); OB3_VERIFY_DIR may point at another one
# with the same CLI for a second opinion.
OB3_VERIFY_DIR = Path(os.environ.get("OB3_VERIFY_DIR") or Path(__file__).resolve().parent / "interop")
_issued: dict[str, tuple[dict, bytes, str]] = {}
_checked = [0]


def _docs_for(document: dict, seed: bytes, method: str) -> dict:
    signer = Signer(seed, method)
    did = method.split("#", 1)[0]
    docs: dict = {did: {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"], "id": did,
        "verificationMethod": [{"id": method, "type": "Multikey", "controller": did,
                                "publicKeyMultibase": signer.public_multikey}],
        "assertionMethod": [method]}}
    issued = datetime.fromisoformat(document["proof"][0]["created"].replace("Z", "+00:00"))
    valid_from = min(issued, datetime.now(timezone.utc) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for entry in status_entries(document):
        url = entry["statusListCredential"]
        docs[url] = sign({
            "@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": did, "validFrom": valid_from,
            "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList",
                                  "statusPurpose": entry["statusPurpose"], "encodedList": encode_list(bytes(LIST_SIZE // 8))},
        }, signer, valid_from)
    # Our extension context, served by the issuing tool: an outside verifier fetches it, or
    # (offline) takes it from the map.
    docs.update(served_contexts(document))
    return docs


def _verify(folder: Path, name: str, document: dict, seed: bytes, method: str) -> str | None:
    cred, docs = folder / f"{name}.json", folder / f"{name}.docs.json"
    cred.write_text(json.dumps(document))
    docs.write_text(json.dumps(_docs_for(document, seed, method)))
    issued = datetime.fromisoformat(document["proof"][0]["created"].replace("Z", "+00:00"))
    now = (issued + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    proc = subprocess.run(["node", str(OB3_VERIFY_DIR / "verify.mjs"), str(cred), "--docs", str(docs), "--strict",
                           "--require-status", "-q", "--now", now], capture_output=True, text=True, timeout=300)
    verdict = proc.stdout.strip()
    return None if proc.returncode == 0 and verdict == "VERIFIED" else f"{document.get('id')}: {verdict or proc.stderr}"


@pytest.fixture(scope="session", autouse=True)
def every_issued_credential_passes_ob3_verify():
    original = credential_services.check_own_output

    def recording(signed: dict, signer: Signer, **options) -> None:
        original(signed, signer, **options)
        text = json.dumps(signed, sort_keys=True)
        _issued.setdefault(text, (signed, signer.seed, signer.verification_method))

    credential_services.check_own_output = recording
    yield
    credential_services.check_own_output = original
    if not _issued:
        return
    if not (OB3_VERIFY_DIR / "verify.mjs").exists() or not (OB3_VERIFY_DIR / "node_modules").is_dir():
        pytest.fail(f"{len(_issued)} credentials were issued but ob3-verify is not installed in {OB3_VERIFY_DIR} "
                    "(run `npm ci` there, as .ci/run does)")
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=4) as pool:
        failures = [f for f in pool.map(lambda item: _verify(Path(tmp), str(item[0]), *item[1]),
                                        enumerate(_issued.values())) if f]
    count = len(_issued)
    _issued.clear()
    if not failures:
        _checked[0] += count
    if failures:
        pytest.fail("credentials issued by the suite that ob3-verify rejects:\n" + "\n".join(failures[:20]))


def pytest_terminal_summary(terminalreporter) -> None:
    if _checked[0]:
        terminalreporter.write_line(f"ob3-verify: all {_checked[0]} distinct credentials issued by this run VERIFIED")
