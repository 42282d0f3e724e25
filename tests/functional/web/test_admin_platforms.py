"""Admin platform management over HTTP: edit name and URLs, add another client registration of
the same LMS (the `lti-badger platform add` fields and validation, errors inline, 4xx, nothing
stored), remove with confirmation, deployments, the dynamic-registration status; an admin
launched from platform P gets 404 for any other platform, learners 403, no CSRF token 400."""

from __future__ import annotations

from sqlalchemy import func, select

from lti_badger.models import AuditEvent, Course, Deployment, Platform
from tests.factories_web import make_course, make_platform

GOOD = {"name": "Moodle of the faculty", "auth_login_url": "https://lms.example/mod/lti/auth.php",
        "auth_token_url": "https://lms.example/mod/lti/token.php", "key_set_url": "https://lms.example/mod/lti/certs.php",
        "auth_audience": ""}


def _sessions(app):
    return app.extensions["lti_badger"].sessions()


def _other_platform(app) -> int:
    with _sessions(app) as s:
        other = make_platform(s, "https://other-lms.example")
        make_course(s, other, "X", "Other course", learners=1)
        s.commit()
        return other.id


def _snapshot(app, platform_id):
    with _sessions(app) as s:
        p = s.get(Platform, platform_id)
        return None if p is None else (p.name, p.auth_login_url, p.auth_token_url, p.key_set_url, p.auth_audience,
                                       [d.deployment_id for d in p.deployments])


def test_edit_name_and_urls_with_errors_inline(app, courses, as_person):
    a, _ = courses
    admin = as_person(a, a.admin, "admin")
    pid = a.platform.id
    page = admin.get(f"/admin/platforms/{pid}").get_data(as_text=True)
    assert 'name="key_set_url"' in page and "Not registered dynamically" in page

    before = _snapshot(app, pid)
    bad = admin.post(f"/admin/platforms/{pid}/edit", {**GOOD, "key_set_url": "ftp://lms.example/certs"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "key set URL must be an absolute http(s) URL" in text
    assert 'role="alert"' in text and 'value="Moodle of the faculty"' in text  # the form keeps what was typed
    assert admin.post(f"/admin/platforms/{pid}/edit", {**GOOD, "name": "  "}).status_code == 400
    assert admin.post(f"/admin/platforms/{pid}/edit", {**GOOD, "auth_login_url": "https://x.example/#frag"}).status_code == 400
    assert admin.post(f"/admin/platforms/{pid}/edit", GOOD, csrf=False).status_code == 400
    assert _snapshot(app, pid) == before

    saved = admin.post(f"/admin/platforms/{pid}/edit", {**GOOD, "auth_audience": "https://lms.example/aud"})
    assert saved.status_code == 303
    assert _snapshot(app, pid) == ("Moodle of the faculty", GOOD["auth_login_url"], GOOD["auth_token_url"],
                                   GOOD["key_set_url"], "https://lms.example/aud", ["d1"])
    assert "Saved." in admin.get("/admin/platform?saved=1").get_data(as_text=True)
    with _sessions(app) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "platform.edit")).one()
        assert event.platform_id == pid and event.actor_id == str(a.admin.id)
        assert event.before["name"] == "Example LMS" and event.after["name"] == "Moodle of the faculty"


def test_add_a_client_registration_of_the_same_lms(app, courses, as_person):
    a, _ = courses
    admin = as_person(a, a.admin, "admin")
    assert 'value="https://lms.example"' in admin.get("/admin/platforms/new").get_data(as_text=True)
    form = {"issuer": "https://lms.example", "client_id": "tool-2", "auth_login_url": "https://lms.example/auth",
            "auth_token_url": "https://lms.example/token", "key_set_url": "https://lms.example/jwks",
            "deployment_ids": "d7\nd8, d9", "name": "", "auth_audience": ""}

    def count():
        with _sessions(app) as s:
            return s.scalar(select(func.count(Platform.id))), s.scalar(select(func.count(Deployment.id)))

    start = count()
    refused = [
        ({"key_set_url": "javascript:alert(1)"}, 400, "key set URL must be an absolute http(s) URL"),
        ({"client_id": "  "}, 400, "client_id must be 1 to 255 characters"),
        ({"deployment_ids": " \n "}, 400, "at least one deployment id"),
        ({"deployment_ids": "x" * 256}, 400, "a deployment id must be 1 to 255 characters"),
        ({"client_id": "tool-1"}, 409, "already registered"),
        ({"issuer": "https://other-lms.example"}, 403, "your own LMS only"),
        ({"issuer": "not a url"}, 400, "issuer must be an absolute http(s) URL"),
    ]
    for change, status, message in refused:
        response = admin.post("/admin/platforms/new", {**form, **change})
        text = response.get_data(as_text=True)
        assert response.status_code == status, (change, text[:300])
        assert message in text and 'id="form-error"' in text and 'name="client_id"' in text, change
        assert count() == start, change
    assert admin.post("/admin/platforms/new", form, csrf=False).status_code == 400
    assert count() == start

    added = admin.post("/admin/platforms/new", form)
    assert added.status_code == 200 and "added" in added.get_data(as_text=True)
    with _sessions(app) as s:
        new = s.scalars(select(Platform).where(Platform.client_id == "tool-2")).one()
        assert [d.deployment_id for d in new.deployments] == ["d7", "d8", "d9"]
        assert new.name == "lms.example" and new.registered_via == "manual" and new.auth_audience is None
        new_id = new.id
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "platform.add")).one().subject_id == str(new_id)
    # Launched from the first platform, the admin manages that one only.
    assert admin.get(f"/admin/platforms/{new_id}").status_code == 404


def test_remove_needs_confirmation_and_deletes_the_platform(app, courses, as_person):
    a, _ = courses
    admin = as_person(a, a.admin, "admin")
    pid = a.platform.id
    confirm = admin.get(f"/admin/platforms/{pid}/remove")
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "2 courses" in text and 'name="confirm"' in text
    unconfirmed = admin.post(f"/admin/platforms/{pid}/remove", {"reason": "moving"})
    assert unconfirmed.status_code == 400 and "tick the box" in unconfirmed.get_data(as_text=True)
    assert admin.post(f"/admin/platforms/{pid}/remove", {"confirm": "yes"}, csrf=False).status_code == 400
    assert _snapshot(app, pid) is not None

    gone = admin.post(f"/admin/platforms/{pid}/remove", {"confirm": "yes", "reason": "moving to a new LMS"})
    assert gone.status_code == 200 and "was removed" in gone.get_data(as_text=True)
    with _sessions(app) as s:
        assert s.get(Platform, pid) is None
        assert s.scalar(select(func.count(Course.id)).where(Course.platform_id == pid)) == 0
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "platform.remove")).one()
        assert event.reason == "moving to a new LMS" and event.subject_id == str(pid)
    assert admin.get("/admin/platform").status_code == 404


def test_deployments_by_platform_id(app, courses, as_person):
    a, _ = courses
    admin = as_person(a, a.admin, "admin")
    pid = a.platform.id
    url = f"/admin/platforms/{pid}/deployments"
    assert admin.post(url, {"action": "add", "deployment_id": " d2 "}).status_code == 303
    assert admin.post(url, {"action": "add", "deployment_id": ""}).status_code == 400
    assert admin.post(url, {"action": "remove", "deployment_id": "nope"}).status_code == 404
    assert admin.post(url, {"action": "remove", "deployment_id": "d1"}, csrf=False).status_code == 400
    assert admin.post(url, {"action": "remove", "deployment_id": "d1"}).status_code == 303
    assert _snapshot(app, pid)[-1] == ["d2"]
    with _sessions(app) as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.platform_id == pid).order_by(AuditEvent.id)).all()
    assert actions == ["platform.deployment_add", "platform.deployment_remove"]


def _deployment_names(app, platform_id):
    with _sessions(app) as s:
        return {d.deployment_id: d.name for d in s.get(Platform, platform_id).deployments}


def test_deployments_have_names_shown_instead_of_ids(app, courses, as_person):
    """An admin names deployments (on adding, or later); the page leads with the name, the
    opaque id beside it; a name too long or an unknown deployment changes nothing."""
    a, _ = courses
    admin = as_person(a, a.admin, "admin")
    pid = a.platform.id
    url = f"/admin/platforms/{pid}/deployments"
    assert "Unnamed deployment" in admin.get("/admin/platform").get_data(as_text=True)
    added = admin.post(url, {"action": "add", "deployment_id": "d2", "name": "  Faculty of   Law "})
    assert added.status_code == 303 and "saved=1" in added.headers["Location"]
    assert admin.post(url, {"action": "rename", "deployment_id": "d1", "name": "Science <faculty>"}).status_code == 303
    assert _deployment_names(app, pid) == {"d1": "Science <faculty>", "d2": "Faculty of Law"}
    before = _deployment_names(app, pid)
    assert admin.post(url, {"action": "rename", "deployment_id": "d1", "name": "x" * 201}).status_code == 400
    assert admin.post(url, {"action": "rename", "deployment_id": "nope", "name": "X"}).status_code == 404
    assert admin.post(url, {"action": "add", "deployment_id": "d3", "name": "y" * 201}).status_code == 400
    assert admin.post(url, {"action": "rename", "deployment_id": "d1", "name": "Z"}, csrf=False).status_code == 400
    assert _deployment_names(app, pid) == before
    page = admin.get("/admin/platform?saved=1").get_data(as_text=True)
    assert "Saved." in page and "Unnamed deployment" not in page
    assert '<th scope="row">Science &lt;faculty&gt;</th>' in page and "<code>d1</code>" in page
    assert admin.post(url, {"action": "rename", "deployment_id": "d2", "name": " "}).status_code == 303
    assert _deployment_names(app, pid)["d2"] is None
    with _sessions(app) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "platform.deployment_rename")
                          .order_by(AuditEvent.id)).first()
    assert event.before["deployment_names"] == {"d2": "Faculty of Law"}
    assert event.after["deployment_names"] == {"d1": "Science <faculty>", "d2": "Faculty of Law"}


def test_other_platforms_are_404_and_untouched(app, courses, as_person):
    a, _ = courses
    other = _other_platform(app)
    before = _snapshot(app, other)
    admin = as_person(a, a.admin, "admin")
    assert admin.get(f"/admin/platforms/{other}").status_code == 404
    assert admin.get(f"/admin/platforms/{other}/remove").status_code == 404
    for path, data in ((f"/admin/platforms/{other}/edit", GOOD),
                       (f"/admin/platforms/{other}/remove", {"confirm": "yes"}),
                       (f"/admin/platforms/{other}/deployments", {"action": "add", "deployment_id": "mine"}),
                       (f"/admin/platforms/{other}/deployments", {"action": "remove", "deployment_id": "d1"}),
                       (f"/admin/platforms/{other}/deployments", {"action": "rename", "deployment_id": "d1", "name": "X"})):
        assert admin.post(path, data).status_code == 404, path
    assert _snapshot(app, other) == before
    page = admin.get("/admin/platform").get_data(as_text=True)
    assert "other-lms.example" not in page


def test_learners_and_instructors_get_403(app, courses, as_person):
    a, _ = courses
    pid = a.platform.id
    for person, role in ((a.instructor, "instructor"), (a.learners[0], "learner")):
        client = as_person(a, person, role)
        for path in (f"/admin/platforms/{pid}", "/admin/platforms/new", f"/admin/platforms/{pid}/remove"):
            assert client.get(path).status_code == 403, (role, path)
        for path, data in ((f"/admin/platforms/{pid}/edit", GOOD), (f"/admin/platforms/{pid}/remove", {"confirm": "yes"}),
                           ("/admin/platforms/new", {"issuer": "https://lms.example"})):
            assert client.post(path, data).status_code == 403, (role, path)
    assert _snapshot(app, pid) is not None


def test_dynamic_registration_status_is_shown(app, courses, as_person):
    a, _ = courses
    with _sessions(app) as s:
        p = s.get(Platform, a.platform.id)
        p.registered_via = "dynamic"
        p.registration = {
            "openid_configuration": {
                "issuer": "https://lms.example", "registration_endpoint": "https://lms.example/register",
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {"product_family_code": "moodle",
                                                                              "version": "4.3"}},
            "client": {"client_id": "tool-1", "scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                       "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": "d1"}}}
        s.commit()
    page = as_person(a, a.admin, "admin").get("/admin/platform").get_data(as_text=True)
    assert "Registered dynamically" in page and "Not registered dynamically" not in page
    assert "https://lms.example/register" in page and "moodle 4.3" in page and "lti-ags/scope/score" in page


def test_other_platform_404_over_real_http(app, courses, as_person):
    """The same refusals through a real socket, with and without the CSRF token."""
    import requests

    from tests.conftest import LiveServer

    a, _ = courses
    other = _other_platform(app)
    admin = as_person(a, a.admin, "admin")
    server = LiveServer(app).start()
    try:
        http = requests.Session()
        token = {"X-Launch-Token": admin.token}
        assert http.get(f"{server.url}/admin/platforms/{other}", headers=token).status_code == 404
        assert http.get(f"{server.url}/admin/platforms/{a.platform.id}", headers=token).status_code == 200
        for path, data in ((f"/admin/platforms/{other}/edit", GOOD), (f"/admin/platforms/{other}/remove", {"confirm": "yes"})):
            body = {**data, "lt": admin.token, "csrf_token": admin.csrf()}
            assert http.post(server.url + path, data=body, allow_redirects=False).status_code == 404, path
        own = {**GOOD, "lt": admin.token}
        assert http.post(f"{server.url}/admin/platforms/{a.platform.id}/edit", data=own,
                         allow_redirects=False).status_code == 400  # no CSRF token
    finally:
        server.stop()
    assert _snapshot(app, other)[0] == "Example LMS" and _snapshot(app, a.platform.id)[0] == "Example LMS"
