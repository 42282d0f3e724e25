"""URL and header helpers of the AGS/NRPS client (Moodle's line item URLs carry a query)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from lti_badger.lti.advantage import _sub_resource, _with_query
from lti_badger.outbound import parse_retry_after
from lti_badger.lti.tool_conf import nonce_expiry


def test_scores_and_results_go_before_the_query():
    moodle = "https://moodle.example.edu/mod/lti/services.php/2/lineitems/7/lineitem?type_id=3"
    assert _sub_resource(moodle, "scores") == (
        "https://moodle.example.edu/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=3")
    assert _sub_resource("https://canvas.example.edu/api/lti/courses/1/line_items/5/", "results") == (
        "https://canvas.example.edu/api/lti/courses/1/line_items/5/results")


def test_filters_are_added_to_an_existing_query():
    url = _with_query("https://lms/lineitems?type_id=3", resource_id="badge-1", tag=None)
    assert url == "https://lms/lineitems?type_id=3&resource_id=badge-1"


def test_retry_after_seconds_and_http_date():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
    assert parse_retry_after("120", now) == 120
    later = format_datetime(datetime(2026, 1, 1, 0, 2, tzinfo=timezone.utc), usegmt=True)
    assert parse_retry_after(later, now) == 120
    assert parse_retry_after(None, now) is None and parse_retry_after("soon", now) is None


def test_used_nonces_are_kept_while_the_token_or_the_issued_nonce_lives():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert nonce_expiry(now, now.timestamp() + 60, 7200) == now + timedelta(seconds=7500)
    assert nonce_expiry(now, now.timestamp() + 86400, 7200) == now + timedelta(seconds=86700)
    assert nonce_expiry(now, 10**15, 7200) == now + timedelta(days=366, seconds=300)  # capped
    assert nonce_expiry(now, "x", 7200) == now + timedelta(seconds=7500)
