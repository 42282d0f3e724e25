"""The production shape on loopback, for tests that need real processes: `lti-badger serve
--workers N` (gunicorn) web processes and `lti-badger worker` delivery processes, each its own
OS process, sharing only the database, Redis and the instance folder (keys, secret). The first
web process's URL is the tool's public URL; a request meant for another web process is sent to
that process's port with the public `Host`, as a load balancer in front of them would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import requests

from tests.conftest import LOOPBACK
from tests.private_servers import free_port

if TYPE_CHECKING:
    from lti_badger.devtools.sim_course import SimCourse

ROOT = Path(__file__).resolve().parents[1]
XAPI_HEADERS = {"X-Experience-API-Version": "1.0.3"}
MOODLE = "https://moodle.example.edu"


def completed(sub: str, course: str, activity: str, statement_id: str | None = None) -> dict:
    """An xAPI "completed" statement (the id is the client's: resent as is, it must count once)."""
    return {
        "id": statement_id or str(uuid.uuid4()),
        "actor": {"name": sub, "account": {"homePage": MOODLE, "name": sub}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en": "completed"}},
        "object": {"id": f"{MOODLE}/mod/page/view.php?id={activity}", "objectType": "Activity",
                   "definition": {"name": {"en": f"Page {activity}"}}},
        "result": {"completion": True},
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "context": {"contextActivities": {"grouping": [{"id": f"{MOODLE}/course/view.php?id={course}"}]}},
    }


@dataclass
class Web:
    """One `lti-badger serve --workers N`: a gunicorn master and its worker processes."""

    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def children(self) -> list[int]:
        """The gunicorn worker processes (the master forks them and replaces the dead)."""
        pid = self.process.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []


@dataclass
class Deployment:
    database_url: str
    redis_url: str
    instance: Path
    webs: list[Web] = field(default_factory=list)
    workers: list[subprocess.Popen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.instance.mkdir(parents=True, exist_ok=True)
        if not self.webs:
            self.webs = [Web(free_port())]
        self.env = {**os.environ, "LTI_BADGER_DATABASE_URL": self.database_url,
                    "LTI_BADGER_INSTANCE_PATH": str(self.instance), "LTI_BADGER_BASE_URL": self.url,
                    "LTI_BADGER_IN_PROCESS_WORKER": "false", "LTI_BADGER_MAIL_BACKEND": "file",
                    "LTI_BADGER_OUTBOUND_ALLOW": LOOPBACK}
        if self.redis_url:
            self.env["LTI_BADGER_REDIS_URL"] = self.redis_url
        self._cli(["init"])  # schema and keys, once, before several processes would race to make them

    @property
    def url(self) -> str:
        """The public URL: the one every process names in links, tokens and LTI messages."""
        return self.webs[0].url

    @property
    def host(self) -> dict[str, str]:
        return {"Host": urlsplit(self.url).netloc}

    def _cli(self, args: list[str]) -> None:
        subprocess.run([sys.executable, "-m", "lti_badger", *args], env=self.env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _log(self, name: str):
        """Each process's log in the instance folder, for reading when a test fails."""
        return open(self.instance / f"{name}.log", "ab")  # noqa: SIM115 (the child process holds it)

    def add_web(self) -> Web:
        web = Web(free_port())
        self.webs.append(web)
        return web

    def start_web(self, web: Web, workers: int = 2) -> Web:
        metrics = self.instance / f"metrics-{web.port}"  # gunicorn empties it when it starts
        metrics.mkdir(exist_ok=True)
        web.process = subprocess.Popen(
            [sys.executable, "-m", "lti_badger", "serve", "--workers", str(workers), "--port", str(web.port)],
            env={**self.env, "PROMETHEUS_MULTIPROC_DIR": str(metrics),
                 "GUNICORN_CMD_ARGS": "--access-logfile /dev/null --graceful-timeout 5"},
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self._log(f"web-{web.port}"))
        return web

    def start_worker(self) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "lti_badger", "worker", "--poll-seconds", "0.2"],
                                env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=self._log(f"worker-{len(self.workers)}"))
        self.workers.append(proc)
        return proc

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        for web in self.webs:
            while True:
                try:
                    if requests.get(web.url + "/readyz", timeout=2).status_code == 200 and \
                            len(web.children()) >= 1:
                        break
                except requests.RequestException:
                    pass
                assert web.process.poll() is None, f"web process on {web.port} exited with {web.process.returncode}"
                assert time.monotonic() < deadline, f"web process on {web.port} not ready"
                time.sleep(0.2)

    def via(self, web: Web, url: str) -> str:
        """`url` (on the public URL) sent to `web` instead."""
        parts = urlsplit(url)
        return urlunsplit(parts._replace(netloc=f"127.0.0.1:{web.port}"))

    def stop_web(self, web: Web) -> None:
        _terminate(web.process)

    def stop(self) -> None:
        _terminate(*[w.process for w in self.webs], *self.workers)


def _terminate(*procs: subprocess.Popen | None) -> None:
    """SIGTERM to all, then wait for each (SIGKILL after 15 s)."""
    running = [p for p in procs if p is not None and p.poll() is None]
    for proc in running:
        proc.send_signal(signal.SIGTERM)
    for proc in running:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def seed_course(dep: Deployment, sim, learners: int, context_id: str = "101") -> SimCourse:
    """The simulator registered at the public URL; a course whose badge one completion of
    activity 12 earns (written to a badge column); learners l0… enrolled; an xAPI source."""
    from lti_badger.devtools.sim_course import seed_sim_course
    from lti_badger.settings import load_settings

    return seed_sim_course(load_settings(environ=dep.env), sim, dep.url, context_id, [f"l{i}" for i in range(learners)],
                           {"type": "activity_completed", "activity": "12"})
