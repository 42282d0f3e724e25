"""LIS role claims mapped to instructor / learner / admin."""

from __future__ import annotations

import pytest

from lti_badger.lti.roles import institution_roles, map_roles, parse_role

M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
I = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
S = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"


@pytest.mark.parametrize("roles,expected", [
    ([M + "Instructor"], "instructor"),
    ([M + "ContentDeveloper"], "instructor"),
    (["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"], "instructor"),
    ([M + "Learner"], "learner"),
    (["http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#Learner"], "learner"),
    ([M + "Mentor"], "learner"),
    (["Instructor"], "instructor"),  # short context role
    (["Learner"], "learner"),
    (["Administrator"], "admin"),
    (["urn:lti:role:ims/lis/Instructor"], "instructor"),  # LTI 1.1 URN
    (["urn:lti:instrole:ims/lis/Administrator"], "admin"),
    ([I + "Administrator", M + "Learner"], "admin"),  # Moodle site admin
    ([S + "Administrator"], "admin"),
    ([S + "SysAdmin"], "admin"),
    ([I + "Faculty", M + "Learner"], "learner"),  # the context role decides
    ([I + "Faculty"], "instructor"),  # no context role: the institution role decides
    ([I + "Student"], "learner"),
    ([], "learner"),
    (["http://example.com/custom#Role"], "learner"),
])
def test_map_roles(roles, expected):
    assert map_roles(roles) == expected


def test_parse_role_kinds():
    assert parse_role(M + "Instructor") == ("context", "Instructor")
    assert parse_role(I + "Faculty") == ("institution", "Faculty")
    assert parse_role(S + "User") == ("system", "User")
    assert parse_role("http://purl.imsglobal.org/vocab/lis/v2/person#Unknown") is None
    assert parse_role("https://example.com/x") is None


def test_institution_roles_keeps_institution_and_system_uris_only():
    roles = [M + "Learner", I + "Student", S + "User", "Learner"]
    assert institution_roles(roles) == [I + "Student", S + "User"]
