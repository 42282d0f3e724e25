"""Course content as an LMS's own APIs show it (Canvas modules and items, Moodle sections and
course modules), learners' completion and submissions, and the admin tokens that read them.
Used by the simulator's Canvas REST (`canvas_rest.py`) and Moodle Web Services
(`moodle_ws.py`) endpoints; the simulator's users and courses are the same ones LTI uses
(a user's LMS id is their `sub`, a course's LMS id its context id)."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ContentItem:
    """A Canvas module item / Moodle course module."""

    id: int
    module_id: int
    title: str
    type: str                      # Canvas item type ("Assignment", "Quiz", "Page") or Moodle modname
    content_id: int
    points: float | None = None
    due_at: str | None = None      # ISO 8601
    requirement: str | None = None  # Canvas: must_submit / min_score / must_view; Moodle: any -> tracked


@dataclass
class ContentModule:
    id: int
    name: str
    position: int
    items: list[ContentItem] = field(default_factory=list)


@dataclass
class Submission:
    id: int
    score: float | None = None
    workflow_state: str = "submitted"
    submitted_at: str | None = None
    graded_at: str | None = None
    posted_at: str | None = None


@dataclass
class CourseContent:
    modules: list[ContentModule] = field(default_factory=list)
    completed: dict[tuple[int, str], str] = field(default_factory=dict)    # (item id, user) -> when
    passed: dict[tuple[int, str], bool] = field(default_factory=dict)      # Moodle pass/fail states
    submissions: dict[tuple[int, str], Submission] = field(default_factory=dict)  # (item id, user)
    hidden_grades: set[int] = field(default_factory=set)                    # item ids
    course_completion: bool = True                                          # Moodle: criteria set
    course_grades: dict[str, tuple[float, float]] = field(default_factory=dict)  # user -> (raw, max)
    last_access: dict[str, str] = field(default_factory=dict)               # Moodle lastcourseaccess: user -> when


class Content:
    """All courses' content of one simulator, guarded by the simulator's lock."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.courses: dict[str, CourseContent] = {}
        self.tokens: set[str] = set()
        self._ids = itertools.count(100)

    def course(self, context_id: str) -> CourseContent:
        return self.courses.setdefault(context_id, CourseContent())

    def issue_token(self) -> str:
        token = secrets.token_hex(16)
        with self.sim.lock:
            self.tokens.add(token)
        return token

    def add_module(self, context_id: str, name: str) -> ContentModule:
        with self.sim.lock:
            course = self.course(context_id)
            module = ContentModule(next(self._ids), name, len(course.modules) + 1)
            course.modules.append(module)
            return module

    def add_item(self, context_id: str, module: ContentModule, title: str, type: str = "Assignment", *,
                 points: float | None = None, due_at: str | None = None, requirement: str | None = None) -> ContentItem:
        with self.sim.lock:
            item = ContentItem(next(self._ids), module.id, title, type, next(self._ids), points, due_at, requirement)
            module.items.append(item)
            return item

    def complete(self, context_id: str, item: ContentItem, user: str, when: str = "2026-11-02T10:00:00Z", *,
                 passed: bool | None = None, done: bool = True, by_teacher: bool = False) -> None:
        """The learner completes the item (they were in the course then), or a teacher marks it."""
        with self.sim.lock:
            course = self.course(context_id)
            if not by_teacher:
                course.last_access[user] = when
            if done:
                course.completed[(item.id, user)] = when
            else:
                course.completed.pop((item.id, user), None)
            if passed is not None:
                course.passed[(item.id, user)] = passed

    def submit(self, context_id: str, item: ContentItem, user: str, *, score: float | None = None,
               posted: bool = True, when: str = "2026-11-02T10:00:00Z", by_teacher: bool = False) -> Submission:
        """The learner submits (graded at once when `score` is given), or with `by_teacher` a
        teacher grades it while the learner is away from the course."""
        with self.sim.lock:
            sub = Submission(next(self._ids), score, "graded" if score is not None else "submitted", when,
                             when if score is not None else None, when if posted and score is not None else None)
            course = self.course(context_id)
            if not by_teacher:
                course.last_access[user] = when
            course.submissions[(item.id, user)] = sub
            if item.requirement == "must_submit":  # Canvas completes the requirement on submission
                course.completed.setdefault((item.id, user), when)
            return sub

    def item_by_id(self, context_id: str, item_id: int) -> ContentItem | None:
        return next((i for m in self.course(context_id).modules for i in m.items if i.id == item_id), None)


def content_of(sim: Any) -> Content:
    """The simulator's content store, created on first use."""
    with sim.lock:
        store = getattr(sim, "_content", None)
        if store is None:
            store = Content(sim)
            sim._content = store
        return store
