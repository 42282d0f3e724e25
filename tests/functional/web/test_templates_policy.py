"""Issue 14 B: criteria templates and policy. An LMS admin publishes a template with locked
fields; an instructor attaches it in one step, mapping its roles (the linter says what does
not map); a locked field cannot change through the designer or the JSON API; with approval on,
an instructor's badge awards nobody until an admin approves it (both audited); nothing of one
registration is reachable from another."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from lti_badger.criteria.lint import lint
from lti_badger.models import (Achievement, AchievementVersion, ApprovalRequest, AuditEvent, Award, CriteriaTemplate,
                               GroupDefault, TemplateAttachment)
from lti_badger.progress.services import ProgressEventIn, ingest
from tests.factories_web import make_course, make_platform, token_for
from tests.functional.web.conftest import PageClient


@pytest.fixture
def w(app):
    """Course A and B on one registration, course X on another; clients for their people."""
    sessions = app.extensions["lti_badger"].sessions
    with sessions() as s:
        platform = make_platform(s)
        a = make_course(s, platform, "A", "Course A", learners=2)
        b = make_course(s, platform, "B", "Course B", learners=1)
        x = make_course(s, make_platform(s, "https://other.example", "tool-2"), "X", "Course X", learners=1)
        s.commit()
    client = lambda world, person, role: PageClient(app, app.test_client(), token_for(app, world, person, role))  # noqa: E731
    return {"a": a, "b": b, "x": x, "admin": client(a, a.admin, "admin"), "teacher": client(a, a.instructor, "instructor"),
            "teacher_b": client(b, b.instructor, "instructor"), "other_admin": client(x, x.admin, "admin"),
            "other_teacher": client(x, x.instructor, "instructor")}


def _count(app, model) -> int:
    with app.extensions["lti_badger"].sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def _publish(w, **extra) -> int:
    form = {"name": "Institution completion", "description": "Every module and 60 %.", "preset": "course_completion",
            "achievement_type": "MicroCredential", "validity_days": "365", "eqf_level": "5",
            "quality_assurance": "internal", "lock": ["expiry", "level"], **extra}
    response = w["admin"].post("/admin/templates", form)
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return int(response.headers["Location"].split("/admin/templates/")[1].split("?")[0])


def _attach(w, template_id: int, modules: list[str], name: str = "Completed Course A") -> int:
    response = w["teacher"].post(f"/course/templates/{template_id}/attach",
                                 {"name": name, "role-modules": modules, "action": "save"})
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return int(response.headers["Location"].split("saved=")[1].split("&")[0])


def test_instructor_attaches_a_template_in_one_step_and_the_linter_says_what_does_not_map(app, w):
    template_id = _publish(w)
    badges = w["teacher"].get("/course/badges").get_data(as_text=True)
    assert "Start from your institution" in badges and "Institution completion" in badges
    attach = f"/course/templates/{template_id}/attach"
    page = w["teacher"].get(attach).get_data(as_text=True)
    assert 'name="role-modules"' in page and "Module 1" in page
    # Checking without mapping the role: the linter names it, nothing is created.
    checked = w["teacher"].post(attach, {"action": "check"})
    assert checked.status_code == 200
    assert "role &#39;Every module completed&#39; is not mapped to a module of this course" in checked.get_data(as_text=True)
    # An id that is not a module of this course (B's module, an activity) is a 400 naming it.
    for wrong in ("B-m1", "A-m1a1"):
        refused = w["teacher"].post(attach, {"role-modules": ["A-m1", wrong], "action": "save"})
        assert refused.status_code == 400 and f"{wrong} is not a module of this course" in refused.get_data(as_text=True)
    assert _count(app, Achievement) == 0 and _count(app, TemplateAttachment) == 0
    checked = w["teacher"].post(attach, {"role-modules": ["A-m1", "A-m2"], "action": "check"})
    assert "is not mapped" not in checked.get_data(as_text=True)
    achievement_id = _attach(w, template_id, ["A-m1", "A-m2"])
    audit = w["admin"].get("/admin/audit").get_data(as_text=True)
    assert "Criteria template published" in audit and "criteria template: Institution completion" in audit
    with app.extensions["lti_badger"].sessions() as s:
        version = s.get(Achievement, achievement_id).current_version
        assert version.name == "Completed Course A" and version.achievement_type == "MicroCredential"
        assert version.validity_days == 365 and version.details["eqf_level"] == 5
        assert version.rule == {"type": "all", "rules": [
            {"type": "all", "label": "Every module completed", "rules": [
                {"type": "module_completed", "module": "A-m1"}, {"type": "module_completed", "module": "A-m2"}]},
            {"type": "course_grade", "min_percent": 60, "label": "Final grade at least 60 %"}]}
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "template.attach")).course_id == w["a"].course.id
    # Re-mapping later makes a new version with the new mapping.
    assert w["teacher"].post(f"/course/badges/{achievement_id}/mapping",
                             {"role-modules": ["A-m2"], "action": "save"}).status_code == 303
    with app.extensions["lti_badger"].sessions() as s:
        assert s.get(Achievement, achievement_id).current_version.rule["rules"][0] == {
            "type": "module_completed", "module": "A-m2", "label": "Every module completed"}


def test_the_linter_reports_unmapped_roles_by_their_label(app, w):
    with app.extensions["lti_badger"].sessions() as s:
        warnings = lint(s, w["a"].course.id, {"type": "activity_score", "activity": "role:final", "min_percent": 80,
                                               "label": "Final exam"}, datetime.now(timezone.utc))
    unmapped = [x for x in warnings if x.code == "template.unmapped"]
    assert len(unmapped) == 1 and unmapped[0].severity == "error" and unmapped[0].pointer == "/activity"
    assert "'Final exam'" in unmapped[0].message


def test_a_locked_field_cannot_change_through_the_designer_or_the_api(app, w):
    achievement_id = _attach(w, _publish(w), ["A-m1"])
    edit = f"/course/badges/{achievement_id}/edit"
    page = w["teacher"].get(edit).get_data(as_text=True)
    assert "Locked by your institution" in page
    assert 'id="f-validity_days" value="365"' in page and "disabled" in page
    base = {"name": "Completed Course A", "achievement_type": "MicroCredential", "validity_days": "365",
            "eqf_level": "5", "quality_assurance": "internal"}
    for changed in ({"validity_days": "30"}, {"validity_days": ""}, {"eqf_level": "6"}):
        refused = w["teacher"].post(edit, {**base, **changed})
        assert refused.status_code == 400, changed
        assert "locks these fields" in refused.get_data(as_text=True)
    # Fields the template does not lock stay the instructor's (quality assurance was not locked).
    assert w["teacher"].post(edit, {**base, "name": "Renamed", "quality_assurance": "external"}).status_code == 303
    api = w["teacher"].client
    headers = {"X-Launch-Token": w["teacher"].token}
    url = f"/course/badges/{achievement_id}/fields.json"
    for body in ({"validity_days": 30}, {"details": {"eqf_level": 7}}):
        refused = api.post(url, data=json.dumps(body), content_type="application/json", headers=headers)
        assert refused.status_code == 400 and refused.get_json()["error"] == "bad_input", body
        assert refused.get_json()["detail"]["fields"] in (["validity_days"], ["eqf_level"])
    ok = api.post(url, data=json.dumps({"description": "Now with a description."}), content_type="application/json",
                  headers=headers)
    assert ok.status_code == 200 and ok.get_json()["version"] == 3
    bad = api.post(url, data=json.dumps({"image": "x"}), content_type="application/json", headers=headers)
    assert bad.status_code == 400
    with app.extensions["lti_badger"].sessions() as s:
        versions = s.scalars(select(AchievementVersion).where(AchievementVersion.achievement_id == achievement_id)
                             .order_by(AchievementVersion.number)).all()
        assert [v.validity_days for v in versions] == [365, 365, 365]
        assert all(v.details["eqf_level"] == 5 for v in versions) and versions[-1].name == "Renamed"


def _complete(app, world, learner, activity):
    with app.extensions["lti_badger"].sessions() as s:
        ingest(s, world.platform.id, [ProgressEventIn(
            source="xapi", source_event_id=f"ev-{learner.sub}-{activity}", occurred_at=datetime.now(timezone.utc),
            activity_lms_id=activity, course_id=world.course.id, learner_sub=learner.sub, completed=True)],
            datetime.now(timezone.utc))
        s.commit()


def test_with_approval_on_a_badge_awards_nobody_until_an_admin_approves_it(app, w):
    a = w["a"]
    assert w["admin"].post("/admin/policy", {"approval_required": "on"}).status_code == 303
    new = w["teacher"].post("/course/badges/new", {"name": "Lab safety", "achievement_type": "Badge"})
    achievement_id = int(new.headers["Location"].split("/course/badges/")[1].split("/")[0])
    criteria = f"/course/badges/{achievement_id}/criteria"
    rule = json.dumps({"type": "activity_completed", "activity": "A-m1a1"})
    _complete(app, a, a.learners[0], "A-m1a1")
    asked = w["teacher"].post(criteria, {"action": "save_activate", "rule_json": rule, "edit_policy": "keep"})
    assert asked.status_code == 303 and "done=approval_requested" in asked.headers["Location"]
    page = w["teacher"].get("/course/badges?done=approval_requested&badge=%d" % achievement_id).get_data(as_text=True)
    assert "No awards are issued until an administrator approves it" in page
    assert "Approval requested: waiting; no awards until approved." in page
    refused = w["teacher"].post("/course/awards", {"person_id": a.learners[1].id, "achievement_id": achievement_id,
                                                   "reason": "oral exam"})
    assert refused.status_code == 409 and "approval" in refused.get_data(as_text=True)
    with app.extensions["lti_badger"].sessions() as s:
        assert s.get(Achievement, achievement_id).state == "draft"
        assert s.scalar(select(func.count()).select_from(Award)) == 0
        request_id = s.scalar(select(ApprovalRequest.id).where(ApprovalRequest.achievement_id == achievement_id))
    queue = w["admin"].get("/admin/approvals").get_data(as_text=True)
    assert "Lab safety" in queue and "Course A" in queue and a.instructor.name in queue
    # Rejecting needs a comment the instructor reads; the instructor then asks again.
    assert w["admin"].post(f"/admin/approvals/{request_id}/reject", {"comment": ""}).status_code == 400
    assert w["admin"].post(f"/admin/approvals/{request_id}/reject",
                           {"comment": "Say what the lab covers."}).status_code == 303
    assert w["admin"].post(f"/admin/approvals/{request_id}/approve").status_code == 409  # already decided
    page = w["teacher"].get("/course/badges").get_data(as_text=True)
    assert "Rejected by your institution: Say what the lab covers." in page
    assert _count(app, Award) == 0
    again = w["teacher"].post(f"/course/badges/{achievement_id}/state", {"action": "activate"})
    assert "done=approval_requested" in again.headers["Location"]
    with app.extensions["lti_badger"].sessions() as s:
        second = s.scalar(select(ApprovalRequest.id).where(ApprovalRequest.state == "pending"))
    assert w["admin"].post(f"/admin/approvals/{second}/approve", {"comment": "Fine."}).status_code == 303
    with app.extensions["lti_badger"].sessions() as s:
        assert s.get(Achievement, achievement_id).state == "active"
        awarded = s.scalars(select(Award.person_id).where(Award.achievement_id == achievement_id)).all()
        assert awarded == [a.learners[0].id]  # the learner who already qualified, at approval
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.platform_id == a.platform.id)
                                                .order_by(AuditEvent.id))]
    assert [x for x in actions if x.startswith("approval.")] == [
        "approval.pending", "approval.rejected", "approval.pending", "approval.approved"]
    assert "Approved by your institution." in w["teacher"].get("/course/badges").get_data(as_text=True)
    audit = w["admin"].get("/admin/audit").get_data(as_text=True)
    assert "Approval requested" in audit and "Badge approved" in audit and "Say what the lab covers." in audit
    assert "Lab safety" in audit  # the badge by its name
    # From now on it awards by rule as any active badge.
    _complete(app, a, a.learners[1], "A-m1a1")
    assert _count(app, Award) == 2


def test_with_approval_off_instructors_activate_themselves(app, w):
    new = w["teacher"].post("/course/badges/new", {"name": "Lab safety", "achievement_type": "Badge"})
    achievement_id = int(new.headers["Location"].split("/course/badges/")[1].split("/")[0])
    saved = w["teacher"].post(f"/course/badges/{achievement_id}/criteria", {
        "action": "save_activate", "rule_json": json.dumps({"type": "activity_completed", "activity": "A-m1a1"}),
        "edit_policy": "keep"})
    assert saved.status_code == 303 and "approval" not in saved.headers["Location"]
    assert _count(app, ApprovalRequest) == 0


def test_a_template_badge_with_unmapped_roles_cannot_be_activated(app, w):
    achievement_id = _attach(w, _publish(w), [])
    refused = w["teacher"].post(f"/course/badges/{achievement_id}/state", {"action": "activate"})
    assert refused.status_code == 409 and "map every role" in refused.get_data(as_text=True)
    with app.extensions["lti_badger"].sessions() as s:
        assert s.get(Achievement, achievement_id).state == "draft"


@pytest.mark.parametrize("form, message", [
    ({"name": ""}, "needs a name"),
    ({"rule_json": '{"type": "badge_earned", "achievement": 1}'}, "rule"),
    ({"rule_json": '{"type": "activity_completed", "activity": "role:Bad Key"}'}, "lower-case"),
    ({"lock": ["everything"]}, "unknown lock groups"),
    ({"validity_days": "-3"}, "validity"),
    ({"eqf_level": "9"}, "eqf"),
])
def test_a_bad_template_is_refused_with_the_reason_and_nothing_is_stored(app, w, form, message):
    base = {"name": "T", "preset": "skill", "achievement_type": "Badge"}
    refused = w["admin"].post("/admin/templates", {**base, **form})
    assert refused.status_code == 400 and message in refused.get_data(as_text=True).lower().replace("&#39;", "'")
    assert _count(app, CriteriaTemplate) == 0


def test_nothing_of_a_registration_is_reachable_from_another(app, w):
    template_id = _publish(w)
    achievement_id = _attach(w, template_id, ["A-m1"])
    assert w["admin"].post("/admin/policy", {"approval_required": "on"}).status_code == 303
    w["teacher"].post(f"/course/badges/{achievement_id}/state", {"action": "activate"})
    assert w["admin"].post("/admin/group-defaults", {"group_kind": "term", "group_value": "2026 Spring",
                                                     "template_id": template_id}).status_code == 303
    with app.extensions["lti_badger"].sessions() as s:
        request_id = s.scalar(select(ApprovalRequest.id))
        default_id = s.scalar(select(GroupDefault.id))
    before = _count(app, Achievement), _count(app, ApprovalRequest)
    other, other_teacher = w["other_admin"], w["other_teacher"]
    assert other.get(f"/admin/templates/{template_id}").status_code == 404
    assert other.post(f"/admin/templates/{template_id}/edit", {"name": "Mine", "preset": "skill"}).status_code == 404
    assert other.post(f"/admin/approvals/{request_id}/approve").status_code == 404
    assert other.post(f"/admin/group-defaults/{default_id}/remove").status_code == 404
    assert other.post("/admin/group-defaults", {"group_kind": "term", "group_value": "X",
                                                "template_id": template_id}).status_code == 404
    assert "Institution completion" not in other.get("/admin/templates").get_data(as_text=True)
    assert "Course A" not in other.get("/admin/approvals").get_data(as_text=True)
    assert other_teacher.get(f"/course/templates/{template_id}/attach").status_code == 404
    assert other_teacher.post(f"/course/templates/{template_id}/attach", {"action": "save"}).status_code == 404
    assert "Institution completion" not in other_teacher.get("/course/badges").get_data(as_text=True)
    # Same registration, another course: the template is theirs to use, A's badge is not.
    assert w["teacher_b"].get(f"/course/templates/{template_id}/attach").status_code == 200
    assert w["teacher_b"].get(f"/course/badges/{achievement_id}/mapping").status_code == 404
    assert w["teacher_b"].client.post(f"/course/badges/{achievement_id}/fields.json", data="{}",
                                      content_type="application/json",
                                      headers={"X-Launch-Token": w["teacher_b"].token}).status_code == 404
    assert (_count(app, Achievement), _count(app, ApprovalRequest)) == before
    with app.extensions["lti_badger"].sessions() as s:
        assert s.get(ApprovalRequest, request_id).state == "pending"


def test_a_template_edited_later_does_not_block_edits_that_leave_its_locked_fields_alone(app, w):
    template_id = _publish(w)
    achievement_id = _attach(w, template_id, ["A-m1"])
    edited = w["admin"].post(f"/admin/templates/{template_id}/edit", {
        "name": "Institution completion", "preset": "course_completion", "achievement_type": "MicroCredential",
        "validity_days": "730", "eqf_level": "5", "lock": ["expiry", "level"]})
    assert edited.status_code == 303
    saved = w["teacher"].post(f"/course/badges/{achievement_id}/criteria", {
        "action": "save", "rule_json": json.dumps({"type": "module_completed", "module": "A-m2"}),
        "edit_policy": "keep"})
    assert saved.status_code == 303
    api = w["teacher"].client
    moved = api.post(f"/course/badges/{achievement_id}/fields.json", data=json.dumps({"validity_days": 30}),
                     content_type="application/json", headers={"X-Launch-Token": w["teacher"].token})
    assert moved.status_code == 400
    to_template = api.post(f"/course/badges/{achievement_id}/fields.json", data=json.dumps({"validity_days": 730}),
                           content_type="application/json", headers={"X-Launch-Token": w["teacher"].token})
    assert to_template.status_code == 200
    with app.extensions["lti_badger"].sessions() as s:
        version = s.get(Achievement, achievement_id).current_version
        assert (version.validity_days, version.rule) == (730, {"type": "module_completed", "module": "A-m2"})


def test_a_withdrawn_template_is_offered_to_no_instructor_and_badges_keep_it(app, w):
    template_id = _publish(w)
    achievement_id = _attach(w, template_id, ["A-m1"])
    assert w["other_admin"].post(f"/admin/templates/{template_id}/withdraw").status_code == 404
    assert w["admin"].post(f"/admin/templates/{template_id}/withdraw").status_code == 303
    assert "Institution completion" not in w["teacher_b"].get("/course/badges").get_data(as_text=True)
    assert w["teacher_b"].post(f"/course/templates/{template_id}/attach", {"action": "save"}).status_code == 404
    assert w["teacher_b"].get(f"/course/templates/{template_id}/attach").status_code == 404
    page = w["teacher"].get("/course/badges").get_data(as_text=True)
    assert "From the template Institution completion" in page  # A's badge keeps it, and its locks
    assert w["admin"].post(f"/admin/templates/{template_id}/restore").status_code == 303
    assert w["teacher_b"].get(f"/course/templates/{template_id}/attach").status_code == 200
    with app.extensions["lti_badger"].sessions() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("template.%"))).all()
    assert {"template.withdraw", "template.restore"} <= set(actions) and achievement_id
