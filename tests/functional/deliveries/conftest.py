"""Committed-data fixtures for worker tests: a sessionmaker able to issue, and a webhook
receiver over real HTTP whose answers a test scripts."""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lti_badger.awards.context import bind_context
from lti_badger.db import make_sessionmaker
from lti_badger.keys import KIND_ISSUER, KIND_LTI, FileKeyStore
from lti_badger.settings import load_settings
from tests.conftest import LOOPBACK, wipe
from tests.smtp_sink import SmtpSink


@pytest.fixture
def worker_settings(tmp_path, database_url):
    return load_settings({"instance_path": str(tmp_path / "instance"), "base_url": "https://badges.test",
                          "database_url": database_url, "in_process_worker": False, "mail_backend": "file",
                          "outbound_allow": LOOPBACK})


@pytest.fixture
def keys(worker_settings):
    store = FileKeyStore(worker_settings.instance_dir / "keys")
    store.ensure(KIND_ISSUER)
    store.ensure(KIND_LTI)
    return store


@pytest.fixture
def sessions(engine, worker_settings, keys):
    wipe(engine)
    factory = make_sessionmaker(engine)
    bind_context(factory, worker_settings, keys)
    yield factory
    wipe(engine)


class Receiver:
    """Records every POST; answers from a script of (status, headers, body), then 200."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: deque[tuple[int, dict, str]] = deque()
        self.hold = threading.Event()
        self.hold.set()
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                          "json": json.loads(body or b"null")})
                receiver.arrived.set()
                receiver.hold.wait(30)
                status, headers, text = receiver.script.popleft() if receiver.script else (200, {}, "ok")
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(text.encode())))
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.hold.set()
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def smtp():
    """A real SMTP server on loopback that keeps what it accepts."""
    server = SmtpSink()
    yield server
    server.shutdown()
    server.server_close()
