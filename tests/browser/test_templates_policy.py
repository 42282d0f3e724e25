"""Issue 14 B in Chromium through the LMS simulator's launches (axe on every page): an LMS admin
publishes a criteria template with a locked field; the instructor attaches it in one step,
mapping its role to a quiz, and cannot change the locked field (the designer shows it disabled;
a forged form is refused). With approval on, the instructor's badge waits, the admin approves
it, and it awards the learners who already qualify."""

from __future__ import annotations

from datetime import datetime, timezone

from playwright.sync_api import expect
from sqlalchemy import func, select

from lti_badger.criteria import templates
from lti_badger.models import Achievement, AchievementVersion, Award

from .test_flow import INSTRUCTOR, launch, open_admin, sync_gradebook


def _admin_nav(page, name: str, path: str) -> None:
    page.get_by_role("navigation", name="Administration").get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(f"**/admin/{path}**")


def _attach(teacher, stack, template_name: str, badge_name: str, check) -> None:
    teacher.get_by_role("link", name=template_name).click()
    teacher.wait_for_url("**/course/templates/**/attach**")
    check(teacher, "62-instructor-template-attach")
    teacher.get_by_label("Name of the badge").fill(badge_name)
    teacher.get_by_role("button", name="Check the mapping").click()
    expect(teacher.locator("#lint")).to_contain_text("is not mapped to an activity of this course")
    teacher.get_by_label("Activities tagged with the skill").select_option(label=stack.activities["cells-quiz"].label)
    teacher.get_by_role("button", name="Check the mapping").click()
    expect(teacher.locator("#lint")).not_to_contain_text("is not mapped")
    check(teacher, "63-instructor-template-checked")
    teacher.get_by_role("button", name="Attach to this course").click()
    teacher.wait_for_url("**/course/badges?**saved=**")
    expect(teacher.get_by_role("row", name=badge_name)).to_contain_text("From the template " + template_name)


def test_admin_locks_a_field_and_the_instructor_cannot_change_it(stack, new_page, check):
    admin = open_admin(stack, new_page)
    _admin_nav(admin, "Templates", "templates")
    check(admin, "60-admin-templates")
    admin.get_by_label("Name (required)").fill("Cell skill")
    admin.get_by_label("Starting point").select_option("skill")
    admin.get_by_label("Valid for (days)").fill("365")
    admin.get_by_label("Expiry (valid for days)").check()
    admin.get_by_role("button", name="Publish template").click()
    admin.wait_for_url("**/admin/templates/**saved=1**")
    expect(admin.get_by_role("row", name="Cell skill")).to_contain_text("Expiry (valid for days)")
    check(admin, "61-admin-template-saved")

    teacher = new_page()
    launch(stack, teacher, INSTRUCTOR[0], "/course/badges")
    sync_gradebook(stack)
    teacher.reload()
    _attach(teacher, stack, "Cell skill", "Cells, by template", check)
    teacher.get_by_role("link", name="Design Cells, by template").click()
    teacher.wait_for_url("**/edit**")
    validity = teacher.get_by_label("Valid for (days)")
    expect(validity).to_be_disabled()
    expect(validity).to_have_value("365")
    expect(teacher.get_by_text("Locked by your institution's template.")).to_be_visible()
    check(teacher, "64-instructor-designer-locked")
    # A forged form (the field re-enabled and changed in the page) is refused, and says why.
    teacher.evaluate("""() => {
        const field = document.getElementById('f-validity_days');
        field.disabled = false; field.name = 'validity_days'; field.value = '30';
        document.querySelector('input[type=hidden][name=validity_days]').remove();
    }""")
    teacher.get_by_role("button", name="Save badge").click()
    expect(teacher.get_by_role("alert")).to_contain_text("locks these fields: validity_days")
    check(teacher, "65-instructor-designer-refused")
    with stack.tool.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AchievementVersion)) == 1
        assert s.scalar(select(AchievementVersion.validity_days)) == 365


def test_with_approval_on_the_badge_waits_then_awards_once_approved(stack, new_page, check):
    with stack.tool.sessions() as s:
        templates.create_template(s, stack.platform_id, {
            "name": "Quiz mastery", "rule": {"type": "activity_score", "activity": "role:tagged", "min_percent": 80,
                                             "label": "Activities tagged with the skill"}},
            None, datetime.now(timezone.utc))
        s.commit()
    admin = open_admin(stack, new_page)
    _admin_nav(admin, "Templates", "templates")
    admin.get_by_role("button", name="Turn approval on").click()
    admin.wait_for_url("**/admin/templates?**saved=1**")
    expect(admin.locator("#approval-state")).to_contain_text("only after an administrator approves it")

    teacher = new_page()
    launch(stack, teacher, INSTRUCTOR[0], "/course/badges")
    sync_gradebook(stack)
    teacher.reload()
    expect(teacher.locator("#approval-policy")).to_contain_text("it awards nobody until approved")
    _attach(teacher, stack, "Quiz mastery", "Quiz master", check)
    teacher.get_by_role("button", name="Activate Quiz master").click()
    teacher.wait_for_url("**done=approval_requested**")
    expect(teacher.get_by_role("status")).to_contain_text("No awards are issued until an administrator approves it")
    expect(teacher.get_by_role("row", name="Quiz master")).to_contain_text("Approval requested: waiting")
    check(teacher, "66-instructor-approval-waiting")
    with stack.tool.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Award)) == 0

    _admin_nav(admin, "Approvals", "approvals")
    expect(admin.get_by_role("row", name="Quiz master")).to_contain_text("waiting")
    check(admin, "67-admin-approvals")
    admin.get_by_role("button", name="Approve Quiz master").click()
    admin.wait_for_url("**done=approved**")
    expect(admin.get_by_role("status")).to_contain_text("Approved")
    check(admin, "68-admin-approved")

    teacher.reload()
    expect(teacher.get_by_role("row", name="Quiz master")).to_contain_text("Approved by your institution.")
    with stack.tool.sessions() as s:
        achievement = s.scalar(select(Achievement).join(AchievementVersion, AchievementVersion.id ==
                                                        Achievement.current_version_id)
                               .where(AchievementVersion.name == "Quiz master"))
        assert achievement.state == "active"
        # Grace Hopper (95 %) and Alan Turing (80 %) already met it: awarded at approval.
        assert s.scalar(select(func.count()).select_from(Award).where(Award.achievement_id == achievement.id)) == 2
    _admin_nav(admin, "Audit log", "audit")
    expect(admin.get_by_role("table")).to_contain_text("Approval requested")
    expect(admin.get_by_role("table")).to_contain_text("Badge approved")
