"""Issue 12, "Also": the tenant-isolation matrix, generated from the app's URL map.

Every route × five actors, each with the answer it must get when it asks for the data of
course A on registration P1 (Canvas cloud: issuer https://canvas.instructure.com, client c-1):

- anonymous: no launch at all;
- learner: a learner of course A (the one who holds A's badge);
- other_instructor: the instructor of course B, on the same registration P1;
- same_issuer_admin: the LMS admin of registration P2 (same issuer, client c-2: another
  institution on Canvas cloud);
- other_lms_admin: the LMS admin of registration P3 (another LMS, a Moodle).

A route that answers about the asker's own tenant (a list, a settings page) is `OWN`: any
answer below 500 whose body names none of A's data. A refused state-changing request changes
no row. A route without a row fails the test with the line to add."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pytest
from PIL import Image
from sqlalchemy import select

from lti_badger.models import (AppPassword, ApprovalRequest, Award, Credential, Delivery, Endorsement, Endorser, GroupDefault,
                               IssuerProfileRecord,
                               StatusList)
from lti_badger.web.csrf import generate_csrf_token
from tests.factories_awards import make_achievement
from tests.factories_web import CourseWorld, make_course, make_platform, token_for
from tests.functional.web.conftest import PageClient
from tests.security.test_body_limits import _rows

ACTORS = ("anonymous", "learner", "other_instructor", "same_issuer_admin", "other_lms_admin")
OWN = "own tenant"  # < 500, and the body names nothing of course A
NO_LAUNCH = "no launch"  # 401 to a GET; 400 to a POST (the CSRF check refuses a form without a launch first)
MARKERS = ("ALPHA-SECRET-BADGE", "ALPHA-SECRET-ISSUER", "Lena Learner1 A", "ALPHA-SECRET-PROGRAM", "ALPHA-SECRET-TERM")


@dataclass(frozen=True)
class Row:
    """Expected answer per actor (an int, a set of ints, or OWN), and URL values for this rule."""

    answers: dict[str, object]
    params: dict[str, str] = field(default_factory=dict)


def same(answer, **params) -> Row:
    """Public or self-authenticated: the same answer whoever asks."""
    return Row(dict.fromkeys(ACTORS, answer), params)


def course_object(**params) -> Row:
    """An instructor route on one object of course A."""
    return Row({"anonymous": NO_LAUNCH, "learner": 403, "other_instructor": 404, "same_issuer_admin": 404,
                "other_lms_admin": 404}, params)


def course_page(learner=403, **params) -> Row:
    """An instructor route about the asker's own course."""
    return Row({"anonymous": NO_LAUNCH, "learner": learner, "other_instructor": OWN, "same_issuer_admin": OWN,
                "other_lms_admin": OWN}, params)


def learner_object(learner=200, **params) -> Row:
    """A learner route on something of course A that A's learner may see (and only they)."""
    return Row({"anonymous": NO_LAUNCH, "learner": learner, "other_instructor": 404, "same_issuer_admin": 404,
                "other_lms_admin": 404}, params)


def learner_page(learner=200, **params) -> Row:
    """A route about the asker's own enrolment (any launched person; A's learner sees A's badges)."""
    return Row({"anonymous": NO_LAUNCH, "learner": learner, "other_instructor": OWN, "same_issuer_admin": OWN,
                "other_lms_admin": OWN}, params)


def admin_object(**params) -> Row:
    """An LMS-admin route on registration P1 or one of its objects."""
    return Row({"anonymous": NO_LAUNCH, "learner": 403, "other_instructor": 403, "same_issuer_admin": 404,
                "other_lms_admin": 404}, params)


def admin_page(**params) -> Row:
    """An LMS-admin route about the asker's own registration."""
    return Row({"anonymous": NO_LAUNCH, "learner": 403, "other_instructor": 403, "same_issuer_admin": OWN,
                "other_lms_admin": OWN}, params)


def deep_link() -> Row:
    """Instructor only; another instructor's token without a deep-linking launch id is a 400."""
    return Row({"anonymous": NO_LAUNCH, "learner": 403, "other_instructor": 400, "same_issuer_admin": 400,
                "other_lms_admin": 400})


# (method, rule) -> Row. Values in braces are filled from `world` (course A's objects).
TENANT_MATRIX: dict[tuple[str, str], Row] = {
    # LTI endpoints: the LMS's side of the protocol, the same for everyone.
    ("GET", "/lti/login"): same(400),
    ("POST", "/lti/login"): same(400),
    ("POST", "/lti/launch"): same(400),
    ("POST", "/lti/deep_link"): deep_link(),
    ("GET", "/lti/register"): same({400, 403}),  # 403 when registration is closed (issue 12 finding 2)
    ("GET", "/lti/config/canvas.json"): same(200),
    ("GET", "/lti/static/<path:filename>"): same(200, filename="autosubmit.js"),
    ("GET", "/.well-known/jwks.json"): same(200),
    # Public pages and documents.
    ("GET", "/.well-known/did.json"): same(200),
    ("GET", "/did.json"): same(200),
    ("GET", "/static/<path:filename>"): same(404, filename="nothing-here.txt"),
    ("GET", "/assets/<path:filename>"): same(200, filename="app.css"),
    ("GET", "/achievements/<public_id>"): same(200, public_id="{achievement_public_id}"),
    ("GET", "/achievements/<public_id>/versions/<int:number>"): same(200, public_id="{achievement_public_id}",
                                                                     number="1"),
    ("GET", "/achievements/<public_id>/versions/<int:number>/image"): same(200, public_id="{achievement_public_id}",
                                                                           number="1"),
    ("GET", "/issuers/<public_id>/image"): same(200, public_id="{issuer_public_id}"),
    ("GET", "/credentials/<uuid:credential_id>"): same(200),
    ("GET", "/credentials/<uuid:credential_id>.json"): same(200),
    ("GET", "/credentials/<uuid:credential_id>.png"): same(200),
    ("GET", "/credentials/<uuid:credential_id>.svg"): same(200),
    ("POST", "/credentials/verify"): same(400),
    ("GET", "/status/<int:list_id>"): same(200),
    ("GET", "/verify"): same(200),
    ("POST", "/verify"): same(400),
    # Event feeds: their own credentials, none of which a launched person holds.
    ("GET", "/xapi/about"): same(200),
    ("POST", "/xapi/statements"): same(401),
    ("PUT", "/xapi/statements"): same(400),
    ("POST", "/caliper/events"): same(401),
    ("POST", "/canvas/live-events"): same(400),  # no source key, no signed event
    # Wallets: a one-time secret in the URL.
    ("GET", "/interactions/<secret>"): same(404, secret="not-a-secret"),
    ("POST", "/workflows/collect/exchanges/<secret>"): same({400, 404}, secret="not-a-secret"),  # 400: a form body
    # The OB 2.0 backpack: a bearer token from /o/token, which no launch gives.
    ("POST", "/o/token"): same({400, 401}),
    ("GET", "/ob2/backpack/collections"): same(401),
    ("GET", "/ob2/backpack/collections/<entity_id>"): same(401, entity_id="{credential_id}"),
    ("GET", "/ob2/backpack/assertions/<entity_id>"): same(401, entity_id="{credential_id}"),
    ("GET", "/ob2/assertions/<uuid:credential_id>"): same(200),
    ("GET", "/ob2/badgeclasses/<entity_id>"): same(200, entity_id="{badgeclass_entity_id}"),
    ("GET", "/ob2/issuers/<entity_id>"): same(200, entity_id="{issuer_entity_id}"),
    # The instructor's pages.
    ("GET", "/contexts/lti-badger/eu-microcredential-v1.json"): same(200),
    ("GET", "/issuers/<entity_id>"): same(200, entity_id="{issuer_public_id}"),
    ("GET", "/healthz"): same(200),
    ("GET", "/readyz"): same(200),
    ("GET", "/metrics"): same(200),  # the test client is on loopback, which metrics_allow opens
    ("GET", "/openapi.json"): same(200),
    ("POST", "/moodle/events"): same({400, 401}),  # a signed JWT from the Moodle plugin, nothing else
    ("POST", "/credentials/issue"): same(401),  # an operator token only
    # OB 3.0 API: OAuth 2.0 bearer tokens of one learner, never a launch
    ("GET", "/ims/ob/v3p0/discovery"): same(200),
    ("GET", "/ims/ob/v3p0/privacy"): same(200),
    ("GET", "/ims/ob/v3p0/oauth/authorize"): same({400, 401}),
    ("POST", "/ims/ob/v3p0/oauth/authorize"): same({400, 401}),
    ("POST", "/ims/ob/v3p0/oauth/register"): same({400, 415}),  # RFC 7591 takes a JSON body
    ("POST", "/ims/ob/v3p0/oauth/token"): same({400, 401}),
    ("GET", "/ims/ob/v3p0/credentials"): same(401),
    ("POST", "/ims/ob/v3p0/credentials"): same({400, 401}),
    ("GET", "/ims/ob/v3p0/profile"): same(401),
    ("PUT", "/ims/ob/v3p0/profile"): same({400, 401}),

    ("GET", "/course/"): course_page(),
    ("GET", "/course/badges"): course_page(),
    ("GET", "/course/badges/new"): course_page(),
    ("POST", "/course/badges/new"): course_page(),
    ("GET", "/course/badges/<int:achievement_id>/edit"): course_object(),
    ("POST", "/course/badges/<int:achievement_id>/edit"): course_object(),
    ("GET", "/course/badges/<int:achievement_id>/versions"): course_object(),
    ("GET", "/course/badges/<int:achievement_id>/criteria"): course_object(),
    ("POST", "/course/badges/<int:achievement_id>/criteria"): course_object(),
    ("POST", "/course/badges/<int:achievement_id>/state"): course_object(),
    ("GET", "/course/badges/<int:achievement_id>/image"): learner_object(),
    ("GET", "/course/earners"): course_page(),
    ("GET", "/course/earners.csv"): course_page(),
    ("GET", "/course/earners/<int:person_id>/<int:achievement_id>"): course_object(),
    ("POST", "/course/earners/<int:person_id>/<int:achievement_id>"): course_object(),
    ("GET", "/course/review"): course_page(),
    ("POST", "/course/awards"): course_page(),
    ("POST", "/course/awards/<int:award_id>/<any(revoke, suspend, reinstate, keep):action>"): course_object(
        action="revoke"),
    ("GET", "/course/awards/bulk"): course_page(),
    ("POST", "/course/awards/bulk"): course_page(),
    # The learner's pages.
    ("GET", "/course/skills"): course_page(),
    ("POST", "/course/gradebook"): course_page(),
    # Issue 14 B: templates are the registration's (B's instructor may use A's registration's template; another
    # registration's people get 404); the mapping and the fields API are of A's badge.
    ("GET", "/course/templates/<int:template_id>/attach"): Row({
        "anonymous": NO_LAUNCH, "learner": 403, "other_instructor": 200, "same_issuer_admin": 404,
        "other_lms_admin": 404}),
    ("POST", "/course/templates/<int:template_id>/attach"): Row({
        "anonymous": NO_LAUNCH, "learner": 403, "other_instructor": {200, 303}, "same_issuer_admin": 404,
        "other_lms_admin": 404}),
    ("GET", "/course/badges/<int:achievement_id>/mapping"): course_object(achievement_id="{template_badge_id}"),
    ("POST", "/course/badges/<int:achievement_id>/mapping"): course_object(achievement_id="{template_badge_id}"),
    ("POST", "/course/badges/<int:achievement_id>/fields.json"): course_object(),
    ("POST", "/course/digest"): course_page(),  # no choice in the form: a refusal for anyone launched
    ("GET", "/unsubscribe/<token>"): same(400, token="not-a-signed-token"),
    ("POST", "/unsubscribe/<token>"): same(400, token="not-a-signed-token"),

    ("GET", "/me/"): learner_page(learner=303),  # on to the badge list
    ("GET", "/me/badges"): learner_page(),
    ("GET", "/me/badges/<int:achievement_id>"): learner_object(),
    ("POST", "/me/badges/<int:achievement_id>/wallet"): learner_object(),
    ("POST", "/me/privacy"): learner_page(learner=400),  # the form chose no display: a refusal, nothing else
    ("POST", "/me/notifications"): learner_page(learner=400),  # the form chose nothing: a refusal
    ("GET", "/me/backpack"): learner_page(),
    ("POST", "/me/backpack"): learner_page(),
    ("POST", "/me/backpack/<int:app_password_id>/revoke"): learner_object(learner=303),
    # The LMS admin's pages.
    ("GET", "/me/all"): learner_page(),
    ("POST", "/me/all/<int:award_id>/wallet"): learner_object(),
    ("GET", "/me/apps"): learner_page(),
    ("POST", "/me/apps/<int:client_id>/revoke"): learner_object(learner=404, client_id="999999"),
    ("GET", "/me/badges/<int:achievement_id>/clr"): learner_object(learner=404),  # not a pathway badge
    ("GET", "/me/programs/<int:program_id>/clr"): learner_object(learner=404),  # not a program they hold

    ("GET", "/admin/"): admin_page(),
    ("GET", "/admin/health.json"): admin_page(),
    ("GET", "/admin/platform"): admin_page(),
    ("POST", "/admin/platform/deployments"): admin_page(),
    ("GET", "/admin/platforms/new"): admin_page(),
    ("POST", "/admin/platforms/new"): admin_page(),
    ("GET", "/admin/platforms/<int:platform_id>"): admin_object(),
    ("POST", "/admin/platforms/<int:platform_id>/edit"): admin_object(),
    ("POST", "/admin/platforms/<int:platform_id>/deployments"): admin_object(),
    ("POST", "/admin/platforms/<int:platform_id>/issuer"): admin_object(),
    ("GET", "/admin/platforms/<int:platform_id>/remove"): admin_object(),
    ("POST", "/admin/platforms/<int:platform_id>/remove"): admin_object(),
    ("GET", "/admin/issuer"): admin_page(),
    ("GET", "/admin/keys"): admin_page(),
    ("GET", "/admin/sources"): admin_page(),
    ("POST", "/admin/sources"): admin_page(),
    ("GET", "/admin/deliveries"): admin_page(),
    ("POST", "/admin/deliveries/<int:delivery_id>/retry"): admin_object(),
    ("GET", "/admin/audit"): admin_page(),
    ("GET", "/admin/programs"): admin_page(),
    ("POST", "/admin/programs"): admin_page(),
    ("GET", "/admin/programs/<int:program_id>"): admin_object(),
    ("GET", "/admin/programs/<int:program_id>/preview.json"): admin_object(),
    ("POST", "/admin/programs/<int:program_id>/edit"): admin_object(),
    ("POST", "/admin/programs/<int:program_id>/activate"): admin_object(),
    ("POST", "/admin/programs/<int:program_id>/awards/<int:award_id>/<any(keep, revoke):action>"):
        admin_object(action="keep"),
    ("GET", "/admin/reports/"): admin_page(),
    ("GET", "/admin/reports/report.csv"): admin_page(),
    ("GET", "/admin/endorsements/"): admin_page(),
    ("POST", "/admin/endorsements/"): admin_page(),  # the form chose no badge: 404 for any admin of another LMS
    ("POST", "/admin/endorsements/<int:endorsement_id>/withdraw"): admin_object(),
    # The endorser's side: a one-time secret in the URL; each organisation's DID and status list are public.
    ("GET", "/endorse/<token>"): same(404, token="not-a-token"),
    ("POST", "/endorse/<token>"): same(404, token="not-a-token"),
    ("GET", "/endorsers/<public_id>/did.json"): same(200, public_id="{endorser_public_id}"),
    ("GET", "/endorsers/<public_id>/status"): same(200, public_id="{endorser_public_id}"),
    ("GET", "/endorsements/<public_id>"): same(200, public_id="{endorsement_public_id}"),
    ("GET", "/admin/templates"): admin_page(),
    ("POST", "/admin/templates"): admin_page(),
    ("GET", "/admin/templates/<int:template_id>"): admin_object(),
    ("POST", "/admin/templates/<int:template_id>/edit"): admin_object(),
    ("POST", "/admin/templates/<int:template_id>/<any(withdraw, restore):action>"): admin_object(action="restore"),
    ("POST", "/admin/policy"): admin_page(),
    ("POST", "/admin/group-defaults"): admin_page(),
    ("POST", "/admin/group-defaults/<int:default_id>/remove"): admin_object(),
    ("GET", "/admin/approvals"): admin_page(),
    ("POST", "/admin/approvals/<int:request_id>/<any(approve, reject):decision>"): admin_object(decision="approve"),
}


def _routes(app) -> list[tuple[str, str, str]]:
    return sorted((method, rule.rule, rule.endpoint) for rule in app.url_map.iter_rules()
                  for method in rule.methods - {"HEAD", "OPTIONS"})


def test_every_route_has_a_row(app):
    missing = [(m, r, e) for m, r, e in _routes(app) if (m, r) not in TENANT_MATRIX]
    assert not missing, "\n".join(
        [f"{len(missing)} route(s) have no row in TENANT_MATRIX ({__file__}). For each, add a line such as"]
        + [f'    ("{m}", "{r}"): course_object(),   # {e}' for m, r, e in missing]
        + ["choosing the helper that says who may reach it: same(status) for public or self-authenticated routes,",
           "course_object()/course_page() for instructor routes, learner_object()/learner_page() for learner routes,",
           "admin_object()/admin_page() for LMS-admin routes; give URL values the world does not have as keyword",
           "arguments (e.g. course_object(action=\"revoke\")), then run this file."])
    stale = sorted(set(TENANT_MATRIX) - {(m, r) for m, r, _e in _routes(app)})
    assert not stale, f"rows for routes that no longer exist (remove them): {stale}"


@dataclass
class World:
    values: dict[str, str]
    clients: dict[str, PageClient | None]


def _lms(s, issuer: str, client_id: str, context_id: str, title: str) -> CourseWorld:
    return make_course(s, make_platform(s, issuer, client_id), context_id, title, learners=1)


@pytest.fixture
def world(app) -> World:
    sessions = app.extensions["lti_badger"].sessions
    with sessions() as s:
        a = make_course(s, make_platform(s, "https://canvas.instructure.com", "c-1"), "A", "Course A")
        a.course.ags_lineitems_url = "https://canvas.instructure.com/api/lti/courses/1/line_items"
        b = make_course(s, a.platform, "B", "Course B", learners=1)
        p2 = _lms(s, "https://canvas.instructure.com", "c-2", "C", "Course C")
        p3 = _lms(s, "https://moodle.example.edu", "moodle-1", "D", "Course D")
        achievement, _ = make_achievement(s, a.course, name="ALPHA-SECRET-BADGE")
        s.commit()
    tokens = {"learner": (a, a.learners[0], "learner"), "other_instructor": (b, b.instructor, "instructor"),
              "same_issuer_admin": (p2, p2.admin, "admin"), "other_lms_admin": (p3, p3.admin, "admin")}
    clients: dict[str, PageClient | None] = {"anonymous": None}
    for actor, (w, person, role) in tokens.items():
        clients[actor] = PageClient(app, app.test_client(), token_for(app, w, person, role))
    # Course A's data, made through its own people's pages.
    admin_a = PageClient(app, app.test_client(), token_for(app, a, a.admin, "admin"))
    teacher_a = PageClient(app, app.test_client(), token_for(app, a, a.instructor, "instructor"))
    png = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 80, 140)).save(png, format="PNG")
    assert admin_a.post(f"/admin/platforms/{a.platform.id}/issuer",
                        {"name": "ALPHA-SECRET-ISSUER", "image_file": (io.BytesIO(png.getvalue()), "logo.png")},
                        content_type="multipart/form-data").status_code < 400
    assert teacher_a.post("/course/awards", {"person_id": a.learners[0].id, "achievement_id": achievement.id,
                                             "reason": "oral exam"}).status_code == 303
    assert clients["learner"].post("/me/backpack").status_code == 200
    # A template is the registration's: course B's instructor sees it by design, so its name is no marker.
    template = admin_a.post("/admin/templates", {"name": "Registration template", "preset": "skill",
                                                 "achievement_type": "Badge"})
    assert template.status_code == 303
    template_id = template.headers["Location"].split("/admin/templates/")[1].split("?")[0]
    attached = teacher_a.post(f"/course/templates/{template_id}/attach", {"name": "ALPHA-SECRET-BADGE-2",
                                                                         "action": "save"})
    assert attached.status_code == 303
    assert admin_a.post("/admin/policy", {"approval_required": "on"}).status_code == 303
    drafted = teacher_a.post("/course/badges/new", {"name": "ALPHA-SECRET-BADGE-3", "achievement_type": "Badge"})
    draft_id = drafted.headers["Location"].split("/course/badges/")[1].split("/")[0]
    assert teacher_a.post(f"/course/badges/{draft_id}/criteria", {
        "action": "save_activate", "rule_json": '{"type": "activity_completed", "activity": "A-m1a1"}',
        "edit_policy": "keep"}).status_code == 303
    assert admin_a.post("/admin/group-defaults", {"group_kind": "term", "group_value": "ALPHA-SECRET-TERM",
                                                  "template_id": template_id}).status_code == 303
    created = admin_a.post("/admin/programs", {"name": "ALPHA-SECRET-PROGRAM", "badge": str(achievement.id)})
    assert created.status_code == 303
    invited = admin_a.post("/admin/endorsements/", {"achievement_id": str(achievement.id), "email": "hr@acme.example"})
    link = re.search(r'/endorse/([^"]+)"', invited.get_data(as_text=True)).group(1)
    assert app.test_client().post(f"/endorse/{link}", data={
        "name": "Ada", "organisation": "ACME", "email": "ada@acme.example", "comment": "Good."}).status_code == 200
    with sessions() as s:
        award = s.scalar(select(Award).where(Award.achievement_id == achievement.id))
        credential = s.scalar(select(Credential).where(Credential.award_id == award.id))
        values = {
            "achievement_id": str(achievement.id), "achievement_public_id": achievement.public_id,
            "person_id": str(a.learners[0].id), "award_id": str(award.id), "platform_id": str(a.platform.id),
            "credential_id": str(credential.id), "list_id": str(s.scalar(select(StatusList.id).limit(1))),
            "delivery_id": str(s.scalar(select(Delivery.id).where(Delivery.award_id == award.id))),
            "app_password_id": str(s.scalar(select(AppPassword.id).where(AppPassword.person_id == a.learners[0].id))),
            "program_id": created.headers["Location"].split("/admin/programs/")[1].split("?")[0],
            "endorsement_id": str(s.scalar(select(Endorsement.id))),
            "endorser_public_id": s.scalar(select(Endorser.public_id)),
            "endorsement_public_id": s.scalar(select(Endorsement.public_id)),
            "template_id": template_id, "template_badge_id": attached.headers["Location"].split("saved=")[1].split("&")[0],
            "request_id": str(s.scalar(select(ApprovalRequest.id))), "default_id": str(s.scalar(select(GroupDefault.id))),
            "issuer_public_id": s.scalar(select(IssuerProfileRecord.public_id)
                                         .where(IssuerProfileRecord.platform_id == a.platform.id)),
        }
    hosted = app.test_client().get(f"/ob2/assertions/{values['credential_id']}").get_json()
    values["badgeclass_entity_id"] = hosted["badge"].rstrip("/").rsplit("/", 1)[1]
    issuer_url = app.test_client().get(hosted["badge"]).get_json()["issuer"]
    values["issuer_entity_id"] = issuer_url.rstrip("/").rsplit("/", 1)[1]
    return World(values, clients)


def _path(rule: str, row: Row, values: dict[str, str]) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(1)
        raw = row.params.get(name, values.get(name))
        assert raw is not None, f"no URL value for <{name}> of {rule}: add it to the row (e.g. {name}=\"...\")"
        return raw.format(**values)
    return re.sub(r"<(?:[^:<>]+(?:\([^)]*\))?:)?([^:<>]+)>", fill, rule)


def _ask(app, client: PageClient | None, method: str, path: str):
    if client is None:
        return app.test_client().open(path, method=method, headers={"Accept": "text/html"})
    if method == "GET":
        return client.get(path, headers={"Accept": "text/html"})
    with app.test_request_context("/", headers={"X-Launch-Token": client.token}):
        csrf = generate_csrf_token()
    return client.client.open(path, method=method, data={"lt": client.token, "csrf_token": csrf},
                              headers={"Accept": "text/html"})


def _fits(expected, method: str, status: int, body: str) -> bool:
    if expected == NO_LAUNCH:
        return status == (401 if method == "GET" else 400)
    if expected == OWN:
        return status < 500 and not any(marker in body for marker in MARKERS)
    return status in expected if isinstance(expected, set) else status == expected


def test_every_route_answers_every_actor_as_the_matrix_says(app, world):
    wrong = []
    asked = 0
    for method, rule, endpoint in _routes(app):
        row = TENANT_MATRIX.get((method, rule))
        if row is None:
            continue  # test_every_route_has_a_row names it
        path = _path(rule, row, world.values)
        for actor in ACTORS:
            before = _rows(app) if method != "GET" and row.answers[actor] != OWN else None
            response = _ask(app, world.clients[actor], method, path)
            body = response.get_data().decode("utf-8", "replace")
            asked += 1
            if not _fits(row.answers[actor], method, response.status_code, body):
                wrong.append(f"{actor:18} {method:4} {path} ({endpoint}): expected {row.answers[actor]}, "
                             f"got {response.status_code} {body[:120]!r}")
            elif before is not None and response.status_code >= 400 and _rows(app) != before:
                wrong.append(f"{actor:18} {method:4} {path}: refused with {response.status_code} but rows changed")
    assert not wrong, f"{len(wrong)} wrong answers of {asked}:\n" + "\n".join(wrong)
    assert asked >= 5 * 80
