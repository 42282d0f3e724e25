"""Issue 17 C, on the deployment's real processes (gunicorn web processes, `lti-badger worker`)
with PostgreSQL and Redis: PostgreSQL restarted under a load of events and launches (503 with
Retry-After while it is down, then full recovery, no event answered 2xx lost), and `kill -9` of a
gunicorn worker process in the middle of requests (clients resend the same statement: nothing
lost, nothing twice). Each test prints the figures docs/reliability.md quotes (`pytest -s`)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from lti_badger.devtools.lms_sim import LaunchFailed
from lti_badger.devtools.sim_course import SimCourse
from lti_badger.models import Award, Delivery, ProgressEvent
from tests.conftest import PG_URL, REDIS_URL
from tests.deployment import XAPI_HEADERS, Deployment, completed, seed_course
from tests.functional.lti.conftest import sim  # noqa: F401
from tests.private_servers import PrivatePostgres

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (PG_URL and REDIS_URL), reason="process faults run on PostgreSQL and Redis: set "
    "LTI_BADGER_TEST_DATABASE_URL and LTI_BADGER_TEST_REDIS_URL")]


class Load:
    """Client threads sending each learner's completion until it is answered 2xx, resending the
    same statement (same id) after a 503 or a broken connection, as an LRS client does. A 503's
    Retry-After is honoured, shortened to `patience` seconds to keep the test short."""

    def __init__(self, dep: Deployment, world: SimCourse, subs: list[str], clients: int = 4,
                 patience: float = 0.5) -> None:
        self.dep, self.world, self.patience = dep, world, patience
        self.statements = {sub: completed(sub, world.context_id, "12") for sub in subs}
        self.answers: list[dict] = []  # one per request: when, status (or "broken"), Retry-After, seconds
        self.accepted: set[str] = set()
        self._queue = list(subs)
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def start(self) -> "Load":
        for t in self.threads:
            t.start()
        return self

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self.threads), "clients still retrying"

    def _client(self) -> None:
        http = requests.Session()
        while True:
            with self._lock:
                if not self._queue:
                    return
                sub = self._queue.pop(0)
            while not self._send(http, sub):
                pass

    def _send(self, http: requests.Session, sub: str) -> bool:
        started = time.monotonic()
        try:
            answer = http.post(f"{self.dep.url}/xapi/statements", json=self.statements[sub], auth=self.world.xapi_auth,
                               headers=XAPI_HEADERS, timeout=30)
            status, retry_after = answer.status_code, answer.headers.get("Retry-After")
        except requests.ConnectionError:
            http.close()
            status, retry_after = "broken", None
        self.answers.append({"at": started, "status": status, "retry_after": retry_after,
                             "seconds": time.monotonic() - started})
        if status == 200:
            self.accepted.add(self.statements[sub]["id"])
            return True
        assert status in (503, "broken"), f"{status}: only 503 or a broken connection may ask for a resend"
        time.sleep(min(float(retry_after or 0.1), self.patience))
        return False

    def count(self, status) -> int:
        return sum(1 for a in self.answers if a["status"] == status)


def _assert_everything_once(dep: Deployment, sim, world: SimCourse, load: Load, engine, *,
                            score_resent_ok: bool = False) -> float:  # noqa: F811
    """Every accepted statement stored once, one award per learner, each delivered once.
    `score_resent_ok`: the database went away under the workers, so a score the LMS took just
    before its delivery could be marked done is sent again (deliveries are at least once, and the
    LMS keeps one score per learner and line item); every learner's score must still arrive.
    Returns the seconds the last delivery took to arrive after the load ended."""
    ended = time.monotonic()
    deadline = ended + 40
    while (len({s["userId"] for s in sim.scores(world.context_id)}) < len(load.statements)
           and time.monotonic() < deadline):
        time.sleep(0.2)
    delivered = time.monotonic() - ended
    time.sleep(1.0)  # a second delivery of anything would have arrived by now
    assert load.accepted == {s["id"] for s in load.statements.values()}
    scored = sorted(s["userId"] for s in sim.scores(world.context_id))
    if score_resent_ok:
        assert sorted(set(scored)) == sorted(load.statements)
    else:
        assert scored == sorted(load.statements)
    with Session(engine) as s:
        stored = s.scalars(select(ProgressEvent.source_event_id)).all()
        assert s.scalar(select(func.count()).select_from(Award)) == len(load.statements)
        # AGS only: a launch of l0 gives the tool that learner's e-mail, and an award after it is mailed too.
        assert s.execute(select(Delivery.status, func.count()).where(Delivery.destination == "ags")
                         .group_by(Delivery.status)).all() == [("done", len(load.statements))]
    assert sorted(stored) == sorted(load.accepted), "each accepted statement stored once"
    assert all(w.poll() is None for w in dep.workers), "a delivery worker died"
    return delivered


def _running(dep: Deployment, sim, learners: int):  # noqa: F811
    """A course of `learners`, one `serve --workers 2` and one delivery worker, ready."""
    world = seed_course(dep, sim, learners)
    web = dep.start_web(dep.webs[0], workers=2)
    dep.start_worker()
    dep.wait_ready()
    return [f"l{i}" for i in range(learners)], world, web


def test_postgresql_restarted_under_load(tmp_path, sim):  # noqa: F811
    pg = PrivatePostgres().start()
    dep = Deployment(pg.url, REDIS_URL, tmp_path / "instance")
    engine = create_engine(pg.url)
    try:
        subs, world, web = _running(dep, sim, 80)
        launches: list[tuple[float, int]] = []
        stop_launching = threading.Event()

        def launch_loop() -> None:
            while not stop_launching.is_set():
                started = time.monotonic()
                try:
                    launches.append((started, sim.launch(requests.Session(), "l0", world.context_id).status_code))
                except LaunchFailed as failed:
                    launches.append((started, failed.response.status_code if failed.response is not None else 0))
                    assert failed.response is None or failed.response.headers.get("Retry-After") == "5"
                time.sleep(0.1)

        launcher = threading.Thread(target=launch_loop, daemon=True)
        load = Load(dep, world, subs, patience=0.3)
        # Pace the clients so that the load spans the outage.
        load._send = _paced(load._send, 0.15)
        load.start()
        launcher.start()
        time.sleep(1.5)
        down = time.monotonic()
        pg.stop()
        time.sleep(4.0)
        pg.start()
        up = time.monotonic()
        load.join(60)
        stop_launching.set()
        launcher.join(30)

        during = [a for a in load.answers if down <= a["at"] < up]
        after = [a for a in load.answers if a["at"] >= up]
        assert during and {a["status"] for a in during} <= {503, 200}
        unavailable = [a for a in load.answers if a["status"] == 503]
        assert unavailable and {a["retry_after"] for a in unavailable} == {"5"}
        assert load.count("broken") == 0
        first_ok = min(a["at"] + a["seconds"] for a in after if a["status"] == 200) - up
        assert first_ok < 5
        assert any(code == 503 for t, code in launches if down <= t < up)
        assert any(code == 200 for t, code in launches if t >= up), "launches work again"
        assert {code for _, code in launches} <= {200, 503}
        delivered = _assert_everything_once(dep, sim, world, load, engine, score_resent_ok=True)
        print("figures", json.dumps({
            "statements": len(subs), "requests": len(load.answers), "answers_503": len(unavailable),
            "slowest_503_ms": round(max(a["seconds"] for a in unavailable) * 1000),
            "requests_while_down": len(during), "first_200_after_start_s": round(first_ok, 2),
            "launches": len(launches), "launches_503": sum(1 for _, c in launches if c == 503),
            "launches_200_after": sum(1 for t, c in launches if t >= up and c == 200),
            "deliveries_done_after_load_s": round(delivered, 1), "web": web.port}))
    finally:
        dep.stop()
        engine.dispose()
        pg.remove()


def _paced(send, seconds: float):
    def paced(http, sub):
        ok = send(http, sub)
        if ok:
            time.sleep(seconds)
        return ok
    return paced


def _sockets_of(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _owner_of_client_port(port: int, pids: list[int]) -> int | None:
    """The process holding the TCP connection whose local port is `port` (a PostgreSQL client)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for pid in pids:
        if _sockets_of(pid) & inodes:
            return pid
    return None


def test_kill_9_of_a_web_process_mid_request_loses_nothing_and_does_nothing_twice(database_url, clean_engine,
                                                                                   tmp_path, sim):  # noqa: F811
    dep = Deployment(database_url, REDIS_URL, tmp_path / "instance")
    try:
        subs, world, web = _running(dep, sim, 40)
        with clean_engine.connect() as locker:
            # Awards wait behind this lock (and later requests behind the first one's locks): the
            # requests stop mid-transaction, their events written, their awards not.
            holding = locker.begin()
            locker.execute(text("LOCK TABLE award IN SHARE MODE"))
            load = Load(dep, world, subs, clients=6).start()
            started = time.monotonic()
            while True:  # a group held in each web process (or in one after 3 s), their other requests queued behind it
                locker.execute(text("SELECT pg_stat_clear_snapshot()"))  # else frozen for the transaction
                waiting = locker.execute(text(
                    "SELECT client_port FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND pid <> pg_backend_pid()")).scalars().all()
                if len(waiting) >= 2 or (waiting and time.monotonic() - started > 3):
                    break
                assert time.monotonic() - started < 30, "no request reached the database"
                time.sleep(0.05)
            children = web.children()
            victim = next(pid for pid in map(lambda p: _owner_of_client_port(p, children), waiting) if pid)
            blocked_in_victim = sum(1 for p in waiting if _owner_of_client_port(p, [victim]))
            os.kill(victim, signal.SIGKILL)
            killed = time.monotonic()
            time.sleep(0.3)
            holding.rollback()
        load.join(60)
        respawned = len(web.children()) == 2 and victim not in web.children()
        assert respawned, "gunicorn replaces the killed worker"
        assert load.count("broken") >= 1, "the killed process had requests in flight"
        delivered = _assert_everything_once(dep, sim, world, load, clean_engine)
        print("figures", json.dumps({
            "statements": len(subs), "requests": len(load.answers), "waiting_on_the_lock": len(waiting),
            "blocked_in_killed_process": blocked_in_victim, "broken_connections": load.count("broken"),
            "answers_503": load.count(503), "load_done_after_kill_s": round(time.monotonic() - killed, 1),
            "deliveries_done_after_load_s": round(delivered, 1)}))
    finally:
        dep.stop()
