"""Moodle Web Services (REST protocol) endpoint of the simulator:
`/webservice/rest/server.php?wstoken=..&wsfunction=..&moodlewsrestformat=json`, answering
`core_course_get_contents`, `core_completion_get_activities_completion_status`,
`core_completion_get_course_completion_status`, `gradereport_user_get_grade_items`,
`core_enrol_get_enrolled_users` (with `lastcourseaccess`), `mod_assign_get_assignments` and
`mod_assign_get_grades` (with `since`) in Moodle's shapes. Like Moodle, errors come back as HTTP 200 with an `exception` object.
Course modules' ids (cmid) are the content items' ids; sections are the content modules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from .content import CourseContent, content_of

MODNAMES = {"Assignment": "assign", "Quiz": "quiz", "Page": "page", "Discussion": "forum"}


def _exception(errorcode: str, message: str, exception: str = "moodle_exception") -> Response:
    return jsonify({"exception": exception, "errorcode": errorcode, "message": message})


def _epoch(iso: str | None) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()) if iso else 0


def _modname(kind: str) -> str:
    return MODNAMES.get(kind, kind.lower())


def register_moodle_ws(app: Flask, sim: Any) -> None:
    @app.route("/webservice/rest/server.php", methods=["GET", "POST"])
    def moodle_ws() -> Response:
        args = {**request.args.to_dict(), **request.form.to_dict()}
        if args.get("wstoken") not in content_of(sim).tokens:
            return _exception("invalidtoken", "Invalid token - token not found")
        if args.get("moodlewsrestformat") != "json":
            return _exception("invalidparameter", "Invalid parameter value detected", "invalid_parameter_exception")
        function = args.get("wsfunction", "")
        if function in ("mod_assign_get_assignments", "mod_assign_get_grades"):
            with sim.lock:
                return _assignments(sim, args) if function == "mod_assign_get_assignments" else _assign_grades(sim, args)
        context_id = args.get("courseid", "")
        if context_id not in sim.courses:
            return _exception("invalidrecord", "Can't find data record in database table course.",
                              "dml_missing_record_exception")
        with sim.lock:
            course = content_of(sim).course(context_id)
            user = args.get("userid")
            if function not in ("core_course_get_contents", "core_enrol_get_enrolled_users") \
                    and (context_id, user) not in sim.enrollments:
                return _exception("notenrolled", "User is not enrolled in this course")
            handlers = {
                "core_course_get_contents": lambda: _contents(sim, context_id, course),
                "core_completion_get_activities_completion_status": lambda: _statuses(course, user),
                "core_completion_get_course_completion_status": lambda: _course_status(course, user),
                "gradereport_user_get_grade_items": lambda: _grade_items(sim, context_id, course, user),
                "core_enrol_get_enrolled_users": lambda: _enrolled(sim, context_id, course),
            }
            if function not in handlers:
                return _exception("invalidrecord", "Can't find data record in database table external_functions.",
                                  "dml_missing_record_exception")
            return handlers[function]()


def _contents(sim: Any, context_id: str, course: CourseContent) -> Response:
    sections = []
    for module in course.modules:
        mods = []
        for item in module.items:
            modname = _modname(item.type)
            entry: dict[str, Any] = {
                "id": item.id, "url": f"{sim.url}/mod/{modname}/view.php?id={item.id}", "name": item.title,
                "instance": item.content_id, "contextid": item.id + 1000, "visible": 1, "uservisible": True,
                "visibleoncoursepage": 1, "modicon": f"{sim.url}/theme/image.php/boost/{modname}/1/monologo",
                "modname": modname, "modplural": modname + "s", "availability": None, "indent": 0,
                "onclick": "", "afterlink": None, "customdata": "{}", "noviewlink": False,
                "completion": 2 if item.requirement else 0, "downloadcontent": 1, "dates": [],
            }
            if item.due_at:
                entry["dates"].append({"label": "Due:", "timestamp": _epoch(item.due_at), "dataid": "duedate"})
            mods.append(entry)
        sections.append({"id": module.id, "name": module.name, "visible": 1, "summary": "", "summaryformat": 1,
                         "section": module.position, "hiddenbynumsections": 0, "uservisible": True, "modules": mods})
    return jsonify(sections)


def _statuses(course: CourseContent, user: str) -> Response:
    statuses = []
    for module in course.modules:
        for item in module.items:
            if not item.requirement:
                continue
            done = (item.id, user) in course.completed
            passed = course.passed.get((item.id, user))
            state = (2 if passed else 3 if passed is False else 1) if done else 0
            statuses.append({"cmid": item.id, "modname": _modname(item.type), "instance": item.content_id,
                             "state": state, "timecompleted": _epoch(course.completed.get((item.id, user))),
                             "tracking": 2, "overrideby": None, "valueused": False, "hascompletion": True,
                             "isautomatic": True, "istrackeduser": True, "uservisible": True, "details": []})
    return jsonify({"statuses": statuses, "warnings": []})


def _course_status(course: CourseContent, user: str) -> Response:
    if not course.course_completion:
        return _exception("nocriteriaset", "No completion criteria set for this course")
    required = [i for m in course.modules for i in m.items if i.requirement]
    completions = [{"type": 4, "title": "Activity completion", "status": "Yes" if (i.id, user) in course.completed
                    else "No", "complete": (i.id, user) in course.completed,
                    "timecompleted": _epoch(course.completed.get((i.id, user))) or None,
                    "details": {"type": "Activity completion", "criteria": i.title, "requirement": "Marking yourself complete",
                                "status": ""}} for i in required]
    done = bool(required) and all(c["complete"] for c in completions)
    return jsonify({"completionstatus": {"completed": done, "aggregation": 1, "completions": completions},
                    "warnings": []})


def _grade_items(sim: Any, context_id: str, course: CourseContent, user: str) -> Response:
    items = []
    for module in course.modules:
        for item in module.items:
            if item.points is None:
                continue
            sub = course.submissions.get((item.id, user))
            raw = sub.score if sub else None
            items.append({
                "id": item.id + 5000, "itemname": item.title, "itemtype": "mod", "itemmodule": _modname(item.type),
                "iteminstance": item.content_id, "itemnumber": 0, "idnumber": "", "categoryid": 1, "outcomeid": None,
                "scaleid": None, "locked": False, "cmid": item.id, "weightraw": 0, "weightformatted": "-",
                "graderaw": raw, "gradedatesubmitted": _epoch(sub.submitted_at) if sub else None,
                "gradedategraded": _epoch(sub.graded_at) if sub and sub.graded_at else None,
                "gradehiddenbydate": False, "gradeneedsupdate": False, "gradeishidden": item.id in course.hidden_grades,
                "gradeislocked": False, "gradeisoverridden": False,
                "gradeformatted": "-" if raw is None else f"{raw:.2f}", "grademin": 0, "grademax": item.points,
                "rangeformatted": f"0.00&ndash;{item.points:.2f}", "percentageformatted": "-", "feedback": "",
                "feedbackformat": 0})
    total = course.course_grades.get(user)
    items.append({"id": 1, "itemname": None, "itemtype": "course", "itemmodule": None, "iteminstance": 1,
                  "itemnumber": None, "idnumber": "", "categoryid": None, "outcomeid": None, "scaleid": None,
                  "locked": False, "graderaw": total[0] if total else None, "gradeishidden": False,
                  "grademin": 0, "grademax": total[1] if total else 100, "feedback": "", "feedbackformat": 0})
    person = sim.users.get(user)
    return jsonify({"usergrades": [{"courseid": context_id, "userid": user,
                                    "userfullname": person.name if person else user, "useridnumber": "",
                                    "maxdepth": 2, "gradeitems": items}], "warnings": []})


def _listed(args: dict[str, str], name: str) -> list[str]:
    """`name[0]=..&name[1]=..` as Moodle's REST server reads a list parameter."""
    return [v for k, v in sorted(args.items()) if k.startswith(f"{name}[")]


def _enrolled(sim: Any, context_id: str, course: CourseContent) -> Response:
    users = []
    for (ctx, sub), _enrollment in sim.enrollments.items():
        if ctx != context_id:
            continue
        person = sim.users.get(sub)
        users.append({"id": int(sub) if sub.isdigit() else sub, "fullname": person.name if person else sub,
                      "lastcourseaccess": _epoch(course.last_access.get(sub))})
    return jsonify(users)


def _assign_items(sim: Any, context_id: str) -> list[Any]:
    return [i for m in content_of(sim).course(context_id).modules for i in m.items if _modname(i.type) == "assign"]


def _assignments(sim: Any, args: dict[str, str]) -> Response:
    courses = [{"id": ctx, "fullname": sim.courses[ctx].title,
                "assignments": [{"id": i.content_id, "cmid": i.id, "course": ctx, "name": i.title,
                                 "grade": i.points or 0} for i in _assign_items(sim, ctx)]}
               for ctx in _listed(args, "courseids") if ctx in sim.courses]
    return jsonify({"courses": courses, "warnings": []})


def _assign_grades(sim: Any, args: dict[str, str]) -> Response:
    wanted, since = set(_listed(args, "assignmentids")), int(args.get("since") or 0)
    out = []
    for ctx in list(sim.courses):
        course = content_of(sim).course(ctx)
        for item in _assign_items(sim, ctx):
            if str(item.content_id) not in wanted:
                continue
            grades = [{"id": sub.id, "userid": int(user) if user.isdigit() else user, "attemptnumber": 0,
                       "timecreated": _epoch(sub.submitted_at), "timemodified": _epoch(sub.graded_at),
                       "grader": 2, "grade": f"{sub.score:.5f}"}
                      for (item_id, user), sub in course.submissions.items()
                      if item_id == item.id and sub.score is not None and _epoch(sub.graded_at) >= since]
            out.append({"assignmentid": item.content_id, "grades": grades})
    return jsonify({"assignments": out, "warnings": []})
