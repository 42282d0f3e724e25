"""The verification corpus (tests/data/verify-corpus, built by tests/make_verify_corpus.py):
third-party test material (DCC verifier-core fixtures, W3C vc-di-eddsa vectors, 1EdTech's
signed OB 3.0 vector) and generated cases for every status state, key type and tamper
place. Each must get its expected verdict, failing on the expected check for the expected
reason, offline: any attempt to open a socket fails the test."""

from __future__ import annotations

import json
import re
import socket
from datetime import datetime
from pathlib import Path

import pytest

from lti_badger.credentials.baking import extract_credential
from lti_badger.credentials.verify import MapSource, verify_credential

CORPUS = Path(__file__).resolve().parents[2] / "data" / "verify-corpus"
CASES = json.loads((CORPUS / "cases.json").read_text())


def _bundle(path: str | None) -> dict:
    if not path:
        return {}
    base = (CORPUS / path).parent
    raw = json.loads((CORPUS / path).read_text())
    return {url: json.loads((base / value).read_text()) if isinstance(value, str) else value
            for url, value in raw.items()}


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_corpus_case_gets_its_verdict_for_its_reason(case, no_network):
    credential = extract_credential((CORPUS / case["credential"]).read_bytes())
    now = datetime.fromisoformat(case["now"].replace("Z", "+00:00"))
    result = verify_credential(credential, status_source=MapSource(_bundle(case["docs"])), now=now)
    report = json.dumps(result.to_dict()["checks"], indent=1)
    assert result.valid is case["valid"], report
    if case["valid"]:
        assert result.verdict == "VERIFIED"
        assert all(c.state in ("passed", "not checked", "warning") for c in result.checks), report
        if "warning" in case:
            assert any(case["warning"] in w for w in result.warnings), result.warnings
    else:
        failed = {c.name: c.reason for c in result.checks if c.state != "passed"}
        assert case["check"] in failed, report
        assert case["reason"] in failed[case["check"]], report
        assert case["reason"] in result.verdict or result.state_of(case["check"]) == "not checked", result.verdict


def test_a_status_list_trusted_earlier_is_refused_once_it_has_expired(no_network):
    """A list's signature is checked once per document, its dates at every verification: the
    same list object, trusted while valid, is refused after its validUntil."""
    case = next(c for c in CASES if c["name"] == "status-list-expired")
    credential = extract_credential((CORPUS / case["credential"]).read_bytes())
    source = MapSource(_bundle(case["docs"]))
    before = verify_credential(credential, status_source=source, now=datetime.fromisoformat("2025-02-01T00:00:00+00:00"))
    assert before.state_of("status") == "passed", before.to_dict()["checks"]
    after = verify_credential(credential, status_source=source, now=datetime.fromisoformat("2025-06-01T00:00:00+00:00"))
    assert after.state_of("status") == "failed"
    assert "expired on 2025-03-01" in next(c.reason for c in after.checks if c.name == "status")


def test_corpus_covers_what_the_issue_lists():
    names = {c["name"] for c in CASES}
    for prefix in ("key-did-key", "key-did-web-reference", "key-did-web-embedded", "key-https", "key-did-jwk",
                   "jwt-rs256", "jwt-es256", "jwt-eddsa", "suite-eddsa-jcs", "suite-ed25519-signature-2020",
                   "status-bitstring-revoked", "status-bitstring-suspended", "status-message", "status-list-2021",
                   "status-1edtech", "status-list-expired", "tamper-", "dates-expired", "model-vc-1.1",
                   "dcc-", "w3c-", "1edtech-", "vctf-", "1edtech-validator-", "jwt-undefined-term", "w3c-suite-"):
        assert any(n.startswith(prefix) for n in names), prefix
    assert sum(not c["valid"] for c in CASES) >= 80 and sum(c["valid"] for c in CASES) >= 80


def test_every_reason_code_has_its_words_and_the_corpus_uses_each(no_network):
    """Each code of `checks.CODES` (the reasons a reader acts on, said in their language by
    `web/reasons.py`) has a sentence taking only its arguments, the validity period one per
    combination of dates present; verifying the corpus gives no other code, no other
    arguments, and every code at least once."""
    from lti_badger.credentials.checks import CODES
    from lti_badger.web.reasons import CHECK_TEXTS

    for code, args in CODES.items():
        variants = [k for k in CHECK_TEXTS if k == code or k.startswith(code + ".")]
        assert variants, code
        for variant in variants:
            assert set(re.findall(r"%\((\w+)\)s", str(CHECK_TEXTS[variant]))) <= set(args), variant
    seen = set()
    for case in CASES:
        credential = extract_credential((CORPUS / case["credential"]).read_bytes())
        now = datetime.fromisoformat(case["now"].replace("Z", "+00:00"))
        for check in verify_credential(credential, status_source=MapSource(_bundle(case["docs"])), now=now).checks:
            if check.code is not None:
                assert check.code in CODES and set(check.args or {}) == set(CODES[check.code]), (case["name"], check)
                seen.add(check.code)
    assert seen == set(CODES)
