"""Fixtures for LTI functional tests: the tool on a real loopback HTTP server (its base URL is
the server's URL), the LMS simulator registered with it, and a seeded course."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from lti_badger.app import create_app
from lti_badger.devtools.lms_sim import LmsSimulator
from lti_badger.devtools.lms_sim import spec
from lti_badger.keys import KIND_LTI
from lti_badger.lti.platforms import add_platform
from lti_badger.lti.registration import create_invite
from lti_badger.models.base import utcnow
from lti_badger.models import Course, Enrollment, Person, Platform
from tests.conftest import LiveServer

CONTEXT_ID = "bio101"
INSTRUCTOR = "teacher-1"
LEARNER = "learner-1"


@dataclass
class Tool:
    app: Flask
    url: str
    sessions: sessionmaker[Session]

    def count(self, model) -> int:
        with self.sessions() as s:
            return s.scalar(select(func.count()).select_from(model))

    def counts(self) -> dict[str, int]:
        return {m.__name__: self.count(m) for m in (Course, Person, Enrollment)}


def start_tool(settings: dict) -> tuple[Tool, LiveServer]:
    holder: dict[str, Flask] = {}
    server = LiveServer(lambda environ, start_response: holder["app"](environ, start_response))
    app = create_app({**settings, "base_url": server.url})
    app.testing = True
    app.extensions["lti_badger"].keys.ensure(KIND_LTI)
    holder["app"] = app
    server.start()
    return Tool(app, server.url, app.extensions["lti_badger"].sessions), server


@pytest.fixture
def sim() -> Iterator[LmsSimulator]:
    simulator = LmsSimulator().start()
    yield simulator
    simulator.stop()


@pytest.fixture
def tool(app_settings) -> Iterator[Tool]:
    running, server = start_tool(app_settings)
    yield running
    server.stop()
    running.app.extensions["lti_badger"].engine.dispose()


@pytest.fixture
def make_tool(app_settings):
    """Start tools with settings of the test's choosing; each is stopped at the end."""
    started = []

    def make(**settings):
        running, server = start_tool({**app_settings, **settings})
        started.append((running, server))
        return running
    yield make
    for running, server in started:
        server.stop()
        running.app.extensions["lti_badger"].engine.dispose()


def register_sim(tool: Tool, sim: LmsSimulator, client_id: str = "lti-badger-sim",
                 deployment_ids: tuple[str, ...] = ("d1",)) -> int:
    sim.register_tool(tool.url, client_id=client_id, deployment_ids=deployment_ids)
    with tool.sessions() as s:
        platform = add_platform(s, issuer=sim.issuer, client_id=client_id, auth_login_url=sim.auth_url,
                                auth_token_url=sim.token_url, key_set_url=sim.jwks_url,
                                deployment_ids=deployment_ids, name="Simulator")
        s.commit()
        return platform.id


def invite_url(tool: Tool) -> str:
    """The tool's registration URL with a fresh one-time invite (what `platform invite` prints)."""
    with tool.sessions() as s:
        token = create_invite(s, utcnow())
        s.commit()
    return f"{tool.url}/lti/register?invite={token}"


def https_app(settings: dict, sim: LmsSimulator, tool_url: str, sub: str, name: str, email: str, role: str) -> Flask:
    """The tool under an https base URL, driven through Flask's test client (a loopback server
    speaks plain http), registered with the simulator, with one person enrolled in the course.
    The caller disposes of its engine."""
    app = create_app({**settings, "base_url": tool_url})
    app.testing = True
    svc = app.extensions["lti_badger"]
    svc.keys.ensure(KIND_LTI)
    with svc.sessions() as s:
        add_platform(s, issuer=sim.issuer, client_id="lti-badger-sim", auth_login_url=sim.auth_url,
                     auth_token_url=sim.token_url, key_set_url=sim.jwks_url, deployment_ids=["d1"])
        s.commit()
    sim.register_tool(tool_url)
    sim.add_course(CONTEXT_ID, "Biology 101")
    sim.add_user(sub, name, email)
    sim.enroll(CONTEXT_ID, sub, [role])
    return app


@pytest.fixture
def platform_id(tool: Tool, sim: LmsSimulator) -> int:
    """The simulator registered with the tool (both sides), with a course, an instructor and a learner."""
    pid = register_sim(tool, sim)
    sim.add_course(CONTEXT_ID, "Biology 101", "BIO101")
    sim.add_user(INSTRUCTOR, "Ada Lovelace", "ada@example.edu", locale="en-GB")
    sim.add_user(LEARNER, "Grace Hopper", "grace@example.edu", roles=[spec.ROLE_INST_STUDENT], locale="de")
    sim.enroll(CONTEXT_ID, INSTRUCTOR, [spec.ROLE_INSTRUCTOR])
    sim.enroll(CONTEXT_ID, LEARNER, [spec.ROLE_LEARNER])
    return pid


@pytest.fixture
def platform(tool: Tool, platform_id: int) -> Platform:
    with tool.sessions() as s:
        return s.get(Platform, platform_id)
