"""An LMS whose clock runs up to 5 minutes ahead of ours or behind it still launches the tool
(the id_token's iat and exp are checked with `CLOCK_SKEW` of leeway); a token further off is
refused with a 400 and stores nothing."""

from __future__ import annotations

import time

import pytest
import requests

from lti_badger.lti.tool_conf import CLOCK_SKEW
from tests.functional.lti.conftest import CONTEXT_ID, LEARNER, platform_id, sim, tool  # noqa: F401

LIFETIME = 300  # the simulator's id_token lifetime, as a Moodle or Canvas token's


def _claims(offset: int) -> dict[str, int]:
    """iat and exp as an LMS whose clock is `offset` seconds off ours writes them, now."""
    lms_now = int(time.time()) + offset
    return {"iat": lms_now, "exp": lms_now + LIFETIME}


@pytest.mark.parametrize("offset", [-CLOCK_SKEW, CLOCK_SKEW], ids=["5-min-behind", "5-min-ahead"])
def test_lms_clock_five_minutes_off_still_launches(tool, sim, platform_id, offset):  # noqa: F811
    assert CLOCK_SKEW == 300
    # Behind: the token's exp is already (just) past by our clock; ahead: its iat is in our future.
    answer = sim.launch(requests.Session(), LEARNER, CONTEXT_ID, follow_redirects=False, **_claims(offset))
    assert answer.status_code == 303, answer.text[:500]
    assert tool.counts() == {"Course": 1, "Person": 1, "Enrollment": 1}


@pytest.mark.parametrize("offset,reason", [(-(CLOCK_SKEW + LIFETIME + 60), "expired"),
                                           (CLOCK_SKEW + 60, "not yet valid")], ids=["too-far-behind", "too-far-ahead"])
def test_lms_clock_further_off_is_refused_and_stores_nothing(tool, sim, platform_id, offset, reason):  # noqa: F811
    answer = sim.launch(requests.Session(), LEARNER, CONTEXT_ID, follow_redirects=False, **_claims(offset))
    assert answer.status_code == 400
    assert reason in answer.text.lower()
    assert tool.counts() == {"Course": 0, "Person": 0, "Enrollment": 0}
