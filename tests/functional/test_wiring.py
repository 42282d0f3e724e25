"""create_app wires every part: blueprints, fixed URLs, error mapping, adapters, CLI commands,
and the in-process worker only when configured."""

from click.testing import CliRunner

from lti_badger.app import create_app
from lti_badger.cli import main
from lti_badger.keys import FileKeyStore

FIXED_URLS = {
    "/lti/login", "/lti/launch", "/.well-known/jwks.json", "/lti/config/canvas.json", "/lti/register",
    "/.well-known/did.json", "/verify", "/xapi/statements", "/caliper/events", "/canvas/live-events",
}


def test_every_blueprint_and_fixed_url_is_registered(app):
    assert {"lti", "public", "instructor", "learner", "admin", "events", "vcapi", "ob3_oauth", "ob3_api"} \
        <= set(app.blueprints)
    assert "lti_badger.ob3" in app.extensions  # the OB 3.0 API's OAuth server and resource protector
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert FIXED_URLS <= rules, FIXED_URLS - rules
    for prefix in ("/credentials/", "/status/", "/achievements/", "/course/", "/me/", "/admin/"):
        assert any(r.startswith(prefix) for r in rules), prefix


def test_adapters_and_error_mapping(app, client):
    svc = app.extensions["lti_badger"]
    assert isinstance(svc.keys, FileKeyStore)
    assert svc.sessions.kw["expire_on_commit"] is False
    missing = client.get("/credentials/does-not-exist", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    page = client.get("/no-such-page")
    assert page.status_code == 404 and b"404" in page.data and page.mimetype == "text/html"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_every_cli_command_is_registered():
    assert {"init", "serve", "worker", "platform", "demo", "verify", "keys", "source", "deliveries", "audit",
            "webhooks", "api-token", "awards"} <= set(main.commands)
    assert CliRunner().invoke(main, ["--help"]).exit_code == 0


def test_in_process_worker_starts_only_when_configured(app_settings):
    from lti_badger.deliveries.runner import EXTENSION_KEY, stop_in_process_worker

    quiet = create_app(app_settings)
    assert EXTENSION_KEY not in quiet.extensions
    busy = create_app({**app_settings, "in_process_worker": True})
    try:
        assert busy.extensions[EXTENSION_KEY]
    finally:
        stop_in_process_worker(busy)


def test_a_server_process_warms_up_before_its_first_request(app_settings):
    """What `lti_badger.wsgi` does in each gunicorn worker: one pooled database connection, the
    OB 3.0 schema compiled and the contexts read, so a learner's first event pays none of it."""
    from lti_badger.app import warm_up
    from lti_badger.credentials import schema

    app = create_app(app_settings)
    schema._fast_validator.cache_clear()
    warm_up(app)
    assert schema._fast_validator.cache_info().currsize == 1
    assert app.extensions["lti_badger"].engine.pool.checkedin() == 1


def test_a_server_process_starts_while_the_database_is_down(app_settings, caplog):
    """gunicorn stops all its workers after one fails to boot: a database that is down at start
    must not fail the warm-up (the process answers 503 until it is back)."""
    from lti_badger.app import warm_up

    app = create_app({**app_settings, "database_url": "postgresql+psycopg://postgres@127.0.0.1:1/none"})
    warm_up(app)
    assert "database not reachable at start" in caplog.text
