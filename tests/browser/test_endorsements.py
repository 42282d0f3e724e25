"""In Chromium: an LMS admin invites an endorser on /admin/endorsements and copies the one-time
link; the endorser, in a browser with no LMS session, reads the badge, is refused an e-mail
outside the invited domain (shown inline), then signs. The admin's reports page shows what was
issued. axe runs on every state; screenshots go to tests/artifacts/."""

from __future__ import annotations

from sqlalchemy import select

from lti_badger.devtools.demo import DEMO_CONTEXT_ID
from lti_badger.models import Course, Endorsement
from tests.factories_awards import make_achievement

from .test_flow import open_admin


def test_endorsement_invite_and_sign_pass_axe(stack, new_page, check):
    page = open_admin(stack, new_page)
    with stack.tool.sessions() as s:
        course = s.scalar(select(Course).where(Course.context_id == DEMO_CONTEXT_ID))
        make_achievement(s, course, name="Cell Explorer")
        s.commit()
    nav = page.get_by_role("navigation", name="Administration")
    nav.get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_url("**/admin/reports/**")
    assert page.get_by_role("heading", name="Awards over time").is_visible()
    check(page, "50-admin-reports")

    nav.get_by_role("link", name="Endorsements", exact=True).click()
    page.wait_for_url("**/admin/endorsements/**")
    page.get_by_label("Endorser's e-mail").fill("hr@acme.example")
    page.get_by_role("button", name="Create the link").click()
    link = page.get_by_label("One-time link").input_value()
    assert "/endorse/" in link
    check(page, "51-admin-endorsement-invited")

    endorser = new_page()
    endorser.goto(link)
    assert endorser.get_by_role("heading", name="Endorse Cell Explorer").is_visible()
    endorser.get_by_label("Comment").fill("We hire holders of this badge.")
    endorser.get_by_label("Your name").fill("Ada Employer")
    endorser.get_by_label("Organisation", exact=True).fill("ACME Analytics")
    endorser.get_by_label("Your e-mail").fill("ada@elsewhere.example")
    endorser.get_by_role("button", name="Sign the endorsement").click()
    assert "acme.example" in endorser.get_by_role("alert").inner_text()
    check(endorser, "52-endorser-refused")
    endorser.get_by_label("Your e-mail").fill("ada@acme.example")
    endorser.get_by_role("button", name="Sign the endorsement").click()
    assert "Your endorsement is signed" in endorser.get_by_role("status").inner_text()
    check(endorser, "53-endorser-signed")
    with stack.tool.sessions() as s:
        assert s.scalars(select(Endorsement.state)).all() == ["signed"]
