"""Who is asking, as plain data: the scope a launch granted (platform, course, person, role).

It lives outside `web/` so services (which never import Flask) can return and take it;
`web.auth` signs it into launch tokens and the session."""

from __future__ import annotations

from dataclasses import dataclass

from .models.course import ROLE_ADMIN, ROLE_INSTRUCTOR


@dataclass(frozen=True)
class Scope:
    platform_id: int
    course_id: int | None  # None: a launch without a course (Canvas user or global navigation)
    person_id: int
    role: str  # instructor | learner | admin
    locale: str = "en"

    @property
    def is_instructor(self) -> bool:
        return self.role in (ROLE_INSTRUCTOR, ROLE_ADMIN)
