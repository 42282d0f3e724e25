"""A learner's choice of how public credential pages show them: full name, initials, or
anonymous. Stored per enrollment (a learner may choose differently per course)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import BadInput, NotFound
from .models import Enrollment, Person

PUBLIC_DISPLAY_CHOICES = ("name", "initials", "anonymous")


def set_public_display(session: Session, course_id: int, person_id: int, choice: str) -> Enrollment:
    if choice not in PUBLIC_DISPLAY_CHOICES:
        raise BadInput(f"choose one of: {', '.join(PUBLIC_DISPLAY_CHOICES)}", detail={"field": "public_display"})
    enrollment = session.scalar(select(Enrollment).where(Enrollment.course_id == course_id,
                                                         Enrollment.person_id == person_id))
    if enrollment is None:
        raise NotFound("you are not enrolled in this course")
    enrollment.public_display = choice
    session.flush()
    return enrollment


def display_name(person: Person, choice: str) -> str:
    """The subject's name as the learner chose to show it publicly."""
    if choice == "anonymous":
        return ""
    if choice == "initials":
        parts = [p for p in (person.given_name, person.family_name) if p] or person.name.split()
        return "".join(f"{p[0].upper()}." for p in parts if p)
    return person.name
