"""In Chromium, through the LMS simulator's launch: an admin edits the LMS's issuer profile (an
e-mail the browser accepts but the server refuses is shown inline, then the profile is saved
with an uploaded PNG and the preview shows it). axe runs on both states; screenshots go to
tests/artifacts/."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from lti_badger.models import IssuerProfileRecord

from .test_flow import open_admin


def test_issuer_profile_edit_passes_axe(stack, new_page, check, tmp_path):
    page = open_admin(stack, new_page)
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Issuer", exact=True).click()
    page.wait_for_url("**/admin/issuer**")

    page.get_by_label("Name (required)").fill("Universidad de Ejemplo")
    page.get_by_label("E-mail").fill("badges@localhost")  # valid for the browser, not for a credential
    page.get_by_role("button", name="Save issuer profile").click()
    assert "is not an e-mail address" in page.get_by_role("alert").inner_text()
    check(page, "40-admin-issuer-error")

    logo = tmp_path / "logo.png"
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 64), (10, 80, 140, 255)).save(buffer, format="PNG")
    logo.write_bytes(buffer.getvalue())
    page.get_by_label("E-mail").fill("badges@uni.example")
    page.get_by_label("Web site").fill("https://uni.example/")
    page.get_by_label("Image file").set_input_files(str(logo))
    page.get_by_role("button", name="Save issuer profile").click()
    page.wait_for_url("**/admin/issuer?**saved=1**")
    assert "Saved." in page.get_by_role("status").first.inner_text()
    preview = page.get_by_role("img", name="Image of Universidad de Ejemplo")
    assert preview.evaluate("img => img.complete && img.naturalWidth") == 64
    check(page, "41-admin-issuer-saved")
    with stack.tool.sessions() as s:
        record = s.scalars(select(IssuerProfileRecord)).one()
        assert (record.name, record.email, record.image_type) == ("Universidad de Ejemplo", "badges@uni.example",
                                                                  "image/png")
