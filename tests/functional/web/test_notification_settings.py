"""Issue 18, notifications on the pages: the learner's e-mail choice, the teacher's daily
summary, the unsubscribe page (every kind of bad link is a 4xx that changes nothing), and the
admin health page saying whether e-mail goes out."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeSerializer

from lti_badger.app import create_app
from lti_badger.deliveries.mail import UNSUBSCRIBE_SALT, unsubscribe_token
from lti_badger.models import Person
from tests.factories_web import token_for, two_courses
from tests.functional.web.conftest import PageClient


@pytest.fixture
def mail_app(app_settings):
    app = create_app({**app_settings, "mail_backend": "smtp", "smtp_host": "mail.example.edu", "smtp_port": 587})
    app.testing = True
    yield app
    app.extensions["lti_badger"].engine.dispose()


def _client(app, world, person, role, locale="en"):
    return PageClient(app, app.test_client(), token_for(app, world, person, role, locale))


def _person(app, person_id) -> Person:
    with app.extensions["lti_badger"].sessions() as s:
        return s.get(Person, person_id)


def test_learner_turns_badge_emails_off_and_on(mail_app):
    a, _ = two_courses(mail_app)
    learner = _client(mail_app, a, a.learners[0], "learner")
    page = learner.get("/me/badges").get_data(as_text=True)
    assert f"e-mail me at {a.learners[0].email}" in page and 'value="on" checked' in page
    answer = learner.post("/me/notifications", data={"badge_emails": "off"})
    assert answer.status_code == 303 and not _person(mail_app, a.learners[0].id).notify_email
    assert "Your choice is saved." in learner.get(answer.headers["Location"]).get_data(as_text=True)
    learner.post("/me/notifications", data={"badge_emails": "on"})
    assert _person(mail_app, a.learners[0].id).notify_email


@pytest.mark.parametrize("form", [{}, {"badge_emails": ""}, {"badge_emails": "yes"}, {"badge_emails": "OFF "}])
def test_bad_learner_choice_is_refused_and_changes_nothing(mail_app, form):
    a, _ = two_courses(mail_app)
    answer = _client(mail_app, a, a.learners[0], "learner").post("/me/notifications", data=form)
    assert answer.status_code == 400 and "choose on or off" in answer.get_data(as_text=True)
    assert _person(mail_app, a.learners[0].id).notify_email


def test_learner_without_address_or_tool_without_mail_sees_why(app, mail_app):
    a, _ = two_courses(mail_app)
    assert "This tool does not send e-mail." in _client(app, a, a.learners[0], "learner").get("/me/badges") \
        .get_data(as_text=True)
    with mail_app.extensions["lti_badger"].sessions() as s:
        s.get(Person, a.learners[1].id).email = None
        s.commit()
    page = _client(mail_app, a, a.learners[1], "learner").get("/me/badges").get_data(as_text=True)
    assert "did not share an e-mail address" in page and 'name="badge_emails"' not in page


def test_teacher_opts_in_to_the_daily_summary(mail_app):
    a, _ = two_courses(mail_app)
    teacher = _client(mail_app, a, a.instructor, "instructor")
    page = teacher.get("/course/badges").get_data(as_text=True)
    assert "Daily summary by e-mail" in page and 'id="digest-off" name="digest" value="off" checked' in page
    answer = teacher.post("/course/digest", data={"digest": "on"})
    assert answer.status_code == 303 and _person(mail_app, a.instructor.id).digest_daily
    assert "Your daily summary choice is saved." in teacher.get(answer.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("form", [{}, {"digest": "daily"}, {"digest": "1"}])
def test_bad_digest_choice_is_refused_and_changes_nothing(mail_app, form):
    a, _ = two_courses(mail_app)
    answer = _client(mail_app, a, a.instructor, "instructor").post("/course/digest", data=form)
    assert answer.status_code == 400 and not _person(mail_app, a.instructor.id).digest_daily


def test_a_learner_cannot_set_a_digest(mail_app):
    a, _ = two_courses(mail_app)
    answer = _client(mail_app, a, a.learners[0], "learner").post("/course/digest", data={"digest": "on"})
    assert answer.status_code == 403 and not _person(mail_app, a.learners[0].id).digest_daily


def test_unsubscribe_page_speaks_the_persons_language_and_post_turns_the_digest_off(mail_app):
    a, _ = two_courses(mail_app)
    with mail_app.extensions["lti_badger"].sessions() as s:
        teacher = s.get(Person, a.instructor.id)
        teacher.digest_daily = True
        s.commit()
    settings = mail_app.extensions["lti_badger"].settings
    link = f"/unsubscribe/{unsubscribe_token(settings, a.instructor.id, 'digest')}"
    client = mail_app.test_client()
    assert "Stop the daily summary" in client.get(link).get_data(as_text=True)
    assert _person(mail_app, a.instructor.id).digest_daily  # opening the page changes nothing
    assert client.post(link).status_code == 200
    teacher = _person(mail_app, a.instructor.id)
    assert not teacher.digest_daily and teacher.notify_email  # only what the link names


def _forged(settings, payload, secret=None):
    return URLSafeSerializer(secret or settings.secret(), salt=UNSUBSCRIBE_SALT).dumps(payload)


def _altered(token: str) -> str:
    """Another first character of the signature: every bit of it counts (the last base64
    character of a signature also carries padding bits, so changing it may change nothing)."""
    at = token.rindex(".") + 1
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1:]


@pytest.mark.parametrize("kind", ["garbage", "cut", "altered", "other_secret", "other_salt", "bad_topic",
                                  "bad_person_type", "not_a_dict"])
def test_bad_unsubscribe_link_is_400_and_changes_nothing(mail_app, kind):
    a, _ = two_courses(mail_app)
    settings = mail_app.extensions["lti_badger"].settings
    good = unsubscribe_token(settings, a.learners[0].id, "badges")
    token = {
        "garbage": "hello",
        "cut": good[:-6],
        "altered": _altered(good),
        "other_secret": _forged(settings, {"p": a.learners[0].id, "t": "badges"}, secret="someone-else"),
        "other_salt": URLSafeSerializer(settings.secret(), salt="other").dumps({"p": a.learners[0].id, "t": "badges"}),
        "bad_topic": _forged(settings, {"p": a.learners[0].id, "t": "everything"}),
        "bad_person_type": _forged(settings, {"p": str(a.learners[0].id), "t": "badges"}),
        "not_a_dict": _forged(settings, [a.learners[0].id, "badges"]),
    }[kind]
    client = mail_app.test_client()
    for answer in (client.get(f"/unsubscribe/{token}"), client.post(f"/unsubscribe/{token}")):
        assert answer.status_code == 400 and "unsubscribe link is not valid" in answer.get_data(as_text=True)
    assert _person(mail_app, a.learners[0].id).notify_email


def test_unsubscribe_link_of_an_unknown_person_is_404(mail_app):
    settings = mail_app.extensions["lti_badger"].settings
    answer = mail_app.test_client().post(f"/unsubscribe/{unsubscribe_token(settings, 999999, 'badges')}")
    assert answer.status_code == 404


def test_health_page_says_whether_email_goes_out(app, mail_app):
    a, _ = two_courses(app)
    off = _client(app, a, a.admin, "admin").get("/admin/health.json").json
    on = _client(mail_app, a, a.admin, "admin").get("/admin/health.json").json
    off_check = next(c for c in off["checks"] if c["name"] == "e-mail notifications")
    on_check = next(c for c in on["checks"] if c["name"] == "e-mail notifications")
    assert off_check["detail"].startswith("off: no SMTP server is configured")
    assert on_check["detail"] == "on: sent through mail.example.edu:587"
    page = _client(app, a, a.admin, "admin").get("/admin/").get_data(as_text=True)
    assert "E-mail notifications" in page and "no SMTP server is configured" in page
