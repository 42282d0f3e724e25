"""E-mail rendering without a database: language choice, escaping, the mail switch, and the
setting that turns mail on refusing values it does not know."""

from __future__ import annotations

import pytest

from lti_badger.deliveries.mail import language, mail_enabled, render
from lti_badger.settings import Settings, load_settings


@pytest.mark.parametrize("tag, lang", [("es", "es"), ("es-MX", "es"), ("ES_es", "es"), ("en-GB", "en"), ("fr", "en"),
                                       ("", "en"), (None, "en")])
def test_language_of_a_launch_locale(tag, lang):
    assert language(tag) == lang


def test_mail_is_off_unless_a_backend_is_configured():
    assert not mail_enabled(load_settings(environ={}))
    assert mail_enabled(Settings(mail_backend="smtp")) and mail_enabled(Settings(mail_backend="file"))


@pytest.mark.parametrize("value", ["SMTP", "sendmail", ""])
def test_unknown_mail_backend_is_refused_at_load(value):
    with pytest.raises(ValueError, match="mail_backend must be one of off, smtp, file"):
        load_settings({"mail_backend": value}, environ={})


def test_html_escapes_data_and_text_keeps_it():
    mail = render("badge", "en", action="award", badge="<b>R&D</b>", learner="Ann", course="C", issuer="U",
                  reason="", badge_url="https://b.test/c/1", json_url="https://b.test/c/1.json",
                  unsubscribe_url="https://b.test/unsubscribe/t")
    assert mail.subject == "You earned the badge <b>R&D</b>" and '"<b>R&D</b>"' in mail.text
    assert "&lt;b&gt;R&amp;D&lt;/b&gt;" in mail.html and "<b>R&D</b>" not in mail.html
