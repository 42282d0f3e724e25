"""Issue 18, notifications: a learner's badge e-mail and a teacher's daily digest go through the
outbox and the worker to a real SMTP server (a loopback one speaking SMTP to smtplib), once
each, in the person's launch language, with a working one-click unsubscribe link."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lti_badger.awards import services
from lti_badger.awards.context import bind_context
from lti_badger.app import create_app
from lti_badger.db import transaction
from lti_badger.deliveries.notify import DEST_DIGEST, queue_digests
from lti_badger.models import Award, Delivery, DeliveryAttempt, Person
from tests.factories_awards import make_achievement, make_world
from tests.functional.deliveries.test_worker import _drain, _worker

DAY = datetime(2026, 3, 10, 0, 5, tzinfo=timezone.utc)  # the digest's morning
YESTERDAY = DAY - timedelta(hours=10)


@pytest.fixture
def smtp_settings(worker_settings, smtp, sessions, keys):
    settings = replace(worker_settings, mail_backend="smtp", smtp_host="127.0.0.1", smtp_port=smtp.server_address[1],
                       issuer_name="Universidad de Prueba", secret_key="notify-test-secret")
    bind_context(sessions, settings, keys)
    return settings


def _world(sessions, *, locale=None, notify=True, learners=1):
    with transaction(sessions) as s:
        w = make_world(s, lineitems_url=None, learners=learners)
        for p in w.learners:
            p.locale, p.notify_email = locale, notify
        return w


def _award(sessions, w, learner=0, at=None):
    with transaction(sessions) as s:
        return services.award_from_rule(s, w.achievement, w.version, w.learners[learner].id, {"met": True},
                                        at or datetime.now(timezone.utc)).id


def _emails(sessions):
    with transaction(sessions) as s:
        return list(s.scalars(select(Delivery).where(Delivery.destination == "email")))


def _parts(msg):
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def test_award_sends_one_email_with_text_html_badge_issuer_and_links(sessions, smtp_settings, keys, smtp):
    w = _world(sessions)
    _award(sessions, w)
    worker = _worker(sessions, smtp_settings, keys)
    _drain(worker, sessions)
    _drain(worker, sessions)  # nothing more goes out
    [msg] = smtp.parsed()
    text, html = _parts(msg)
    assert msg["To"] == w.learners[0].email and msg["Subject"] == "You earned the badge Python Basics"
    for body in (text, html):
        assert "Python Basics" in body and "Universidad de Prueba" in body and "Intro to Python" in body
    [delivery] = _emails(sessions)
    assert delivery.status == "done"
    with transaction(sessions) as s:
        credential = s.scalar(select(func.max(Delivery.payload["credential_id"].as_string())))
    assert f"https://badges.test/credentials/{credential}" in text and f'href="https://badges.test/credentials/{credential}"' in html
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<https://badges\.test/unsubscribe/[\w.-]+>", msg["List-Unsubscribe"])


def test_html_part_escapes_names_from_data(sessions, smtp_settings, keys, smtp):
    with transaction(sessions) as s:
        w = make_world(s, lineitems_url=None, learners=1, name='<img src=x onerror=alert(1)> & Co')
    _award(sessions, w)
    _drain(_worker(sessions, smtp_settings, keys), sessions)
    text, html = _parts(smtp.parsed()[0])
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt; &amp; Co" in html
    assert '"<img src=x onerror=alert(1)> & Co"' in text


def test_opted_out_learner_gets_no_email(sessions, smtp_settings, keys, smtp):
    w = _world(sessions, notify=False)
    _award(sessions, w)
    _drain(_worker(sessions, smtp_settings, keys), sessions)
    assert smtp.messages == [] and _emails(sessions) == []


def test_opting_out_stops_an_email_already_queued(sessions, smtp_settings, keys, smtp):
    w = _world(sessions)
    _award(sessions, w)
    with transaction(sessions) as s:
        s.get(Person, w.learners[0].id).notify_email = False
    _drain(_worker(sessions, smtp_settings, keys), sessions)
    [delivery] = _emails(sessions)
    with transaction(sessions) as s:
        note = s.scalar(select(DeliveryAttempt.error).where(DeliveryAttempt.delivery_id == delivery.id))
    assert smtp.messages == [] and delivery.status == "done" and "turned badge e-mails off" in note


def test_no_mail_backend_means_no_email_queued(sessions, worker_settings, keys, smtp):
    bind_context(sessions, replace(worker_settings, mail_backend="off"), keys)
    w = _world(sessions)
    _award(sessions, w)
    assert _emails(sessions) == []


def test_spanish_launch_gets_a_spanish_email(sessions, smtp_settings, keys, smtp):
    w = _world(sessions, locale="es-ES")
    _award(sessions, w)
    _drain(_worker(sessions, smtp_settings, keys), sessions)
    [msg] = smtp.parsed()
    text, html = _parts(msg)
    assert msg["Subject"] == "Has obtenido la insignia Python Basics"
    assert "Hola" in text and "Emitida por Universidad de Prueba." in text and '<html lang="es">' in html
    assert "You earned" not in text + html and "Hello" not in text + html


def test_unsubscribe_link_from_the_email_turns_email_off(sessions, smtp_settings, keys, smtp, tmp_path):
    w = _world(sessions)
    _award(sessions, w)
    _drain(_worker(sessions, smtp_settings, keys), sessions)
    link = re.search(r"https://badges\.test(/unsubscribe/[\w.-]+)", _parts(smtp.parsed()[0])[0]).group(1)
    app = create_app({"database_url": smtp_settings.database_url, "instance_path": str(tmp_path / "web"),
                      "secret_key": smtp_settings.secret_key, "base_url": "https://badges.test",
                      "in_process_worker": False})
    client = app.test_client()
    page = client.get(link)
    assert page.status_code == 200 and "Stop these e-mails" in page.get_data(as_text=True)
    with transaction(sessions) as s:
        assert s.get(Person, w.learners[0].id).notify_email  # opening the link changes nothing
    done = client.post(link)  # the button, or a mail client's one-click POST (no CSRF token)
    assert done.status_code == 200 and "gets no more e-mails" in done.get_data(as_text=True)
    with transaction(sessions) as s:
        assert not s.get(Person, w.learners[0].id).notify_email
    with transaction(sessions) as s:  # the next badge is not e-mailed
        ach, version = make_achievement(s, w.course, name="Second")
    with transaction(sessions) as s:
        services.award_from_rule(s, ach, version, w.learners[0].id, {"met": True}, datetime.now(timezone.utc))
    _drain(_worker(sessions, smtp_settings, keys), sessions)
    assert len(smtp.messages) == 1 and len(_emails(sessions)) == 1
    app.extensions["lti_badger"].engine.dispose()


# --- the teacher's daily digest --------------------------------------------------------------

def _teacher_world(sessions, *, locale=None):
    w = _world(sessions, learners=3)
    with transaction(sessions) as s:
        teacher = s.get(Person, w.instructor.id)
        teacher.digest_daily, teacher.locale, teacher.email = True, locale, "ada@example.edu"
    _award(sessions, w, 0, at=YESTERDAY)
    _award(sessions, w, 1, at=YESTERDAY + timedelta(hours=1))
    _award(sessions, w, 2, at=DAY - timedelta(days=3))  # long ago: not in today's digest
    with transaction(sessions) as s:
        s.scalars(select(Award).where(Award.person_id == w.learners[2].id)).one().needs_review = True
    return w


def test_digest_once_per_day_with_the_right_content(sessions, smtp_settings, keys, smtp):
    w = _teacher_world(sessions)
    clock = [DAY]
    worker = _worker(sessions, smtp_settings, keys, clock=lambda: clock[0], digest_every=0)
    other = _worker(sessions, smtp_settings, keys, clock=lambda: clock[0], digest_every=0)
    smtp.messages.clear()  # the learners' own badge e-mails are not the subject here
    for _ in range(3):
        _drain(worker, sessions)
        _drain(other, sessions)
    digests = [m for m in smtp.parsed() if m["To"] == "ada@example.edu"]
    assert len(digests) == 1
    text, html = _parts(digests[0])
    assert digests[0]["Subject"] == "Badges today: 2 new awards, 1 review waiting"
    names = {p.id: p.name for p in w.learners}
    for body in (text, html):
        assert "Intro to Python" in body and "Universidad de Prueba" in body
        assert f"{names[w.learners[0].id]} earned Python Basics" in body
        assert f"{names[w.learners[1].id]} earned Python Basics" in body
        assert f"{names[w.learners[2].id]} earned" not in body  # three days ago
        assert f"{names[w.learners[2].id]}: Python Basics" in body  # waiting for review
    assert re.search(r"https://badges\.test/unsubscribe/[\w.-]+", text)
    clock[0] = DAY + timedelta(hours=20)  # later the same day: nothing new
    _drain(worker, sessions)
    assert len([m for m in smtp.parsed() if m["To"] == "ada@example.edu"]) == 1
    clock[0] = DAY + timedelta(days=1)  # the next day: the review still waits, so a new digest
    _drain(worker, sessions)
    later = [m for m in smtp.parsed() if m["To"] == "ada@example.edu"]
    assert len(later) == 2 and later[1]["Subject"] == "Badges today: 0 new awards, 1 review waiting"


def test_digest_is_queued_once_even_when_asked_twice_in_one_transaction_each(sessions, smtp_settings):
    _teacher_world(sessions)
    with transaction(sessions) as s:
        first = queue_digests(s, DAY)
    with transaction(sessions) as s:
        second = queue_digests(s, DAY + timedelta(minutes=1))
    with transaction(sessions) as s:
        assert (first, second) == (1, 0)
        assert s.scalar(select(func.count()).where(Delivery.destination == DEST_DIGEST)) == 1


def test_no_digest_without_opt_in_or_without_news(sessions, smtp_settings):
    w = _teacher_world(sessions)
    with transaction(sessions) as s:
        s.get(Person, w.instructor.id).digest_daily = False
        assert queue_digests(s, DAY) == 0
    with transaction(sessions) as s:
        s.get(Person, w.instructor.id).digest_daily = True
        for award in s.scalars(select(Award)):
            award.needs_review = False
        assert queue_digests(s, DAY + timedelta(days=5)) == 0  # nothing yesterday, nothing waiting


def test_spanish_teacher_gets_a_spanish_digest(sessions, smtp_settings, keys, smtp):
    _teacher_world(sessions, locale="es")
    with transaction(sessions) as s:
        queue_digests(s, DAY)
    _drain(_worker(sessions, smtp_settings, keys, clock=lambda: DAY), sessions)
    [digest] = [m for m in smtp.parsed() if m["To"] == "ada@example.edu"]
    text, _ = _parts(digest)
    assert digest["Subject"].startswith("Insignias de hoy") and "Hola" in text and "Hello" not in text

