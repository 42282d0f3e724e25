"""Pure parts of the senders: the AGS score for each award state, webhook signatures, the
Retry-After parser, the retry classification and the e-mail text."""

from datetime import datetime, timezone

from lti_badger.deliveries.senders import (
    Job, badge_score, build_email, is_retryable_status, sign_webhook, verify_webhook,
)
from lti_badger.outbound import parse_retry_after
from lti_badger.settings import Settings

T = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def test_badge_score_for_each_state():
    earned = badge_score(sub="u1", badge_name="Python", status="active", link="https://b/credentials/1",
                         reason=None, timestamp=T)
    assert earned == {"userId": "u1", "scoreGiven": 1, "scoreMaximum": 1, "activityProgress": "Completed",
                      "gradingProgress": "FullyGraded", "timestamp": "2026-11-23T12:00:00Z",
                      "comment": "Badge earned: Python. Verify: https://b/credentials/1"}
    revoked = badge_score(sub="u1", badge_name="Python", status="revoked", link=None, reason="cheating", timestamp=T)
    assert revoked["scoreGiven"] == 0 and revoked["comment"] == "Badge Python was revoked. Reason: cheating"
    suspended = badge_score(sub="u1", badge_name="Python", status="suspended", link=None, reason="x", timestamp=T)
    assert suspended["gradingProgress"] == "PendingManual" and "suspended" in suspended["comment"]
    assert badge_score(sub="u1", badge_name="P", status="expired", link=None, reason=None, timestamp=T)["scoreGiven"] == 0


def test_webhook_signature_covers_timestamp_and_body():
    sig = sign_webhook("k", "1700000000", b'{"a":1}')
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert verify_webhook("k", "1700000000", b'{"a":1}', sig, now=1700000100)
    assert not verify_webhook("k", "1700000001", b'{"a":1}', sig, now=1700000100)  # other timestamp
    assert not verify_webhook("k", "1700000000", b'{"a":1}', sig, now=1700009999)  # replayed too late
    assert not verify_webhook("k", "not-a-number", b'{"a":1}', sig)


def test_retry_after_and_classification():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=datetime(2015, 10, 21, 7, 28, tzinfo=timezone.utc).timestamp()) == 10
    assert [is_retryable_status(s) for s in (None, 500, 503, 429, 408)] == [True] * 5
    assert [is_retryable_status(s) for s in (400, 401, 403, 404, 422)] == [False] * 5


def test_email_text_has_badge_links_and_reason():
    job = Job(7, 1, "email", "revoke", {
        "achievement": {"name": "Python", "description": ""}, "learner": {"sub": "u1", "name": "Grace", "email": "g@x.edu"},
        "course": {"context_id": "c1", "title": "Intro"}, "reason": "duplicate", "verify_url": "https://b/credentials/1",
        "credential_json_url": "https://b/credentials/1.json"})
    msg = build_email(job, Settings(mail_from="badges@x.edu"))
    body = msg.get_body(("plain",)).get_content()
    assert msg["To"] == "g@x.edu" and msg["Subject"] == "Your badge Python was revoked"
    assert "Reason: duplicate" in body and "https://b/credentials/1" in body and "Hello Grace" in body


def test_expiry_email_says_how_to_renew():
    job = Job(8, 1, "email", "expire", {
        "achievement": {"name": "Python", "description": ""}, "learner": {"sub": "u1", "name": "Grace", "email": "g@x.edu"},
        "course": {"context_id": "c1", "title": "Intro"}, "reason": "validity period ended"})
    msg = build_email(job, Settings(mail_from="badges@x.edu"))
    assert msg["Subject"] == "Your badge Python has expired"
    assert "has expired; meeting its criteria again renews it" in msg.get_body(("plain",)).get_content()
