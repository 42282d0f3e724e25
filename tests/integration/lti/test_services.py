"""Recording a launch (the id_token body pylti1p3 validated) into our models."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lti_badger.errors import LaunchError
from lti_badger.lti import claims as c
from lti_badger.lti.platforms import add_platform
from lti_badger.lti.services import record_launch
from lti_badger.models import Course, Enrollment, Person, ResourceLink
from lti_badger.models.base import utcnow

M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


@pytest.fixture
def platform(db):
    return add_platform(db, issuer="https://moodle.example.edu", client_id="c1",
                        auth_login_url="https://moodle.example.edu/auth", auth_token_url="https://moodle.example.edu/token",
                        key_set_url="https://moodle.example.edu/jwks", deployment_ids=["1"])


def _claims(**extra):
    body = {
        "iss": "https://moodle.example.edu", "aud": "c1", "sub": "42", "nonce": "n",
        "given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.edu",
        c.DEPLOYMENT_ID: "1", c.MESSAGE_TYPE: c.MSG_RESOURCE_LINK, c.VERSION: "1.3.0",
        c.ROLES: [M + "Instructor"],
        c.CONTEXT: {"id": "ctx-1", "title": "Algebra", "label": "ALG"},
        c.RESOURCE_LINK: {"id": "rl-1", "title": "Badges"},
        c.TOOL_PLATFORM: {"guid": "g", "product_family_code": "moodle"},
        c.LAUNCH_PRESENTATION: {"locale": "fr_FR"},
        c.AGS_ENDPOINT: {"scope": [c.SCOPE_SCORE, c.SCOPE_LINEITEM], "lineitems": "https://moodle.example.edu/li"},
        c.NRPS: {"context_memberships_url": "https://moodle.example.edu/nrps", "service_versions": ["2.0"]},
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def test_a_launch_creates_and_a_later_launch_updates(db, platform):
    scope = record_launch(db, platform, _claims(), utcnow())
    person = db.get(Person, scope.person_id)
    assert (person.name, person.locale, person.lms_user_id) == ("Ada Lovelace", "fr_FR", "42")
    assert scope.role == "instructor" and scope.locale == "fr-FR"
    assert platform.product_family == "moodle"
    course = db.get(Course, scope.course_id)
    assert course.ags_scopes == sorted([c.SCOPE_SCORE, c.SCOPE_LINEITEM])

    again = record_launch(db, platform, _claims(**{c.ROLES: [M + "Learner"],
                                                  c.CONTEXT: {"id": "ctx-1", "title": "Algebra II"}}), utcnow())
    assert (again.course_id, again.person_id) == (scope.course_id, scope.person_id)
    assert again.role == "learner"
    assert db.get(Course, scope.course_id).title == "Algebra II"
    assert db.get(Course, scope.course_id).label == "ALG"  # absent claims keep what we knew
    assert len(db.scalars(select(Enrollment).where(Enrollment.course_id == scope.course_id)).all()) == 1
    assert len(db.scalars(select(ResourceLink).where(ResourceLink.course_id == scope.course_id)).all()) == 1


@pytest.mark.parametrize("override,reason", [
    ({c.CONTEXT: None, c.MESSAGE_TYPE: c.MSG_DEEP_LINKING}, "context"),  # a resource link may come without one
    ({c.CONTEXT: {"title": "no id"}}, "no id"),
    ({c.CONTEXT: "ctx"}, "must be an object"),
    ({c.DEPLOYMENT_ID: "9"}, "unknown deployment_id"),
    ({c.ROLES: [1, 2]}, "roles"),
    ({"email": {"x": 1}}, "must be a string"),
])
def test_unusable_claims_are_a_launch_error(db, platform, override, reason):
    with pytest.raises(LaunchError, match=reason):
        record_launch(db, platform, _claims(**override), utcnow())
