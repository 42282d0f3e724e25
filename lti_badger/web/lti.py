"""Blueprint: LTI 1.3 endpoints at fixed URLs (admin docs and external harnesses rely on them):
OIDC login, launch, deep linking response, JWKS, Canvas JSON config, dynamic registration."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, make_response, redirect, render_template, request, url_for
from pylti1p3.deep_link_resource import DeepLinkResource

from ..criteria.templates import apply_group_defaults
from ..errors import BadInput, Forbidden, LaunchError
from ..lti import claims as c
from ..lti.cache import make_cache
from ..lti.flask_adapter import LtiAdapter, launch_errors, origin_of
from ..lti.registration import ToolUrls, canvas_config, open_registration, register_platform
from ..lti.services import VIEW_BADGES, deep_link_items, landing_view, list_course_achievements, record_launch
from ..lti.tool_conf import LaunchDataStorage, NonceLedger, SqlToolConf
from ..metrics import LAUNCHES
from ..models import Course, Person
from ..models.base import utcnow
from .auth import current_scope, login_scope, require_scope
from .csrf import csrf_exempt
from .db import db

bp = Blueprint("lti", __name__, template_folder="templates", static_folder="static/lti",
               static_url_path="/lti/static")


def _services():
    return current_app.extensions["lti_badger"]


def _urls() -> ToolUrls:
    return ToolUrls(_services().settings.public_base_url)


def _adapter() -> LtiAdapter:
    svc, session = _services(), db()
    cache = make_cache(session, svc.settings.redis_url)
    return LtiAdapter(SqlToolConf(session, svc.keys), LaunchDataStorage(cache), NonceLedger(session, cache),
                      secure=svc.settings.public_base_url.startswith("https://"), now=utcnow, outbound=svc.outbound,
                      tool_origin=origin_of(svc.settings.public_base_url))


@bp.route("/lti/login", methods=["GET", "POST"])
@csrf_exempt
def login():
    """OIDC third-party-initiated login (LTI 1.3 Core §5.1.1): answer with the auth redirect."""
    with launch_errors():
        adapter = _adapter()
        adapter.purge_expired()
        oidc_login = adapter.login()
        redirect_obj = oidc_login.get_redirect_object(_urls().launch)
    if oidc_login.storage_put is not None:  # the LMS offers postMessage storage: store, then go on
        response = make_response(render_template("lti/storage_login.html", page=oidc_login.storage_put))
        adapter.cookies.update_response(response)
    else:
        response = redirect_obj.do_redirect()
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/lti/launch")
@csrf_exempt
def launch():
    """Validate the id_token, record the launch, bind the session and send the user on."""
    adapter = _adapter()
    storage_page = _storage_launch_page(adapter)
    if storage_page is not None:
        return storage_page
    with launch_errors():
        message_launch = adapter.message_launch()
        message_launch.validate()
        claims = message_launch.get_launch_data()
        platform = adapter.tool_conf.find_platform(message_launch.get_iss(), message_launch.get_client_id())
    if platform is None:
        raise LaunchError("the launch was refused: unknown platform")
    session = db()
    scope = record_launch(session, platform, claims, utcnow())
    if scope.course_id is not None:
        apply_group_defaults(session, scope.course_id, utcnow())
    LAUNCHES.labels(claims.get(c.MESSAGE_TYPE) or "unknown").inc()
    code = login_scope(scope, browser_keeps_cookies=adapter.cookies.get_cookie(request.form.get("state", "")) is not None)
    if claims.get(c.MESSAGE_TYPE) == c.MSG_DEEP_LINKING:
        if not scope.is_instructor:
            raise Forbidden("only instructors can add lti_badger to a course")
        course = session.get(Course, scope.course_id)
        return render_template("lti/deep_link_picker.html", course=course, launch_id=message_launch.get_launch_id(),
                               achievements=list_course_achievements(session, scope))
    if scope.course_id is None:
        view = (claims.get(c.CUSTOM) or {}).get(c.CUSTOM_VIEW)
        page = "learner.backpack_settings" if view == c.VIEW_BACKPACK else "learner.all_badges"
        return redirect(url_for(page, lt=code), code=303)
    params = {"lt": code, **landing_view(session, scope, (claims.get(c.RESOURCE_LINK) or {}).get("id"))}
    home = "instructor.home" if scope.is_instructor else "learner.home"
    return redirect(url_for(home, **params), code=303)


def _storage_launch_page(adapter: LtiAdapter):
    """No state cookie came back, and the login stored the state in the LMS's frame
    (`lti_storage_target`): a page that reads it back from there and posts the launch again."""
    form = request.form
    state = form.get("state", "")
    if (not form.get("lti_storage_target") or "lti_storage_secret" in form or not state
            or adapter.cookies.get_cookie(state) is not None):
        return None
    record = adapter.launch_states.peek(state)
    if record is None or record.storage_secret is None:
        return None
    response = make_response(render_template(
        "lti/storage_launch.html", action=_urls().launch, target=form["lti_storage_target"],
        origin=record.storage_origin, state=state, nonce=record.nonce, id_token=form.get("id_token", "")))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/lti/deep_link")
@require_scope("instructor")
def deep_link_response():
    """The picker's choice as a signed LtiDeepLinkingResponse, auto-posted back to the LMS."""
    scope = current_scope()
    session = db()
    launch_id = request.form.get("launch_id", "")
    if not launch_id.startswith("lti1p3-launch-"):
        raise BadInput("the deep linking form is missing its launch id: start again from the LMS")
    adapter = _adapter()
    with launch_errors():
        restored = adapter.restore_launch(launch_id)
        claims = restored.get_launch_data()
        platform = adapter.tool_conf.find_platform(restored.get_iss(), restored.get_client_id())
    course, person = session.get(Course, scope.course_id), session.get(Person, scope.person_id)
    if (platform is None or platform.id != scope.platform_id or claims.get(c.MESSAGE_TYPE) != c.MSG_DEEP_LINKING
            or (claims.get(c.CONTEXT) or {}).get("id") != course.context_id or claims.get("sub") != person.sub):
        raise Forbidden("this deep linking request belongs to another launch")
    items = deep_link_items(session, scope, _urls().base_url, request.form.get("view", VIEW_BADGES),
                            request.form.get("achievement", type=int))
    resources = [DeepLinkResource().set_url(i["url"]).set_title(i["title"]).set_custom_params(i["custom"])
                 for i in items]
    with launch_errors():
        deep_link = restored.get_deep_link()
        jwt_value = deep_link.get_response_jwt(resources)
    return_url = claims[c.DL_SETTINGS]["deep_link_return_url"]
    return render_template("lti/deep_link_return.html", action=return_url, jwt=jwt_value, title=items[0]["title"])


@bp.get("/.well-known/jwks.json")
def jwks():
    """The tool's published keys (current, and superseded until retired), each with kid, alg RS256 and use sig."""
    body = SqlToolConf(db(), _services().keys).get_jwks()
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/lti/config/canvas.json")
def canvas_json():
    return jsonify(canvas_config(_urls()))


@bp.get("/lti/register")
def register():
    """LTI Dynamic Registration 1.0: the LMS opens this in a window or iframe. It makes the tool
    fetch the URL it is given, so it is closed unless the link carries an operator's invite
    (`lti-badger platform invite`) or the LMS's host is in `registration_allowed_hosts`:
    otherwise 403, and nothing is fetched."""
    svc, session = _services(), db()
    openid_configuration = request.args.get("openid_configuration", "")
    invite = open_registration(session, openid_configuration, request.args.get("invite", ""),
                               svc.settings.registration_allowed_hosts, utcnow())
    if not openid_configuration:
        raise BadInput("openid_configuration is required: start the registration from the LMS")
    platform = register_platform(session, svc.outbound, _urls(), openid_configuration,
                                 request.args.get("registration_token"), invite=invite, now=utcnow())
    return render_template("lti/registered.html", platform=platform)
