"""Varied credentials for equivalence tests and the benchmark: names with quotes, unicode,
newlines and backslashes, optional fields present or absent, several list lengths."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from lti_badger.credentials.compose import CredentialFacts, IssuerFacts, StatusRef, compose_credential
from lti_badger.credentials.microcredential import ASSESSMENT, PARTICIPATION, QUALITY_ASSURANCE, SUPERVISION

_WORDS = ["Python", "Données", "Grün", "日本語", "naïve", "O'Brien", 'say "hi"', "back\\slash", "tab\there",
          "line\nbreak", "emoji 🎓", "<b>html</b>", "a & b", "  spaced  ", "Ωmega", "x" * 40, "#hash", "100%",
          "{brace}", "urn:like:value", "https://looks.like/url", "did:web:not.really", "ext:Thing", "_:b0"]

BASE = "https://badges.example.edu"


def _text(rng: random.Random, words: int = 3) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, words)))


def random_facts(rng: random.Random) -> CredentialFacts:
    details: dict = {}
    if rng.random() < 0.7:
        details["tags"] = [_text(rng, 1) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.6:
        details["alignments"] = [{
            "targetName": _text(rng), "targetUrl": f"https://skills.example.org/{rng.randint(1, 999)}",
            **({"targetFramework": _text(rng)} if rng.random() < 0.5 else {}),
            **({"targetCode": str(rng.randint(1, 99))} if rng.random() < 0.5 else {}),
        } for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.5:
        details["language"] = rng.choice(["en", "de", "fr-CA", "ja"])
    if rng.random() < 0.5:
        details["credits_ects"] = rng.choice([1, 2.5, 5.0, 0.25, 30])
    for key in ("field_of_study", "specialization", "human_code", "assessment", "quality_assurance",
                "prerequisites"):
        if rng.random() < 0.4:
            details[key] = _text(rng)
    for key, vocabulary in (("participation", PARTICIPATION), ("assessment", ASSESSMENT),
                            ("supervision", SUPERVISION), ("quality_assurance", tuple(QUALITY_ASSURANCE))):
        if rng.random() < 0.3:
            details[key] = rng.choice(vocabulary)
    if rng.random() < 0.3:
        details["workload_hours"] = rng.randint(0, 300)
    if rng.random() < 0.2:
        details["learning_outcomes"] = [_text(rng) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.4:
        details["eqf_level"] = rng.randint(1, 8)
    if rng.random() < 0.3:
        details["include_grades"] = True
    if rng.random() < 0.2:
        details["result_bands"] = ["Pass", "Merit", "Distinction"]
    children = [{"type": "activity_completed", "met": True, "reason": _text(rng), "title": _text(rng),
                 **({"module": _text(rng, 2)} if rng.random() < 0.5 else {}),
                 **({"observed": rng.randint(0, 100), "threshold": 50, "unit": "%"} if rng.random() < 0.5 else {}),
                 **({"as_of": "2025-05-01T10:00:00+00:00"} if rng.random() < 0.5 else {})}
                for _ in range(rng.randint(0, 4))]
    evidence = {"met": True, "evaluated_at": "2025-06-01T11:00:00+00:00",
                "explanation": {"type": "all", "met": True, "children": children}}
    if rng.random() < 0.2:
        evidence = {"manual": True, "reason": _text(rng)}
    if details.get("result_bands") and rng.random() < 0.7:
        evidence["band"] = rng.choice(details["result_bands"])
    return CredentialFacts(
        base_url=BASE, achievement_public_id=f"{rng.getrandbits(128):032x}", version_number=rng.randint(1, 9),
        name=_text(rng), description=_text(rng, 8) if rng.random() < 0.9 else "",
        criteria_narrative=_text(rng, 10) if rng.random() < 0.8 else "",
        achievement_type=rng.choice(["Badge", "Certificate", "MicroCredential", "ext:Custom"]),
        rule_hash=f"{rng.getrandbits(256):064x}" if rng.random() < 0.9 else "",
        details=details, has_image=rng.random() < 0.9,
        learner_email=f"user{rng.randint(1, 10**6)}@example.edu" if rng.random() < 0.8 else None,
        learner_sub=f"sub-{rng.randint(1, 10**9)}", platform_issuer=rng.choice(["https://canvas.example", ""]),
        awarded_at=datetime(2025, 6, 1, tzinfo=timezone.utc) if rng.random() < 0.8 else None,
        awarded_by=rng.choice(["rule", "instructor"]), award_reason=_text(rng) if rng.random() < 0.3 else None,
        evidence=evidence,
    )


def random_credential(rng: random.Random) -> dict:
    issuer = IssuerFacts(did="did:web:badges.example.edu", name=_text(rng, 2),
                         url="https://example.edu/" if rng.random() < 0.7 else "",
                         email="badges@example.edu" if rng.random() < 0.5 else "",
                         image="https://example.edu/logo.png" if rng.random() < 0.3 else "",
                         country=rng.choice(["", "ES", "NL"]))
    valid_from = datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randint(0, 10**7))
    status = [StatusRef("revocation", f"{BASE}/status/{rng.randint(1, 9)}", rng.randrange(131072)),
              StatusRef("suspension", f"{BASE}/status/{rng.randint(10, 19)}", rng.randrange(131072))]
    return compose_credential(
        random_facts(rng), issuer, credential_id=f"{BASE}/credentials/{rng.getrandbits(64):016x}",
        valid_from=valid_from, valid_until=valid_from + timedelta(days=365) if rng.random() < 0.5 else None,
        salt=f"{rng.getrandbits(64):016x}", status=status[:1] if rng.random() < 0.9 else status,
    )
