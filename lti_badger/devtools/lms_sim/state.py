"""What the simulated LMS knows: courses, users, enrolments, registered tools, line items and
scores, access tokens, and the log of every request it received. Plain dataclasses guarded by
one lock held by `LmsSimulator`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Course:
    context_id: str
    title: str
    label: str
    modules: list[Module] = field(default_factory=list)
    # Custom parameters every launch from this course carries, as the LMS substitutes them
    # (Canvas: canvas_term_name for $Canvas.term.name; Moodle: a course_category the admin set).
    custom: dict[str, str] = field(default_factory=dict)


@dataclass
class Module:
    """A Canvas module / Moodle section: a named group of activities (line items)."""

    module_id: str
    title: str
    line_item_ids: list[str] = field(default_factory=list)


@dataclass
class User:
    sub: str
    name: str
    email: str
    given_name: str
    family_name: str
    picture: str
    locale: str
    roles: list[str]  # institution / system roles, added to every launch


@dataclass
class Enrollment:
    context_id: str
    sub: str
    roles: list[str]
    status: str = "Active"


@dataclass
class Tool:
    """A tool registered on the platform (by hand with `register_tool` or dynamically)."""

    client_id: str
    deployment_ids: list[str]
    initiate_login_uri: str
    redirect_uris: list[str]
    jwks_uri: str
    target_link_uri: str
    deep_link_uri: str
    scopes: list[str]
    name: str = "lti_badger"
    registration: dict[str, Any] | None = None


@dataclass
class LineItem:
    id: str  # local id; its URL is the AGS id
    context_id: str
    label: str
    score_maximum: float
    resource_id: str = ""
    tag: str = ""
    resource_link_id: str = ""
    start_date_time: str | None = None
    end_date_time: str | None = None
    client_id: str | None = None  # the tool that created it; None when the LMS did


@dataclass
class Score:
    """One score as POSTed (the JSON body, as received), in arrival order."""

    context_id: str
    line_item_id: str
    body: dict[str, Any]
    client_id: str | None


@dataclass
class AccessToken:
    token: str
    client_id: str
    scopes: list[str]
    expires_at: float


@dataclass
class Received:
    """One HTTP request the simulator got, and the status it answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    form: dict[str, str]
    status: int | None = None


@dataclass
class Failure:
    """An injected failure: the next `times` requests under `path_prefix` wait `delay` seconds,
    then get `status` (None: the normal answer, only late)."""

    path_prefix: str
    status: int | None
    times: int
    retry_after: int | str | None = None
    method: str | None = None
    body: dict[str, Any] | None = None
    delay: float = 0.0


@dataclass
class LaunchRequest:
    """What a `lti_message_hint` stands for between login initiation and the auth request."""

    sub: str
    context_id: str | None
    client_id: str
    deployment_id: str
    message_type: str
    resource_link_id: str
    overrides: dict[str, Any]
    sign: Callable[[dict[str, Any]], str] | None = None


@dataclass
class DeepLinkReturn:
    """A verified LtiDeepLinkingResponse the tool posted back."""

    client_id: str
    context_id: str | None
    claims: dict[str, Any]
    items: list[dict[str, Any]]


@dataclass
class Placement:
    """A resource link placed in a course (by deep linking): what a launch of it carries."""

    resource_link_id: str
    context_id: str
    client_id: str
    title: str
    url: str | None
    custom: dict[str, Any]
