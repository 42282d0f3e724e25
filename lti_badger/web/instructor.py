"""Blueprint: instructor pages (launched from a course): badges, the designer, the criteria
builder with preview, earners and progress, manual awards, the review queue, CSV export.

Every view reads the course from the launch scope and looks rows up through it, so an
instructor of course A gets 404 for anything of course B (invariant 5)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from ..awards import services as awards
from ..awards.audit import Actor
from ..csvfile import csv_text
from ..criteria import achievements
from ..criteria.evaluate import evaluate
from ..criteria.lint import lint
from ..criteria.policy import locked_form_fields, template_of
from ..criteria.rules import canonical_json, references, validate_rule
from ..criteria.services import preview as preview_rule
from ..criteria.snapshots import activity_ids_for, load_snapshot, load_structure
from ..deliveries.outbox import latest_credential
from ..deliveries import gradebook, notify
from ..deliveries.mail import mail_enabled
from ..errors import BadgerError, BadInput
from ..jsonbody import parse_json
from ..models import Activity, Award, Module, Person
from ..models.achievement import STATE_ACTIVE
from ..models.award import AWARD_SUSPENDED
from ..skills.services import search as search_skills
from . import charts, course_templates, forms, queries
from .auth import ROLE_INSTRUCTOR, current_scope, require_scope
from .reasons import reason_text
from .db import db, rollback_refusal
from .labels import term
from .navigation import go
from .templating import public_url

bp = Blueprint("instructor", __name__, url_prefix="/course")

# The designer takes request bodies this large, so an image over its own limit (1 MiB) is
# refused in words on the form, with everything typed kept, instead of a bare 413 page.
DESIGNER_MAX_BODY = 32 * 1024 * 1024
DESIGNER_ENDPOINTS = ("instructor.new_badge", "instructor.edit_badge")


@bp.url_value_preprocessor
def _designer_body_limit(endpoint, values) -> None:
    """Runs before the app's CSRF check reads the form (url value preprocessors come first)."""
    if endpoint in DESIGNER_ENDPOINTS and request.mimetype == "multipart/form-data":  # only an upload needs it
        request.max_content_length = DESIGNER_MAX_BODY


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _go(endpoint: str, **values) -> Response:
    return go(endpoint, **values)


@bp.get("/")
@require_scope(ROLE_INSTRUCTOR)
def home():
    """Where a launch lands: the badge a deep link points at, else the badge list."""
    scope = current_scope()
    if request.args.get("view") == "badge" and request.args.get("achievement", type=int):
        achievement = queries.get_achievement(db(), scope, request.args.get("achievement", type=int))
        return _go("instructor.criteria", achievement_id=achievement.id)
    return _go("instructor.badges")


@bp.get("/badges")
@require_scope(ROLE_INSTRUCTOR)
def badges():
    scope = current_scope()
    session = db()
    course = queries.get_course(session, scope)
    rows = queries.list_badges(session, scope)
    done = request.args.get("done")
    if request.args.get("saved"):
        done = "saved"
    subject = next((r for r in rows if r.achievement.id == (request.args.get("badge", type=int)
                                                            or request.args.get("saved", type=int))), None)
    return render_template("instructor/badges.html", course=course, rows=rows, done=done, subject=subject,
                           deleted_name=request.args.get("name", ""), awarded=request.args.get("count", 0, type=int),
                           gradebook=gradebook.gradebook_settings(session, course),
                           queued=request.args.get("queued", type=int), me=session.get(Person, scope.person_id),
                           mail_on=mail_enabled(current_app.extensions["lti_badger"].settings),
                           **course_templates.badge_policy(session, scope))


# --- designer ------------------------------------------------------------------------------

def _render_designer(course, achievement, values, error=None, status=200):
    found = template_of(db(), achievement.id) if achievement is not None else None
    template = found[0] if found else None
    return render_template("instructor/designer.html", course=course, achievement=achievement, v=values, error=error,
                           template=template, locked=locked_form_fields(template),
                           types=forms.ACHIEVEMENT_TYPE_CHOICES, eu=forms.MICRO_CREDENTIAL_CHOICES,
                           templates=forms.images.TEMPLATES, icons=forms.images.ICONS,
                           palette=forms.images.PALETTE, art=forms.images.art(),
                           preview=_preview_svg(values)), status


def _preview_svg(values: dict) -> Markup:
    """The designer's image as the server would render it now (the script redraws it as the
    teacher changes the fields; without script this shows the last saved or submitted design)."""
    try:
        design = forms.image_design(values, values.get("name") or "")
    except BadInput:
        design = forms.images.design("circle", forms.images.DEFAULT_COLOUR, "?")
    return Markup(forms.images.preview_svg(design))  # built by our code, every text escaped


@bp.route("/badges/new", methods=["GET", "POST"])
@require_scope(ROLE_INSTRUCTOR)
def new_badge():
    scope = current_scope()
    session = db()
    course = queries.get_course(session, scope)
    if request.method == "GET":
        return _render_designer(course, None, forms.designer_values(None))
    try:
        data = forms.designer_data(request.form, *forms.read_badge_image(request.files, "image_file"))
        achievement = achievements.create_achievement(session, course.id, data, scope.person_id, _now())
    except BadgerError as err:
        rollback_refusal(err)
        return _render_designer(course, None, dict(request.form), err, status=err.status_code)
    return _go("instructor.criteria", achievement_id=achievement.id)


@bp.route("/badges/<int:achievement_id>/edit", methods=["GET", "POST"])
@require_scope(ROLE_INSTRUCTOR)
def edit_badge(achievement_id: int):
    scope = current_scope()
    session = db()
    course = queries.get_course(session, scope)
    achievement = queries.get_achievement(session, scope, achievement_id)
    version = achievement.current_version
    if request.method == "GET":
        return _render_designer(course, achievement, forms.designer_values(version))
    try:
        data = forms.designer_data(request.form, *forms.read_badge_image(request.files, "image_file"),
                                   previous_details=version.details if version else None)
        achievements.update_achievement(session, course.id, achievement.id, data, scope.person_id, _now())
    except BadgerError as err:
        rollback_refusal(err)
        return _render_designer(course, achievement, dict(request.form), err, status=err.status_code)
    return _go("instructor.badges", saved=achievement.id)


@bp.get("/badges/<int:achievement_id>/versions")
@require_scope(ROLE_INSTRUCTOR)
def versions(achievement_id: int):
    """The badge's version history: what each edit changed, when, by whom, and who earned it."""
    scope = current_scope()
    achievement = queries.get_achievement(db(), scope, achievement_id)
    return render_template("instructor/versions.html", achievement=achievement,
                           entries=achievements.version_history(db(), scope.course_id, achievement.id))


@bp.get("/skills")
@require_scope(ROLE_INSTRUCTOR)
def skills_search():
    """The designer's skills picker: ESCO skills and occupations whose label matches `q`, each
    with the line the skills field takes."""
    found = search_skills(db(), request.args.get("q", "")[:200])
    return {"results": [{"uri": c.uri, "label": c.label, "kind": c.kind,
                         "line": forms.format_alignments([c.alignment()])} for c in found]}


@bp.post("/badges/<int:achievement_id>/state")
@require_scope(ROLE_INSTRUCTOR)
def change_state(achievement_id: int):
    scope = current_scope()
    session = db()
    achievement = queries.get_achievement(session, scope, achievement_id)
    action = request.form.get("action")
    now = _now()
    if action == "activate":
        if course_templates.ask_approval(session, scope, achievement):
            return _go("instructor.badges", done="approval_requested", badge=achievement.id)
        achievements.activate(session, scope.course_id, achievement.id, now)
        created = awards.on_activate(session, achievement, now, actor=awards.Actor.user(scope.person_id))
        return _go("instructor.badges", done="activated", badge=achievement.id, count=len(created))
    if action == "archive":
        achievements.archive(session, scope.course_id, achievement.id, now)
        return _go("instructor.badges", done="archived", badge=achievement.id)
    if action == "delete":
        name = awards.delete_draft(session, scope.course_id, achievement.id, Actor.user(scope.person_id), now)
        return _go("instructor.badges", done="deleted", name=name[:200])
    raise BadInput("unknown action: choose activate, archive or delete")


# --- criteria builder ------------------------------------------------------------------------

def _course_structure(session, course_id: int):
    """Modules with their activities, and the activities outside modules. An AGS line item
    bound to an LTI link that the LMS also lists as an activity (Moodle: the launch's own
    line item and the LTI activity of `moodle-ws`) is one activity: the LMS's, which also
    carries its completion."""
    modules = list(session.scalars(select(Module).where(Module.course_id == course_id)
                                   .order_by(Module.position, Module.id)))
    loose = list(session.scalars(select(Activity).where(Activity.course_id == course_id, Activity.module_id.is_(None))
                                 .order_by(Activity.position, Activity.id)))
    linked = {a.resource_link_id for m in modules for a in m.activities if a.resource_link_id and a.kind != "lineitem"}
    loose = [a for a in loose if not (a.kind == "lineitem" and a.resource_link_id in linked)]
    return modules, loose


def _missing(exp):
    """The unmet leaves of an explanation, as one flat checklist: what a learner still has to do."""
    def leaves(node):
        if node.met:
            return []
        if not node.children:
            return [node]
        return [leaf for child in node.children for leaf in leaves(child)]
    return exp._replace(children=tuple(leaves(exp)) or (exp,))


def _criteria_page(course, achievement, values, *, rule=None, error=None, result=None, warnings=(), status=200):
    session = db()
    modules, loose = _course_structure(session, course.id)
    others = [a for a in achievements.list_achievements(session, course.id, include_archived=False) if a.id != achievement.id]
    current_rule = achievement.current_version.rule if achievement.current_version else {}
    holders = queries.live_award_count(session, achievement.id)
    people = queries.person_names(session, result) if result else {}
    return render_template(
        "instructor/criteria.html", course=course, achievement=achievement, v=values or {}, modules=modules,
        loose=loose, others=others, rule=rule, rule_json=json.dumps(rule, indent=2) if rule else None,
        current_json=json.dumps(current_rule, indent=2) if current_rule else None, error=error, result=result,
        warnings=warnings, holders=holders, people=people, policies=awards.EDIT_POLICIES,
        missing={pid: _missing(result.decisions[pid].explanation) for pid in result.one_step_away
                 if pid in result.decisions} if result else {},
        hand_written=values is None), status


def _ids(session, course_id: int):
    modules, loose = _course_structure(session, course_id)
    activity_ids = [a.lms_id for m in modules for a in m.activities] + [a.lms_id for a in loose]
    module_ids = [m.lms_id for m in modules]
    badge_ids = [a.id for a in achievements.list_achievements(session, course_id)]
    return activity_ids, module_ids, badge_ids


@bp.route("/badges/<int:achievement_id>/criteria", methods=["GET", "POST"])
@require_scope(ROLE_INSTRUCTOR)
def criteria(achievement_id: int):
    scope = current_scope()
    session = db()
    course = queries.get_course(session, scope)
    achievement = queries.get_achievement(session, scope, achievement_id)
    version = achievement.current_version
    if request.method == "GET":
        return _criteria_page(course, achievement, forms.form_from_rule(version.rule if version else None))
    action = request.form.get("action", "preview")
    values = dict(request.form)
    try:
        if action in ("save", "save_activate") and request.form.get("rule_json"):
            rule = parse_json(request.form["rule_json"], "the rule")
        else:
            rule = forms.rule_from_form(request.form, *_ids(session, course.id))
        validate_rule(rule)
        now = _now()
        if action == "preview":
            result = preview_rule(session, course.id, rule, now, current_version=achievement)
            return _criteria_page(course, achievement, values, rule=rule, result=result,
                                  warnings=lint(session, course.id, rule, now))
        if action not in ("save", "save_activate"):
            raise BadInput("unknown action")
        policy = request.form.get("edit_policy", awards.EDIT_KEEP)
        if policy not in awards.EDIT_POLICIES:
            raise BadInput("choose what happens to earlier earners")
        narrative = (request.form.get("criteria_narrative") or "").strip()
        data = {"rule": rule}
        if narrative:
            data["criteria_narrative"] = narrative
        previous = version.rule if version else None
        achievements.update_achievement(session, course.id, achievement.id, data, scope.person_id, now)
        actor = awards.Actor.user(scope.person_id)
        if achievement.state == STATE_ACTIVE and previous and canonical_json(previous) != canonical_json(rule):
            awards.apply_edit_policy(session, achievement, policy, now, actor=actor)
        if action == "save_activate" and achievement.state != STATE_ACTIVE:
            if course_templates.ask_approval(session, scope, achievement):
                return _go("instructor.badges", done="approval_requested", badge=achievement.id)
            achievements.activate(session, course.id, achievement.id, now)
            awards.on_activate(session, achievement, now, actor=actor)
    except BadgerError as err:
        rollback_refusal(err)
        return _criteria_page(course, achievement, values, error=err, status=err.status_code)
    return _go("instructor.badges", saved=achievement.id)


# --- earners and progress ----------------------------------------------------------------------

# Above this many learners the funnel (a preview of the whole course) is computed on request
# only, so the earners page of a large course stays fast.
FUNNEL_AUTO_LEARNERS = 2000


@bp.get("/earners")
@require_scope(ROLE_INSTRUCTOR)
def earners():
    scope = current_scope()
    session = db()
    course = queries.get_course(session, scope)
    rows = queries.list_badges(session, scope)
    ruled = [r for r in rows if r.version and r.version.rule]
    args = request.args
    status = args.get("status", "") if args.get("status", "") in queries.EARNER_STATUSES else ""
    sort = args.get("sort", "name") if args.get("sort", "name") in queries.EARNER_SORTS else "name"
    badge = next((r for r in rows if r.achievement.id == args.get("badge", type=int)), None)
    if badge is None and (status or sort.endswith("awarded")) and rows:
        badge = rows[0]
    one_step_away: list[int] = []
    if status == "one_step_away" and badge is not None and badge.version and badge.version.rule:
        one_step_away = preview_rule(session, course.id, badge.version.rule, _now(),
                                     current_version=badge.achievement).one_step_away
    query = queries.EarnersQuery(search=args.get("q", "")[:200], achievement_id=badge.achievement.id if badge else None,
                                 status=status, sort=sort, page=args.get("page", 1, type=int),
                                 one_step_away=one_step_away)
    page = queries.earners_page(session, scope, query)
    enrolled = queries.learner_count(session, scope)
    today = _now().date()
    since = datetime.combine(charts.first_week(today), datetime.min.time(), tzinfo=timezone.utc)
    weekly = charts.awards_per_week(queries.award_dates(session, scope, since), today=today)
    wanted = args.get("funnel", type=int)
    funnel_badge, funnel, requirements = None, None, None
    if ruled and (wanted is not None or enrolled <= FUNNEL_AUTO_LEARNERS):
        funnel_badge = next((r for r in ruled if r.achievement.id == wanted), ruled[0])
        funnel, requirements = _funnel(session, course.id, funnel_badge, enrolled)
    return render_template(
        "instructor/earners.html", course=course, badges=rows, ruled=ruled, page=page, query=query, badge=badge,
        enrolled=enrolled, weekly=weekly, weekly_svg=charts.bar_chart_svg(weekly), funnel_badge=funnel_badge,
        funnel=funnel, requirements=requirements, funnel_svg=charts.bar_chart_svg(funnel, horizontal=True, height=40 + 34 * len(funnel.labels))
        if funnel else None)


def _funnel(session, course_id: int, row: queries.BadgeRow, enrolled: int) -> tuple[charts.Series, charts.Series]:
    """From one preview of the badge's rule: the stages enrolled → started (any progress on
    the rule's activities) → one step away or closer → earned, each holding the learners of
    the next; and how many learners meet each top-level requirement."""
    result = preview_rule(session, course_id, row.version.rule, _now(), current_version=row.achievement)
    earned = queries.live_award_count(session, row.achievement.id)
    close = max(len(set(result.one_step_away) | set(result.would_earn) | set(result.would_keep)), earned)
    started = queries.started_count(session, course_id, activity_ids_for(session, course_id, references(row.version.rule)))
    stages = charts.Series(_("learners at each stage of %(name)s", name=row.version.name),
                           [_("enrolled"), _("started"), _("one step away or closer"), _("earned")],
                           [enrolled, max(started, close), close, earned])
    decisions = list(result.decisions.values())
    if not decisions:
        return stages, charts.Series(_("learners meeting each requirement"), [], [])
    top = decisions[0].explanation
    parts = list(top.children) if top.children and top.type in ("all", "any", "at_least") else [top]
    labels = [p.label or p.title or reason_text(p.reason) for p in parts]
    counts = [0] * len(parts)
    for d in decisions:
        kids = d.explanation.children if len(parts) > 1 or parts[0] is not top else (d.explanation,)
        for i in range(len(parts)):
            if i < len(kids) and kids[i].met:
                counts[i] += 1
    labels.append(_("whole badge"))
    counts.append(sum(1 for d in decisions if d.met))
    return stages, charts.Series(_("learners meeting each requirement"), labels, counts)


@bp.route("/earners/<int:person_id>/<int:achievement_id>", methods=["GET", "POST"])
@require_scope(ROLE_INSTRUCTOR)
def explanation(person_id: int, achievement_id: int):
    """A learner and a badge: status, the criteria explained, manual actions. POSTed from the
    criteria preview with `rule_json`, it explains the rule being previewed (nothing is saved)."""
    scope = current_scope()
    session = db()
    course = queries.get_course(session, scope)
    person = queries.get_course_person(session, scope, person_id)
    achievement = queries.get_achievement(session, scope, achievement_id)
    decision = None
    rule = achievement.current_version.rule if achievement.current_version else None
    previewing = request.method == "POST"
    if previewing:
        try:
            rule = json.loads(request.form.get("rule_json") or "")
        except json.JSONDecodeError as err:
            raise BadInput(f"the rule is not valid JSON: {err}") from err
        validate_rule(rule)
    if rule:
        snapshot = load_snapshot(session, course.id, person.id, structure=load_structure(session, course.id))
        decision = evaluate(rule, snapshot, _now())
    award = queries.awards_by_person(session, scope, person.id).get((person.id, achievement.id))
    credential = latest_credential(session, award.id) if award is not None else None
    credential_page = public_url("public.credential_page", credential_id=credential.id) if credential else None
    return render_template("instructor/explanation.html", course=course, person=person, achievement=achievement,
                           decision=decision, award=award, credential_page=credential_page, previewing=previewing)


@bp.post("/awards")
@require_scope(ROLE_INSTRUCTOR)
def manual_award():
    scope = current_scope()
    session = db()
    person = queries.get_course_person(session, scope, request.form.get("person_id", type=int) or 0)
    achievement = queries.get_achievement(session, scope, request.form.get("achievement_id", type=int) or 0)
    awards.award_manually(session, scope.course_id, achievement.id, person.id, scope.person_id,
                          request.form.get("reason", ""), _now())
    return _go("instructor.explanation", person_id=person.id, achievement_id=achievement.id)


@bp.post("/awards/<int:award_id>/<any(revoke, suspend, reinstate, keep):action>")
@require_scope(ROLE_INSTRUCTOR)
def change_award(award_id: int, action: str):
    scope = current_scope()
    session = db()
    award = queries.get_award(session, scope, award_id)
    reason = request.form.get("reason", "")
    if action == "keep":  # a flagged award stays as it is; only the review item closes
        awards.clear_review(session, scope.course_id, award.id, Actor.user(scope.person_id), reason, _now())
    else:
        verb = {"revoke": awards.revoke, "suspend": awards.suspend, "reinstate": awards.reinstate}[action]
        verb(session, scope.course_id, award.id, scope.person_id, reason, _now())
    if request.form.get("back") == "review":
        return _go("instructor.review")
    return _go("instructor.explanation", person_id=award.person_id, achievement_id=award.achievement_id)


@bp.route("/awards/bulk", methods=["GET", "POST"])
@require_scope(ROLE_INSTRUCTOR)
def bulk():
    """Award or revoke one badge for many learners from CSV rows `learner (id or e-mail), reason`:
    the first POST checks the whole file and shows what each row would do, changing nothing;
    the Apply button of that page (step=apply) does it."""
    scope = current_scope()
    session = db()
    course = queries.get_course(session, scope)
    badges = [r for r in queries.list_badges(session, scope) if r.version]
    outcomes = plan = None
    values = dict(request.form)
    if request.method == "POST":
        achievement = queries.get_achievement(session, scope, request.form.get("achievement_id", type=int) or 0)
        text = request.form.get("rows", "")
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            raw = upload.read(512 * 1024 + 1)
            if len(raw) > 512 * 1024:
                raise BadInput("the CSV file is larger than 512 KiB")
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as e:
                raise BadInput("the CSV file must be UTF-8 text") from e
        if not text.strip():
            raise BadInput("give at least one row: learner id or e-mail, then a reason")
        values["rows"] = text
        action, reason = request.form.get("action", ""), request.form.get("reason", "").strip()
        if request.form.get("step") == "apply":
            outcomes = awards.bulk_csv(session, course.id, achievement.id, text, action, scope.person_id, _now(),
                                       default_reason=reason)
        else:
            plan = awards.check_bulk(session, course.id, achievement.id, text, action, default_reason=reason)
    return render_template("instructor/bulk.html", course=course, badges=badges, outcomes=outcomes, plan=plan,
                           to_do=sum(1 for p in plan or () if p.outcome in awards.BULK_PLAN), v=values)


@bp.get("/review")
@require_scope(ROLE_INSTRUCTOR)
def review():
    scope = current_scope()
    session = db()
    course = queries.get_course(session, scope)
    items = list(session.scalars(
        select(Award).where(Award.course_id == course.id,
                            (Award.needs_review.is_(True)) | (Award.status == AWARD_SUSPENDED))
        .order_by(Award.status_changed_at.desc().nulls_last(), Award.id)))
    return render_template("instructor/review.html", course=course, items=items)


@bp.get("/earners.csv")
@require_scope(ROLE_INSTRUCTOR)
def export_csv():
    scope = current_scope()
    session = db()
    course = queries.get_course(session, scope)
    badges = queries.list_badges(session, scope)
    held = queries.awards_by_person(session, scope)
    rows = []
    for person, _enrollment in queries.list_learners(session, scope):
        for row in badges:
            award = held.get((person.id, row.achievement.id))
            name = row.version.name if row.version else ""
            rows.append([person.name, person.email or "", person.sub, name,
                         term(award.status if award else "not_earned", "state"),
                         award.awarded_at.isoformat() if award else "",
                         award.valid_until.isoformat() if award and award.valid_until else "",
                         term(award.awarded_by, "awarded_by") if award else "", award.reason or "" if award else ""])
    # Headers and labels in the reader's language; dates stay ISO 8601 for spreadsheets.
    text = csv_text([_("Learner"), _("E-mail"), _("LTI user id"), _("Badge"), _("Status"), _("Awarded at"),
                     _("Valid until"), _("Awarded by"), _("Reason")], rows)
    filename = f"earners-{course.context_id}.csv".replace('"', "")
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/badges/<int:achievement_id>/image")
@require_scope()
def badge_image(achievement_id: int):
    """The image of a badge of the launched course (learners see it too): the current
    version's, or with `?version=N` that version's (what a learner earned)."""
    scope = current_scope()
    session = db()
    achievement = queries.get_achievement(session, scope, achievement_id)
    wanted = request.args.get("version", type=int)
    version = achievement.current_version
    if wanted is not None:
        version = next((v for v in achievement.versions if v.number == wanted), None)
    hidden = (not scope.is_instructor and achievement.state != STATE_ACTIVE
              and (scope.person_id, achievement.id) not in queries.awards_by_person(session, scope, scope.person_id))
    if version is None or hidden:
        abort(404)  # drafts stay private to the course's instructors
    if version.image:
        data, media_type = version.image, version.image_type
    else:
        image = forms.images.generate_svg("circle", "#0a4f8f", forms.initials(version.name))
        data, media_type = image.data, image.media_type
    response = Response(data, mimetype=media_type)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


# --- daily digest ----------------------------------------------------------------------------

@bp.post("/digest")
@require_scope(ROLE_INSTRUCTOR)
def digest():
    """The teacher's daily summary of awards and reviews waiting, by e-mail, on or off."""
    scope = current_scope()
    notify.set_digest(db(), scope.person_id, notify.parse_switch(request.form.get("digest"), "digest"))
    return _go("instructor.badges", done="digest")


# --- gradebook write-back --------------------------------------------------------------------

@bp.post("/gradebook")
@require_scope(ROLE_INSTRUCTOR)
def gradebook_mode():
    """The course's gradebook write-back; awards not yet written in the new mode are queued."""
    scope = current_scope()
    queued = gradebook.set_gradebook_mode(db(), scope.course_id, request.form.get("mode", ""), _now(),
                                          base_url=current_app.extensions["lti_badger"].settings.public_base_url,
                                          actor=Actor.user(scope.person_id))
    return _go("instructor.badges", queued=queued)
