"""The main pages of the demo at 1280 px and at 900 px (an LMS iframe): each passes axe and has
no horizontal scroll bar, and a screenshot of each is taken. In the test suite the pictures go
to tests/artifacts/screenshots/; `python docs/screenshots/make.py` runs this with
LTI_BADGER_SCREENSHOTS=docs/screenshots to refresh the README's pictures."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from sqlalchemy import select

from lti_badger.devtools.demo import DEMO_CONTEXT_ID, INSTRUCTOR, LEARNERS
from lti_badger.models import Credential

from .conftest import ARTIFACTS
from .test_experience import demo  # noqa: F401 - the demo course as `lti-badger demo` leaves it
from .test_flow import open_admin

OUT = Path(os.environ.get("LTI_BADGER_SCREENSHOTS") or ARTIFACTS / "screenshots")
WIDTHS = (1280, 900)


def _shoot(page, check, name: str, width: int) -> None:
    """axe and overflow first (a failing page is not pictured), then a viewport picture reduced
    to 256 colours (a few dozen KiB each, fine for UI)."""
    check(page, f"screenshot-{name}-{width}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name} at {width} px scrolls sideways by {overflow} px"
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}-{width}.png"
    page.screenshot(path=str(path))
    with Image.open(path) as im:
        reduced = im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    reduced.save(path, optimize=True)


def _go(page, base: str, path: str) -> None:
    """Another page of the same launch (the launch token travels in the URL)."""
    token = parse_qs(urlsplit(page.url).query).get("lt", [""])[0]
    page.goto(f"{base}{path}{'&' if '?' in path else '?'}lt={token}")


def _scroll_to(page, selector: str) -> None:
    page.locator(selector).evaluate("el => { el.scrollIntoView({block: 'start'}); window.scrollBy(0, -100); }")


def _launch(stack, page, sub: str, landing: str) -> None:
    page.goto(stack.sim.launch_page_url(sub, DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + landing + "**")


@pytest.mark.parametrize("width", WIDTHS)
def test_main_pages_pictured(demo, new_page, check, width):  # noqa: F811 - the imported fixture
    base = demo.tool.url
    viewport = {"width": width, "height": 900}

    teacher = new_page(viewport=viewport)
    _launch(demo, teacher, INSTRUCTOR[0], "/course/badges")
    _shoot(teacher, check, "instructor-badges", width)
    _go(teacher, base, "/course/earners")
    _shoot(teacher, check, "instructor-earners", width)
    _go(teacher, base, "/course/badges/new")
    teacher.get_by_label(re.compile(r"^Name")).fill("Field biology")
    teacher.get_by_label("Shape").select_option("shield")
    teacher.get_by_label("Icon").select_option("book")
    teacher.get_by_label("Teal").check()
    teacher.get_by_label("Text on the image").fill("Field biology")
    _scroll_to(teacher, "#image-generate")
    _shoot(teacher, check, "instructor-designer", width)

    learner = new_page(viewport=viewport)
    _launch(demo, learner, LEARNERS[0][0], "/me/badges")
    _shoot(learner, check, "learner-badges", width)
    _go(learner, base, "/me/all")
    _shoot(learner, check, "learner-all-courses", width)

    with demo.tool.sessions() as s:
        credential_id = s.scalars(select(Credential.id).order_by(Credential.issued_at)).first()
    visitor = new_page(viewport=viewport)
    visitor.goto(f"{base}/credentials/{credential_id}")
    _shoot(visitor, check, "public-credential", width)
    baked = visitor.request.get(f"{base}/credentials/{credential_id}.png").body()
    visitor.goto(f"{base}/verify")
    visitor.locator("#file").set_input_files({"name": "badge.png", "mimeType": "image/png", "buffer": baked})
    visitor.get_by_role("button", name="Verify").click()
    visitor.get_by_role("status").first.wait_for()
    _shoot(visitor, check, "verify", width)

    admin = open_admin(demo, lambda: new_page(viewport=viewport))
    _shoot(admin, check, "admin-home", width)
    for path, name, anchor in (("/admin/platform", "admin-platform", "#deployments"),
                               ("/admin/deliveries?status=all", "admin-deliveries", None),
                               ("/admin/audit", "admin-audit", None)):
        _go(admin, base, path)
        if anchor:  # the part that matters (the deployments, by name) rather than the top
            _scroll_to(admin, anchor)
        _shoot(admin, check, name, width)
