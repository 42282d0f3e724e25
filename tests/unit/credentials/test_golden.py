"""The composed and signed credential is pinned by a golden JSON file (fixed clock, ids,
salt and key). Regenerate on purpose with LTI_BADGER_UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from lti_badger.credentials.compose import CredentialFacts, IssuerFacts, StatusRef, compose_credential
from lti_badger.credentials.eddsa import Signer, sign, verify_proof
from lti_badger.credentials.jsonld import canonicalize, canonicalize_reference
from lti_badger.credentials.schema import schema_errors

GOLDEN = Path(__file__).parent / "golden" / "credential.json"
SEED = bytes.fromhex("0b3c0ffee0b3c0ffee0b3c0ffee0b3c0ffee0b3c0ffee0b3c0ffee0b3c0ffee0")
NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)


def _facts() -> CredentialFacts:
    return CredentialFacts(
        base_url="https://badges.example.edu", achievement_public_id="5b1e0d3c-0f6a-4a57-9d3e-7f2b8c1a9e40",
        version_number=3, name="Python Basics", description="Writes and tests small Python programs.",
        criteria_narrative="Complete modules 1-4 with at least 80% in each quiz.", achievement_type="MicroCredential",
        rule_hash="9f" * 32,
        details={"tags": ["python", "programming"], "language": "en", "credits_ects": 2.5,
                 "field_of_study": "Computer Science", "specialization": "Programming", "human_code": "PY101",
                 "eqf_level": 5, "nqf_level": 6, "nqf_url": "https://example.edu/nqf", "assessment": "testing", "workload_hours": 60, "participation": "blended",
                 "supervision": "supervised online", "identity_checked": True, "stackability": "stackable",
                 "prerequisites": "Secondary school mathematics",
                 "further_information": "https://example.edu/courses/py101",
                 "learning_outcomes": ["Writes functions with tests", "Reads a traceback"],
                 "quality_assurance": "external", "quality_assurance_url": "https://example.edu/qa/py101",
                 "include_grades": True,
                 "result_bands": ["Pass", "Merit", "Distinction"],
                 "alignments": [{"targetName": "Write Python functions", "targetUrl": "https://skills.example.org/py/1",
                                 "targetFramework": "Example Skills", "targetCode": "PY-1"}]},
        learner_email="Ada.Lovelace@example.edu", learner_sub="canvas-user-42", platform_issuer="https://canvas.example",
        course_title="Intro to Python", course_context_id="ctx-1", awarded_at=NOW, awarded_by="rule",
        evidence={"met": True, "evaluated_at": "2025-06-02T11:59:00+00:00", "band": "Merit",
                  "explanation": {"type": "all", "met": True, "children": [
                      {"type": "activity_score", "met": True, "title": "Quiz 4", "module": "Week 4",
                       "observed": 92, "threshold": 80, "unit": "%", "as_of": "2025-06-01T09:00:00+00:00"}]}},
    )


def _signed() -> dict:
    issuer = IssuerFacts(did="did:web:badges.example.edu", name="Example University", url="https://example.edu/",
                         email="badges@example.edu", image="https://example.edu/logo.png", country="ES")
    document = compose_credential(
        _facts(), issuer, credential_id="https://badges.example.edu/credentials/0d9e3c1a-7b44-4b0e-9a6f-2c8d5e1f3a70",
        valid_from=NOW, valid_until=datetime(2027, 6, 2, 12, 0, tzinfo=timezone.utc), salt="a1b2c3d4e5f60718",
        status=[StatusRef("revocation", "https://badges.example.edu/status/1", 94567)],
    )
    return sign(document, Signer(SEED, "did:web:badges.example.edu#key-1"), "2025-06-02T12:00:00Z")


def test_golden_credential():
    signed = _signed()
    if os.environ.get("LTI_BADGER_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(signed, ensure_ascii=False, indent=2) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert signed == golden
    assert json.dumps(signed) == json.dumps(golden)  # key order too
    assert schema_errors(signed) == []
    assert verify_proof(signed, signed["proof"][0], Signer(SEED, "").public_key)
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    assert canonicalize(unsigned) == canonicalize_reference(unsigned)


def test_alignments_need_a_web_url_and_text_loses_control_characters():
    from dataclasses import replace

    facts = replace(_facts(), name="Bell\x07 and\ttab", details={"alignments": [
        {"targetName": "XSS", "targetUrl": "javascript:alert(1)"},
        {"targetName": "Data", "targetUrl": "data:text/html,<script>x</script>"},
        {"targetName": "Fine", "targetUrl": "https://skills.example.org/ok"},
    ]})
    issuer = IssuerFacts(did="did:web:badges.example.edu", name="U")
    document = compose_credential(facts, issuer, credential_id="https://badges.example.edu/credentials/x",
                                  valid_from=NOW, valid_until=None, salt="00", status=[])
    achievement = document["credentialSubject"]["achievement"]
    assert [a["targetName"] for a in achievement["alignment"]] == ["Fine"]
    assert achievement["name"] == document["name"] == "Bell and\ttab"


def test_unreleased_grade_never_reaches_the_evidence():
    facts = _facts()
    quiz = facts.evidence["explanation"]["children"][0]
    quiz["hidden"] = True  # the LMS has not released this grade to the learner
    issuer = IssuerFacts(did="did:web:badges.example.edu", name="Example University", url="https://example.edu/",
                         email="", image="")
    document = compose_credential(facts, issuer, credential_id="https://badges.example.edu/credentials/x",
                                  valid_from=NOW, valid_until=None, salt="00", status=[])
    narrative = document["evidence"][0]["narrative"]
    assert "Quiz 4 (module Week 4): met" in narrative
    assert "92" not in narrative and "observed" not in narrative
