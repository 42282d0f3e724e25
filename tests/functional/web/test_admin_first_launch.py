"""Issue 18, "issuer name": while the registration's issuer profile has no name, the admin's
landing page first asks for the institution's name, site and logo (the issuer form), instead
of letting credentials go out as the tool's default name; once named, it stops asking."""

from __future__ import annotations

from .test_admin_issuer import GOOD, _save

PROMPT = "First, who issues your badges?"


def test_first_admin_launch_asks_for_the_institution(app, courses, as_person):
    a, _ = courses
    admin = as_person(a, a.admin, "admin")
    page = admin.get("/admin/").get_data(as_text=True)
    assert PROMPT in page and 'href="/admin/issuer"' in page
    assert page.index(PROMPT) < page.index("Health</h2>")  # before anything else on the page
    assert _save(admin, a.platform.id, {**GOOD, "name": "  "}).status_code == 400  # a blank name is no name
    assert PROMPT in admin.get("/admin/").get_data(as_text=True)
    assert _save(admin, a.platform.id, {**GOOD, "name": "lti_badger"}).status_code == 303  # the tool's own name
    assert PROMPT in admin.get("/admin/").get_data(as_text=True)
    assert _save(admin, a.platform.id, GOOD).status_code == 303
    assert PROMPT not in admin.get("/admin/").get_data(as_text=True)
