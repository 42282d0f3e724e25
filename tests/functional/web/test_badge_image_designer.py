"""The badge designer's generated images over HTTP: every shape with an icon becomes the
badge's PNG, its credential is baked into a true SVG drawn from the same design (passing our
sanitiser), hostile text stays text, and a bad shape, icon, colour or text is a 400 that
keeps the form and changes nothing."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from lti_badger.credentials import baking, images
from lti_badger.models import Achievement, AchievementVersion
from tests.functional.web.test_instructor_pages import achievement_of, design

HOSTILE = '<script>alert(1)</script>'


def _count(app, model):
    with app.extensions["lti_badger"].sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("template, icon", [("circle", "star"), ("shield", "book"), ("hexagon", "none"),
                                            ("ribbon", "trophy")])
def test_each_template_becomes_the_badge_png_and_a_true_svg(app, courses, as_person, template, icon):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    answer = design(teacher, name="Data skills", image_template=template, image_icon=icon, image_colour="#2e7d32",
                    image_text=HOSTILE[:24])
    assert answer.status_code == 303, answer.get_data(as_text=True)[:300]
    version = achievement_of(app, "Data skills").current_version
    assert version.details["image_template"] == {"template": template, "colour": "#2e7d32", "text": HOSTILE[:24],
                                                 "icon": icon}
    assert version.image == images.generate_png(template, "#2e7d32", HOSTILE[:24], icon).data
    with Image.open(io.BytesIO(version.image)) as im:
        assert im.size == (256, 256) and (0x2e, 0x7d, 0x32, 255) in {c for _, c in im.getcolors(1 << 16)}

    png, svg = baking.badge_images(version.name, version.image, version.image_type, version.details["image_template"])
    assert png.data == version.image
    text = svg.data.decode()
    assert "<image" not in text and "#2e7d32" in text  # drawn, not a wrapped PNG
    assert "&lt;script&gt;" in text and "<script" not in text
    assert images.sanitise_svg(svg.data).media_type == images.SVG  # our own sanitiser accepts it
    baked = baking.bake_svg(svg.data, '{"id": "urn:uuid:1"}')
    assert baking.extract_svg(baked) == '{"id": "urn:uuid:1"}'


def test_icon_alone_and_initials_by_default(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    assert design(teacher, name="Lab safety", image_icon="check", image_text="").status_code == 303
    assert achievement_of(app, "Lab safety").current_version.details["image_template"]["text"] == ""
    assert design(teacher, name="Quiz master", image_icon="none", image_text="").status_code == 303
    assert achievement_of(app, "Quiz master").current_version.details["image_template"]["text"] == "QM"


@pytest.mark.parametrize("field, value, message", [
    ("image_template", "star", "unknown image template"),
    ("image_icon", "rocket", "unknown image icon"),
    ("image_colour", "#123456", "choose one of the colours offered"),
    ("image_colour", "red", "the colour must look like"),
    ("image_text", "x" * 25, "longer than 24 characters"),
])
def test_bad_design_values_are_400_and_change_nothing(app, courses, as_person, field, value, message):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    assert design(teacher, name="Keeper").status_code == 303
    keeper = achievement_of(app, "Keeper")
    before = (_count(app, Achievement), _count(app, AchievementVersion))

    created = design(teacher, name="Refused badge", **{field: value})
    page = created.get_data(as_text=True)
    assert created.status_code == 400 and message in page and 'role="alert"' in page
    assert 'value="Refused badge"' in page  # the form keeps what was typed
    edited = teacher.post(f"/course/badges/{keeper.id}/edit",
                          {"name": "Keeper", "image_source": "generate", "image_template": "circle",
                           "image_colour": "#0a4f8f", "image_icon": "none", "image_text": "K", field: value},
                          content_type="multipart/form-data")
    assert edited.status_code == 400
    assert (_count(app, Achievement), _count(app, AchievementVersion)) == before
    assert achievement_of(app, "Keeper").current_version.image == keeper.current_version.image


def test_designer_page_carries_the_preview_and_the_palette(app, courses, as_person):
    a, _ = courses
    teacher = as_person(a, a.instructor, "instructor")
    page = teacher.get("/course/badges/new").get_data(as_text=True)
    assert '<div id="badge-preview"><svg xmlns="http://www.w3.org/2000/svg"' in page
    assert 'id="badge-art"' in page and '"shapes"' in page
    for colour in images.PALETTE:
        assert f'name="image_colour" value="{colour}"' in page
    assert '<option value="trophy">Trophy</option>' in page
