"""The criteria explanation reasons (codes from `criteria.evaluate.REASONS`) and the
verifier's reasons (codes from `credentials.checks.CODES`) in the reader's language; an unknown
criteria code falls back to the English text, then to the code."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..credentials.checks import Check
from ..criteria.evaluate import REASONS

TEXTS = {
    "activity.completed": _l("the LMS marks the activity completed"),
    "activity.completed_by_score": _l("a full score, which counts as completed (the rule does not ask for the LMS's completion status)"),
    "activity.not_completed_status": _l("the LMS has not marked the activity completed (the rule asks for its completion status: a score does not count)"),
    "activity.passed": _l("the activity is completed and passed"),
    "activity.not_started": _l("no progress recorded for the activity yet"),
    "activity.not_completed": _l("the activity is not completed yet"),
    "activity.not_passed": _l("the activity is not passed yet"),
    "activity.unknown": _l("the activity is not (or no longer) in the course"),
    "score.met": _l("the score reaches the threshold"),
    "score.missing": _l("no score recorded yet"),
    "score.below_threshold": _l("the score is below the threshold"),
    "score.no_max": _l("the activity has no maximum score, so a percentage cannot be computed"),
    "score.above_max": _l("the threshold is above the maximum possible score"),
    "module.completed": _l("the module is completed"),
    "module.not_completed": _l("some required items of the module are not completed"),
    "module.unknown": _l("the module is not (or no longer) in the course"),
    "module.no_requirements": _l("the module has no items that require completion"),
    "module.no_lms_completion": _l("the LMS does not report completion for this module"),
    "module.no_graded_items": _l("the module has no graded items"),
    "grade.met": _l("the course grade reaches the threshold"),
    "grade.below_threshold": _l("the course grade is below the threshold"),
    "grade.missing": _l("no course grade available yet"),
    "all.met": _l("every condition is met"),
    "all.not_met": _l("some conditions are not met"),
    "any.met": _l("at least one condition is met"),
    "any.not_met": _l("none of the conditions is met"),
    "at_least.met": _l("enough conditions are met"),
    "at_least.not_met": _l("not enough conditions are met"),
    "at_least.impossible": _l("asks for more conditions than there are"),
    "date.open": _l("the date has not passed yet"),
    "date.closed": _l("the date has passed"),
    "date.not_yet": _l("the date has not come yet"),
    "date.reached": _l("the date has come"),
    "window.met": _l("met within the time window"),
    "window.not_met": _l("not met within the time window"),
    "window.closed": _l("not met before the deadline, which has passed"),
    "badge.earned": _l("the required badge is earned"),
    "badge.not_earned": _l("the required badge is not earned yet"),
    "enrolment.days_met": _l("enrolled long enough"),
    "enrolment.too_recent": _l("not enrolled long enough yet"),
    "enrolment.unknown": _l("enrolment date unknown"),
}


def reason_text(code: str | None) -> str:
    if not code:
        return ""
    if code in TEXTS:
        return str(TEXTS[code])
    return REASONS.get(code, code)


# Reasons the tool itself writes on an award's status change (awards.services), shown to
# learners in their language; an instructor's own words are shown as they wrote them.
STATUS_REASONS = {
    "grade regression: the criteria are no longer met; review needed":
        _l("your progress no longer meets the criteria (for example after a regrade); your instructor will review it"),
    "validity period ended": _l("its validity period ended"),
}


def status_reason_text(reason: str | None) -> str:
    if not reason:
        return ""
    return str(STATUS_REASONS.get(reason, reason))


CHECK_TEXTS = {
    "dates.valid": _l("Valid since %(since)s, until %(until)s."),
    "dates.valid.no_end": _l("Valid since %(since)s; it does not expire."),
    "dates.valid.no_start": _l("It has no start date; valid until %(until)s."),
    "dates.valid.open": _l("It has no start date and does not expire."),
    "dates.expired": _l("It expired on %(day)s."),
    "dates.not_yet_valid": _l("It is not valid until %(day)s."),
    "status.revoked": _l("Its issuer revoked it."),
    "status.suspended": _l("Its issuer suspended it."),
    "proof.tampered": _l("The signature does not match: the credential was changed after it was signed."),
    "format.unknown_context": _l("It uses a JSON-LD context this verifier does not know (%(context)s): contexts are "
                                 "never fetched, so unknown ones are refused."),
}


def check_text(check: Check) -> str:
    """The check's reason in the reader's language, where it has a code; "" otherwise."""
    code, args = check.code, dict(check.args or {})
    if code == "dates.valid":
        code += {(True, True): "", (True, False): ".no_end", (False, True): ".no_start",
                 (False, False): ".open"}[(bool(args.get("since")), bool(args.get("until")))]
    text = CHECK_TEXTS.get(code or "")
    return str(text) % args if text is not None else ""
