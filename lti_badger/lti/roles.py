"""LIS roles (LTI 1.3 Core, appendix A.2) mapped to our three roles.

Role claims come as full URIs (context `membership#Instructor`, sub-roles
`membership/Instructor#TeachingAssistant`, institution `institution/person#Faculty`, system
`system/person#Administrator`), as LTI 1.1 URNs (`urn:lti:instrole:ims/lis/Administrator`) or as
the deprecated short context names (`Instructor`).

Only an administrator of the institution or the system (an LMS site or account admin) is the
tool's LMS admin: Moodle sends `system/person#Administrator` and `institution/person#Administrator`
for a site admin, Canvas `institution/person#Administrator` for an account admin and
`system/person#SysAdmin` for a site admin. A *context* Administrator (`membership#Administrator`,
short `Administrator`, `urn:lti:role:ims/lis/Administrator`) administers one course: Open edX's
lti-consumer-xblock sends it for every course instructor, so it makes an instructor of that
course, never an admin. Otherwise context roles decide; institution roles decide only when the
launch has no context role."""

from __future__ import annotations

from collections.abc import Iterable

from ..models.course import ROLE_ADMIN, ROLE_INSTRUCTOR, ROLE_LEARNER

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
CONTEXT, INSTITUTION, SYSTEM = "context", "institution", "system"

_ADMIN_NAMES = {"Administrator", "SysAdmin"}  # only in the institution or system vocabulary
_CONTEXT_INSTRUCTOR = {"Administrator", "Instructor", "ContentDeveloper", "TeachingAssistant", "Manager"}
_CONTEXT_LEARNER = {"Learner", "Member", "Mentor", "Student"}
_INSTITUTION_INSTRUCTOR = {"Faculty", "Instructor"}


def parse_role(role: str) -> tuple[str, str] | None:
    """(kind, principal name) of one role string, or None when it is not a LIS role."""
    role = role.strip()
    if role.startswith(LIS):
        rest = role[len(LIS):]
        vocab, _, name = rest.partition("#")
        if vocab == "membership":
            return CONTEXT, name
        if vocab.lower().startswith("membership/"):  # sub-role: the principal role decides
            return CONTEXT, vocab.split("/", 1)[1].capitalize()  # Canvas writes `membership/instructor#...`
        if vocab == "institution/person":
            return INSTITUTION, name
        if vocab == "system/person":
            return SYSTEM, name
        return None
    for prefix, kind in (("urn:lti:role:ims/lis/", CONTEXT), ("urn:lti:instrole:ims/lis/", INSTITUTION),
                         ("urn:lti:sysrole:ims/lis/", SYSTEM)):
        if role.startswith(prefix):
            return kind, role[len(prefix):].split("/", 1)[0]
    if role and ":" not in role and "/" not in role and "#" not in role:
        return CONTEXT, role  # short form of a context role
    return None


def map_roles(roles: Iterable[str]) -> str:
    """instructor | learner | admin for a launch's role claim."""
    parsed = [p for p in (parse_role(r) for r in roles if isinstance(r, str)) if p]
    if any(kind in (INSTITUTION, SYSTEM) and name in _ADMIN_NAMES for kind, name in parsed):
        return ROLE_ADMIN
    context = {name for kind, name in parsed if kind == CONTEXT}
    if context & _CONTEXT_INSTRUCTOR:
        return ROLE_INSTRUCTOR
    if context & _CONTEXT_LEARNER:
        return ROLE_LEARNER
    institution = {name for kind, name in parsed if kind in (INSTITUTION, SYSTEM)}
    if institution & _INSTITUTION_INSTRUCTOR:
        return ROLE_INSTRUCTOR
    return ROLE_LEARNER


def institution_roles(roles: Iterable[str]) -> list[str]:
    """The institution and system roles of a claim, kept on the person."""
    return [r for r in roles if isinstance(r, str) and (parse_role(r) or ("", ""))[0] in (INSTITUTION, SYSTEM)]
