"""Browser test harness: Debian's Chromium driven by Playwright (headless), axe-core from
npm injected into every page (any WCAG 2.1 AA violation fails the test), screenshots of each
page into tests/artifacts/, and a full stack on loopback: the tool and the LMS simulator.

The tool runs at http://localhost:<port> and the simulator at http://127.0.0.1:<port>, so
in the browser they are different sites, as an LMS and a tool are."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from lti_badger.app import create_app
from lti_badger.keys import KIND_ISSUER, KIND_LTI
from lti_badger.settings import load_settings

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent / "artifacts"
CHROMIUM = os.environ.get("LTI_BADGER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def axe_source() -> str:
    path = HERE / "node_modules" / "axe-core" / "axe.min.js"
    if not path.exists() and shutil.which("npm"):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)
    if not path.exists():
        pytest.fail("axe-core is missing: run `npm ci` in tests/browser")
    return path.read_text()


@pytest.fixture(scope="session")
def playwright_instance():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance):
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


class AxeViolations(AssertionError):
    pass


def check_page(page, name: str, axe_source: str) -> None:
    """Screenshot the page, then run axe (WCAG 2.1 A/AA) and fail on any violation. axe is
    evaluated through the DevTools protocol, so the page's strict CSP stays in force."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
                           AXE_TAGS)
    violations = result["violations"]
    if violations:
        lines = [f"{v['id']} ({v['impact']}): {v['help']} -> " + "; ".join(n["target"][0] if isinstance(n["target"][0], str)
                 else json.dumps(n["target"]) for n in v["nodes"][:5]) for v in violations]
        raise AxeViolations(f"axe found {len(violations)} WCAG 2.1 AA violation(s) on {name} ({page.url}):\n" + "\n".join(lines))


@pytest.fixture
def check(axe_source):
    def run(page, name: str) -> None:
        check_page(page, name, axe_source)
    return run


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        return None


class ToolOnLocalhost:
    """The tool on 127.0.0.1:<free port>, addressed as http://localhost:<port>."""

    def __init__(self, app_settings: dict) -> None:
        holder = {}
        self.cookie_headers: list[str] = []  # every Cookie header the tool received

        def dispatch(environ, start_response):
            if environ.get("HTTP_COOKIE"):
                self.cookie_headers.append(environ["HTTP_COOKIE"])
            return holder["app"](environ, start_response)

        self.server = make_server("127.0.0.1", 0, dispatch, threaded=True, request_handler=_Quiet)
        self.url = f"http://localhost:{self.server.server_port}"
        self.settings = replace(load_settings(app_settings), base_url=self.url, issuer_name="Example University",
                                issuer_url="https://university.example")
        self.app = holder["app"] = create_app(self.settings)
        keys = self.app.extensions["lti_badger"].keys
        keys.ensure(KIND_LTI)
        keys.ensure(KIND_ISSUER)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @property
    def sessions(self):
        return self.app.extensions["lti_badger"].sessions

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        self.app.extensions["lti_badger"].engine.dispose()


@dataclass
class Stack:
    tool: ToolOnLocalhost
    sim: object
    platform_id: int
    activities: dict


@pytest.fixture
def stack(app_settings):
    """Tool + LMS simulator with the demo course (two modules, an instructor, five learners)."""
    from lti_badger.devtools.demo import register_platform, seed_simulator
    from lti_badger.devtools.lms_sim import LmsSimulator

    tool = ToolOnLocalhost(app_settings)
    sim = LmsSimulator().start()
    try:
        activities = seed_simulator(sim, tool.url)
        platform_id = register_platform(tool.sessions, sim)
        yield Stack(tool, sim, platform_id, activities)
    finally:
        sim.stop()
        tool.stop()


@pytest.fixture
def new_page(browser):
    """Pages in fresh browser contexts (separate cookie jars: one per person)."""
    contexts = []

    def make(**options):
        context = browser.new_context(viewport=options.pop("viewport", {"width": 1200, "height": 900}),
                                      accept_downloads=True, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def cookieless_page(playwright_instance, tmp_path):
    """A page of a Chromium profile whose content settings block every cookie of one origin,
    as a browser blocking third-party cookies treats a tool inside an LMS iframe: the tool
    never receives a Cookie header and cannot set one."""
    contexts = []

    def make(origin: str):
        profile = tmp_path / f"profile-{len(contexts)}"
        (profile / "Default").mkdir(parents=True)
        prefs = {"profile": {"content_settings": {"exceptions": {"cookies": {f"{origin},*": {"setting": 2}}}}}}
        (profile / "Default" / "Preferences").write_text(json.dumps(prefs))
        context = playwright_instance.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900}, accept_downloads=True)
        contexts.append(context)
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(15000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(autouse=True)
def _leave_nothing_behind(request):
    """Browser tests commit for real; empty the tables afterwards (see tests/functional/web)."""
    yield
    if "app_settings" in request.fixturenames:
        from tests.conftest import wipe

        wipe(request.getfixturevalue("engine"))
