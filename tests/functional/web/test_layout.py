"""Layout, CSRF and language: every page gets the stylesheet and the landmarks, forms carry a
CSRF token bound to the launch, and the launch's locale picks the language."""

from __future__ import annotations

import re

import pytest

from lti_badger.web.auth import Scope
from lti_badger.web.csrf import generate_csrf_token, validate_csrf_token, CsrfError
from tests.factories_web import token_for, two_courses


@pytest.fixture
def world(app):
    return two_courses(app)


def test_static_css_and_js_are_served_with_csp(client):
    css = client.get("/assets/app.css")
    assert css.status_code == 200 and b":focus-visible" in css.data
    js = client.get("/assets/app.js")
    assert js.status_code == 200
    assert "script-src 'self'" in css.headers["Content-Security-Policy"]


def test_page_has_landmarks_skip_link_and_no_inline_script(app, client, world):
    a, _ = world
    lt = token_for(app, a, a.instructor, "instructor")
    page = client.get("/course/badges", headers={"X-Launch-Token": lt}).get_data(as_text=True)
    assert '<a class="skip-link" href="#main">' in page
    assert '<main id="main"' in page and "<header" in page and '<nav aria-label=' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "inline scripts are forbidden by the CSP"
    assert " style=" not in page


def test_the_launch_token_is_in_the_page_but_in_no_link(app, client, world):
    """Issue 12, finding 8: the token is in the page's meta tag and POST forms only."""
    a, _ = world
    lt = token_for(app, a, a.instructor, "instructor")
    answer = client.get("/course/badges", headers={"X-Launch-Token": lt})
    page = answer.get_data(as_text=True)
    assert f'<meta name="lti-badger-launch" content="{lt}">' in page
    assert 'href="/course/earners"' in page
    assert not re.search(r"[?&]lt=", page)
    assert answer.headers["Referrer-Policy"] == "no-referrer"


def test_locale_from_launch_then_accept_language(app, client, world):
    a, _ = world
    es = token_for(app, a, a.instructor, "instructor", locale="es-ES")
    page = client.get("/course/badges", headers={"X-Launch-Token": es}).get_data(as_text=True)
    assert '<html lang="es">' in page and "Insignias" in page
    en = token_for(app, a, a.instructor, "instructor", locale="en-US")
    page = client.get("/course/badges", headers={"Accept-Language": "es", "X-Launch-Token": en}).get_data(as_text=True)
    assert '<html lang="en">' in page
    anon = client.get("/course/badges", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert anon.status_code == 401 and '<html lang="es">' in anon.get_data(as_text=True)


def test_csrf_token_is_bound_to_the_launch(app):
    one = Scope(1, 1, 1, "instructor")
    other = Scope(1, 2, 1, "instructor")
    with app.test_request_context():
        token = generate_csrf_token(one, now=1000)
        validate_csrf_token(token, one, now=1100)
        with pytest.raises(CsrfError, match="does not match"):
            validate_csrf_token(token, other, now=1100)
        with pytest.raises(CsrfError, match="expired"):
            validate_csrf_token(token, one, now=1000 + 9 * 3600)
        with pytest.raises(CsrfError, match="missing"):
            validate_csrf_token("", one)
        with pytest.raises(CsrfError, match="malformed"):
            validate_csrf_token("abc.def", one)


def test_post_without_csrf_token_is_refused_and_with_it_passes_the_check(app, client, world):
    a, _ = world
    lt = token_for(app, a, a.learners[0], "learner")
    refused = client.post("/me/privacy", data={"lt": lt, "public_display": "initials"})
    assert refused.status_code == 400 and b"security token" in refused.data
    with app.test_request_context("/", headers={"X-Launch-Token": lt}):
        csrf = generate_csrf_token()
    ok = client.post("/me/privacy", data={"lt": lt, "csrf_token": csrf, "public_display": "initials"})
    assert ok.status_code in (200, 302, 303)


# The only state-changing routes that take no CSRF token, each with what authenticates it
# instead. A route missing here must refuse a launched user without the token; an entry whose
# route is gone fails too, so the list cannot silently grow stale or wider (e.g. a new route in
# an exempt blueprint).
CSRF_EXEMPT = {
    ("POST", "/lti/login"): "OIDC login initiation, posted cross-site by the LMS; it only starts a launch",
    ("POST", "/lti/launch"): "the LMS's form post, authenticated by the signed id_token, state and nonce",
    ("POST", "/verify"): "public verification of a posted credential; reads only",
    ("POST", "/xapi/statements"): "event feed, authenticated by the source's own credentials",
    ("PUT", "/xapi/statements"): "event feed, authenticated by the source's own credentials",
    ("POST", "/caliper/events"): "event feed, authenticated by the source's own credentials",
    ("POST", "/canvas/live-events"): "event feed, authenticated by the source's own credentials",
    ("POST", "/moodle/events"): "event feed: a JWT signed with the Moodle site's LTI key, used once",
    # Called cross-origin by wallet apps (no launch, no cookie): the one-time 15-minute secret
    # in the URL authorises it, the wallet's DID Authentication proves its key (docs/credentials.md,
    # "Wallets"). Its companion /interactions/<secret> is GET only.
    ("POST", "/workflows/collect/exchanges/<secret>"): "wallet exchange: one-time secret + DID Authentication",
    # The endorser has no LMS account: the one-time secret of the invitation (stored hashed, expiring,
    # used up by signing) authorises the form (docs/credentials.md, "Endorsements").
    ("POST", "/endorse/<token>"): "endorser's form: the one-time invitation secret in the URL",
    # Moodle's backpack client logs in server to server with the learner's app password.
    ("POST", "/o/token"): "OAuth token endpoint: an app password or a refresh token, rate-limited with lockout",
    # W3C VC-API verification: public, stateless and rate-limited; it reads a credential and changes nothing.
    ("POST", "/credentials/verify"): "VC-API verify: public, changes nothing, rate-limited",
    # Server to server, with their own credentials (docs/credentials.md, "Standard APIs").
    ("POST", "/credentials/issue"): "VC-API issue: an operator's API token (Authorization: Bearer), stores nothing",
    ("POST", "/ims/ob/v3p0/oauth/token"): "OAuth 2.0 token endpoint: client authentication and PKCE code verifier",
    ("POST", "/ims/ob/v3p0/oauth/register"): "RFC 7591 client registration: JSON, creates an unprivileged client",
    # RFC 8058 one-click unsubscribe: the mail client POSTs without any page; the signed token
    # in the URL names the person and the one thing it turns off (never on).
    ("POST", "/unsubscribe/<token>"): "one-click unsubscribe: a signed token that only turns e-mail off",
}


def test_every_state_changing_route_requires_the_csrf_token_unless_allow_listed(app, client, world):
    """Walks the URL map: every POST/PUT/PATCH/DELETE route refuses a launched user who sends
    no token, except the ones `CSRF_EXEMPT` lists with a reason."""
    a, _ = world
    lt = token_for(app, a, a.admin, "admin")
    checked, exempt_seen = 0, set()
    for rule in app.url_map.iter_rules():
        for method in set(rule.methods) - {"GET", "HEAD", "OPTIONS"}:
            if (method, rule.rule) in CSRF_EXEMPT:
                exempt_seen.add((method, rule.rule))
                continue
            path = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", rule.rule)
            path = re.sub(r"<(?:[^:<>]+:)?[^:<>]+>", "1", path)
            response = client.open(path, method=method, data={"lt": lt})
            assert response.status_code == 400 and b"security token" in response.data, (method, path)
            checked += 1
    assert exempt_seen == set(CSRF_EXEMPT), f"allow-listed routes that no longer exist: {set(CSRF_EXEMPT) - exempt_seen}"
    assert checked >= 12
