"""Plain-language labels for every code the tool stores (statuses, kinds, sources, audit
actions): one mapping, so no raw `in_progress` or `award.review_cleared` reaches a page.
A code not in the mapping falls back to its words (underscores and dots as spaces)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

TERMS = {
    "state": {
        "draft": _l("Draft"), "active": _l("Active"), "archived": _l("Archived"), "earned": _l("Earned"),
        "not_yet": _l("Not yet"), "not-yet": _l("Not yet"), "suspended": _l("Suspended"), "revoked": _l("Revoked"),
        "expired": _l("Expired"), "pending": _l("Pending"), "done": _l("Done"), "dead": _l("Dead letter"),
        "failed": _l("Failed"), "valid": _l("Valid"), "invalid": _l("Not valid"), "ok": _l("OK"),
        "warning": _l("Warning"), "not_earned": _l("Not earned"),
    },
    "progress": {
        "completed": _l("completed"), "in_progress": _l("in progress"), "not_completed": _l("not completed"),
        "passed": _l("passed"), "failed": _l("failed"), "not_started": _l("not started"),
    },
    "progress_source": {
        "ags": _l("LMS gradebook"), "nrps": _l("LMS roster"), "xapi": _l("xAPI statements"),
        "caliper": _l("Caliper events"), "canvas-events": _l("Canvas live events"), "canvas-rest": _l("Canvas"),
        "moodle-ws": _l("Moodle web services"), "moodle-plugin": _l("Moodle plugin"), "manual": _l("entered by hand"),
        "computed": _l("computed by the tool"),
    },
    "activity_kind": {
        "assignment": _l("assignment"), "quiz": _l("quiz"), "page": _l("page"), "discussion": _l("discussion"),
        "lineitem": _l("grade column"), "line_item": _l("grade column"), "file": _l("file"), "url": _l("link"),
        "external_tool": _l("external tool"), "forum": _l("forum"), "lesson": _l("lesson"), "scorm": _l("SCORM package"),
        "h5p": _l("H5P activity"), "h5pactivity": _l("H5P activity"), "wiki": _l("wiki"), "resource": _l("file"),
    },
    "achievement_type": {  # Open Badges 3.0 achievementType values the tool issues
        "Badge": _l("Badge"), "MicroCredential": _l("Micro-credential"), "Certificate": _l("Certificate"),
        "CertificateOfCompletion": _l("Certificate of completion"), "Competency": _l("Competency"),
        "LearningProgram": _l("Learning program"), "Achievement": _l("Achievement"), "Course": _l("Course"),
    },
    "awarded_by": {
        "rule": _l("the badge's rule"), "instructor": _l("an instructor"), "system": _l("the tool"),
        "cli": _l("the command line"), "bulk": _l("a bulk award"),
    },
    "destination": {"ags": _l("LMS gradebook"), "email": _l("e-mail"), "webhook": _l("webhook"),
                    "digest": _l("e-mail")},
    "delivery_action": {
        "award": _l("award"), "revoke": _l("revocation"), "suspend": _l("suspension"), "reinstate": _l("reinstatement"),
        "expire": _l("expiry"), "digest": _l("daily digest"),
    },
    "lms_answer": {
        "accepted": _l("The LMS accepted it."),
        "not_sent": _l("Not sent yet."),
        "no_answer": _l("No answer from the LMS: it could not be reached, or the tool could not prepare the request."),
        "refused_access": _l("The LMS refused the tool's access: check the tool's permissions (grade services) in the LMS."),
        "not_found": _l("The LMS no longer has the grade item or the learner."),
        "busy": _l("The LMS was busy and asked to try later."),
        "lms_error": _l("The LMS had an internal error; the tool tries again later."),
        "rejected": _l("The LMS rejected the request."),
    },
    "actor": {
        "user": _l("person"), "rule": _l("the badge's rule"), "system": _l("the tool"), "cli": _l("command line"),
        "expiry": _l("the tool (expiry)"), "prerequisite": _l("the tool (prerequisite changed)"),
        "activate": _l("the tool (badge activated)"), "edit": _l("the tool (badge edited)"),
        "lti_badger": _l("the tool"),
    },
    "subject": {
        "award": _l("award"), "achievement": _l("badge"), "credential": _l("credential"),
        "issuer_profile": _l("issuer profile"), "platform": _l("platform"), "template": _l("criteria template"),
    },
    "audit_action": {
        "award.create": _l("Badge awarded"), "award.revoke": _l("Badge revoked"), "award.suspend": _l("Badge suspended"),
        "award.reinstate": _l("Badge reinstated"), "award.expire": _l("Badge expired"),
        "award.flag": _l("Award flagged for review"), "award.review_cleared": _l("Review cleared"),
        "achievement.activate": _l("Badge activated"), "achievement.delete": _l("Draft badge deleted"),
        "achievement.edit_policy": _l("Badge edited (earlier earners handled)"),
        "credential.collect": _l("Credential collected into a wallet"),
        "issuer_profile.edit": _l("Issuer profile edited"), "platform.add": _l("Platform registration added"),
        "platform.edit": _l("Platform edited"), "platform.remove": _l("Platform removed"),
        "platform.deployment_add": _l("Deployment added"), "platform.deployment_remove": _l("Deployment removed"),
        "template.create": _l("Criteria template published"), "template.edit": _l("Criteria template edited"),
        "template.attach": _l("Template attached to a course"), "template.withdraw": _l("Criteria template withdrawn"),
        "template.restore": _l("Criteria template offered again"),
        "template.group_default_add": _l("Template made a default of a course group"),
        "template.group_default_remove": _l("Course group default removed"),
        "policy.approval": _l("Approval of instructors' badges switched"),
        "approval.pending": _l("Approval requested"), "approval.approved": _l("Badge approved"),
        "approval.rejected": _l("Badge rejected"),
        "platform.deployment_rename": _l("Deployment renamed"),
    },
    "bulk": {
        "will_award": _l("will be awarded"), "will_revoke": _l("will be revoked"), "awarded": _l("awarded"),
        "revoked": _l("revoked"), "already_held": _l("already has it"), "not_held": _l("does not hold it"),
        "not_found": _l("no such learner"), "other_course": _l("a learner of another course"),
        "no_reason": _l("no reason given"), "duplicate": _l("listed twice"), "archived": _l("the badge is archived"),
        "error": _l("not done"),
    },
    "version_field": {
        "name": _l("Name"), "description": _l("Description"), "criteria_narrative": _l("Criteria (what learners read)"),
        "rule": _l("Rule (what decides)"), "image": _l("Image"), "other": _l("Other details"),
    },
    "health": {
        "database": _l("Database"), "lti signing key": _l("LTI signing key"),
        "issuer signing key": _l("Credential signing key"), "dead deliveries": _l("Deliveries given up"),
        "deliveries failing (retrying)": _l("Deliveries failing (retrying)"),
        "deliveries overdue by 15 minutes": _l("Deliveries overdue by 15 minutes"),
        "gradebook scores accepted but not shown": _l("Gradebook scores accepted but not shown"),
        "e-mail notifications": _l("E-mail notifications"),
    },
    "registered_via": {"manual": _l("by hand"), "dynamic": _l("dynamic registration"), "cli": _l("command line"),
                       "demo": _l("the demo")},
}


def term(code: object, group: str) -> str:
    """The label of `code` in `group`; an unknown code as words, never as a raw identifier."""
    if code is None or code == "":
        return ""
    label = TERMS.get(group, {}).get(str(code))
    if label is not None:
        return str(label)
    return str(code).replace("_", " ").replace(".", " ").replace("-", " ")
