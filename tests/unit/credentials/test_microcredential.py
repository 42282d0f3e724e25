"""The European micro-credential elements: every value checked against its vocabulary before
it is stored, alignments refused (never dropped) without a link, the country from ISO 3166-1,
and our extension context served offline at its path on any origin and defining every term
the composer writes (safe mode finds nothing undefined)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lti_badger.credentials import jsonld
from lti_badger.credentials.compose import CREDENTIAL_CONTEXTS
from lti_badger.credentials.microcredential import (
    check_alignment, check_details, countries, country_name, eu_context_url, extension_terms,
)
from lti_badger.errors import BadInput

GOLDEN = Path(__file__).parent / "golden" / "credential.json"
GOOD = {"alignments": [{"targetName": "think critically", "targetUrl": "http://data.europa.eu/esco/skill/x",
                        "targetFramework": "ESCO", "targetType": "ext:ESCOSkill"}],
        "participation": "blended", "assessment": "portfolio", "supervision": "supervised online",
        "stackability": "stand-alone", "quality_assurance": "accredited", "identity_checked": False,
        "workload_hours": 25, "credits_ects": 1.5, "eqf_level": 6, "learning_outcomes": ["Argues a case"],
        "quality_assurance_url": "https://qa.example/report", "further_information": "https://uni.example/c"}


def test_valid_details_pass_and_become_extension_terms():
    details = check_details(GOOD)
    assert details["alignments"][0]["targetUrl"] == "http://data.europa.eu/esco/skill/x"
    assert extension_terms(details) == {"timeInvestment": 25, "participationType": "blended",
                                        "assessmentType": "portfolio", "supervisionType": "supervised online",
                                        "stackability": "stand-alone", "identityChecked": False}


@pytest.mark.parametrize("change, field, words", [
    ({"alignments": [{"targetName": "Algebra"}]}, "skills", "has no link"),
    ({"alignments": [{"targetName": "Algebra", "targetFramework": "ESCO"}]}, "skills", "has no link"),
    ({"alignments": [{"targetName": "XSS", "targetUrl": "javascript:alert(1)"}]}, "skills", "https://"),
    ({"alignments": [{"targetUrl": "https://x.example"}]}, "skills", "name is missing"),
    ({"alignments": [{"targetName": "A", "targetUrl": "https://x.example", "targetType": "Skill"}]}, "skills",
     "alignment target type"),
    ({"alignments": "Algebra"}, "skills", "must be a list"),
    ({"participation": "hybrid"}, "participation", "not one of online, onsite, blended"),
    ({"assessment": "quiz"}, "assessment", "not one of"),
    ({"supervision": "proctored"}, "supervision", "not one of"),
    ({"stackability": "maybe"}, "stackability", "not one of"),
    ({"quality_assurance": "Reviewed by the board"}, "quality_assurance", "not one of"),
    ({"workload_hours": 2.5}, "workload_hours", "whole number"),
    ({"workload_hours": True}, "workload_hours", "whole number"),
    ({"eqf_level": 9}, "eqf_level", "from 1 to 8"),
    ({"nqf_level": 13, "nqf_url": "https://nqf.example"}, "nqf_level", "from 1 to 12"),
    ({"nqf_level": 6}, "nqf_url", "needs the link of its national framework"),
    ({"nqf_level": 6, "nqf_url": "nqf.example"}, "nqf_url", "https://"),
    ({"credits_ects": -1}, "credits_ects", "from 0 to 600"),
    ({"identity_checked": "yes"}, "identity_checked", "true or false"),
    ({"further_information": "ftp://x.example"}, "further_information", "https://"),
    ({"quality_assurance_url": "javascript:x"}, "quality_assurance_url", "https://"),
    ({"learning_outcomes": "one"}, "learning_outcomes", "list"),
])
def test_bad_values_are_refused_with_the_field(change, field, words):
    with pytest.raises(BadInput) as refused:
        check_details({**GOOD, **change})
    assert refused.value.detail == {"field": field} and words in refused.value.message


def test_an_alignment_keeps_every_ob3_field():
    item = {"targetName": " work in teams ", "targetUrl": "http://data.europa.eu/esco/skill/60c7",
            "targetFramework": "ESCO", "targetCode": "60c7", "targetType": "ext:ESCOSkill", "targetDescription": "d"}
    assert check_alignment(item, 1) == {**item, "targetName": "work in teams"}


def test_countries_are_iso_3166_1_in_the_reader_language():
    codes = dict(countries())
    assert len(codes) == 249 and codes["ES"] == "Spain" and codes["NL"] == "Netherlands"
    assert not {"EU", "ZZ", "XK", "QO", "UN"} & set(codes)
    assert dict(countries("es"))["DE"] == "Alemania"
    assert country_name("ES") == "Spain" and country_name("EU") is None and country_name("") is None


def test_our_context_is_served_offline_on_any_origin_at_its_path_only():
    url = eu_context_url("https://badges.uni.example/tool/")
    assert url == "https://badges.uni.example/tool/contexts/lti-badger/eu-microcredential-v1.json"
    assert jsonld.load_document(url)["document"] == jsonld.eu_context()
    for other in ("https://badges.uni.example/contexts/lti-badger/eu-microcredential-v2.json",
                  "ftp://x.example/contexts/lti-badger/eu-microcredential-v1.json",
                  "https://x.example/contexts/lti-badger/eu-microcredential-v1.json?v=1"):
        with pytest.raises(jsonld.ContextNotAvailable):
            jsonld.load_document(other)
    golden = json.loads(GOLDEN.read_text())
    assert golden["@context"][:3] == list(CREDENTIAL_CONTEXTS)
    assert jsonld.served_contexts(golden) == {golden["@context"][3]: jsonld.eu_context()}


def test_every_term_the_composer_writes_is_defined():
    """Safe mode (ours and jsonld.js's) refuses undefined terms: a term our context forgot
    would not be signed."""
    golden = json.loads(GOLDEN.read_text())
    assert jsonld.safe_mode_problems(golden) == []
    without = {**golden, "@context": golden["@context"][:3]}
    problems = jsonld.safe_mode_problems(without)
    assert any("participationType" in p for p in problems) and any("furtherInformation" in p for p in problems)
