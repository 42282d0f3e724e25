"""/openapi.json: a valid OpenAPI 3.1 document, covering every JSON route of the app (the
others are listed here on purpose), merging `openapi_*` fragments, and a bounded Schemathesis
run against the app over WSGI that must never see a 5xx."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error

from lti_badger.app import create_app
from lti_badger.web import openapi

# Routes that answer pages, images, files, redirects or LTI form posts, never JSON.
NOT_JSON = {
    "static", "static_assets.static", "lti.static",
    "lti.login", "lti.launch", "lti.deep_link_response", "lti.register",
    "public.credential_png", "public.credential_svg", "public.achievement_image", "public.issuer_image",
    "public.verify_page",
    "admin.index", "admin.audit", "admin.deliveries_page", "admin.retry", "admin.issuer", "admin.keys",
    "admin.platform", "admin.deployments", "admin.platform_by_id", "admin.platform_deployments",
    "admin.edit_platform", "admin.edit_issuer", "admin.remove_platform", "admin.new_platform", "admin.sources",
    "instructor.home", "instructor.manual_award", "instructor.change_award", "instructor.bulk",
    "instructor.badges", "instructor.criteria", "instructor.edit_badge", "instructor.badge_image",
    "instructor.change_state", "instructor.new_badge", "instructor.earners", "instructor.export_csv",
    "instructor.explanation", "instructor.review",
    "learner.home", "learner.backpack_settings", "learner.create_app_password", "learner.revoke_app_password",
    "learner.my_badges", "learner.badge", "learner.wallet", "learner.privacy",
    "instructor.gradebook_mode", "learner.all_badges", "learner.all_badges_wallet", "learner.apps",
    "learner.revoke_app", "ob3_oauth.privacy", "ob3_oauth.authorize_decision",
    "instructor.versions", "admin.programs_page", "admin.new_program", "admin.program", "admin.edit_program",
    "admin.activate_program", "admin.review_program_award",
    "reports.index", "reports.export_csv",
    "endorsements.index", "endorsements.invite", "endorsements.withdraw", "endorse.endorse_page", "endorse.endorse",
    "admin_policy.templates_page", "admin_policy.new_template", "admin_policy.template", "admin_policy.edit_template",
    "admin_policy.policy", "admin_policy.add_group_default", "admin_policy.remove_group_default",
    "admin_policy.approvals", "admin_policy.decide", "admin_policy.withdraw_template", "course_templates.attach", "course_templates.mapping",
    "learner.notifications", "instructor.digest", "public.unsubscribe_page", "public.unsubscribe",
}


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


@pytest.fixture
def document(client):
    answer = client.get("/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    return answer.json


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_json_route_is_documented_and_nothing_else(app, document):
    routes: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_JSON:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((openapi_path(rule.rule), method.lower()))
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert routes - documented == set(), "JSON routes missing from /openapi.json (document them or list them here)"
    assert documented - routes == set(), "documented operations the app does not have"
    assert not NOT_JSON - {rule.endpoint for rule in app.url_map.iter_rules()}, "stale NOT_JSON entries"


def _fragment(name: str, **attributes):
    return type(name, (), {"__name__": f"lti_badger.web.{name}", **attributes})


def test_fragments_are_merged_and_two_fragments_documenting_one_operation_clash(monkeypatch):
    ob3 = _fragment("openapi_ob3", PATHS={
        "/ims/ob/v3p0/credentials": {"get": openapi.operation("List credentials", "ob3", {
            "200": openapi.json_answer("Credentials", openapi.ref("Ob3Page"))})},
        "/credentials/verify": {"post": openapi.operation("VC-API verify, as its owner says", "verify", {
            "200": openapi.json_answer("Result")})}},
        SCHEMAS={"Ob3Page": {"type": "object"}},
        SECURITY_SCHEMES={"OAuth2ACG": {"type": "oauth2", "flows": {"clientCredentials": {
            "tokenUrl": "/ims/ob/v3p0/oauth/token", "scopes": {}}}}},
        TAGS=[{"name": "ob3", "description": "OB 3.0 API"}])
    monkeypatch.setattr(openapi, "fragments", lambda: [ob3])
    document = openapi.build_document("https://badges.example", "1")
    validate(document)
    assert "/ims/ob/v3p0/credentials" in document["paths"] and "Ob3Page" in document["components"]["schemas"]
    assert "OAuth2ACG" in document["components"]["securitySchemes"]
    assert document["paths"]["/credentials/verify"]["post"]["summary"] == "VC-API verify, as its owner says"
    assert "ob3" in {t["name"] for t in document["tags"]}
    again = _fragment("openapi_vcapi", PATHS={"/credentials/verify": {"post": {"responses": {}}}})
    monkeypatch.setattr(openapi, "fragments", lambda: [ob3, again])
    with pytest.raises(ValueError, match="post /credentials/verify is documented twice"):
        openapi.build_document("https://badges.example", "1")


@pytest.fixture
def fuzzed_app(app_settings):
    app = create_app(app_settings)
    yield app
    app.extensions["lti_badger"].engine.dispose()


def test_no_operation_answers_5xx(fuzzed_app):
    """Schemathesis' pytest plugin does not run under pytest 9, so each operation gets its own
    bounded Hypothesis run here."""
    api = schemathesis.openapi.from_wsgi("/openapi.json", fuzzed_app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 29  # all but /openapi.json itself
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_server_error(case):
            case.call_and_validate(checks=[not_a_server_error])

        no_server_error()
