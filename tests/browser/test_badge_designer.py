"""The badge designer's live preview in Chromium: it redraws as the shape, icon, colour and
text change, without a request, and draws exactly the SVG the server renders for the same
design; the saved badge carries that design's image; the page passes axe."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from playwright.sync_api import expect

from lti_badger.credentials import images
from lti_badger.credentials.images import generate_png, generate_svg
from lti_badger.devtools.demo import DEMO_CONTEXT_ID, INSTRUCTOR

PREVIEW = "#badge-preview svg"


def _tree(svg: str) -> list[tuple[str, dict, str]]:
    """Elements in document order as (tag, attributes, text), namespaces dropped."""
    root = ET.fromstring(svg)
    return [(node.tag.rsplit("}", 1)[-1], dict(node.attrib), (node.text or "").strip()) for node in root.iter()]


def _preview(page) -> list[tuple[str, dict, str]]:
    return _tree(page.locator(PREVIEW).evaluate("svg => new XMLSerializer().serializeToString(svg)"))


def test_preview_follows_the_fields_and_the_saved_badge_has_that_image(stack, new_page, check):
    page = new_page()
    page.goto(stack.sim.launch_page_url(INSTRUCTOR[0], DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + "/course/badges**")
    page.get_by_role("link", name="Design a new badge").click()
    page.wait_for_url("**/course/badges/new**")
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    page.get_by_label(re.compile(r"^Name")).fill("Field biology")
    expect(page.locator(f"{PREVIEW} text")).to_have_text("FB")  # the initials, while nothing else is typed
    assert page.locator(f"{PREVIEW} circle").get_attribute("fill") == "#0a4f8f"

    page.get_by_label("Teal").check()
    expect(page.locator(f"{PREVIEW} circle")).to_have_attribute("fill", "#00695c")
    page.get_by_label("Shape").select_option("shield")
    page.get_by_label("Icon").select_option("book")
    page.get_by_label("Text on the image").fill("Field <b>biology</b>")
    expect(page.locator(f"{PREVIEW} text")).to_have_text(["Field", "<b>biology</b>"])
    assert page.locator(f"{PREVIEW} b").count() == 0  # typed markup stays text
    assert _preview(page) == _tree(generate_svg("shield", "#00695c", "Field <b>biology</b>", "book").data.decode())

    page.get_by_label("Gold").check()
    page.get_by_label("Icon").select_option("none")
    page.get_by_label("Text on the image").fill("Ecology")
    expect(page.locator(f"{PREVIEW} text")).to_have_text("Ecology")
    assert _preview(page) == _tree(generate_svg("shield", "#f2c94c", "Ecology").data.decode())
    assert requests == [], f"the preview asked the network: {requests}"
    check(page, "designer-live-preview")

    page.get_by_role("button", name="Create badge and set criteria").click()
    page.wait_for_url("**/criteria**")
    edit = page.url.split("/criteria")[0] + "/edit"
    page.goto(edit + "?" + page.url.split("?", 1)[1] if "?" in page.url else edit)
    image = page.get_by_role("img", name="Current image")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 256
    served = page.request.get(image.evaluate("img => img.src"))
    assert served.body() == generate_png("shield", "#f2c94c", "Ecology").data
    # Editing shows the saved design again, preview included.
    expect(page.get_by_label("Gold")).to_be_checked()
    assert _preview(page) == _tree(generate_svg("shield", "#f2c94c", "Ecology").data.decode())
    check(page, "designer-edit-generated")
    # The course's list of badges shows it too.
    page.get_by_role("link", name="Badges", exact=True).click()
    page.wait_for_url(re.compile(r"/course/badges(\?.*)?$"))
    header = page.get_by_role("rowheader", name=re.compile("Field biology"))
    thumb = page.get_by_role("row").filter(has=header).locator("img")
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.complete && img.naturalWidth") == 256


TEXTS = ["A", "Lab safety", "Introduction to stats", "  many   spaces  here ", "Supercalifragilisticexpi",
         "Ünïcödé ñ café", "x < y & z > w", "Año 2026 🎓", "a b c d e f g h i j k"]


def test_preview_matches_the_server_for_every_shape_icon_and_awkward_text(stack, new_page):
    """The preview's wrapping, sizing and rounding are the server's, for every shape and icon
    and for texts with extra spaces, one long word, accents, markup characters and emoji."""
    page = new_page()
    page.goto(stack.sim.launch_page_url(INSTRUCTOR[0], DEMO_CONTEXT_ID, resource_link_id="demo-badges"))
    page.wait_for_url(stack.tool.url + "/course/badges**")
    page.get_by_role("link", name="Design a new badge").click()
    page.wait_for_url("**/course/badges/new**")
    set_fields = """([template, icon, colour, text]) => {
        const form = document.getElementById('badge-preview').closest('form');
        form.elements.image_template.value = template;
        form.elements.image_icon.value = icon;
        form.querySelector(`input[name=image_colour][value="${colour}"]`).checked = true;
        form.elements.image_text.value = text;
        form.elements.image_text.dispatchEvent(new Event('input', {bubbles: true}));
    }"""
    cases = [(template, icon, colour, text)
             for i, (template, icon, colour) in enumerate([(t, ic, c) for t in images.TEMPLATES for ic in images.ICONS
                                                          for c in ("#0a4f8f", "#f2c94c")])
             for text in (TEXTS[i % len(TEXTS)], "")]
    for template, icon, colour, text in cases:
        if not text.strip() and icon == "none":
            continue  # the initials of the name: covered above
        page.evaluate(set_fields, [template, icon, colour, text])
        expected = _tree(generate_svg(template, colour, text, icon).data.decode())
        assert _preview(page) == expected, (template, icon, colour, text)
