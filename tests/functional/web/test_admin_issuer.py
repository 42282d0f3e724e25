"""The issuer profile per LMS over HTTP: an LMS admin edits name, web site, e-mail, description
and image; the next credential of that LMS's courses carries them (schema-valid, VERIFIED by
ob3-verify) while another LMS's credentials keep the configured profile; client registrations
of one LMS share the profile, and the learner's LinkedIn link names it too; bad input is a 4xx
that changes nothing; an admin of another LMS gets 404, instructors and learners 403, a form
without CSRF token 400."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from sqlalchemy import func, select

from lti_badger.credentials import IssuerProfile
from lti_badger.credentials.schema import schema_errors
from lti_badger.keys import KIND_ISSUER
from lti_badger.models import AuditEvent, Award, Credential, IssuerProfileRecord
from tests.factories_awards import make_achievement
from tests.factories_credentials import Issuer, docs_map, ob3_verify
from tests.factories_web import make_course, make_platform, token_for

from .conftest import PageClient

GOOD = {"name": "Universidad de Ejemplo", "url": "https://uni.example/", "email": "badges@uni.example",
        "description": "A public university."}
HOSTILE_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
               b'<script>alert(1)</script><circle cx="32" cy="32" r="30"/></svg>')
EDITOR_SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
              b'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" width="64" height="64" '
              b'inkscape:version="1.3"><metadata><x/></metadata><circle cx="32" cy="32" r="30" fill="#036"/></svg>')


@pytest.fixture
def app_settings(app_settings):
    return {**app_settings, "issuer_name": "Badge Tool", "issuer_url": "https://tool.example/",
            "issuer_email": "tool@tool.example"}


def _png(size: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (size, size), (10, 80, 140, 255)).save(out, format="PNG")
    return out.getvalue()


def _sessions(app):
    return app.extensions["lti_badger"].sessions()


def _file(data: bytes, name: str):
    return (io.BytesIO(data), name)


def _record(app, issuer="https://lms.example"):
    with _sessions(app) as s:
        r = s.scalar(select(IssuerProfileRecord).where(IssuerProfileRecord.platform_issuer == issuer))
        return None if r is None else (r.name, r.url, r.email, r.description, r.image_type, r.image)


def _audit_count(app) -> int:
    with _sessions(app) as s:
        return s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "issuer_profile.edit"))


def _save(admin, platform_id, data, **kw):
    return admin.post(f"/admin/platforms/{platform_id}/issuer", data, content_type="multipart/form-data", **kw)


def _issue(app, as_person, world) -> tuple[dict, int]:
    """An instructor of `world` awards a badge by hand; the credential it issued and the badge's id."""
    with _sessions(app) as s:
        ach, _ = make_achievement(s, world.course, name=f"Badge of {world.course.title}")
        s.commit()
        ach_id = ach.id
    teacher = as_person(world, world.instructor, "instructor")
    learner = world.learners[0]
    assert teacher.post("/course/awards", {"person_id": learner.id, "achievement_id": ach_id,
                                           "reason": "oral exam"}).status_code == 303
    with _sessions(app) as s:
        award = s.scalar(select(Award).where(Award.achievement_id == ach_id))
        return json.loads(s.scalar(select(Credential.document).where(Credential.award_id == award.id))), ach_id


def _lms(app, issuer, context_id, client_id="tool-1"):
    """A platform (client registration) of LMS `issuer` with one course."""
    with _sessions(app) as s:
        world = make_course(s, make_platform(s, issuer, client_id), context_id, f"Course {context_id}", learners=1)
        s.commit()
        return world


def test_edited_profile_is_in_the_next_credential_of_that_lms_only(app, courses, as_person, client, tmp_path):
    a, _ = courses
    services = app.extensions["lti_badger"]
    services.keys.ensure(KIND_ISSUER)
    other = _lms(app, "https://other-lms.example", "X")
    sibling = _lms(app, "https://lms.example", "S", client_id="tool-2")  # another registration of LMS A
    before, _ = _issue(app, as_person, a)
    assert before["issuer"]["name"] == "Badge Tool" and before["issuer"]["url"] == "https://tool.example/"

    admin = as_person(a, a.admin, "admin")
    page = admin.get("/admin/issuer").get_data(as_text=True)
    assert 'name="email"' in page and "Default: tool@tool.example" in page and "did:web:" in page
    saved = _save(admin, a.platform.id, {**GOOD, "image_file": _file(_png(), "logo.png")})
    assert saved.status_code == 303
    with _sessions(app) as s:
        record = s.scalars(select(IssuerProfileRecord)).one()
        public_id = record.public_id
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "issuer_profile.edit")).one()
    assert event.platform_id == a.platform.id and event.actor_id == str(a.admin.id) and event.before is None
    assert event.after["name"] == GOOD["name"] and event.after["image"]["type"] == "image/png"

    preview = admin.get("/admin/issuer?saved=1").get_data(as_text=True)
    assert "Saved." in preview and f"/issuers/{public_id}/image" in preview and "A public university." in preview

    image_url = f"{services.settings.public_base_url}/issuers/{public_id}/image"
    for world in (a, sibling):
        issuer = _issue(app, as_person, world)[0]["issuer"]
        assert issuer == {"id": before["issuer"]["id"], "type": ["Profile"], "name": GOOD["name"], "url": GOOD["url"],
                          "email": GOOD["email"], "description": GOOD["description"],
                          "image": {"id": image_url, "type": "Image"}}
    document, ach_id = _issue(app, as_person, a)
    assert document["credentialSubject"]["achievement"]["creator"]["name"] == GOOD["name"]
    assert schema_errors(document) == []
    badge_page = as_person(a, a.learners[0], "learner").get(f"/me/badges/{ach_id}").get_data(as_text=True)
    assert "organizationName=Universidad+de+Ejemplo" in badge_page  # the LinkedIn link names the same issuer
    with _sessions(app) as s:
        ok, line = ob3_verify(document, docs_map(s, Issuer(IssuerProfile.from_settings(services.settings), services.keys),
                                                 document), tmp_path,
                              now=datetime.now(timezone.utc) + timedelta(minutes=1))
    assert ok, line

    served = client.get(image_url.removeprefix(services.settings.public_base_url))
    assert served.status_code == 200 and served.mimetype == "image/png" and served.data.startswith(b"\x89PNG")
    assert "default-src 'none'" in served.headers["Content-Security-Policy"]
    assert client.get("/issuers/no-such-profile/image").status_code == 404

    elsewhere = _issue(app, as_person, other)[0]["issuer"]
    assert elsewhere["name"] == "Badge Tool" and "image" not in elsewhere and "description" not in elsewhere
    # already-issued credentials are signed and stay as they were
    with _sessions(app) as s:
        first = s.scalars(select(Credential).order_by(Credential.issued_at, Credential.id)).first()
        assert json.loads(first.document)["issuer"]["name"] == "Badge Tool"


def test_bad_input_is_refused_and_changes_nothing(app, courses, as_person):
    a, _ = courses
    admin = as_person(a, a.admin, "admin")
    assert _save(admin, a.platform.id, GOOD).status_code == 303
    stored, audits = _record(app), _audit_count(app)
    refused = [
        ({"email": "not-an-address"}, 400, "is not an e-mail address"),
        ({"email": "a@b"}, 400, "is not an e-mail address"),
        ({"url": "ftp://uni.example/"}, 400, "must be an absolute http(s) URL"),
        ({"url": "javascript:alert(1)"}, 400, "must be an absolute http(s) URL"),
        ({"name": "   "}, 400, "the issuer needs a name"),
        ({"name": "x" * 201}, 400, "longer than 200 characters"),
        ({"image_file": _file(HOSTILE_SVG, "logo.svg")}, 400, "contains a script"),
        ({"image_file": _file(b"GIF89a....", "logo.gif")}, 400, "must be a PNG or an SVG"),
        ({"image_file": _file(b"\x89PNG\r\n\x1a\n" + b"0" * (1024 * 1024), "big.png")}, 413, "larger than 1024 KiB"),
        ({"image_file": _file(_png(), "logo.png"), "remove_image": "yes"}, 400, "not both"),
    ]
    for change, status, message in refused:
        response = _save(admin, a.platform.id, {**GOOD, **change, "description": "changed"})
        text = response.get_data(as_text=True)
        assert response.status_code == status, (change, text[:300])
        assert message in text and 'role="alert"' in text, change
        assert 'changed</textarea>' in text  # the form keeps what was typed
    no_csrf = _save(admin, a.platform.id, {**GOOD, "name": "Sneaky"}, csrf=False)
    assert no_csrf.status_code == 400
    assert _record(app) == stored and _audit_count(app) == audits


def test_only_the_lms_admin_may_change_it(app, courses, as_person):
    a, _ = courses
    other = _lms(app, "https://other-lms.example", "X")
    intruder = as_person(other, other.admin, "admin")
    assert _save(intruder, a.platform.id, GOOD).status_code == 404
    for person, role in ((a.instructor, "instructor"), (a.learners[0], "learner")):
        client = as_person(a, person, role)
        assert client.get("/admin/issuer").status_code == 403
        assert _save(client, a.platform.id, GOOD).status_code == 403
    assert _record(app) is None and _audit_count(app) == 0
    # the other LMS's admin edits their own profile, which is not A's
    assert _save(intruder, other.platform.id, {**GOOD, "name": "Other College"}).status_code == 303
    assert _record(app) is None and _record(app, "https://other-lms.example")[0] == "Other College"


def test_svg_is_sanitised_then_removed(app, courses, as_person, client):
    a, _ = courses
    admin = as_person(a, a.admin, "admin")
    assert _save(admin, a.platform.id, {**GOOD, "image_file": _file(EDITOR_SVG, "logo.svg")}).status_code == 303
    name, *_rest, image_type, image = _record(app)
    assert image_type == "image/svg+xml" and b"<circle" in image and b"inkscape" not in image and b"metadata" not in image
    with _sessions(app) as s:
        public_id = s.scalars(select(IssuerProfileRecord.public_id)).one()
    served = client.get(f"/issuers/{public_id}/image")
    assert served.mimetype == "image/svg+xml" and served.data == image

    # a save without a file keeps the image; "remove" drops it and credentials fall back
    assert _save(admin, a.platform.id, {**GOOD, "name": "Renamed"}).status_code == 303
    assert _record(app)[0] == "Renamed" and _record(app)[5] == image
    assert _save(admin, a.platform.id, {**GOOD, "remove_image": "yes"}).status_code == 303
    assert _record(app)[4:] == (None, None)
    assert client.get(f"/issuers/{public_id}/image").status_code == 404
    with _sessions(app) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "issuer_profile.edit")
                           .order_by(AuditEvent.id)).all()
    assert [e.after["image"] is None for e in events] == [False, False, True]
    assert events[-1].before["image"]["type"] == "image/svg+xml"


def test_spanish_page(app, courses):
    a, _ = courses
    admin = PageClient(app, app.test_client(), token_for(app, a, a.admin, "admin", "es"))
    page = admin.get("/admin/issuer").get_data(as_text=True)
    assert "Cómo aparece el emisor en una credencial" in page and "Guardar el perfil del emisor" in page


def test_the_profile_goes_with_the_last_registration_of_the_lms(app, courses, as_person):
    a, _ = courses
    sibling = _lms(app, "https://lms.example", "S", client_id="tool-2")
    assert _save(as_person(a, a.admin, "admin"), a.platform.id, GOOD).status_code == 303
    assert as_person(a, a.admin, "admin").post(f"/admin/platforms/{a.platform.id}/remove",
                                               {"confirm": "yes"}).status_code == 200
    assert _record(app)[0] == GOOD["name"]  # the LMS's other client registration still uses it
    assert as_person(sibling, sibling.admin, "admin").post(f"/admin/platforms/{sibling.platform.id}/remove",
                                                           {"confirm": "yes"}).status_code == 200
    assert _record(app) is None
