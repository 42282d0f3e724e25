"""Canvas REST API endpoints of the simulator, in Canvas's shapes:
`GET /api/v1/courses/:id/modules` (include[]=items, include[]=content_details, student_id=
for a student's module progress) and `GET /api/v1/courses/:id/students/submissions`.
Bearer tokens come from `content_of(sim).issue_token()`; pages of `per_page` with
`Link: <...>; rel="next"` like Canvas."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, request

from .content import ContentItem, ContentModule, CourseContent, content_of


def _error(status: int, message: str) -> Response:
    response = jsonify({"errors": [{"message": message}]})
    response.status_code = status
    return response


def _item_json(sim: Any, context_id: str, course: CourseContent, module: ContentModule, item: ContentItem,
               student: str | None, details: bool) -> dict[str, Any]:
    kind_path = {"Assignment": "assignments", "Quiz": "quizzes", "Page": "pages", "Discussion": "discussion_topics"}
    body: dict[str, Any] = {
        "id": item.id, "module_id": module.id, "position": module.items.index(item) + 1, "title": item.title,
        "indent": 0, "type": item.type, "content_id": item.content_id,
        "html_url": f"{sim.url}/courses/{context_id}/modules/items/{item.id}",
        "url": f"{sim.url}/api/v1/courses/{context_id}/{kind_path.get(item.type, 'items')}/{item.content_id}",
        "published": True,
    }
    if item.requirement:
        requirement: dict[str, Any] = {"type": item.requirement}
        if item.requirement == "min_score":
            requirement["min_score"] = (item.points or 0) * 0.5
        if student is not None:
            requirement["completed"] = (item.id, student) in course.completed
        body["completion_requirement"] = requirement
    if details:
        body["content_details"] = {"points_possible": item.points, "due_at": item.due_at, "unlock_at": None,
                                   "lock_at": None}
    return body


def _paged(items: list[Any]) -> Response:
    per_page = max(1, min(int(request.args.get("per_page", 10) or 10), 100))
    page = max(1, int(request.args.get("page", 1) or 1))
    chunk = items[(page - 1) * per_page: page * per_page]
    response = jsonify(chunk)
    if page * per_page < len(items):
        args = request.args.to_dict(flat=False)
        args["page"] = [str(page + 1)]
        response.headers["Link"] = f'<{request.base_url}?{urlencode(args, doseq=True)}>; rel="next"'
    return response


def register_canvas_rest(app: Flask, sim: Any) -> None:
    def authorised() -> Response | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or header[7:] not in content_of(sim).tokens:
            return _error(401, "Invalid access token.")
        return None

    @app.get("/api/v1/courses/<context_id>/modules")
    def canvas_modules(context_id: str) -> Response:
        if (refused := authorised()) is not None:
            return refused
        if context_id not in sim.courses:
            return _error(404, "The specified resource does not exist.")
        include = set(request.args.getlist("include[]"))
        student = request.args.get("student_id")
        if student is not None and (context_id, student) not in sim.enrollments:
            return _error(404, "The specified resource does not exist.")
        with sim.lock:
            course = content_of(sim).course(context_id)
            rows = []
            for module in course.modules:
                row: dict[str, Any] = {
                    "id": module.id, "workflow_state": "active", "position": module.position, "name": module.name,
                    "unlock_at": None, "require_sequential_progress": False, "requirement_type": "all",
                    "publish_final_grade": False, "prerequisite_module_ids": [], "items_count": len(module.items),
                    "items_url": f"{sim.url}/api/v1/courses/{context_id}/modules/{module.id}/items",
                }
                if "items" in include:
                    row["items"] = [_item_json(sim, context_id, course, module, i, student, "content_details" in include)
                                    for i in module.items]
                if student is not None:
                    required = [i for i in module.items if i.requirement]
                    done = [i for i in required if (i.id, student) in course.completed]
                    complete = bool(required) and len(done) == len(required)
                    row["state"] = "completed" if complete else ("started" if done else "unlocked")
                    row["completed_at"] = max(course.completed[(i.id, student)] for i in done) if complete else None
                rows.append(row)
        return _paged(rows)

    @app.get("/api/v1/courses/<context_id>/students/submissions")
    def canvas_submissions(context_id: str) -> Response:
        if (refused := authorised()) is not None:
            return refused
        if context_id not in sim.courses:
            return _error(404, "The specified resource does not exist.")
        wanted = request.args.getlist("student_ids[]")
        with sim.lock:
            course = content_of(sim).course(context_id)
            rows = []
            for (item_id, user), sub in sorted(course.submissions.items(), key=lambda kv: kv[1].id):
                if wanted and "all" not in wanted and user not in wanted:
                    continue
                item = content_of(sim).item_by_id(context_id, item_id)
                rows.append({"id": sub.id, "assignment_id": item.content_id if item else item_id, "user_id": user,
                             "score": sub.score, "grade": None if sub.score is None else str(sub.score),
                             "attempt": 1, "submission_type": "online_text_entry", "workflow_state": sub.workflow_state,
                             "submitted_at": sub.submitted_at, "graded_at": sub.graded_at, "posted_at": sub.posted_at,
                             "late": False, "missing": False, "excused": False,
                             "preview_url": f"{sim.url}/courses/{context_id}/assignments/{item_id}/submissions/{user}"})
        return _paged(rows)
