"""The LMS admin's report across courses (issue 14 C): what was issued per course and per
badge, earners per week (the instructor's chart), awards waiting for review, and the same
numbers as CSV. Everything is scoped to the admin's registration."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, render_template
from flask_babel import lazy_gettext as _l

from ..awards import reports
from ..csvfile import csv_text
from . import charts
from .auth import ROLE_ADMIN, current_scope, require_scope
from .db import db

bp = Blueprint("reports", __name__, url_prefix="/admin/reports")

# The sheet in the reader's language: column headings, and the words in its breakdown and kind columns.
CSV_HEADINGS = {"breakdown": _l("Breakdown"), "badge": _l("Badge"), "course": _l("Course"), "term": _l("Term"),
                "template": _l("Criteria template"), "kind": _l("Kind"), "issued": _l("Issued"),
                "active": _l("Active"), "suspended": _l("Suspended"), "revoked": _l("Revoked"),
                "expired": _l("Expired"), "learners": _l("Learners")}
CSV_WORDS = {"course": _l("Course"), "badge": _l("Badge"), "term": _l("Term"), "template": _l("Criteria template"),
             "program": _l("Program")}


@bp.get("/")
@require_scope(ROLE_ADMIN)
def index():
    scope = current_scope()
    session = db()
    today = datetime.now(timezone.utc).date()
    since = datetime.combine(charts.first_week(today), datetime.min.time(), tzinfo=timezone.utc)
    weekly = charts.weekly_series(reports.awards_per_day(session, scope.platform_id, since), today=today)
    return render_template(
        "admin/reports.html", per_course=reports.tallies(session, scope.platform_id, reports.COURSE),
        per_badge=reports.tallies(session, scope.platform_id, reports.BADGE),
        per_term=reports.tallies_per_term(session, scope.platform_id),
        per_template=reports.tallies_per_template(session, scope.platform_id),
        approvals=reports.pending_approvals(session, scope.platform_id), weekly=weekly,
        weekly_svg=charts.bar_chart_svg(weekly), reviews=reports.reviews(session, scope.platform_id),
        max_reviews=reports.MAX_REVIEWS)


@bp.get("/report.csv")
@require_scope(ROLE_ADMIN)
def export_csv():
    scope = current_scope()
    rows = [[str(CSV_WORDS[cell]) if i in (0, 5) and cell in CSV_WORDS else cell for i, cell in enumerate(row)]
            for row in reports.csv_rows(db(), scope.platform_id)]
    text = csv_text([str(CSV_HEADINGS[key]) for key in reports.CSV_HEADER], rows)
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="badges-report.csv"'})
