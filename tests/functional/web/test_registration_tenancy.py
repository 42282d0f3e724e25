"""Issue 12, finding 3: the tenant is the registration (issuer + client id), not the issuer.
Two Canvas cloud institutions share the issuer `https://canvas.instructure.com` and differ by
client id; each one's admin and instructor, over HTTP, can neither see nor change the other's
issuer profile, courses, badges, deliveries, audit or settings (platform, deployments,
progress sources)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lti_badger.awards.services import award_from_rule
from lti_badger.deliveries.notify import DEST_DIGEST, queue_digests
from lti_badger.models import Award, Delivery, IssuerProfileRecord, Person, Platform
from lti_badger.progress import sources as progress_sources
from tests.factories_awards import make_achievement
from tests.factories_web import make_course, make_platform

from .test_admin_issuer import GOOD, _issue, _save

CANVAS = "https://canvas.instructure.com"


@pytest.fixture
def institutions(app):
    """Two registrations of Canvas cloud (same issuer, different client ids), one course each."""
    with app.extensions["lti_badger"].sessions() as s:
        a = make_course(s, make_platform(s, CANVAS, "10000000000001"), "A", "Course A", learners=1)
        b = make_course(s, make_platform(s, CANVAS, "10000000000002"), "B", "Course B", learners=1)
        s.commit()
    return a, b


def _profile_names(app) -> dict[str, str]:
    with app.extensions["lti_badger"].sessions() as s:
        rows = s.execute(select(Platform.client_id, IssuerProfileRecord.name)
                         .join(Platform, Platform.id == IssuerProfileRecord.platform_id)).all()
    return dict(rows)


def test_two_canvas_registrations_with_one_issuer_are_two_tenants(app, institutions, as_person):
    a, b = institutions
    admin_a, admin_b = as_person(a, a.admin, "admin"), as_person(b, b.admin, "admin")
    teacher_b = as_person(b, b.instructor, "instructor")

    # issuer profile: A's is A's; B sees the default and cannot write A's
    assert _save(admin_a, a.platform.id, GOOD).status_code == 303
    assert GOOD["name"] not in admin_b.get("/admin/issuer").get_data(as_text=True)
    assert _save(admin_b, a.platform.id, {**GOOD, "name": "Hijacked"}).status_code == 404
    assert _save(admin_b, b.platform.id, {**GOOD, "name": "Second University"}).status_code == 303
    assert _profile_names(app) == {"10000000000001": GOOD["name"], "10000000000002": "Second University"}
    document, ach_id = _issue(app, as_person, a)
    assert document["issuer"]["name"] == GOOD["name"]
    assert _issue(app, as_person, b)[0]["issuer"]["name"] == "Second University"

    # courses and badges of A are 404 to B's instructor and admin
    for intruder in (teacher_b, admin_b):
        assert intruder.get(f"/course/badges/{ach_id}/edit").status_code == 404
        assert intruder.get(f"/course/badges/{ach_id}/criteria").status_code == 404
        assert intruder.get(f"/course/earners/{a.learners[0].id}/{ach_id}").status_code == 404
        assert "Badge of Course A" not in intruder.get("/course/badges").get_data(as_text=True)
    with app.extensions["lti_badger"].sessions() as s:
        award_id = s.scalar(select(Award.id).where(Award.achievement_id == ach_id))
        s.add(Delivery(award_id=award_id, destination="webhook", action="award", attempts=1, last_error="boom"))
        s.commit()
        delivery_id = s.scalar(select(Delivery.id).where(Delivery.award_id == award_id))
    assert teacher_b.post(f"/course/awards/{award_id}/revoke", {"reason": "x"}).status_code == 404

    # deliveries: listed for A only; B cannot retry A's
    assert f"/admin/deliveries/{delivery_id}/retry" in admin_a.get("/admin/deliveries?status=all").get_data(as_text=True)
    assert f"/admin/deliveries/{delivery_id}/retry" not in admin_b.get("/admin/deliveries?status=all").get_data(
        as_text=True)
    assert admin_b.post(f"/admin/deliveries/{delivery_id}/retry", {"replay": "yes"}).status_code == 404

    # audit: A's events (profile edit, award) are not in B's log, even filtered by A's course
    with app.extensions["lti_badger"].sessions() as s:
        public_ids = dict(s.execute(select(Platform.client_id, IssuerProfileRecord.public_id)
                                    .join(Platform, Platform.id == IssuerProfileRecord.platform_id)).all())
    audit_b = admin_b.get("/admin/audit").get_data(as_text=True)
    assert public_ids["10000000000002"] in audit_b and public_ids["10000000000001"] not in audit_b
    assert audit_b.count('<th scope="row">Badge awarded</th>') == 1  # B's own award, not A's
    assert "No events match." in admin_b.get(f"/admin/audit?course={a.course.id}").get_data(as_text=True)
    assert public_ids["10000000000001"] in admin_a.get("/admin/audit").get_data(as_text=True)

    # settings: platform, deployments, progress sources
    with app.extensions["lti_badger"].sessions() as s:
        source = progress_sources.add_source(s, a.platform.id, progress_sources.KIND_XAPI, name="A's LRS",
                                             now=datetime.now(timezone.utc))
        s.commit()
    assert "A&#39;s LRS" not in admin_b.get("/admin/sources").get_data(as_text=True)
    assert "A&#39;s LRS" in admin_a.get("/admin/sources").get_data(as_text=True)
    assert admin_b.get(f"/admin/platforms/{a.platform.id}").status_code == 404
    assert admin_b.post(f"/admin/platforms/{a.platform.id}/edit", {"name": "x"}).status_code == 404
    assert admin_b.post(f"/admin/platforms/{a.platform.id}/deployments",
                        {"action": "add", "deployment_id": "evil"}).status_code == 404
    assert admin_b.post(f"/admin/platforms/{a.platform.id}/remove", {"confirm": "yes"}).status_code == 404
    with app.extensions["lti_badger"].sessions() as s:
        platform_a = s.get(Platform, a.platform.id)
        assert platform_a.name == "Example LMS" and [d.deployment_id for d in platform_a.deployments] == ["d1"]
        assert s.get(type(source.source), source.source.id).platform_id == a.platform.id
    assert _profile_names(app)["10000000000001"] == GOOD["name"]



def test_each_registrations_admin_sees_its_own_teachers_daily_digests(app, institutions, as_person):
    """A digest has no award: the deliveries page finds it through its teacher's registration."""
    a, b = institutions
    now = datetime.now(timezone.utc)
    with app.extensions["lti_badger"].sessions() as s:
        for world in (a, b):
            achievement, version = make_achievement(s, world.course, name=f"Badge of {world.course.title}")
            award_from_rule(s, achievement, version, world.learners[0].id, {"met": True}, now - timedelta(days=1))
            s.get(Person, world.instructor.id).digest_daily = True
        assert queue_digests(s, now) == 2
        s.commit()
        digest_of = {person_id: delivery_id for delivery_id, person_id in s.execute(
            select(Delivery.id, Delivery.payload["person_id"].as_integer()).where(Delivery.destination == DEST_DIGEST))}
    digest_a, digest_b = digest_of[a.instructor.id], digest_of[b.instructor.id]
    admin_a, admin_b = as_person(a, a.admin, "admin"), as_person(b, b.admin, "admin")

    page_a = admin_a.get("/admin/deliveries?status=all").get_data(as_text=True)
    assert "Daily digest for Iris Instructor A" in page_a and f"/admin/deliveries/{digest_a}/retry" in page_a
    assert "Iris Instructor B" not in page_a and f"/admin/deliveries/{digest_b}/retry" not in page_a
    assert "Daily digest for Iris Instructor B" in admin_b.get("/admin/deliveries?status=pending").get_data(as_text=True)
    assert admin_b.post(f"/admin/deliveries/{digest_a}/retry").status_code == 404
    assert admin_a.post(f"/admin/deliveries/{digest_a}/retry").status_code == 303
