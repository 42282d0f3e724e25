"""`LmsSimulator`: a real LTI 1.3 platform on a loopback port, for tests and `lti-badger demo`:
the `SimulatedLms` of `core.py` served by the Flask app of `server.py` on a thread."""

from __future__ import annotations

import io
import socket
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .core import SimulatedLms
from .server import create_sim_app


class _RequestStream:
    """The connection's input as werkzeug's handler sees it. After a request whose body was read
    whole, `read` finds nothing: werkzeug's handler discards whatever the socket holds once it
    has answered (it assumes the connection closes), which would swallow the next request of a
    kept connection. Request lines and headers are read with `readline`, unchanged."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.spent = False

    def read(self, size: int = -1) -> bytes:
        return b"" if self.spent else self.stream.read(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class _QuietHandler(WSGIRequestHandler):
    """No access log lines on stderr (`sim.received` is the record), and HTTP/1.1 keep-alive, so
    a tool's pooled connections are reused as a real LMS's web server allows. Werkzeug's own
    server closes every connection, as it cannot skip a request body the app left unread: here a
    body of known length is read whole before the app runs, and only then is the connection kept."""

    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle kept connection ends (the tool's pool sees it closed)

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as a real web server does
        self.rfile = _RequestStream(self.rfile)
        with self.server.open_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.open_lock:
            self.server.open_connections.discard(self.connection)
        super().finish()

    def handle_one_request(self) -> None:
        self.rfile.spent = False  # a request refused before the app runs closes the connection
        super().handle_one_request()

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        length = self.headers.get("Content-Length", "0")
        if "Transfer-Encoding" not in self.headers and length.isdigit():
            environ["wsgi.input"] = io.BytesIO(self.rfile.read(int(length)))
            self.rfile.spent = True
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close" and self.rfile.spent \
                and not self.close_connection:
            return
        super().send_header(keyword, value)

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        if not format.startswith("Request timed out"):  # a kept connection left idle ends: no error
            super().log_error(format, *args)


class LmsSimulator(SimulatedLms):
    """The simulated LMS with its HTTP server: `start()` (or `with`) serves it, `stop()` ends it."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LmsSimulator:
        self._server = make_server(self.host, self.port, create_sim_app(self), threaded=True,
                                   request_handler=_QuietHandler)
        self._server.open_connections = set()
        self._server.open_lock = threading.Lock()
        self.url = f"http://{self.host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="lms-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            with self._server.open_lock:  # kept connections end with the server, as an LMS going down
                for connection in list(self._server.open_connections):
                    try:
                        connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            if self._thread:
                self._thread.join(5)
            self._server = None

    def __enter__(self) -> LmsSimulator:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
