"""Moodle Web Services pull with an admin-provided token (`source add moodle-ws`), over the
REST protocol (`/webservice/rest/server.php`, `moodlewsrestformat=json`).

Per course (Moodle's LTI context id is its course id, so no map is needed):
1. `core_course_get_contents`: sections become Modules (LMS id = section id), course
   modules become activities (LMS id = cmid, the id xAPI statements also resolve to), with
   the module type, link, due date (the `dates` entry `duedate`) and whether completion is
   tracked (`completion` > 0); an LTI activity keeps its instance id, which is the LTI
   resource link id Moodle launches with and binds its AGS line item to (`resourceLinkId`).
2. per learner (`Person.lms_user_id`, which is Moodle's user id and LTI `sub`):
   - `core_completion_get_activities_completion_status`: state 1 complete, 2 complete and
     passed, 3 complete and failed, 0 incomplete;
   - `gradereport_user_get_grade_items`: `graderaw` of `grademax` per module grade item
     (`cmid`) and the course total (activity `course-grade`, kind `course_grade`); a hidden
     grade (`gradeishidden`) flags the activity as grades not released;
   - `core_completion_get_course_completion_status`: activity `course-completion`
     (kind "course"), skipped when completion is not enabled in the course.
Moodle reports errors with HTTP 200 and an `exception` object: they become `UpstreamError`.
Everything is ingested as observations (only changes are stored, at the sync time).

`sync_moodle_changes` is the cheap pull the worker runs every minute: only the learners of
each course that something happened to since the last one, then step 2 for them alone.
Moodle 4.3 has no web service that lists other users' grade or completion changes
(`core_course_get_updates_since` answers for the token's own user only), so "changed" is:
- `core_enrol_get_enrolled_users`: `lastcourseaccess` newer than the cursor (whatever a
  learner does in the course, a quiz attempt, a submission, marking an activity done, moves
  it; Moodle writes it at most once a minute, hence the slack);
- `mod_assign_get_assignments` + `mod_assign_get_grades(since)`: assignment grades a teacher
  changed (the learner was not in the course), one call each for all courses.
A teacher's override in the gradebook or a manually graded quiz question reaches the tool
through the Moodle plugin (`integrations/moodle/`) at once, else with the hourly full pull."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import UpstreamError
from ..models import Course, ProgressSource
from ..models.course import PROGRAM_HOME_CONTEXT
from ..outbound import OutboundClient
from . import ids
from .canvas_rest import PullResult
from .http import request_json
from .services import SOURCE_MOODLE_WS, ProgressEventIn
from .sources import learner_lms_ids, lms_course_map
from .structure import ActivityIn, ModuleIn, sync_structure

log = logging.getLogger(__name__)

ENDPOINT = "/webservice/rest/server.php"
ERROR_CODE = re.compile(r"[A-Za-z0-9_]{1,60}")  # Moodle's error codes (`invalidtoken`); its messages go to the log
CHANGES_CURSOR = "changes_since"  # source setting: epoch seconds the last incremental pull started at
# lastcourseaccess is written at most once a minute (LASTACCESS_UPDATE_SECS = 60), so what a
# learner did in the last minute may not show in it yet; 30 s more for the two clocks.
ACCESS_SLACK = timedelta(seconds=90)
FIRST_CHANGES_WINDOW = timedelta(hours=1)
COURSE_GRADE = "course-grade"
COURSE_COMPLETION = "course-completion"


class MoodleClient:
    def __init__(self, base_url: str, token: str, http: OutboundClient) -> None:
        self.url = base_url.rstrip("/") + ENDPOINT
        self.token = token
        self.http = http

    def call(self, function: str, **params: Any) -> Any:
        data = {"wstoken": self.token, "wsfunction": function, "moodlewsrestformat": "json", **params}
        body, _ = request_json(self.http, "POST", self.url, f"Moodle {function}", data=data)
        if isinstance(body, dict) and "exception" in body:
            code = str(body.get("errorcode"))
            code = code if ERROR_CODE.fullmatch(code) else "unknown"
            log.warning("Moodle web service error", extra={"function": function, "errorcode": code,
                                                           "body": str(body.get("message"))[:500]})
            raise UpstreamError(f"Moodle {function} answered the error {code}", detail={"errorcode": code})
        return body


def structure_of(sections: list[dict[str, Any]], grade_max: dict[str, float]) -> tuple[list[ModuleIn], list[ActivityIn]]:
    mods, acts = [], []
    for section in sections:
        if not isinstance(section, dict) or section.get("id") is None:
            continue
        sid = str(section["id"])
        modules = [m for m in section.get("modules") or [] if isinstance(m, dict) and m.get("id") is not None]
        name = section.get("name") or f"Section {section.get('section', sid)}"
        mods.append(ModuleIn(sid, str(name), int(section.get("section") or 0),
                             any(int(m.get("completion") or 0) > 0 for m in modules)))
        for position, m in enumerate(modules):
            cmid = str(m["id"])
            due = next((d.get("timestamp") for d in m.get("dates") or []
                        if isinstance(d, dict) and d.get("dataid") in ("duedate", "timeclose")), None)
            acts.append(ActivityIn(cmid, str(m.get("name") or cmid), kind=str(m.get("modname") or "activity"),
                                   module_lms_id=sid, position=position, max_points=grade_max.get(cmid),
                                   due_at=ids.parse_epoch(due, "due date"), deep_link=m.get("url"),
                                   completion_required=int(m.get("completion") or 0) > 0,
                                   resource_link_id=str(m["instance"]) if m.get("modname") == "lti"
                                   and m.get("instance") is not None else None))
    return mods, acts


def completion_events(statuses: list[dict[str, Any]], course: Course, user: str, now: datetime) -> list[ProgressEventIn]:
    events = []
    for st in statuses:
        if not isinstance(st, dict) or st.get("cmid") is None:
            continue
        state = int(st.get("state") or 0)
        events.append(ProgressEventIn(
            source=SOURCE_MOODLE_WS, source_event_id=f"completion:{st['cmid']}:{user}", occurred_at=now,
            activity_lms_id=str(st["cmid"]), course_id=course.id, learner_lms_id=user, completed=state in (1, 2, 3),
            passed={2: True, 3: False}.get(state), raw=st))
    return events


def grade_events(items: list[dict[str, Any]], course: Course, user: str, now: datetime) -> list[ProgressEventIn]:
    events = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("itemtype") == "course":
            lms_id = COURSE_GRADE
        elif item.get("itemtype") == "mod" and item.get("cmid") is not None:
            lms_id = str(item["cmid"])
        else:
            continue
        raw = item.get("graderaw")
        if not isinstance(raw, (int, float)):
            continue
        top = item.get("grademax")
        events.append(ProgressEventIn(
            source=SOURCE_MOODLE_WS, source_event_id=f"grade:{item.get('id')}:{user}", occurred_at=now,
            activity_lms_id=lms_id, course_id=course.id, learner_lms_id=user, score=float(raw),
            max_score=float(top) if isinstance(top, (int, float)) else None,
            grades_released=not bool(item.get("gradeishidden")), raw=item))
    return events


def _courses(session: Session, source: ProgressSource) -> list[tuple[str, Course]]:
    mapping = {ctx: lms for lms, ctx in lms_course_map(source).items()}
    return [(mapping.get(c.context_id, c.context_id), c) for c in session.scalars(
        select(Course).where(Course.platform_id == source.platform_id,
                             Course.context_id != PROGRAM_HOME_CONTEXT).order_by(Course.id))
        if not mapping or c.context_id in mapping]


def _course_completion(client: MoodleClient, moodle_id: str, course: Course, user: str,
                       now: datetime) -> ProgressEventIn | None:
    """The learner's course completion, or None when the course has no completion criteria
    (Moodle answers `nocriteriaset`, the same for every learner)."""
    try:
        status = client.call("core_completion_get_course_completion_status", courseid=moodle_id, userid=user)
    except UpstreamError as e:
        if (e.detail or {}).get("errorcode") != "nocriteriaset":
            raise
        return None
    done = (status.get("completionstatus") or {}).get("completed")
    return ProgressEventIn(source=SOURCE_MOODLE_WS, source_event_id=f"course-completion:{user}", occurred_at=now,
                           activity_lms_id=COURSE_COMPLETION, course_id=course.id, learner_lms_id=user,
                           completed=bool(done), raw=status)


def _learner_grade_items(client: MoodleClient, moodle_id: str, user: str) -> list[dict[str, Any]]:
    report = client.call("gradereport_user_get_grade_items", courseid=moodle_id, userid=user)
    return [i for ug in report.get("usergrades") or [] for i in ug.get("gradeitems") or []]


def _learner_events(client: MoodleClient, moodle_id: str, course: Course, user: str, items: list[dict[str, Any]],
                    now: datetime, with_course_completion: bool) -> tuple[list[ProgressEventIn], bool]:
    """A learner's activity completion, grades and (when the course has criteria) course
    completion; the flag says whether the course has completion criteria."""
    statuses = client.call("core_completion_get_activities_completion_status", courseid=moodle_id, userid=user)
    events = completion_events(statuses.get("statuses") or [], course, user, now) + grade_events(items, course, user, now)
    if with_course_completion:
        completion = _course_completion(client, moodle_id, course, user, now)
        if completion is None:
            return events, False
        events.append(completion)
    return events, with_course_completion


def sync_moodle(session: Session, source: ProgressSource, now: datetime, *, http: OutboundClient) -> PullResult:
    client = MoodleClient(source.settings["base_url"], source.settings["token"], http)
    result = PullResult()
    for moodle_id, course in _courses(session, source):
        try:
            learners = learner_lms_ids(session, course)
            grades = {user: _learner_grade_items(client, moodle_id, user) for user in learners}
            grade_max = {str(i["cmid"]): float(i["grademax"]) for items in grades.values() for i in items
                         if i.get("itemtype") == "mod" and i.get("cmid") is not None
                         and isinstance(i.get("grademax"), (int, float))}
            sections = client.call("core_course_get_contents", courseid=moodle_id)
            mods, acts = structure_of(sections if isinstance(sections, list) else [], grade_max)
            if any(i.get("itemtype") == "course" for items in grades.values() for i in items):
                acts.append(ActivityIn(COURSE_GRADE, "Course total", kind="course_grade", completion_required=False))
            events: list[ProgressEventIn] = []
            completion_enabled = True
            for user in learners:
                found, completion_enabled = _learner_events(client, moodle_id, course, user, grades[user], now,
                                                            completion_enabled)
                events.extend(found)
            if completion_enabled and learners:
                acts.append(ActivityIn(COURSE_COMPLETION, "Course completion", kind="course", completion_required=False))
            result.structure.append(sync_structure(session, course.id, mods, acts, SOURCE_MOODLE_WS))
            result.add_course(session, source, events, now)
        except UpstreamError as e:
            result.errors.append(f"Moodle course {moodle_id}: {e.message}")
    return result.finish(session, source, now)


def _indexed(name: str, values: list[str]) -> dict[str, str]:
    """A list parameter the way Moodle's REST server reads it: `name[0]=..&name[1]=..`."""
    return {f"{name}[{i}]": v for i, v in enumerate(values)}


def _graded_since(client: MoodleClient, moodle_ids: list[str], since: int) -> dict[str, set[str]]:
    """Users per Moodle course whose assignment grade changed at or after `since`."""
    answer = client.call("mod_assign_get_assignments", **_indexed("courseids", moodle_ids))
    course_of = {str(a["id"]): str(c.get("id")) for c in answer.get("courses") or [] if isinstance(c, dict)
                 for a in c.get("assignments") or [] if isinstance(a, dict) and a.get("id") is not None}
    graded: dict[str, set[str]] = {}
    if not course_of:
        return graded
    answer = client.call("mod_assign_get_grades", since=str(since), **_indexed("assignmentids", sorted(course_of)))
    for assignment in answer.get("assignments") or []:
        course = course_of.get(str(assignment.get("assignmentid")))
        for grade in assignment.get("grades") or []:
            if course is not None and isinstance(grade, dict) and grade.get("userid") is not None:
                graded.setdefault(course, set()).add(str(grade["userid"]))
    return graded


def _accessed_since(client: MoodleClient, moodle_id: str, since: int) -> set[str]:
    users = client.call("core_enrol_get_enrolled_users", courseid=moodle_id,
                        **{"options[0][name]": "onlyactive", "options[0][value]": "1",
                           "options[1][name]": "userfields", "options[1][value]": "id,lastcourseaccess"})
    return {str(u["id"]) for u in users if isinstance(u, dict) and u.get("id") is not None
            and int(u.get("lastcourseaccess") or 0) >= since}


def sync_moodle_changes(session: Session, source: ProgressSource, now: datetime, *,
                        http: OutboundClient) -> PullResult:
    """The learners something happened to since the last incremental pull, pulled like the
    full pull does (grades, activity and course completion); structure is left to the full pull.
    The cursor moves only when every course answered, so a failure is retried next minute."""
    client = MoodleClient(source.settings["base_url"], source.settings["token"], http)
    result = PullResult()
    cursor = source.settings.get(CHANGES_CURSOR)
    start = (datetime.fromtimestamp(cursor, now.tzinfo) if isinstance(cursor, int)
             else source.last_sync_at or now - FIRST_CHANGES_WINDOW)
    if start.tzinfo is None:
        start = start.replace(tzinfo=now.tzinfo)
    since = int((start - ACCESS_SLACK).timestamp())
    courses = _courses(session, source)
    try:
        graded = _graded_since(client, [moodle_id for moodle_id, _ in courses], since) if courses else {}
    except UpstreamError as e:
        result.errors.append(f"Moodle assignment grades: {e.message}")
        courses = []
    for moodle_id, course in courses:
        try:
            learners = set(learner_lms_ids(session, course))
            changed = sorted((_accessed_since(client, moodle_id, since) | graded.get(moodle_id, set())) & learners)
            events: list[ProgressEventIn] = []
            completion_enabled = True
            for user in changed:
                items = _learner_grade_items(client, moodle_id, user)
                found, completion_enabled = _learner_events(client, moodle_id, course, user, items, now,
                                                            completion_enabled)
                events.extend(found)
            result.add_course(session, source, events, now)
        except UpstreamError as e:
            result.errors.append(f"Moodle course {moodle_id}: {e.message}")
    if result.errors:
        source.last_error = "; ".join(result.errors)[:2000]
    else:
        source.settings = {**source.settings, CHANGES_CURSOR: int(now.timestamp())}
    session.flush()
    return result
