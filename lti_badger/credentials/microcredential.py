"""The European micro-credential elements (Council Recommendation of 16 June 2022 on a European
approach to micro-credentials, Annex I) as they are written into an OB 3.0 credential: the
controlled vocabularies the badge designer offers, and what OB 3.0 has no field for, carried by
our versioned extension context (`contexts/eu-microcredential-v1.json`, served by the tool at
`{base}` + `EU_CONTEXT_PATH`). Names follow SURF Edubadges where they fit (`timeInvestment`,
`participationType`, `assessmentType`, `supervisionType`, `identityChecked`; quality assurance
and the EQF level as alignments). docs/credentials.md maps every element.

Recommendation: https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32022H0627(02)
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from babel import Locale

from ..errors import BadInput
from .jsonld import EU_CONTEXT_PATH

EU_RECOMMENDATION_URL = "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32022H0627(02)"

# Form of participation, as the Recommendation names it. (Edubadges' vocabulary joins the
# last two as "onsite or blended".)
PARTICIPATION = ("online", "onsite", "blended")
# Edubadges' assessment types.
ASSESSMENT = ("testing", "application of a skill", "portfolio", "recognition of prior learning")
# Edubadges' supervision types: the Recommendation's "supervision and identity verification".
SUPERVISION = ("unsupervised with no identity verification", "supervised with no identity verification",
               "supervised online", "onsite with identity verification")
# Integration / stackability options of the Recommendation.
STACKABILITY = ("stand-alone", "stackable", "integrated")
# Type of quality assurance -> the alignment's targetName.
QUALITY_ASSURANCE = {
    "internal": "Internal quality assurance",
    "external": "External quality assurance",
    "accredited": "Accredited by a quality assurance agency",
}
QUALITY_ASSURANCE_FRAMEWORK = "European approach to micro-credentials: quality assurance"
QUALITY_ASSURANCE_TYPE = "ext:QualityAssurance"
EQF_TYPE = "ext:EQF"
NQF_TYPE = "ext:NQF"
NQF_FRAMEWORK = "National Qualifications Framework"
# National frameworks have 8 levels (most, matched to the EQF) up to 12 (Scotland's SCQF).
NQF_LEVELS = tuple(range(1, 13))

# Codes CLDR lists as territories that are not ISO 3166-1 alpha-2 countries (exceptionally
# reserved codes, groupings, private use).
_NOT_ISO_3166_1 = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"})


def eu_context_url(base_url: str) -> str:
    return base_url.rstrip("/") + EU_CONTEXT_PATH


@lru_cache(maxsize=8)
def countries(locale: str = "en") -> tuple[tuple[str, str], ...]:
    """(ISO 3166-1 alpha-2 code, name in `locale`) of every country, sorted by name."""
    names = Locale.parse(locale).territories
    return tuple(sorted(((code, name) for code, name in names.items()
                         if len(code) == 2 and code.isalpha() and code not in _NOT_ISO_3166_1),
                        key=lambda item: item[1]))


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    return dict(countries())


def country_name(code: str) -> str | None:
    """The English name of an ISO 3166-1 alpha-2 code, or None for any other value."""
    return _country_names().get(code)


def extension_terms(details: dict[str, Any]) -> dict[str, Any]:
    """The achievement properties our extension context defines, from the stored details;
    values outside a vocabulary are left out (the composer keeps them in the narrative)."""
    out: dict[str, Any] = {}
    hours = details.get("workload_hours")
    if isinstance(hours, (int, float)) and not isinstance(hours, bool) and hours >= 0 and float(hours).is_integer():
        out["timeInvestment"] = int(hours)
    for key, term, vocabulary in (("participation", "participationType", PARTICIPATION),
                                  ("assessment", "assessmentType", ASSESSMENT),
                                  ("supervision", "supervisionType", SUPERVISION),
                                  ("stackability", "stackability", STACKABILITY)):
        if details.get(key) in vocabulary:
            out[term] = details[key]
    if isinstance(details.get("identity_checked"), bool):
        out["identityChecked"] = details["identity_checked"]
    return out


def nqf_alignment(details: dict[str, Any]) -> dict[str, Any] | None:
    """The level in a national qualifications framework, aligned to the framework's page the
    instructor gave (national frameworks have no common register to link to)."""
    level, url = details.get("nqf_level"), details.get("nqf_url")
    if level not in NQF_LEVELS or isinstance(level, bool) or not url:
        return None
    return {"type": ["Alignment"], "targetName": f"NQF level {level}", "targetUrl": url,
            "targetFramework": NQF_FRAMEWORK, "targetCode": str(level), "targetType": NQF_TYPE}


def quality_assurance_alignment(details: dict[str, Any]) -> dict[str, Any] | None:
    """Type of quality assurance as an Alignment (Edubadges' `ext:QualityAssurance`); its
    targetUrl is the report or decision the instructor gave, else the Recommendation."""
    name = QUALITY_ASSURANCE.get(details.get("quality_assurance"))
    if name is None:
        return None
    return {"type": ["Alignment"], "targetName": name,
            "targetUrl": details.get("quality_assurance_url") or EU_RECOMMENDATION_URL,
            "targetFramework": QUALITY_ASSURANCE_FRAMEWORK, "targetCode": details["quality_assurance"],
            "targetType": QUALITY_ASSURANCE_TYPE}


# OB 3.0 AlignmentTargetType: these values, or an extension "ext:Name".
ALIGNMENT_TARGET_TYPES = ("ceasn:Competency", "ceterms:Credential", "CFItem", "CFRubric", "CFRubricCriterion",
                          "CFRubricCriterionLevel", "CTDL")
_EXT_TYPE = re.compile(r"^ext:[A-Za-z0-9._-]+$")
_WEB_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
MAX_ALIGNMENTS = 50
MAX_TEXT = 1000


def _refuse(message: str, field: str) -> BadInput:
    return BadInput(message, detail={"field": field})


def _url(value: Any, what: str, field: str) -> str:
    if not isinstance(value, str) or not _WEB_URL.match(value.strip()) or len(value) > 2000:
        raise _refuse(f"{what} must be a link starting with https:// (or http://)", field)
    return value.strip()


def check_alignment(item: Any, n: int) -> dict[str, str]:
    """One alignment as OB 3.0 needs it: a name and a link (targetUrl) at least. Refused with
    a message, never dropped."""
    if not isinstance(item, dict):
        raise _refuse(f"skill {n} is not an object", "skills")
    name = item.get("targetName")
    if not isinstance(name, str) or not name.strip():
        raise _refuse(f"skill {n}: the name is missing", "skills")
    if not item.get("targetUrl"):
        raise _refuse(f"skill {n} ({name.strip()[:80]}) has no link: every skill or alignment needs one "
                      "(its ESCO URI, or the page that defines it)", "skills")
    out = {"targetName": name.strip()[:300], "targetUrl": _url(item["targetUrl"], f"the link of skill {n}", "skills")}
    for key in ("targetFramework", "targetCode", "targetDescription", "targetType"):
        value = item.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise _refuse(f"skill {n}: {key} must be text", "skills")
        out[key] = value.strip()[:MAX_TEXT]
    target_type = out.get("targetType")
    if target_type and target_type not in ALIGNMENT_TARGET_TYPES and not _EXT_TYPE.match(target_type):
        raise _refuse(f"skill {n}: targetType {target_type!r} is not an OB 3.0 alignment target type "
                      "(use one of the spec's values or ext:Name)", "skills")
    return out


def _number(details: dict[str, Any], key: str, lo: float, hi: float, *, integer: bool = False) -> None:
    value = details.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)) or not lo <= value <= hi:
        kind = "a whole number" if integer else "a number"
        raise _refuse(f"{key.replace('_', ' ')} must be {kind} from {lo:g} to {hi:g}", key)


def check_details(details: dict[str, Any]) -> dict[str, Any]:
    """The badge's skills and EU micro-credential elements, checked before anything is stored:
    every value of a controlled vocabulary is one of its values, every link is http(s), every
    alignment has a link. Returns the details with the alignments normalised."""
    out = dict(details)
    alignments = details.get("alignments") or []
    if not isinstance(alignments, list):
        raise _refuse("alignments must be a list", "skills")
    if len(alignments) > MAX_ALIGNMENTS:
        raise _refuse(f"at most {MAX_ALIGNMENTS} skills and alignments", "skills")
    out["alignments"] = [check_alignment(item, n) for n, item in enumerate(alignments, start=1)]
    for key, vocabulary in (("participation", PARTICIPATION), ("assessment", ASSESSMENT),
                            ("supervision", SUPERVISION), ("stackability", STACKABILITY),
                            ("quality_assurance", tuple(QUALITY_ASSURANCE))):
        if details.get(key) not in (None, "") and details[key] not in vocabulary:
            raise _refuse(f"{key.replace('_', ' ')}: {details[key]!r} is not one of {', '.join(vocabulary)}", key)
    _number(details, "eqf_level", 1, 8, integer=True)
    _number(details, "nqf_level", NQF_LEVELS[0], NQF_LEVELS[-1], integer=True)
    if details.get("nqf_level") is not None and not details.get("nqf_url"):
        raise _refuse("an NQF level needs the link of its national framework", "nqf_url")
    _number(details, "workload_hours", 0, 10000, integer=True)
    _number(details, "credits_ects", 0, 600)
    if details.get("identity_checked") is not None and not isinstance(details["identity_checked"], bool):
        raise _refuse("identity checked must be true or false", "identity_checked")
    for key, what in (("quality_assurance_url", "the quality assurance link"), ("nqf_url", "the NQF link"),
                      ("further_information", "the further information link")):
        if details.get(key):
            out[key] = _url(details[key], what, key)
    outcomes = details.get("learning_outcomes") or []
    if not isinstance(outcomes, list) or not all(isinstance(o, str) for o in outcomes) or len(outcomes) > 30:
        raise _refuse("learning outcomes must be a list of at most 30 texts", "learning_outcomes")
    return out
