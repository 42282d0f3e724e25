"""The course's gradebook write-back end to end, against the LMS simulator in its Moodle, Canvas
and Open edX flavours over real HTTP: one column per badge, a note in the feedback of the LTI
link's own grade item with the score and the course total unchanged, or nothing; switching
both ways without duplicate columns or lost badges; only the AGS scopes the launch granted;
and a score the LMS accepted but does not show is said so on the deliveries page."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from lti_badger.awards import services
from lti_badger.cli import main
from lti_badger.db import transaction
from lti_badger.deliveries.outbox import retry_delivery
from lti_badger.deliveries.senders import AgsSender, Job, SendContext
from lti_badger.deliveries.worker import Worker
from lti_badger.devtools.lms_sim import LmsSimulator, spec
from lti_badger.lti.platforms import add_platform
from lti_badger.devtools.lms_sim.state import AccessToken
from lti_badger.models import Achievement, AuditEvent, Award, Course, Delivery, Person
from lti_badger.scope import Scope
from lti_badger.web.csrf import generate_csrf_token
from tests.factories_awards import make_achievement
from tests.functional.lti.conftest import tool  # noqa: F401

CTX = "c1"
LINK = "rl1"  # the LTI link (Moodle activity, Canvas assignment, Open edX block) that launches the tool
TEACHER, LEARNER, ADMIN = "t-ada", "s-grace", "a-root"


def page_token(page: str) -> str:
    """The launch token a page of the tool carries (in a meta tag, never in a URL)."""
    return re.search(r'<meta name="lti-badger-launch" content="([^"]+)"', page).group(1)


def _now():
    return datetime.now(timezone.utc)


class World:
    """A simulator of one flavour, registered with the tool; a course with a quiz column, the
    tool's graded link (Open edX: the block's own grade), a teacher, a learner with grades."""

    def __init__(self, tool, flavour: str, *, scopes=None, product_family: str | None = None,  # noqa: F811
                 graded_link: bool = True) -> None:
        self.tool, self.flavour = tool, flavour
        self.sim = sim = LmsSimulator(product_family=flavour).start()
        registered = sim.register_tool(tool.url, scopes=scopes)
        with transaction(tool.sessions) as s:
            add_platform(s, issuer=sim.issuer, client_id=registered.client_id, auth_login_url=sim.auth_url,
                         auth_token_url=sim.token_url, key_set_url=sim.jwks_url,
                         deployment_ids=registered.deployment_ids, name=flavour,
                         product_family=product_family or (flavour if flavour != "openedx" else None))
        sim.add_course(CTX, "Cell Biology")
        sim.add_user(TEACHER, "Ada Lovelace", "ada@example.edu")
        sim.add_user(LEARNER, "Grace Hopper", "grace@example.edu")
        sim.add_user(ADMIN, "Root Admin", "root@example.edu", roles=[spec.ROLE_SYS_ADMIN])
        sim.enroll(CTX, TEACHER, [spec.ROLE_INSTRUCTOR])
        sim.enroll(CTX, LEARNER, [spec.ROLE_LEARNER])
        sim.enroll(CTX, ADMIN, [spec.ROLE_INSTRUCTOR])
        self.quiz = sim.add_line_item(CTX, "Quiz", 100)
        sim.grade(CTX, self.quiz, LEARNER, 85)
        self.link_item = None
        if flavour != "openedx" and graded_link:
            self.link_item = sim.add_line_item(CTX, "Badge tool", 10, resource_link_id=LINK)
        self.pages = {sub: self.launch(sub) for sub in (TEACHER, LEARNER)}
        if flavour == "openedx" and [i for i in sim.line_items_by_id.values() if i.resource_link_id == LINK]:
            [self.link_item] = [i for i in sim.line_items_by_id.values() if i.resource_link_id == LINK]
        if self.link_item is not None:
            sim.grade(CTX, self.link_item, LEARNER, 7 if flavour != "openedx" else 0.7)
        with transaction(tool.sessions) as s:
            course = s.scalars(select(Course).where(Course.context_id == CTX)).one()
            self.course_id = course.id
            self.learner_id = s.scalars(select(Person).where(Person.sub == LEARNER,
                                                             Person.platform_id == course.platform_id)).one().id
        self.badges: dict[str, int] = {}

    def launch(self, sub: str) -> str:
        resp = self.sim.launch(requests.Session(), sub, CTX, resource_link_id=LINK)
        assert resp.status_code == 200, resp.text[:300]
        return resp.text

    def badge(self, name: str) -> int:
        with transaction(self.tool.sessions) as s:
            ach, _ = make_achievement(s, s.get(Course, self.course_id), name=name)
            self.badges[name] = ach.id
            return ach.id

    def award(self, name: str) -> int:
        with transaction(self.tool.sessions) as s:
            return services.award_manually(s, self.course_id, self.badges[name], self.learner_id, None,
                                           "field trip report", _now()).id

    def post(self, path: str, data: dict, sub: str = TEACHER) -> requests.Response:
        """A form on the tool's pages, as inside the LMS iframe: launch token and CSRF token."""
        page = self.pages.get(sub) or self.pages.setdefault(sub, self.launch(sub))
        lt = page_token(page)
        form = requests.get(f"{self.tool.url}/course/badges", headers={"X-Launch-Token": lt}, timeout=10).text
        csrf = re.search(r'name="csrf_token"\s+value="([^"]+)"|value="([^"]+)"\s+name="csrf_token"', form)
        return requests.post(f"{self.tool.url}{path}", timeout=10, allow_redirects=False,
                             data={"lt": lt, "csrf_token": csrf.group(1) or csrf.group(2), **data})

    def get(self, path: str, sub: str = TEACHER, **params) -> requests.Response:
        page = self.pages.get(sub) or self.pages.setdefault(sub, self.launch(sub))
        return requests.get(f"{self.tool.url}{path}", params=params, headers={"X-Launch-Token": page_token(page)},
                            timeout=10)

    def choose(self, mode: str) -> int:
        resp = self.post("/course/gradebook", {"mode": mode})
        assert resp.status_code == 303, resp.text[:300]
        return int(parse_qs(resp.headers["Location"].split("?", 1)[1])["queued"][0])

    def mode(self) -> str:
        with transaction(self.tool.sessions) as s:
            return s.get(Course, self.course_id).gradebook_mode

    def worker(self) -> Worker:
        svc = self.tool.app.extensions["lti_badger"]
        return Worker(svc.sessions, svc.settings, svc.keys, backoff_base=0.2, poll_seconds=0.05,
                      launch_sync_every=float("inf"))

    def drain(self, timeout: float = 15.0) -> None:
        worker = self.worker()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            worker.run_once()
            with transaction(self.tool.sessions) as s:
                if not s.scalars(select(Delivery.id).where(Delivery.status == "pending",
                                                           Delivery.destination == "ags")).first():
                    return
            time.sleep(0.05)
        raise AssertionError("AGS delivery still pending")

    def ags_deliveries(self) -> list[Delivery]:
        with transaction(self.tool.sessions) as s:
            return list(s.scalars(select(Delivery).where(Delivery.destination == "ags").order_by(Delivery.id)))

    def total(self) -> tuple[float, float]:
        return self.sim.course_total(CTX, LEARNER)

    def stop(self) -> None:
        self.sim.stop()


@pytest.fixture
def world(tool, request):  # noqa: F811
    worlds = []

    def make(flavour: str, **kw) -> World:
        worlds.append(World(tool, flavour, **kw))
        return worlds[-1]

    yield make
    for w in worlds:
        w.stop()


@pytest.mark.parametrize("flavour", ["moodle", "canvas", "openedx"])
def test_feedback_mode_leaves_score_and_course_total_unchanged(world, flavour):
    w = world(flavour)
    assert w.mode() == "feedback"  # the default
    w.badge("Microscopy")
    items_before, total_before = len(w.sim.line_items(CTX)), w.total()
    link_before = dict(w.sim.results[(w.link_item.id, LEARNER)])
    w.award("Microscopy")
    w.drain()
    assert len(w.sim.line_items(CTX)) == items_before  # no new column
    assert w.total() == total_before  # nobody's course total moved
    [posted] = w.sim.scores(CTX, w.link_item)
    assert posted["scoreGiven"] == link_before["scoreGiven"] and posted["scoreMaximum"] == link_before["scoreMaximum"]
    assert "Badge earned: Microscopy." in posted["comment"] and f"{w.tool.url}/credentials/" in posted["comment"]
    [d] = w.ags_deliveries()
    assert (d.status, d.gradebook_mode, d.gradebook_status, d.confirmation) == ("done", "feedback", "active",
                                                                                "confirmed")
    # A second badge: the one comment lists both (each score replaces the comment before it).
    w.badge("Staining")
    w.award("Staining")
    w.drain()
    last = w.sim.scores(CTX, w.link_item)[-1]
    assert "Microscopy" in last["comment"] and "Staining" in last["comment"]
    assert w.total() == total_before


def test_feedback_without_a_grade_posts_no_score_and_moodle_keeps_none(world):
    """No grade yet on the link: the score goes without scoreGiven (so nothing is invented);
    Moodle stores the note with an empty grade, and the total is unchanged."""
    w = world("moodle")
    w.sim.results.pop((w.link_item.id, LEARNER))
    total_before = w.total()
    w.badge("Microscopy")
    w.award("Microscopy")
    w.drain()
    [posted] = w.sim.scores(CTX, w.link_item)
    assert "scoreGiven" not in posted and posted["gradingProgress"] == "NotReady"
    assert w.total() == total_before
    [d] = w.ags_deliveries()
    assert d.status == "done" and d.confirmation == "confirmed"  # the simulator lists the note


def test_feedback_waits_for_a_graded_link_and_then_delivers(world):
    """A course whose link has no grade item (a Canvas course-navigation placement): the note
    waits, retried, and the page says why; once a graded link is opened it goes through."""
    w = world("canvas", graded_link=False)
    assert "no grade item yet" in w.get("/course/badges").text
    w.badge("Microscopy")
    w.award("Microscopy")
    w.worker().run_once()
    [d] = w.ags_deliveries()
    assert d.status == "pending" and d.attempts == 1 and "no grade item" in d.last_error
    assert w.sim.scores(CTX) == []
    # The teacher gives the tool's link a grade and opens it; the waiting note then lands.
    link_item = w.sim.add_line_item(CTX, "Badge tool", 10, resource_link_id=LINK)
    w.sim.grade(CTX, link_item, LEARNER, 9)
    w.launch(TEACHER)
    with transaction(w.tool.sessions) as s:
        retry_delivery(s, s.get(Delivery, d.id), _now())
    w.drain()
    [posted] = w.sim.scores(CTX, link_item)
    assert posted["scoreGiven"] == 9 and "Microscopy" in posted["comment"]
    assert "no grade item yet" not in w.get("/course/badges").text


@pytest.mark.parametrize("flavour", ["moodle", "canvas"])
def test_columns_mode_adds_one_column_per_badge(world, flavour):
    w = world(flavour)
    assert w.choose("columns") == 0
    w.badge("Microscopy")
    earned, possible = w.total()
    w.award("Microscopy")
    w.drain()
    [column] = [i for i in w.sim.line_items(CTX) if i.get("tag") == "lti_badger"]
    assert column["label"] == "Badge: Microscopy" and "resourceLinkId" not in column  # Moodle/Canvas: unbound
    assert w.total() == (earned + 1, possible + 1)  # what the docs tell teachers to neutralise
    [d] = w.ags_deliveries()
    assert (d.gradebook_mode, d.confirmation) == ("columns", "confirmed")


def test_concurrent_first_deliveries_leave_one_column(world):
    """Two learners' first awards of a badge sent at once: both ask the LMS for the column, find
    none and create one (the LMS is slow to create it); the column remembered first wins and
    the other sender deletes its own, so the course total counts the badge once."""
    w = world("canvas")
    w.choose("columns")
    w.sim.add_user("s-alan", "Alan Turing", "alan@example.edu")
    w.sim.enroll(CTX, "s-alan", [spec.ROLE_LEARNER])
    w.launch("s-alan")
    w.badge("Microscopy")
    w.award("Microscopy")
    with transaction(w.tool.sessions) as s:
        alan = s.scalars(select(Person).where(Person.sub == "s-alan")).one().id
        services.award_manually(s, w.course_id, w.badges["Microscopy"], alan, None, "lab work", _now())
    items = f"/api/lti/courses/{CTX}/line_items"
    w.sim.slow_next(items, 2.0, times=2, method="POST")  # each finds no column while the other's is being made
    jobs = [Job(d.id, d.award_id, d.destination, d.action, d.payload) for d in w.ags_deliveries()]
    svc = w.tool.app.extensions["lti_badger"]
    sender = AgsSender()
    notes: list[str] = []
    threads = [threading.Thread(target=lambda j=j: notes.append(
        sender.send(j, SendContext(svc.sessions, svc.settings, svc.keys, _now())))) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(notes) == 2
    assert len([r for r in w.sim.requests_to(items, "POST") if r.path == items]) == 2  # both created one
    [column] = [i for i in w.sim.line_items(CTX) if i.get("tag") == "lti_badger"]
    with transaction(w.tool.sessions) as s:
        assert s.get(Achievement, w.badges["Microscopy"]).lineitem_url == column["id"]
    assert {x["userId"] for x in w.sim.scores(CTX)} == {LEARNER, "s-alan"}
    assert {x["lineitem"] for x in w.sim.scores(CTX)} == {column["id"]}


def test_none_mode_writes_nothing(world):
    w = world("canvas")
    assert w.choose("none") == 0
    w.badge("Microscopy")
    w.award("Microscopy")
    w.drain()
    assert w.ags_deliveries() == [] and w.sim.scores(CTX) == []


def test_switching_both_ways_keeps_every_badge_without_duplicates(world):
    w = world("moodle")
    w.choose("columns")
    w.badge("Microscopy")
    w.award("Microscopy")
    w.drain()
    [column] = [i for i in w.sim.line_items(CTX) if i.get("tag") == "lti_badger"]
    # Columns -> feedback: the badge already earned is written into the link's feedback once.
    assert w.choose("feedback") == 1
    w.drain()
    assert "Microscopy" in w.sim.scores(CTX, w.link_item)[-1]["comment"]
    assert w.sim.results[(column["id"].rsplit("/lineitems/", 1)[1].split("/")[0], LEARNER)]["scoreGiven"] == 1
    w.badge("Staining")
    w.award("Staining")
    w.drain()
    # Feedback -> columns: only the badge never written in columns is queued; Microscopy's
    # column is reused, not duplicated, and gets no second identical score.
    assert w.choose("columns") == 1
    w.drain()
    columns = [i for i in w.sim.line_items(CTX) if i.get("tag") == "lti_badger"]
    assert sorted(i["label"] for i in columns) == ["Badge: Microscopy", "Badge: Staining"]
    microscopy_id = column["id"].rsplit("/lineitems/", 1)[1].split("/")[0]
    assert len(w.sim.scores(CTX, microscopy_id)) == 1
    # Back to feedback: both badges were already written there in their current state.
    assert w.choose("feedback") == 0
    with transaction(w.tool.sessions) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "course.gradebook_mode")
                           .order_by(AuditEvent.id)).all()
        assert [(e.before["gradebook_mode"], e.after["gradebook_mode"], e.after["deliveries_queued"])
                for e in events] == [("feedback", "columns", 0), ("columns", "feedback", 1),
                                     ("feedback", "columns", 1), ("columns", "feedback", 0)]
        assert {e.actor_type for e in events} == {"user"}
    # A revocation made in one mode is brought to the other when switching.
    with transaction(w.tool.sessions) as s:
        award = s.scalars(select(Award).where(Award.achievement_id == w.badges["Microscopy"])).one()
        services.revoke(s, w.course_id, award.id, None, "plagiarism", _now())
    w.drain()
    assert "Microscopy was revoked" in w.sim.scores(CTX, w.link_item)[-1]["comment"]
    assert w.choose("columns") == 1
    w.drain()
    assert w.sim.scores(CTX, microscopy_id)[-1]["scoreGiven"] == 0
    with transaction(w.tool.sessions) as s:
        assert s.get(Achievement, w.badges["Microscopy"]).lineitem_url.endswith(f"/{microscopy_id}/lineitem?type_id=1")


def test_bad_mode_choices_are_refused_and_change_nothing(world):
    w = world("openedx", product_family="openedx")
    resp = w.post("/course/gradebook", {"mode": "everywhere"})
    assert resp.status_code == 400 and w.mode() == "feedback"
    # Open edX keeps one grade per block: no column per badge, on the page or by a forged POST.
    page = w.get("/course/badges").text
    assert re.search(r'value="columns"[^>]*disabled', page)
    resp = w.post("/course/gradebook", {"mode": "columns"})
    assert resp.status_code == 400 and "columns" in resp.text and w.mode() == "feedback"
    # Without the CSRF token nothing changes either.
    lt = page_token(w.pages[TEACHER])
    resp = requests.post(f"{w.tool.url}/course/gradebook", data={"lt": lt, "mode": "none"}, timeout=10)
    assert resp.status_code in (400, 403) and w.mode() == "feedback"
    # A learner may not choose (with a valid CSRF token of their own: the role check refuses).
    lt = page_token(w.pages[LEARNER])
    with transaction(w.tool.sessions) as s:
        course = s.get(Course, w.course_id)
        learner = Scope(course.platform_id, course.id, w.learner_id, "learner")
    with w.tool.app.app_context():
        token = generate_csrf_token(learner)
    resp = requests.post(f"{w.tool.url}/course/gradebook", data={"lt": lt, "csrf_token": token, "mode": "none"},
                         timeout=10)
    assert resp.status_code == 403 and w.mode() == "feedback"


def test_openedx_declarative_requests_only_granted_scopes_and_writes_the_block_grade(world):
    w = world("openedx", product_family="openedx")
    w.badge("Microscopy")
    total_before = w.total()
    w.award("Microscopy")
    w.drain()
    granted = {spec.SCOPE_LINEITEM_READONLY, spec.SCOPE_RESULT_READONLY, spec.SCOPE_SCORE, spec.SCOPE_NRPS}
    asked = {scope for r in w.sim.requests_to("/token") for scope in r.form.get("scope", "").split()}
    assert asked and asked <= granted
    assert not [r for r in w.sim.requests_to(f"/api/lti/courses/{CTX}/line_items", "POST")
                if r.path.endswith("/line_items")]  # no line item created
    [posted] = w.sim.scores(CTX, w.link_item)
    assert posted["scoreGiven"] == 0.7 and "Microscopy" in posted["comment"]
    assert w.total() == total_before
    [d] = w.ags_deliveries()
    assert (d.gradebook_mode, d.confirmation) == ("feedback", "confirmed")


def test_openedx_programmatic_binds_the_created_grade_item_to_the_block(world):
    """Full line-item access and no `lineitem` claim: the block's one grade item is created by
    the tool, bound to the launch's resource link, so Open edX publishes it."""
    w = world("openedx", scopes=spec.ALL_SCOPES, product_family="openedx")
    assert not w.sim.line_items(CTX) or all(i.get("resourceLinkId") != LINK for i in w.sim.line_items(CTX))
    w.badge("Microscopy")
    w.award("Microscopy")
    w.drain()
    [item] = [i for i in w.sim.line_items(CTX) if i.get("tag") == "lti_badger"]
    assert item["resourceLinkId"] == LINK
    [d] = w.ags_deliveries()
    # No grade in the block yet: the note is stored but Open edX shows nothing without a score.
    assert d.status == "done" and d.confirmation == "not_shown"


def test_score_accepted_but_not_shown_is_said_on_the_deliveries_page(world, monkeypatch):
    """Open edX registered without saying so (its launches carry no tool_platform) and granting
    line-item management: a badge column is created unbound, Open edX answers 201 and never shows
    it. The read-back catches it and the admin reads it in plain words."""
    w = world("openedx", scopes=spec.ALL_SCOPES)
    w.choose("columns")
    w.badge("Microscopy")
    w.award("Microscopy")
    w.drain()
    [d] = w.ags_deliveries()
    assert (d.status, d.gradebook_mode, d.confirmation) == ("done", "columns", "not_shown")
    assert [r.status for r in w.sim.requests_to(f"/api/lti/courses/{CTX}/line_items/", "POST")
            if r.path.endswith("/scores")] == [201]
    page = w.get("/admin/deliveries", sub=ADMIN, status="not_shown").text
    assert "accepted the score but does not show it in its gradebook" in page
    health = w.get("/admin/", sub=ADMIN).text
    assert "accepted but not shown" in health
    settings = w.tool.app.extensions["lti_badger"].settings
    for name, value in {"DATABASE_URL": settings.database_url, "INSTANCE_PATH": settings.instance_path,
                        "BASE_URL": settings.base_url, "IN_PROCESS_WORKER": "false"}.items():
        monkeypatch.setenv(f"LTI_BADGER_{name}", value)
    listed = CliRunner().invoke(main, ["deliveries", "list", "--status", "done"])
    assert listed.exit_code == 0 and "accepted by the LMS but not shown in its gradebook" in listed.output


def test_openedx_simulator_rules():
    with LmsSimulator(product_family="openedx") as sim:
        registered = sim.register_tool("http://127.0.0.1:9")
        assert registered.deployment_ids == ["1"] and spec.SCOPE_LINEITEM not in registered.scopes
        assert requests.get(sim.openid_configuration_url, timeout=5).status_code == 404
        assert requests.post(f"{sim.url}/register", json={}, timeout=5).status_code == 404
        sim.add_course(CTX, "Cell Biology")
        sim.add_user(LEARNER, "Grace Hopper", "grace@example.edu")
        sim.enroll(CTX, LEARNER, [spec.ROLE_LEARNER])
        _, params = sim.login_initiation(LEARNER, CTX, resource_link_id=LINK)
        claims = sim.claims_for(sim.launch_requests[params["lti_message_hint"]], "n-1")
        assert spec.CLAIM_TOOL_PLATFORM not in claims and claims[spec.CLAIM_DEPLOYMENT_ID] == "1"
        ags = claims[spec.CLAIM_AGS]
        assert set(ags["scope"]) == {spec.SCOPE_LINEITEM_READONLY, spec.SCOPE_RESULT_READONLY, spec.SCOPE_SCORE}
        assert ags["lineitem"].endswith("/line_items/1")


def test_moodle_simulator_refuses_score_maximum_zero():
    with LmsSimulator(product_family="moodle") as sim:
        sim.register_tool("http://127.0.0.1:9")
        sim.add_course(CTX, "Cell Biology")
        sim.tokens["t"] = AccessToken("t", sim.tool().client_id, list(spec.ALL_SCOPES), time.time() + 60)
        resp = requests.post(sim.lineitems_url(CTX), json={"label": "Badge", "scoreMaximum": 0}, timeout=5,
                             headers={"Authorization": "Bearer t", "Content-Type": spec.MEDIA_LINEITEM})
        assert resp.status_code == 400 and "scoreMaximum" in resp.text
        assert sim.line_items(CTX) == []


@pytest.mark.parametrize("flavour, shown", [("moodle", "confirmed"), ("openedx", "not_shown")])
def test_scores_sent_under_a_backlog_are_read_back_once_the_queue_is_empty(world, flavour, shown):
    """A full claimed batch means a backlog: the scores go out first, marked "later", and a
    worker that finds nothing to send reads them back (Open edX, as above, never shows them)."""
    w = world(flavour, **({"scopes": spec.ALL_SCOPES} if flavour == "openedx" else {}))
    w.choose("columns")
    for name in ("Microscopy", "Titration"):
        w.badge(name)
        w.award(name)
    svc = w.tool.app.extensions["lti_badger"]
    worker = Worker(svc.sessions, svc.settings, svc.keys, batch_size=2, launch_sync_every=float("inf"))
    assert worker.run_once() == 2
    assert [(d.status, d.confirmation) for d in w.ags_deliveries()] == [("done", "later")] * 2
    def reads() -> int:
        return sum(1 for r in w.sim.received if r.method == "GET" and "results" in r.path)

    assert reads() == 0
    assert worker.run_once() == 2  # nothing to send: the two read-backs
    assert [d.confirmation for d in w.ags_deliveries()] == [shown] * 2
    assert reads() == 2
    assert worker.run_once() == 0
