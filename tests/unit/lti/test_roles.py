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
    (["Administrator"], "instructor"),  # short *context* role: administers one course
    (["urn:lti:role:ims/lis/Instructor"], "instructor"),  # LTI 1.1 URN
    (["urn:lti:instrole:ims/lis/Administrator"], "admin"),
    (["urn:lti:sysrole:ims/lis/Administrator"], "admin"),
    (["urn:lti:sysrole:ims/lis/SysAdmin"], "admin"),
    (["urn:lti:role:ims/lis/Administrator"], "instructor"),  # LTI 1.1 context Administrator
    ([M + "Administrator"], "instructor"),
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


# What each LMS really sends (issue 12, finding 10). Moodle's mod/lti (locallib.php) converts its
# LTI 1.1 roles to LTI 1.3 URIs: a teacher gets `Instructor`, a site admin (or a holder of
# mod/lti:admin) additionally `urn:lti:sysrole:ims/lis/Administrator` and
# `urn:lti:instrole:ims/lis/Administrator`. Canvas (Lti::SubstitutionsHelper LIS_V2_ROLE_MAP):
# account admin `institution/person#Administrator`, site admin `system/person#SysAdmin`, every user
# `system/person#User`, TA `membership/instructor#TeachingAssistant` + `membership#Instructor`.
# Open edX (lti-consumer-xblock lti_1p3/constants.py): every course instructor gets the *context*
# Administrator, global staff the system and institution Administrator.
LMS_ROLE_SETS = [
    ("moodle teacher", [M + "Instructor"], "instructor"),
    ("moodle student", [M + "Learner"], "learner"),
    ("moodle site admin", [M + "Instructor", S + "Administrator", I + "Administrator"], "admin"),
    ("moodle site admin (LTI 1.1 URNs)", ["Instructor", "urn:lti:sysrole:ims/lis/Administrator",
                                          "urn:lti:instrole:ims/lis/Administrator"], "admin"),
    ("moodle non-editing teacher", [M + "Instructor"], "instructor"),
    ("canvas teacher", [M + "Instructor", I + "Instructor", S + "User"], "instructor"),
    ("canvas ta", ["http://purl.imsglobal.org/vocab/lis/v2/membership/instructor#TeachingAssistant",
                   M + "Instructor", S + "User"], "instructor"),
    ("canvas ta sub-role alone", ["http://purl.imsglobal.org/vocab/lis/v2/membership/instructor#TeachingAssistant"],
     "instructor"),
    ("canvas designer", [M + "ContentDeveloper", S + "User"], "instructor"),
    ("canvas student", [M + "Learner", I + "Student", S + "User"], "learner"),
    ("canvas observer", [M + "Mentor", S + "User"], "learner"),
    ("canvas account admin", [I + "Administrator", S + "User"], "admin"),
    ("canvas account admin teaching", [M + "Instructor", I + "Administrator", S + "User"], "admin"),
    ("canvas site admin", [S + "SysAdmin", S + "User"], "admin"),
    ("open edx instructor", [S + "None", I + "None", M + "Administrator", M + "Instructor"], "instructor"),
    ("open edx instructor (context Administrator only)", [M + "Administrator"], "instructor"),
    ("open edx staff", [S + "None", I + "None", M + "Instructor"], "instructor"),
    ("open edx student", [S + "None", I + "None", M + "Learner"], "learner"),
    ("open edx community ta", [S + "None", I + "None", M + "Learner",
                               "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"],
     "instructor"),
    ("open edx global staff", [S + "Administrator", I + "Administrator", I + "Staff", I + "Faculty", I + "Instructor",
                               M + "Administrator", M + "Instructor"], "admin"),
]


@pytest.mark.parametrize("roles,expected", [(r, e) for _n, r, e in LMS_ROLE_SETS], ids=[n for n, _r, _e in LMS_ROLE_SETS])
def test_role_sets_that_moodle_canvas_and_open_edx_send(roles, expected):
    assert map_roles(roles) == expected


@pytest.mark.parametrize("role", [M + "Administrator", "Administrator", "urn:lti:role:ims/lis/Administrator",
                                  "http://purl.imsglobal.org/vocab/lis/v2/membership/Administrator#Administrator",
                                  "http://purl.imsglobal.org/vocab/lis/v2/membership/Administrator#Support",
                                  M + "Manager", M + "Administrator " ])
def test_a_context_administrator_in_any_form_is_an_instructor_never_an_admin(role):
    assert map_roles([role]) == "instructor"
    assert map_roles([role, M + "Learner"]) == "instructor"


@pytest.mark.parametrize("role", [I + "Administrator", S + "Administrator", S + "SysAdmin", I + "SysAdmin",
                                  "urn:lti:instrole:ims/lis/Administrator", "urn:lti:sysrole:ims/lis/Administrator",
                                  "urn:lti:sysrole:ims/lis/SysAdmin"])
def test_only_institution_or_system_administrators_are_admins(role):
    assert map_roles([role]) == "admin"
    assert map_roles([M + "Learner", role]) == "admin"
