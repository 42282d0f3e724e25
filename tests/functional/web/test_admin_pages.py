"""Admin pages over HTTP: only the admin role gets in; an admin sees and changes their own
platform only; keys are read only; deployments are added and removed; sources are created with a
secret shown once; the audit log filters."""

from __future__ import annotations

from sqlalchemy import select

from lti_badger.models import Deployment, Platform, ProgressSource
from tests.factories_web import make_course, make_platform

PAGES = ["/admin/", "/admin/health.json", "/admin/platform", "/admin/sources", "/admin/issuer", "/admin/keys",
         "/admin/deliveries", "/admin/deliveries?status=all", "/admin/audit", "/admin/audit?since=2020-01-01&until=2030-01-01"]


def test_only_admins_get_in(courses, as_person):
    a, _ = courses
    for person, role in ((a.instructor, "instructor"), (a.learners[0], "learner")):
        client = as_person(a, person, role)
        for path in PAGES:
            assert client.get(path).status_code == 403, (role, path)
        assert client.post("/admin/keys", {"kind": "lti"}).status_code == 405  # no such route: keys are the CLI's


def test_admin_pages_render(app, courses, as_person):
    a, _ = courses
    app.extensions["lti_badger"].keys.ensure("lti")
    app.extensions["lti_badger"].keys.ensure("issuer")
    admin = as_person(a, a.admin, "admin")
    for path in PAGES:
        response = admin.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:500])
    assert admin.get("/admin/health.json").get_json()["ok"] is True
    assert admin.get("/admin/audit?since=yesterday").status_code == 400


def test_keys_are_read_only_and_deployments_change(app, courses, as_person):
    a, _ = courses
    keys = app.extensions["lti_badger"].keys
    old = keys.ensure("issuer").kid
    admin = as_person(a, a.admin, "admin")
    assert admin.post("/admin/keys", {"kind": "issuer"}).status_code == 405  # the operator's, from the CLI
    assert keys.current("issuer").kid == old and len(keys.all("issuer")) == 1

    assert admin.post("/admin/platform/deployments", {"action": "add", "deployment_id": "d2"}).status_code == 303
    assert admin.post("/admin/platform/deployments", {"action": "remove", "deployment_id": "d1"}).status_code == 303
    assert admin.post("/admin/platform/deployments", {"action": "remove", "deployment_id": "d2"}).status_code == 400
    with app.extensions["lti_badger"].sessions() as s:
        assert s.scalars(select(Deployment.deployment_id).where(Deployment.platform_id == a.platform.id)).all() == ["d2"]


def test_sources_secret_shown_once_and_scoped_to_the_platform(app, courses, as_person):
    a, _ = courses
    with app.extensions["lti_badger"].sessions() as s:
        other = make_platform(s, "https://other-lms.example")
        make_course(s, other, "X", "Other course", learners=0)
        s.commit()
        other_id = other.id
    admin = as_person(a, a.admin, "admin")
    created = admin.post("/admin/sources", {"kind": "xapi", "name": "lrs"})
    text = created.get_data(as_text=True)
    assert created.status_code == 200 and "the secret is not shown again" in text
    with app.extensions["lti_badger"].sessions() as s:
        source = s.scalars(select(ProgressSource)).one()
        assert source.platform_id == a.platform.id and source.secret_hash
    again = admin.get("/admin/sources").get_data(as_text=True)
    assert "lrs" in again and "the secret is not shown again" not in again
    with app.extensions["lti_badger"].sessions() as s:
        assert s.get(Platform, other_id) is not None
