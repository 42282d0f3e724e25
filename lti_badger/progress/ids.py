"""How LMS identifiers become our LMS ids, the same whichever source mentions them.

- Moodle course modules: the course-module id (`cmid`) as a string. xAPI and Caliper name a
  module by its URL (`https://moodle.example.edu/mod/quiz/view.php?id=42` -> `"42"`), Moodle
  Web Services by `cmid` / `id` (`42` -> `"42"`); both land on the same Activity.
- Moodle courses: the course id, which is also the LTI `context_id` Moodle sends
  (`https://moodle.example.edu/course/view.php?id=7` -> `"7"`).
- Canvas objects: the local id as the REST API shows it. Live Events and Caliper carry global
  ids (`shard * 10**13 + local`) or `urn:instructure:canvas:<type>:<global id>`; both are
  reduced to the local id (`21070000000000355` -> `"355"`).
- Anything else (an IRI of another LRS client, an AGS line item URL) is kept verbatim.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from ..errors import BadInput

CANVAS_SHARD_FACTOR = 10**13
_MOODLE_MOD = re.compile(r"/mod/([a-z0-9_]+)/view\.php$")
_MOODLE_COURSE = re.compile(r"/course/view\.php$")
_CANVAS_URN = re.compile(r"^urn:instructure:canvas:([a-z_]+):(\d+)$")


def canvas_local_id(value: object) -> str:
    """A Canvas id as the REST API shows it: global ids lose their shard."""
    text = str(value).strip()
    m = _CANVAS_URN.match(text)
    if m:
        text = m.group(2)
    if text.isdigit() and int(text) >= CANVAS_SHARD_FACTOR:
        return str(int(text) % CANVAS_SHARD_FACTOR)
    return text


def _query_id(url: str) -> str | None:
    ids = parse_qs(urlsplit(url).query).get("id")
    return ids[0] if ids and ids[0].isdigit() else None


def moodle_module(url: str) -> tuple[str, str] | None:
    """(cmid, module type) of a Moodle activity URL, or None."""
    m = _MOODLE_MOD.search(urlsplit(url).path)
    cmid = _query_id(url) if m else None
    return (cmid, m.group(1)) if m and cmid else None


def moodle_course(url: str) -> str | None:
    return _query_id(url) if _MOODLE_COURSE.search(urlsplit(url).path) else None


def activity_lms_id(iri: str) -> tuple[str, str | None]:
    """(LMS id, kind or None) of an activity named by an IRI in an xAPI or Caliper event."""
    module = moodle_module(iri)
    if module:
        return module
    m = _CANVAS_URN.match(iri)
    if m:
        return canvas_local_id(iri), m.group(1)
    return iri, None


def course_ref(iri: str) -> str:
    """The LMS course id named by a course IRI (Moodle URL, Canvas URN), else the IRI."""
    return moodle_course(iri) or (canvas_local_id(iri) if _CANVAS_URN.match(iri) else iri)


def person_ref(iri: str) -> str:
    """The LMS user id at the end of a person IRI (`.../users/42`, `urn:...:user:2107..42`)."""
    if _CANVAS_URN.match(iri):
        return canvas_local_id(iri)
    tail = re.split(r"[/:=]", iri.rstrip("/"))[-1]
    return tail or iri


def parse_time(value: object, what: str = "timestamp") -> datetime:
    """An ISO 8601 time (with zone; a zone-less one is read as UTC) or `BadInput`."""
    if not isinstance(value, str) or not value:
        raise BadInput(f"{what} must be an ISO 8601 date-time string")
    try:
        when = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError as e:
        raise BadInput(f"{what} is not an ISO 8601 date-time: {value!r}") from e
    return when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)


def parse_epoch(value: object, what: str = "time") -> datetime | None:
    """A Unix time (Moodle WS), 0 / None meaning "never"."""
    if value in (None, 0, "0", ""):
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError) as e:
        raise BadInput(f"{what} is not a Unix time: {value!r}") from e


def parse_number(value: object, what: str) -> float | None:
    """A JSON number as a float, None meaning "not given"; booleans and strings are `BadInput`
    (a statement's `true` is not a score of 1)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"{what} must be a number")
    return float(value)
