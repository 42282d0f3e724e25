"""Moodle's OB 2.0 backpack client, replayed call by call against the tool on a real HTTP
server: the URLs built the way `backpack_api_mapping::get_url` builds them (the token URL
keeps only scheme and host), the headers and form body its curl requests carry, and the
response read the way its exporters read it (`result` unwrapped, the first item for a single
object, every field `map_external_data` touches). Moodle 4.3's calls, from
`badges/classes/backpack_api.php`:

    user         POST [SCHEME]://[HOST]/o/token                 username=<email>&password=<pw>
    collections  GET  [URL]/backpack/collections                Bearer
    badges       GET  [URL]/backpack/collections/[PARAM1]       Bearer
    assertion    GET  [URL]/backpack/assertions/[PARAM2]?expand=badgeclass&expand=issuer
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from lti_badger.criteria import achievements
from lti_badger.models import AppPassword, Award, BackpackToken, Enrollment
from tests.conftest import LiveServer

MOODLE_TOKEN = "[SCHEME]://[HOST]/o/token"
MOODLE_COLLECTIONS = "[URL]/backpack/collections"
MOODLE_BADGES = "[URL]/backpack/collections/[PARAM1]"
MOODLE_ASSERTION = "[URL]/backpack/assertions/[PARAM2]?expand=badgeclass&expand=issuer"
ALPHA = re.compile(r"^[A-Za-z]+$")


def moodle_url(template: str, api_url: str, param1: str = "", param2: str = "") -> str:
    """backpack_api_mapping::get_url: scheme and host only for [SCHEME]/[HOST] (no port, no path)."""
    parts = urlsplit(api_url)
    return (template.replace("[SCHEME]", parts.scheme).replace("[HOST]", parts.hostname)
            .replace("[URL]", api_url).replace("[PARAM1]", param1).replace("[PARAM2]", param2))


class Moodle:
    """The user-backpack half of Moodle's backpack client, with its session's token."""

    def __init__(self, server: LiveServer, api_url: str) -> None:
        self.server, self.api_url, self.access = server, api_url, None
        self.sent: list[tuple[str, str]] = []

    def _to_server(self, url: str) -> str:
        # The reverse proxy in front of the tool answers the host root on the default port
        # (docs/moodle.md): here that host is our test server.
        parts = urlsplit(url)
        return self.server.url + parts.path + (f"?{parts.query}" if parts.query else "")

    def fetch(self, url: str, **kw) -> requests.Response:
        """A public URL the tool put in its answers (written with its configured base URL)."""
        return requests.get(self._to_server(url), timeout=10, **kw)

    def authenticate(self, email: str, password: str):
        url = moodle_url(MOODLE_TOKEN, self.api_url)
        assert url == "http://127.0.0.1/o/token"
        body = urlencode({"username": email, "password": password})  # curl::post of an array
        response = requests.post(self._to_server(url), data=body, timeout=10, headers={
            "Accept": "application/json", "Expect": "", "Content-Type": "application/x-www-form-urlencoded"})
        self.sent.append(("POST", urlsplit(url).path))
        data = response.json()
        if "access_token" in data and "refresh_token" in data:  # oauth_token_response
            self.access = data["access_token"]
            assert isinstance(data["expires_in"], int) and data["expires_in"] > 0
            return -1
        return data  # Moodle shows data->error_description

    def get(self, template: str, param1: str = "", param2: str = "") -> tuple[int, object]:
        url = moodle_url(template, self.api_url, param1, param2)
        headers = {"Content-type": "application/json", "Accept": "application/json", "Expect": ""}
        if self.access:
            headers["Authorization"] = "Bearer " + self.access
        response = requests.get(self._to_server(url), headers=headers, timeout=10)
        self.sent.append(("GET", urlsplit(url).path + "?" + urlsplit(url).query))
        data = response.json()
        return response.status_code, data.get("result", data) if isinstance(data, dict) else data

    def collections(self) -> list[dict]:
        status, result = self.get(MOODLE_COLLECTIONS)
        assert status == 200
        for item in result:
            check_collection(item)
        return result

    def badges(self, entity_id: str) -> dict:
        status, result = self.get(MOODLE_BADGES, entity_id)
        assert status == 200 and len(result) == 1
        check_collection(result[0])
        return result[0]

    def assertion(self, entity_id: str) -> tuple[int, dict | None]:
        status, result = self.get(MOODLE_ASSERTION, param2=entity_id)
        if status != 200:
            return status, None
        assert isinstance(result, list) and len(result) == 1  # mapping 'assertion' is not multiple: [0]
        check_assertion(result[0])
        return status, result[0]


def check_collection(item: dict) -> None:
    """collection_exporter: every property is required."""
    assert ALPHA.match(item["entityType"])
    assert isinstance(item["entityId"], str) and item["entityId"]
    assert isinstance(item["name"], str) and isinstance(item["description"], str)
    assert item["share_url"].startswith("http")
    assert isinstance(item["published"], bool)
    assert isinstance(item["assertions"], list)


def check_assertion(item: dict) -> None:
    """assertion_exporter::map_external_data, then badgeclass_exporter and issuer_exporter on
    the expanded badge class (get_badges with $expanded)."""
    assert ALPHA.match(item["entityType"]) and item["entityId"]
    assert item["issuedOn"]
    recipient = item["recipient"]
    assert recipient["identity"].startswith("sha256$") and recipient["hashed"] is True
    assert ALPHA.match(recipient["type"])
    badge = item["badgeclass"]
    assert ALPHA.match(badge["entityType"]) and badge["entityId"]
    for key in ("name", "image", "description", "issuer"):
        assert key in badge
    assert badge["image"].startswith("http")
    issuer = badge["issuer"]
    assert ALPHA.match(issuer["entityType"]) and issuer["entityId"]
    for key in ("name", "email", "url"):
        assert key in issuer
    assert issuer["url"].startswith("http")


@pytest.fixture
def server(app):
    live = LiveServer(app).start()
    yield live
    live.stop()


def _badge(app, world, name: str) -> int:
    with app.extensions["lti_badger"].sessions() as s:
        achievement = achievements.create_achievement(s, world.course.id, {"name": name, "rule": {
            "type": "course_grade", "min_percent": 50}}, None, datetime.now(timezone.utc))
        achievement.state = "active"
        s.commit()
        return achievement.id


def _award(teacher, person_id: int, achievement_id: int) -> None:
    response = teacher.post("/course/awards", {"person_id": person_id, "achievement_id": achievement_id,
                                               "reason": "portfolio"})
    assert response.status_code == 303


def _award_id(app, person_id: int, achievement_id: int) -> int:
    with app.extensions["lti_badger"].sessions() as s:
        return s.scalar(select(Award.id).where(Award.person_id == person_id, Award.achievement_id == achievement_id))


@pytest.fixture
def holder(app, courses, as_person):
    """Course A's first learner, also enrolled in course B, holds one badge in each course."""
    a, b = courses
    lena = a.learners[0]
    with app.extensions["lti_badger"].sessions() as s:
        s.add(Enrollment(course_id=b.course.id, person_id=lena.id, role="learner"))
        s.commit()
    badge_a, badge_b = _badge(app, a, "Loops"), _badge(app, b, "Recursion")
    _award(as_person(a, a.instructor, "instructor"), lena.id, badge_a)
    teacher_b = as_person(b, b.instructor, "instructor")
    _award(teacher_b, lena.id, badge_b)
    return {"a": a, "b": b, "person": lena, "learner": as_person(a, lena, "learner"), "teacher_b": teacher_b,
            "badge_a": badge_a, "badge_b": badge_b}


def make_app_password(learner) -> tuple[str, str, str]:
    """The learner presses the button; the page shows the password once and what to type."""
    page = learner.get("/me/backpack").get_data(as_text=True)
    assert "You have no app password yet." in page
    response = learner.post("/me/backpack")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    password = html.unescape(re.search(r'id="app-password" readonly value="([^"]+)"', page)[1])
    login = html.unescape(re.search(r"Email address: ([^<]+)</li>", page)[1])
    api_url = html.unescape(re.search(r"Backpack API URL</dt><dd><code>([^<]+)</code>", page)[1])
    assert "Preferences → Backpack settings" in page
    again = learner.get("/me/backpack").get_data(as_text=True)
    assert password not in again and "never" in again  # shown once; listed without last use
    return login, password, api_url


def test_moodle_connects_and_shows_only_live_badges(app, server, holder):
    login, password, api_url = make_app_password(holder["learner"])
    assert login == holder["person"].email and api_url.endswith("/ob2")
    moodle = Moodle(server, api_url)
    assert moodle.authenticate(login, password) == -1

    found = {c["name"]: c for c in moodle.collections()}
    assert set(found) == {"All my badges", "Course A", "Course B"}
    every = found["All my badges"]["assertions"]
    assert len(every) == 2
    assert set(found["Course A"]["assertions"]) | set(found["Course B"]["assertions"]) == set(every)

    # get_badges($collection, true): the collection, then each assertion expanded
    names = {}
    for entity_id in moodle.badges(found["All my badges"]["entityId"])["assertions"]:
        status, item = moodle.assertion(entity_id)
        assert status == 200
        names[item["badgeclass"]["name"]] = item
    assert set(names) == {"Loops", "Recursion"}
    loops = names["Loops"]
    fetch = moodle.fetch
    hosted = fetch(loops["openBadgeId"])
    assert hosted.status_code == 200 and hosted.json()["type"] == "Assertion"
    assert hosted.json()["recipient"] == {k: loops["recipient"][k] for k in ("type", "hashed", "salt", "identity")}
    assert fetch(hosted.json()["url"], headers={"Accept": "application/ld+json"}).json()["type"] \
        == ["VerifiableCredential", "OpenBadgeCredential"]
    badgeclass = fetch(hosted.json()["badge"]).json()
    assert badgeclass["type"] == "BadgeClass" and badgeclass["name"] == "Loops"
    issuer = fetch(badgeclass["issuer"]).json()
    assert issuer["type"] == "Issuer" and issuer["name"]
    assert fetch(loops["badgeclass"]["image"]).status_code == 200

    # Course B's teacher revokes Recursion: it leaves every collection and its hosted view says so
    award_b = _award_id(app, holder["person"].id, holder["badge_b"])
    assert holder["teacher_b"].post(f"/course/awards/{award_b}/revoke", {"reason": "plagiarism"}).status_code == 303
    recursion = names["Recursion"]["entityId"]
    after = {c["name"]: c for c in moodle.collections()}
    assert recursion not in after["All my badges"]["assertions"] and after["Course B"]["assertions"] == []
    assert moodle.assertion(recursion)[0] == 404
    gone = fetch(names["Recursion"]["openBadgeId"])
    assert gone.status_code == 410 and gone.json()["revoked"] is True and "plagiarism" not in gone.text

    assert moodle.sent[0] == ("POST", "/o/token")
    assert ("GET", "/ob2/backpack/collections?") in moodle.sent


def test_a_wrong_password_shows_moodle_the_reason_and_locks_after_five(app, server, holder):
    login, password, api_url = make_app_password(holder["learner"])
    moodle = Moodle(server, api_url)
    refused = moodle.authenticate(login, password + "x")
    assert refused["error"] == "invalid_grant" and "wrong" in refused["error_description"]
    assert moodle.authenticate("someone.else@example.edu", password)["error"] == "invalid_grant"
    for _ in range(3):
        moodle.authenticate(login, password[:-1])
    locked = moodle.authenticate(login, password)
    assert "too many failed attempts" in locked["error_description"]
    with app.extensions["lti_badger"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(BackpackToken)) == 0


def test_the_token_endpoint_is_rate_limited(app, server, holder):
    login, password, api_url = make_app_password(holder["learner"])
    moodle = Moodle(server, api_url)
    answers = [moodle.authenticate("nobody@example.edu", "a.b") for _ in range(11)]
    assert all(a["error"] == "invalid_grant" for a in answers[:10])
    assert answers[10]["error"] == "temporarily_unavailable" and "wait a minute" in answers[10]["error_description"]
    assert moodle.authenticate(login, password) == -1  # another user name is counted apart


def test_refresh_tokens_rotate_and_a_reused_one_ends_the_session(app, server, holder):
    login, password, _api = make_app_password(holder["learner"])
    first = requests.post(server.url + "/o/token", data={"username": login, "password": password}, timeout=10).json()
    second = requests.post(server.url + "/o/token", data={"grant_type": "refresh_token",
                                                          "refresh_token": first["refresh_token"]}, timeout=10)
    assert second.status_code == 200 and second.headers["Cache-Control"] == "no-store"
    second = second.json()
    assert second["access_token"] != first["access_token"] and second["refresh_token"] != first["refresh_token"]
    bearer = {"Authorization": "Bearer " + second["access_token"]}
    assert requests.get(server.url + "/ob2/backpack/collections", headers=bearer, timeout=10).status_code == 200
    reused = requests.post(server.url + "/o/token", data={"grant_type": "refresh_token",
                                                          "refresh_token": first["refresh_token"]}, timeout=10)
    assert reused.status_code == 400 and "already used" in reused.json()["error_description"]
    assert requests.get(server.url + "/ob2/backpack/collections", headers=bearer, timeout=10).status_code == 401
    odd = requests.post(server.url + "/o/token", data={"grant_type": "client_credentials"}, timeout=10)
    assert odd.status_code == 400 and odd.json()["error"] == "unsupported_grant_type"


def test_a_token_reads_only_its_own_learners_badges(app, server, holder, as_person):
    a = holder["a"]
    other = as_person(a, a.learners[1], "learner")
    login, password, api_url = make_app_password(other)
    mine = Moodle(server, api_url)
    assert mine.authenticate(login, password) == -1
    assert all(c["assertions"] == [] for c in mine.collections())
    lena_login, lena_password, _ = make_app_password(holder["learner"])
    lena = Moodle(server, api_url)
    lena.authenticate(lena_login, lena_password)
    entity_id = lena.collections()[0]["assertions"][0]
    assert mine.assertion(entity_id)[0] == 404
    assert mine.get(MOODLE_BADGES, "course-%d" % holder["b"].course.id)[0] == 404  # not enrolled in B
    assert requests.get(server.url + "/ob2/backpack/collections", timeout=10).status_code == 401


def test_revoking_the_app_password_ends_its_tokens(app, server, holder):
    learner = holder["learner"]
    login, password, api_url = make_app_password(learner)
    moodle = Moodle(server, api_url)
    moodle.authenticate(login, password)
    with app.extensions["lti_badger"].sessions() as s:
        row_id = s.scalar(select(AppPassword.id))
        assert s.get(AppPassword, row_id).last_used_at is not None
    page = learner.get("/me/backpack").get_data(as_text=True)
    assert "never" not in page
    assert learner.post(f"/me/backpack/{row_id}/revoke").status_code == 303
    assert moodle.get(MOODLE_COLLECTIONS)[0] == 401
    assert moodle.authenticate(login, password)["error"] == "invalid_grant"


def test_another_learner_cannot_revoke_an_app_password(app, holder, as_person):
    make_app_password(holder["learner"])
    with app.extensions["lti_badger"].sessions() as s:
        row_id = s.scalar(select(AppPassword.id))
    a = holder["a"]
    other = as_person(a, a.learners[1], "learner")
    assert other.post(f"/me/backpack/{row_id}/revoke").status_code == 404
    with app.extensions["lti_badger"].sessions() as s:
        assert s.get(AppPassword, row_id).revoked_at is None


def test_without_an_email_address_no_app_password_is_made(app, holder):
    with app.extensions["lti_badger"].sessions() as s:
        from lti_badger.models import Person
        s.get(Person, holder["person"].id).email = None
        s.commit()
    response = holder["learner"].post("/me/backpack")
    assert response.status_code == 409 and "e-mail address" in response.get_data(as_text=True)
    with app.extensions["lti_badger"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(AppPassword)) == 0


def test_the_same_address_in_two_registrations_never_meets(app, server, holder, as_person):
    """Canvas cloud gives every school one issuer: the learner is the registration + sub,
    never the e-mail address. The same address on another registration gets its own badges."""
    from tests.factories_web import make_course, make_platform

    with app.extensions["lti_badger"].sessions() as s:
        platform = make_platform(s, issuer="https://lms.example", client_id="tool-2")
        other = make_course(s, platform, "X", "Course X", learners=1)
        from lti_badger.models import Person
        s.get(Person, other.learners[0].id).email = holder["person"].email
        s.commit()
    twin = as_person(other, other.learners[0], "learner")
    _award(as_person(other, other.instructor, "instructor"), other.learners[0].id, _badge(app, other, "Twin"))
    login, password, api_url = make_app_password(twin)
    assert login == holder["person"].email
    moodle = Moodle(server, api_url)
    assert moodle.authenticate(login, password) == -1
    found = {c["name"]: c for c in moodle.collections()}
    assert set(found) == {"All my badges", "Course X"}
    (only,) = found["All my badges"]["assertions"]
    assert moodle.assertion(only)[1]["badgeclass"]["name"] == "Twin"
