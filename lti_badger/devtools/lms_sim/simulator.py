"""`LmsSimulator`: a real LTI 1.3 platform on a loopback port, for tests and `lti-badger demo`:
the `SimulatedLms` of `core.py` served by the Flask app of `server.py` on a thread."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .core import SimulatedLms
from .server import create_sim_app


class _QuietHandler(WSGIRequestHandler):
    """No access log lines on stderr (`sim.received` is the record), and HTTP/1.1 keep-alive, so
    a tool's pooled connections are reused as a real LMS's web server allows."""

    protocol_version = "HTTP/1.1"

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class LmsSimulator(SimulatedLms):
    """The simulated LMS with its HTTP server: `start()` (or `with`) serves it, `stop()` ends it."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LmsSimulator:
        self._server = make_server(self.host, self.port, create_sim_app(self), threaded=True,
                                   request_handler=_QuietHandler)
        self.url = f"http://{self.host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="lms-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread:
                self._thread.join(5)
            self._server = None

    def __enter__(self) -> LmsSimulator:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
