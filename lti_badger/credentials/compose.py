"""Composes the Open Badges 3.0 `OpenBadgeCredential` of an award from plain data.

The composer is a pure function: facts in, JSON-LD document out (no database, no clock, no
randomness); `services.issue_credential` gathers the facts, ids and salt. A golden JSON
fixture pins its output.

Spec: Open Badges 3.0, https://www.imsglobal.org/spec/ob/v3p0/ (context 3.0.3), on W3C
Verifiable Credentials 2.0, https://www.w3.org/TR/vc-data-model-2.0/

`AchievementVersion.details` keys understood here (all optional; `microcredential.check_details`
checks them before they are stored):
  tags [str]; alignments [{targetName, targetUrl, targetFramework?, targetCode?,
  targetDescription?, targetType?}]; language ("en", "de-CH"...); credits_ects (number);
  field_of_study; specialization; human_code; eqf_level (1..8); the EU micro-credential
  elements workload_hours, participation, assessment, supervision, identity_checked,
  stackability, prerequisites, further_information (our extension context),
  quality_assurance (+ quality_assurance_url; an alignment) and learning_outcomes [str] (the
  criteria narrative); include_grades (bool, or evidence.include_grades); result_bands [str]
  (allowed score bands; an award's evidence `band` becomes a Result).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .microcredential import (EQF_TYPE, country_name, eu_context_url, extension_terms, nqf_alignment,
                              quality_assurance_alignment)

OB_SPEC_VERSION = "3.0.3"
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
# Defines `1EdTechJsonSchemaValidator2019`, which OB 3.0 wants as the credentialSchema type
# and which the OB 3.0.3 context leaves undefined (an undefined type would not be signed).
OB_EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
CREDENTIAL_CONTEXTS = (VC_V2_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT)
OB_SCHEMA_URL = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
SCHEMA_VALIDATOR_TYPE = "1EdTechJsonSchemaValidator2019"
EQF_FRAMEWORK = "European Qualifications Framework"
EQF_URL = "https://europa.eu/europass/en/description-eight-eqf-levels"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WEB_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_LANG = re.compile(r"^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")


def clean_text(value: Any) -> str:
    """Text as we sign it: str, without C0 control characters other than tab and newlines."""
    return _CONTROL.sub("", str(value))


def xsd_datetime(moment: datetime) -> str:
    """An XSD dateTimeStamp in UTC with a `Z`, to the second (what every verifier accepts)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def identity_hash(value: str, salt: str) -> str:
    """OB 3.0 IdentityHash: `sha256$` + hex(sha256(value + salt))."""
    return "sha256$" + hashlib.sha256((value + salt).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuerFacts:
    did: str
    name: str
    url: str = ""
    email: str = ""
    image: str = ""
    description: str = ""
    country: str = ""  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class StatusRef:
    """One reserved bit: purpose, list URL and index."""

    purpose: str
    list_url: str
    index: int


@dataclass(frozen=True)
class CredentialFacts:
    """Everything a credential says, as plain values gathered from the award's rows."""

    base_url: str
    achievement_public_id: str
    version_number: int
    name: str
    description: str
    criteria_narrative: str
    achievement_type: str
    rule_hash: str
    details: dict[str, Any] = field(default_factory=dict)
    has_image: bool = True
    learner_email: str | None = None
    learner_sub: str = ""
    platform_issuer: str = ""
    course_title: str = ""
    course_context_id: str = ""
    awarded_at: datetime | None = None
    awarded_by: str = "rule"
    award_reason: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    # Signed EndorsementCredentials of the badge, embedded as they are (credentials/endorsements.py).
    endorsements: tuple[dict[str, Any], ...] = ()

    @property
    def achievement_url(self) -> str:
        return f"{self.base_url}/achievements/{self.achievement_public_id}"

    @property
    def achievement_id(self) -> str:
        return f"{self.achievement_url}/versions/{self.version_number}"


def image_url(facts: CredentialFacts) -> str:
    return f"{facts.achievement_id}/image"


def web_url(value: Any) -> bool:
    """Only http(s) URLs end up in links (no `javascript:` or `data:` from a form field)."""
    return isinstance(value, str) and bool(_WEB_URL.match(value))


def _alignment(item: Any) -> dict[str, Any] | None:
    """Alignments are checked on input (`microcredential.check_alignment` refuses one without
    a name or an http(s) link); this guard only keeps a link from stored data written before
    that check out of a signed document."""
    if not isinstance(item, dict) or not item.get("targetName") or not web_url(item.get("targetUrl")):
        return None
    out: dict[str, Any] = {"type": ["Alignment"], "targetName": clean_text(item["targetName"]),
                           "targetUrl": clean_text(item["targetUrl"])}
    for key in ("targetDescription", "targetFramework", "targetCode", "targetType"):
        if item.get(key):
            out[key] = clean_text(item[key])
    return out


def _alignments(details: dict[str, Any]) -> list[dict[str, Any]]:
    out = [a for a in map(_alignment, details.get("alignments") or []) if a]
    level = details.get("eqf_level")
    if isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= 8:
        out.append({
            "type": ["Alignment"],
            "targetName": f"EQF level {level}",
            "targetUrl": f"{EQF_URL}#level-{level}",
            "targetFramework": EQF_FRAMEWORK,
            "targetCode": str(level),
            "targetType": EQF_TYPE,
        })
    out.extend(a for a in (nqf_alignment(details), quality_assurance_alignment(details)) if a)
    return out


def _criteria_narrative(facts: CredentialFacts) -> str:
    """The narrative with the learning outcomes as a list. Assessment and quality assurance
    written as free text before the controlled vocabularies existed stay here as text."""
    details = facts.details
    parts = [clean_text(facts.criteria_narrative).strip()]
    outcomes = [clean_text(o).strip() for o in details.get("learning_outcomes") or [] if str(o).strip()]
    if outcomes:
        parts.append("Learning outcomes:\n" + "\n".join(f"- {o}" for o in outcomes))
    extension = extension_terms(details)
    if details.get("assessment") and "assessmentType" not in extension:
        parts.append("Type of assessment: " + clean_text(details["assessment"]).strip())
    if details.get("quality_assurance") and quality_assurance_alignment(details) is None:
        parts.append("Quality assurance: " + clean_text(details["quality_assurance"]).strip())
    return "\n\n".join(p for p in parts if p) or "Awarded by the course's completion criteria."


def credential_contexts(facts: CredentialFacts) -> list[str]:
    """The contexts of a credential or achievement document: ours only when it uses a term of it."""
    contexts = list(CREDENTIAL_CONTEXTS)
    if _extension(facts.details):
        contexts.append(eu_context_url(facts.base_url))
    return contexts


def _extension(details: dict[str, Any]) -> dict[str, Any]:
    """The achievement properties of our extension context."""
    out = extension_terms(details)
    if details.get("prerequisites"):
        out["prerequisites"] = clean_text(details["prerequisites"]).strip()
    if web_url(details.get("further_information")):
        out["furtherInformation"] = details["further_information"]
    return out


def include_grades(details: dict[str, Any]) -> bool:
    evidence_opts = details.get("evidence") if isinstance(details.get("evidence"), dict) else {}
    return bool(details.get("include_grades") or evidence_opts.get("include_grades"))


def compose_achievement(facts: CredentialFacts, issuer: IssuerFacts) -> dict[str, Any]:
    """The OB3 Achievement of one achievement version (also served on its public page)."""
    details = facts.details
    achievement: dict[str, Any] = {
        "id": facts.achievement_id,
        "type": ["Achievement"],
        "achievementType": clean_text(facts.achievement_type or "Badge"),
        "name": clean_text(facts.name),
        "description": clean_text(facts.description) or clean_text(facts.name),
        "criteria": {"id": f"{facts.achievement_id}#criteria", "narrative": _criteria_narrative(facts)},
        "creator": compose_profile(issuer, address=False),
        "version": str(facts.version_number),
    }
    if facts.has_image:
        achievement["image"] = {"id": image_url(facts), "type": "Image", "caption": clean_text(facts.name)}
    tags = [clean_text(t) for t in details.get("tags") or [] if str(t).strip()]
    if tags:
        achievement["tag"] = tags
    alignments = _alignments(details)
    if alignments:
        achievement["alignment"] = alignments
    language = details.get("language")
    if isinstance(language, str) and _LANG.match(language):
        achievement["inLanguage"] = language
    credits = details.get("credits_ects")
    if isinstance(credits, (int, float)) and not isinstance(credits, bool) and credits >= 0:
        achievement["creditsAvailable"] = float(credits)
    for key, term in (("field_of_study", "fieldOfStudy"), ("specialization", "specialization"),
                      ("human_code", "humanCode")):
        if details.get(key):
            achievement[term] = clean_text(details[key])
    achievement.update(_extension(details))
    if facts.endorsements:
        achievement["endorsement"] = list(facts.endorsements)
    bands = [clean_text(b) for b in details.get("result_bands") or [] if str(b).strip()]
    if bands:
        achievement["resultDescription"] = [{
            "id": f"{facts.achievement_id}#result-band",
            "type": ["ResultDescription"],
            "name": "Score band",
            "resultType": "ext:ScoreBand",
            "allowedValue": bands,
        }]
    return achievement


def compose_profile(issuer: IssuerFacts, *, address: bool = True) -> dict[str, Any]:
    """The issuer `Profile` as credentials carry it (also the admin page's preview). The
    achievement's `creator` is the same node (same id) without the address: two identical
    address blank nodes under one subject would tie in RDFC-1.0 and leave the fast path."""
    profile: dict[str, Any] = {"id": issuer.did, "type": ["Profile"], "name": clean_text(issuer.name)}
    if issuer.url:
        profile["url"] = issuer.url
    if issuer.email:
        profile["email"] = issuer.email
    if issuer.description:
        profile["description"] = clean_text(issuer.description)
    if issuer.image:
        profile["image"] = {"id": issuer.image, "type": "Image"}
    country = country_name(issuer.country) if address else None
    if country:
        profile["address"] = {"type": ["Address"], "addressCountry": country, "addressCountryCode": issuer.country}
    return profile


def _identifiers(facts: CredentialFacts, salt: str) -> list[dict[str, Any]]:
    out = []
    if facts.learner_email:
        out.append({"type": "IdentityObject", "identityHash": identity_hash(facts.learner_email.strip().lower(), salt),
                    "identityType": "emailAddress", "hashed": True, "salt": salt})
    if facts.learner_sub:
        # The LMS-anchored identity: the LTI user id at that platform survives an email change.
        anchored = f"{facts.platform_issuer}#{facts.learner_sub}" if facts.platform_issuer else facts.learner_sub
        out.append({"type": "IdentityObject", "identityHash": identity_hash(anchored, salt),
                    "identityType": "ltiUserId", "hashed": True, "salt": salt})
    if facts.platform_issuer:
        out.append({"type": "IdentityObject", "identityHash": facts.platform_issuer,
                    "identityType": "ltiPlatformId", "hashed": False})
    return out


def _trace_lines(node: dict[str, Any], with_grades: bool, depth: int = 0) -> list[str]:
    if not isinstance(node, dict) or not node.get("met") or depth > 20:
        return []
    children = [c for c in node.get("children") or [] if isinstance(c, dict)]
    if children:
        return [line for child in children for line in _trace_lines(child, with_grades, depth + 1)]
    where = clean_text(node.get("title") or node.get("activity") or node.get("label") or node.get("type") or "rule")
    if node.get("module"):
        where += f" (module {clean_text(node['module'])})"
    line = f"- {where}: met"
    if node.get("as_of"):
        line += f" on {clean_text(node['as_of'])[:10]}"
    # A grade the LMS has not released to the learner never goes into a public document.
    if with_grades and node.get("observed") is not None and not node.get("hidden"):
        line += f", observed {clean_text(node['observed'])}"
        if node.get("threshold") is not None:
            line += f" (needed {clean_text(node['threshold'])}{clean_text(node.get('unit') or '')})"
    return [line]


def _evidence(facts: CredentialFacts) -> list[dict[str, Any]]:
    with_grades = include_grades(facts.details)
    ev = facts.evidence or {}
    lines = []
    if facts.rule_hash:
        lines.append(f"Rule version: sha256:{clean_text(facts.rule_hash)}")
    if ev.get("manual") or facts.awarded_by != "rule":
        lines.append("Awarded by an instructor." + (f" Reason: {clean_text(facts.award_reason)}"
                                                    if facts.award_reason else ""))
    if ev.get("evaluated_at"):
        lines.append(f"Criteria evaluated at {clean_text(ev['evaluated_at'])}.")
    trace = _trace_lines(ev.get("explanation") or {}, with_grades)
    if trace:
        lines.append("Satisfied by:")
        lines.extend(trace)
    if ev.get("band"):
        lines.append(f"Band: {clean_text(ev['band'])}")
    trace = [{"type": ["Evidence"], "name": "Rule trace", "genre": "Rule trace",
              "narrative": "\n".join(lines) or "Criteria met."}]
    return trace + [_course_credential(item) for item in ev.get("rests_on") or ()]


def _course_credential(item: dict[str, Any]) -> dict[str, Any]:
    """A program's evidence: one course credential it rests on, by its public URL."""
    evidence = {"type": ["Evidence"], "genre": "Course credential", "name": clean_text(item.get("badge") or ""),
                "description": f"Earned in {clean_text(item.get('course') or '')} on "
                               f"{clean_text(item.get('awarded_at') or '')[:10]}."}
    if item.get("credential") and web_url(item["credential"]):
        evidence["id"] = item["credential"]
    return evidence


def compose_credential(facts: CredentialFacts, issuer: IssuerFacts, *, credential_id: str, valid_from: datetime,
                       valid_until: datetime | None, salt: str, status: list[StatusRef]) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential."""
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": _identifiers(facts, salt),
        "achievement": compose_achievement(facts, issuer),
    }
    band = (facts.evidence or {}).get("band")
    if band and facts.details.get("result_bands"):
        subject["result"] = [{"type": ["Result"], "resultDescription": f"{facts.achievement_id}#result-band",
                              "value": clean_text(band)}]
    document: dict[str, Any] = {
        "@context": credential_contexts(facts),
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": clean_text(facts.name),
        "issuer": compose_profile(issuer),
        "validFrom": xsd_datetime(valid_from),
    }
    if valid_until is not None:
        document["validUntil"] = xsd_datetime(valid_until)
    if facts.awarded_at is not None:
        document["awardedDate"] = xsd_datetime(facts.awarded_at)
    document["credentialSubject"] = subject
    document["evidence"] = _evidence(facts)
    document["credentialSchema"] = [{"id": OB_SCHEMA_URL, "type": SCHEMA_VALIDATOR_TYPE}]
    entries = [
        {"id": f"{ref.list_url}#{ref.index}", "type": "BitstringStatusListEntry", "statusPurpose": ref.purpose,
         "statusListIndex": str(ref.index), "statusListCredential": ref.list_url}
        for ref in status
    ]
    # One entry is one object, as OB 3.0 ([0..1]) and its official schema want; several (the
    # per-issuer two-entry mode, as VC 2.0 allows) are a list.
    if entries:
        document["credentialStatus"] = entries[0] if len(entries) == 1 else entries
    return document


def status_entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    """A credential's status entries as a list, whether it carries one object or several."""
    status = document.get("credentialStatus") or []
    return [e for e in (status if isinstance(status, list) else [status]) if isinstance(e, dict)]
