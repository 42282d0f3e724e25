"""The LMS admin's report across courses (issue 14 C): what was issued per course and per
badge, earners per week (the instructor's chart), awards waiting for review, and the same
numbers as CSV. Everything is scoped to the admin's registration."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, render_template

from ..awards import reports
from ..csvfile import csv_text
from . import charts
from .auth import ROLE_ADMIN, current_scope, require_scope
from .db import db

bp = Blueprint("reports", __name__, url_prefix="/admin/reports")


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
        per_badge=reports.tallies(session, scope.platform_id, reports.BADGE), weekly=weekly,
        weekly_svg=charts.bar_chart_svg(weekly), reviews=reports.reviews(session, scope.platform_id),
        max_reviews=reports.MAX_REVIEWS)


@bp.get("/report.csv")
@require_scope(ROLE_ADMIN)
def export_csv():
    scope = current_scope()
    text = csv_text(reports.CSV_HEADER, reports.csv_rows(db(), scope.platform_id))
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="badges-report.csv"'})
