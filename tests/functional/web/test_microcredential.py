"""The European micro-credential elements and skills over HTTP: the designer collects every
element from controlled vocabularies and refuses a value outside them or a skill without a
link (4xx, nothing stored); the ESCO picker's search; the learner page shows the elements; the
LMS admin sets the issuer's country and, explicitly, the two-entry status mode."""

from __future__ import annotations

import itertools
import json

import pytest
from sqlalchemy import func, select

from lti_badger.credentials.compose import status_entries
from lti_badger.credentials.schema import schema_errors
from lti_badger.keys import KIND_ISSUER
from lti_badger.models import Achievement, Award, Credential, IssuerProfileRecord
from tests.factories_awards import make_achievement

ESCO_LINE = ("perform scientific research | ESCO | http://data.europa.eu/esco/skill/4fabca9a-7435-4f33-b1da-3cdb00340fdc"
             " | 4fabca9a-7435-4f33-b1da-3cdb00340fdc | ext:ESCOSkill")
EU_FORM = {"name": "Lab safety", "description": "Works safely in a lab", "criteria_narrative": "Pass the quiz",
           "achievement_type": "MicroCredential", "image_source": "generate", "image_template": "circle",
           "image_colour": "#00695c", "skills": ESCO_LINE + "\nLab safety | Our framework | https://uni.example/f/1",
           "workload_hours": "25", "credits_ects": "1", "eqf_level": "5", "nqf_level": "6",
           "nqf_url": "https://nqf.example/levels", "assessment_type": "application of a skill",
           "participation": "blended", "supervision": "onsite with identity verification", "identity_checked": "yes",
           "quality_assurance": "external", "quality_assurance_url": "https://qa.example/report",
           "stackability": "stackable", "learning_outcomes": "Handles chemicals safely\nUses protective equipment",
           "prerequisites_text": "Chemistry 1", "further_information": "https://uni.example/lab-safety"}


_seq = itertools.count(1)


def _sessions(app):
    return app.extensions["lti_badger"].sessions()


def _count(app) -> int:
    with _sessions(app) as s:
        return s.scalar(select(func.count()).select_from(Achievement))


def _design(client, **change):
    return client.post("/course/badges/new", {**EU_FORM, **change}, content_type="multipart/form-data")


@pytest.mark.parametrize("change, words", [
    ({"skills": "Algebra | ESCO"}, "Skills line 1: add a link"),
    ({"skills": ESCO_LINE + "\nAlgebra"}, "Skills line 2: add a link"),
    ({"skills": "XSS | x | javascript:alert(1)"}, "Skills line 1"),
    ({"skills": "Algebra | ESCO | https://x.example | 1 | Skill"}, "alignment target type"),
    ({"participation": "hybrid"}, "unknown choice"),
    ({"supervision": "proctored"}, "unknown choice"),
    ({"quality_assurance": "Reviewed by the board"}, "unknown choice"),
    ({"identity_checked": "maybe"}, "unknown choice"),
    ({"workload_hours": "2.5"}, "must be a whole number"),
    ({"nqf_level": "13"}, "unknown choice"),
    ({"nqf_url": ""}, "needs the link of its national framework"),
    ({"further_information": "javascript:alert(1)"}, "further information link"),
])
def test_the_designer_refuses_values_outside_the_vocabularies_and_skills_without_links(
        app, courses, as_person, change, words):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    refused = _design(teacher, **change)
    assert refused.status_code == 400 and words in refused.get_data(as_text=True)
    assert _count(app) == 0


def test_the_designer_collects_every_element_and_the_learner_page_shows_them(app, courses, as_person):
    a, _ = courses
    app.extensions["lti_badger"].keys.ensure(KIND_ISSUER)
    assert _save(as_person(a, a.admin, "admin"), a.platform.id, country="ES").status_code == 303
    teacher = as_person(a, a.instructor, "instructor")
    form = teacher.get("/course/badges/new").get_data(as_text=True)
    for name in ("supervision", "identity_checked", "quality_assurance", "stackability", "learning_outcomes",
                 "further_information", "skill-search"):
        assert f'id="f-{name}"' in form or f'id="{name}"' in form, name
    assert '<option value="onsite with identity verification">' in form
    created = _design(teacher)
    assert created.status_code == 303, created.get_data(as_text=True)
    with _sessions(app) as s:
        ach = s.scalars(select(Achievement)).one()
        details = ach.current_version.details
    assert details["alignments"][0]["targetType"] == "ext:ESCOSkill"
    assert details["alignments"][1] == {"targetName": "Lab safety", "targetFramework": "Our framework",
                                        "targetUrl": "https://uni.example/f/1"}
    assert {k: details[k] for k in ("workload_hours", "participation", "supervision", "identity_checked",
                                    "quality_assurance", "stackability", "learning_outcomes")} == {
        "workload_hours": 25, "participation": "blended", "supervision": "onsite with identity verification",
        "identity_checked": True, "quality_assurance": "external", "stackability": "stackable",
        "learning_outcomes": ["Handles chemicals safely", "Uses protective equipment"]}
    edit = teacher.get(f"/course/badges/{ach.id}/edit").get_data(as_text=True)
    assert '<option value="external" selected>' in edit and ESCO_LINE in edit

    assert teacher.post(f"/course/badges/{ach.id}/state", {"action": "activate"}).status_code == 303
    learner = a.learners[0]
    assert teacher.post("/course/awards", {"person_id": learner.id, "achievement_id": ach.id,
                                           "reason": "lab check"}).status_code == 303
    with _sessions(app) as s:
        document = json.loads(s.scalar(select(Credential.document)))
    achievement = document["credentialSubject"]["achievement"]
    assert achievement["assessmentType"] == "application of a skill" and achievement["identityChecked"] is True
    assert achievement["furtherInformation"] == "https://uni.example/lab-safety"
    assert {"targetName": "NQF level 6", "targetUrl": "https://nqf.example/levels", "targetCode": "6",
            "targetType": "ext:NQF"}.items() <= next(a for a in achievement["alignment"]
                                                    if a.get("targetType") == "ext:NQF").items()
    assert schema_errors(document) == []
    spanish = as_person(a, learner, "learner", "es").get(f"/me/badges/{ach.id}").get_data(as_text=True)
    assert "Sobre esta credencial" in spanish and "Universidad de Ejemplo (España)" in spanish
    page = as_person(a, learner, "learner").get(f"/me/badges/{ach.id}").get_data(as_text=True)
    for text in ("About this credential", "Awarding body", "Universidad de Ejemplo (Spain)", "25 hours", "On site, with identity verification",
                 "External quality assurance", "Handles chemicals safely", "Chemistry 1",
                 'href="http://data.europa.eu/esco/skill/4fabca9a-7435-4f33-b1da-3cdb00340fdc"'):
        assert text in page, text


def test_the_skills_picker_searches_esco_for_instructors_only(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    found = teacher.get("/course/skills?q=scientific research")
    assert found.status_code == 200
    results = found.get_json()["results"]
    assert results[0]["line"] == ESCO_LINE and results[0]["kind"] == "skill"
    assert teacher.get("/course/skills?q=a").status_code == 400
    assert as_person(a, a.learners[0], "learner").get("/course/skills?q=research").status_code == 403


def _issue(app, as_person, world) -> dict:
    with _sessions(app) as s:
        ach, _ = make_achievement(s, world.course, name=f"Badge {next(_seq)}")
        s.commit()
        ach_id = ach.id
    teacher = as_person(world, world.instructor, "instructor")
    assert teacher.post("/course/awards", {"person_id": world.learners[0].id, "achievement_id": ach_id,
                                           "reason": "oral exam"}).status_code == 303
    with _sessions(app) as s:
        award = s.scalar(select(Award).where(Award.achievement_id == ach_id))
        return json.loads(s.scalar(select(Credential.document).where(Credential.award_id == award.id)))


def _save(admin, platform_id, **fields):
    data = {"name": "Universidad de Ejemplo", **fields}
    return admin.post(f"/admin/platforms/{platform_id}/issuer", data, content_type="multipart/form-data")


def test_the_admin_sets_the_country_and_explicitly_the_two_entry_mode(app, courses, as_person):
    a, _ = courses
    app.extensions["lti_badger"].keys.ensure(KIND_ISSUER)
    admin = as_person(a, a.admin, "admin")
    page = admin.get("/admin/issuer").get_data(as_text=True)
    assert '<option value="ES">Spain</option>' in page and '<option value="one" selected>' in page
    for bad in ({"country": "XX"}, {"country": "EU"}, {"status_entries": "three"}):
        assert _save(admin, a.platform.id, **bad).status_code == 400
        with _sessions(app) as s:
            assert s.scalar(select(func.count()).select_from(IssuerProfileRecord)) == 0

    default = _issue(app, as_person, a)  # no profile yet: one entry, no country
    assert isinstance(default["credentialStatus"], dict) and "address" not in default["issuer"]
    assert _save(admin, a.platform.id, country="es").status_code == 303
    document = _issue(app, as_person, a)
    assert document["issuer"]["address"] == {"type": ["Address"], "addressCountry": "Spain",
                                             "addressCountryCode": "ES"}
    assert [e["statusPurpose"] for e in status_entries(document)] == ["revocation"]
    assert schema_errors(document) == []

    assert _save(admin, a.platform.id, country="ES", status_entries="two").status_code == 303
    two = _issue(app, as_person, a)
    assert [e["statusPurpose"] for e in status_entries(two)] == ["revocation", "suspension"]
    errors = schema_errors(two)
    assert errors and all(e.startswith("credentialStatus") for e in errors)
    assert '<option value="two" selected>' in admin.get("/admin/issuer").get_data(as_text=True)
