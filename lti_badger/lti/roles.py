"""LIS roles (LTI 1.3 Core, appendix A.2) mapped to our three roles.

Role claims come as full URIs (context `membership#Instructor`, sub-roles
`membership/Instructor#TeachingAssistant`, institution `institution/person#Faculty`, system
`system/person#Administrator`), as LTI 1.1 URNs (`urn:lti:role:ims/lis/Instructor`) or as
the deprecated short context names (`Instructor`). Context roles decide; institution roles
decide only when the launch has no context role; an administrator anywhere is an admin."""

from __future__ import annotations

from collections.abc import Iterable

from ..models.course import ROLE_ADMIN, ROLE_INSTRUCTOR, ROLE_LEARNER

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
CONTEXT, INSTITUTION, SYSTEM = "context", "institution", "system"

_ADMIN_NAMES = {"Administrator", "SysAdmin"}
_CONTEXT_INSTRUCTOR = {"Instructor", "ContentDeveloper", "TeachingAssistant", "Manager"}
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
        if vocab.startswith("membership/"):  # sub-role: the principal role decides
            return CONTEXT, vocab.split("/", 1)[1]
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
    if any(name in _ADMIN_NAMES for _kind, name in parsed):
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
